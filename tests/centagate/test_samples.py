"""The seed's own samples (PHP and Node.js) and curl, against the live server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.centagate.helpers import (
    ALICE_DEVICE,
    ALICE_SECRET,
    AUTH_QR,
    INTEGRATION_KEY,
    REQUEST_QR,
    SECRET_KEY,
    Api,
    answer,
    b64,
    qr_body,
    reference_otp,
)

HERE = Path(__file__).parent


def _issue(mockbank: Any) -> dict[str, Any]:
    body = qr_body(mockbank.state.clock.epoch())
    reply = requests.post(
        mockbank.url("centagate", REQUEST_QR.removeprefix("/centagate")), json=body, timeout=10
    )
    assert reply.status_code == 200
    data = reply.json()
    assert data["code"] == "0", data
    issued: dict[str, Any] = json.loads(data["object"])
    return issued


def _php_with_curl() -> str | None:
    php = shutil.which("php")
    if php is None:
        return None
    modules = subprocess.run([php, "-m"], capture_output=True, text=True, check=False).stdout
    return php if "curl" in modules.split() else None


def test_seed_php_sample_runs_and_prints_authentication_succeed(
    mockbank: Any, tmp_path: Path
) -> None:
    php = _php_with_curl()
    if php is None:
        pytest.skip("php-cli with curl is not installed (apt-get install php-cli php-curl)")
    issued = _issue(mockbank)
    otp = reference_otp("alice-device-secret", issued["otpChallenge"], issued["plainText"])
    filled = {
        "https://<domain_name>": mockbank.url("centagate"),
        "<secretkey>": SECRET_KEY,
        "<username>": "alice",
        "<devAccId>": "alice-device-1",
        "<otp>": otp,
        "<challenge>": issued["otpChallenge"],
        "<details>": b64(issued["plainText"]),
        "<integrationkey>": INTEGRATION_KEY,
        "<authToken>": issued["authToken"],
        "<supportFido>": "",
        "<ipAddress>": "127.0.0.1",
        "<userAgent>": "php-sample",
        "<browserFp>": "",
        "<transactionValue>": "250.00",
    }
    script = (HERE / "seed_sample_authqrcode.php").read_text()
    for placeholder, value in filled.items():
        assert placeholder in script
        script = script.replace(placeholder, value)
    (tmp_path / "sample.php").write_text(script)
    result = subprocess.run(
        [php, str(tmp_path / "sample.php")], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Authentication succeed" in result.stdout, result.stdout
    assert '\\"username\\":\\"alice\\"' in result.stdout or '"username"' in result.stdout
    # Run again: the challenge is single-use, so the same sample now fails with 23001.
    again = subprocess.run(
        [php, str(tmp_path / "sample.php")], capture_output=True, text=True, timeout=60, check=False
    )
    assert "Authentication fail" in again.stdout
    assert "Code: 23001" in again.stdout


@pytest.mark.node
def test_seed_node_sample_signs_with_its_hmac_text_line(mockbank: Any) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    issued = _issue(mockbank)
    server = mockbank.server
    env = {
        **os.environ,
        "MOCKBANK_PORT": str(server.port),
        "MOCKBANK_PREFIX": "/centagate",
        "CG_USERNAME": "alice",
        "CG_DEVACCID": "alice-device-1",
        "CG_OTP": reference_otp("alice-device-secret", issued["otpChallenge"], issued["plainText"]),
        "CG_CHALLENGE": issued["otpChallenge"],
        "CG_DETAILS": b64(issued["plainText"]),
        "CG_INTEGRATION_KEY": INTEGRATION_KEY,
        "CG_TRANSACTION_VALUE": "250.00",
        "CG_AUTH_TOKEN": issued["authToken"],
        "CG_SECRET_KEY": SECRET_KEY,
    }
    result = subprocess.run(
        [node, str(HERE / "seed_sample_authqrcode.js")],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "HTTP Status Code: 200" in result.stdout
    assert "Authentication Succeed" in result.stdout, result.stdout
    entry = mockbank.state.journal.entries(endpoint="auth-qr")[-1]
    assert entry.notes["hmac_order"] == "samples"


def test_curl_gets_the_envelope_for_a_bad_hmac(mockbank: Any) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    body = qr_body(mockbank.state.clock.epoch())
    body["hmac"] = "0" * 64
    result = subprocess.run(
        [curl, "-sS", "-w", "\n%{http_code}", "-H", "Content-Type: application/json",
         "--data-binary", "@-",
         mockbank.url("centagate", REQUEST_QR.removeprefix("/centagate"))],
        input=json.dumps(body), capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    payload, _, status = result.stdout.rpartition("\n")
    assert status == "200"
    assert json.loads(payload)["code"] == "55000"  # a string, as the real server sends it


def test_the_python_samples_of_the_transaction_signing_pages_verify(api: Api) -> None:
    """CentagateDocs' Python samples sign in orders of their own (by hand here)."""
    import base64
    import hashlib
    import hmac as hmac_lib

    def mac(text: str) -> str:
        return hmac_lib.new(SECRET_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()

    # "Request QR Code Transaction Signing": USERNAME + DETAILS + TRANSACTIONID +
    # INTEGRATIONKEY + str(UNIXTIMESTAMP) + AUTHTOKEN + SUPPORTFIDO + IPADDRESS + USERAGENT
    # + BROWSERFP, with devAccId in the payload but not signed.
    stamp = str(int(api.epoch()))
    details = base64.b64encode(b"Pay RM 42.00 to Erin").decode()
    body = {
        "username": "alice", "devAccId": ALICE_DEVICE, "details": details,
        "transactionId": "TXN-0042", "authToken": "", "integrationKey": INTEGRATION_KEY,
        "unixTimestamp": stamp, "supportFido": "true", "ipAddress": "192.0.2.9",
        "userAgent": "python-requests/2.32",
    }  # fmt: skip
    body["hmac"] = mac(
        "alice" + details + "TXN-0042" + INTEGRATION_KEY + stamp + "" + "true" + "192.0.2.9"
        + "python-requests/2.32" + ""
    )  # fmt: skip
    response = api.post(REQUEST_QR, body)
    code, message, issued = answer(response)
    assert code == 0, message
    assert response.headers["X-Mockbank-Hmac-Order"] == "python"

    # "Authorize QR Code Transaction Signing": USERNAME + DEVACCID + OTP + CHALLENGE + DETAILS
    # + INTEGRATIONKEY + str(UNIXTIMESTAMP) + AUTHTOKEN + SUPPORTFIDO + IPADDRESS + USERAGENT
    # + BROWSERFP.
    otp = reference_otp(ALICE_SECRET, issued["otpChallenge"], issued["plainText"])
    signed_details = base64.b64encode(issued["plainText"].encode()).decode()
    auth = {
        "username": "alice", "devAccId": ALICE_DEVICE, "otp": otp,
        "challenge": issued["otpChallenge"], "details": signed_details,
        "authToken": issued["authToken"], "integrationKey": INTEGRATION_KEY,
        "unixTimestamp": stamp, "supportFido": "true", "ipAddress": "192.0.2.9",
        "userAgent": "python-requests/2.32", "transactionValue": "42.00", "isTransaction": "1",
    }  # fmt: skip
    auth["hmac"] = mac(
        "alice" + ALICE_DEVICE + otp + issued["otpChallenge"] + signed_details + INTEGRATION_KEY
        + stamp + issued["authToken"] + "true" + "192.0.2.9" + "python-requests/2.32" + ""
    )  # fmt: skip
    response = api.post(AUTH_QR, auth)
    code, message, _ = answer(response)
    assert code == 0, message
    assert response.headers["X-Mockbank-Hmac-Order"] == "python"

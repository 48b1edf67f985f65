"""The unversioned 2018 paths accept the request shape of SecureMetric's own 2018 client.

That client (the CENTAGATE internet-banking demo: ReqQrAuth and QROTPAuth) predates device
accounts and transaction signing: it sends no devAccId, transactionValue or isTransaction, and
signs in the 2018 document's order. The HMACs here are built by hand from its concatenations.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from tests.centagate.helpers import (
    ALICE_DEVICE,
    ALICE_SECRET,
    AUTH_QR,
    INTEGRATION_KEY,
    REQUEST_QR,
    SECRET_KEY,
    Api,
    answer,
    reference_otp,
)

OLD_API = "/centagate/CentagateWS/webresources"
OLD_REQUEST = f"{OLD_API}/auth/requestQrCode"


def _hmac(text: str) -> str:
    return hmac.new(SECRET_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


def request_2018(api: Api, username: str = "alice", path: str = OLD_REQUEST) -> Any:
    details = base64.b64encode(b"Transfer RM 10.00 to Dan").decode()
    body = {
        "username": username,
        "details": details,
        "integrationKey": INTEGRATION_KEY,
        "unixTimestamp": str(int(api.epoch())),
        "ipAddress": "198.51.100.4",
        "userAgent": "Mozilla/5.0",
    }
    # ReqQrAuth: username + details + integrationKey + unixTimestamp + ipAddress + userAgent
    body["hmac"] = _hmac(
        username + details + INTEGRATION_KEY + body["unixTimestamp"] + "198.51.100.4Mozilla/5.0"
    )
    return api.post(path, body)


def authorize_2018(api: Api, issued: dict[str, Any], path: str, **extra: str) -> Any:
    body = {
        "username": "alice",
        "otp": reference_otp(ALICE_SECRET, issued["otpChallenge"], issued["plainText"]),
        "challenge": issued["otpChallenge"],
        "details": base64.b64encode(issued["plainText"].encode()).decode(),
        "integrationKey": INTEGRATION_KEY,
        "unixTimestamp": str(int(api.epoch())),
        "authToken": issued["authToken"],
        "ipAddress": "198.51.100.4",
        "userAgent": "Mozilla/5.0",
        "browserFp": "fp-1",
        **extra,
    }
    # QROTPAuth: username + otp + challenge + details + integrationKey + unixTimestamp
    #            + authToken + ipAddress + userAgent + browserFp
    body["hmac"] = _hmac(
        "".join(
            body[k]
            for k in (
                "username", "otp", "challenge", "details", "integrationKey", "unixTimestamp",
                "authToken", "ipAddress", "userAgent", "browserFp",
            )
        )
    )  # fmt: skip
    return api.post(path, body)


@pytest.mark.parametrize("auth_path", ["authQrCode", "authQRCode"])
def test_the_2018_client_requests_and_signs_without_a_device_account(
    api: Api, auth_path: str
) -> None:
    response = request_2018(api)
    code, message, issued = answer(response)
    assert code == 0, message
    # Without devAccId and authToken, the other orders give the same text here.
    assert "legacy" in response.headers["X-Mockbank-Hmac-Order"].split(",")
    # No devAccId: the user's active device (alice-device-old is inactive).
    assert issued["plainText"].startswith(ALICE_DEVICE + "|")
    response = authorize_2018(api, issued, f"{OLD_API}/auth/{auth_path}")
    code, message, obj = answer(response)
    assert code == 0, message
    assert "legacy" in response.headers["X-Mockbank-Hmac-Order"].split(",")
    assert obj["username"] == "alice"
    assert api.state.provider_state("centagate")["transactions"][0]["devAccId"] == ALICE_DEVICE
    # Single use holds on the 2018 path too.
    code, _, _ = answer(authorize_2018(api, issued, f"{OLD_API}/auth/{auth_path}"))
    assert code == 23001


def test_the_v2_paths_still_require_the_device_account(api: Api) -> None:
    code, message, _ = answer(request_2018(api, path=REQUEST_QR))
    assert (code, message) == (10002, "Invalid Input: devAccId is required")
    issued = api.issue()
    code, message, _ = answer(authorize_2018(api, issued, AUTH_QR))
    assert (code, message) == (10002, "Invalid Input: devAccId is required")


def test_is_transaction_if_sent_on_a_2018_path_must_still_be_1(api: Api) -> None:
    issued = api.issue()
    code, message, _ = answer(
        authorize_2018(api, issued, f"{OLD_API}/auth/authQRCode", isTransaction="0")
    )
    assert code == 10002
    assert "isTransaction" in message


@pytest.mark.parametrize(
    ("username", "code"),
    [("bob", 22004), ("carol", 29003), ("mallory", 22002)],
    ids=["inactive-user", "no-device", "unknown-user"],
)
def test_without_a_device_account_the_user_checks_keep_their_codes(
    api: Api, username: str, code: int
) -> None:
    assert answer(request_2018(api, username))[0] == code
    assert api.challenges() == []

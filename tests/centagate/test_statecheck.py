"""session/statecheck: a bank polls while the user approves the QR on the device page."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import requests

from tests.centagate.helpers import (
    API,
    Api,
    answer,
    auth_body,
    qr_body,
    statecheck_body,
)

STATECHECK = f"{API}/session/statecheck"
OLD_STATECHECK = "/centagate/CentagateWS/webresources/session/statecheck"  # the documented path
DEVICE_PAGE = "/centagate/device/alice-device-1"


def poll(api: Api, path: str = STATECHECK, **fields: Any) -> tuple[int, str, Any]:
    return answer(api.post(path, statecheck_body(api.epoch(), **fields)))


def approve_on_device(api: Api, otp_challenge: str) -> None:
    response = api.client.post(DEVICE_PAGE, data={"challenge": otp_challenge})
    assert response.status_code == 200


def test_statecheck_is_pending_until_the_device_approves_then_signs_in_once(api: Api) -> None:
    issued = api.issue()
    for _ in range(3):
        code, message, obj = poll(api, authToken=issued["authToken"])
        assert (code, obj) == (23100, ""), message
    assert api.challenges()[0]["approvedAt"] is None
    approve_on_device(api, issued["otpChallenge"])
    assert api.challenges()[0]["state"] == "pending"
    assert api.challenges()[0]["approvedAt"] is not None
    code, message, obj = poll(api, authToken=issued["authToken"])
    assert code == 0, message
    assert (obj["username"], obj["authToken"], obj["authMethods"]) == (
        "alice",
        issued["authToken"],
        "QRCODE",
    )
    # Completed once: a second poll and a late OTP are both refused, nothing signs twice.
    again, message, _ = poll(api, authToken=issued["authToken"])
    assert again == 23001
    assert "already completed" in message
    assert answer(api.authorize(issued))[0] == 23001
    transactions = api.state.provider_state("centagate")["transactions"]
    assert [t["kind"] for t in transactions] == ["out-of-band"]


def test_statecheck_without_auth_token_follows_the_users_newest_request(api: Api) -> None:
    older, newer = api.issue(), api.issue()
    approve_on_device(api, older["otpChallenge"])
    assert poll(api)[0] == 23100  # the newest request is still waiting
    approve_on_device(api, newer["otpChallenge"])
    code, _, obj = poll(api)
    assert (code, obj["authToken"]) == (0, newer["authToken"])
    assert poll(api, authToken=older["authToken"])[0] == 0


def test_statecheck_on_the_documented_unversioned_path(api: Api) -> None:
    issued = api.issue()
    approve_on_device(api, issued["otpChallenge"])
    assert poll(api, OLD_STATECHECK, authToken=issued["authToken"])[0] == 0


@pytest.mark.parametrize("order", ["samples", "table"])
def test_statecheck_hmac_in_each_documented_order(api: Api, order: str) -> None:
    issued = api.issue()
    response = api.post(
        STATECHECK,
        statecheck_body(api.epoch(), order=order, authToken=issued["authToken"], userAgent="x"),
    )
    assert answer(response)[0] == 23100
    assert response.headers["X-Mockbank-Hmac-Order"] == order


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        pytest.param({"authMethod": "PUSH"}, 10002, "not emulated", id="push-not-emulated"),
        pytest.param({"authMethod": "SMS"}, 10002, "authMethod must be", id="unknown-method"),
        pytest.param({"authMethod": ""}, 10002, "authMethod is required", id="no-method"),
        pytest.param({"username": "mallory"}, 22002, "mallory", id="unknown-user"),
        pytest.param({"username": "bob"}, 22004, "bob", id="inactive-user"),
        pytest.param({"username": "carol"}, 23001, "no QR code", id="no-request"),
        pytest.param({"authToken": "not-issued"}, 23001, "authToken", id="unknown-authtoken"),
    ],
)
def test_statecheck_refusals(
    api: Api, snapshot: Any, fields: dict[str, Any], code: int, words: str
) -> None:
    issued = api.issue()
    approve_on_device(api, issued["otpChallenge"])
    before = snapshot()
    got, message, obj = poll(api, **fields)
    assert (got, obj) == (code, ""), message
    assert words in message
    assert snapshot() == before  # the approved request is still there to complete


def test_statecheck_with_a_wrong_secret_key_is_invalid_signature(api: Api) -> None:
    issued = api.issue()
    approve_on_device(api, issued["otpChallenge"])
    body = statecheck_body(api.epoch(), secret_key="nope", authToken=issued["authToken"])
    assert answer(api.post(STATECHECK, body))[0] == 55000
    assert poll(api, authToken=issued["authToken"])[0] == 0  # nothing was spent


def test_statecheck_after_expiry_says_so(api: Api) -> None:
    api.state.clock.freeze()
    issued = api.issue()
    approve_on_device(api, issued["otpChallenge"])
    api.state.clock.advance(181)
    code, message, _ = poll(api, authToken=issued["authToken"])
    assert code == 23001
    assert "expired" in message


def test_a_device_locked_meanwhile_blocks_the_approval(api: Api) -> None:
    issued, other = api.issue(), api.issue()
    approve_on_device(api, issued["otpChallenge"])
    for _ in range(5):
        api.authorize(other, otp="000000" if other["otpChallenge"] else "")
    assert poll(api, authToken=issued["authToken"])[0] == 29017


def test_a_polling_client_sees_the_approval_made_on_the_device_page(mockbank: Any) -> None:
    """Real HTTP: a bank thread polls every 20 ms; the user approves on the device page."""
    epoch = mockbank.state.clock.epoch
    request_url = mockbank.url("centagate", "/v2/CentagateWS/webresources/req/requestQrCode")
    issued = json.loads(
        requests.post(request_url, json=qr_body(epoch()), timeout=10).json()["object"]
    )
    url = mockbank.url("centagate", "/CentagateWS/webresources/session/statecheck")
    seen: list[str] = []

    def bank() -> None:
        with requests.Session() as session:
            for _ in range(500):
                body = statecheck_body(epoch(), authToken=issued["authToken"])
                reply = session.post(url, json=body, timeout=10).json()
                seen.append(reply["code"])
                if reply["code"] == "0":
                    return
                time.sleep(0.02)

    poller = threading.Thread(target=bank)
    poller.start()
    while not seen:
        time.sleep(0.01)
    page = requests.post(
        mockbank.url("centagate", "/device/alice-device-1"),
        data={"challenge": issued["otpChallenge"]},
        timeout=10,
    )
    assert page.status_code == 200
    poller.join(timeout=30)
    assert seen[-1] == "0"
    assert set(seen[:-1]) <= {"23100"}
    late = requests.post(
        mockbank.url("centagate", "/v2/CentagateWS/webresources/auth/authQRCode"),
        json=auth_body(issued, epoch()),
        timeout=10,
    )
    assert late.json()["code"] == "23001"  # completed by the approval already

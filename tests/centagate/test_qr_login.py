"""QR *login* on authQrCode ("QR Code Authentication API"): no transaction fields."""

from __future__ import annotations

from typing import Any

import pytest

from mockbank.clients.centagate import sign
from tests.centagate.helpers import API, SECRET_KEY, Api, answer, auth_body

AUTH_QR_CODE = f"{API}/auth/authQrCode"  # the spelling of the QR Code Authentication page


def login_body(api: Api, issued: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The page's fields: tokenId and otpType, and neither isTransaction nor transactionValue."""
    body = auth_body(issued, api.epoch(), **fields)
    del body["isTransaction"], body["transactionValue"], body["hmac"]
    body.update({"tokenId": issued["otpChallenge"], "otpType": "QRCODE"}, **fields)
    body["hmac"] = sign(body, SECRET_KEY, "samples", endpoint="authQRCode")
    return body


@pytest.mark.parametrize("path", [AUTH_QR_CODE, f"{API}/auth/authQRCode"])
def test_qr_login_signs_in_without_transaction_fields(api: Api, path: str) -> None:
    issued = api.issue()
    code, message, obj = answer(api.post(path, login_body(api, issued)))
    assert code == 0, message
    assert (obj["username"], obj["authToken"], obj["authMethods"]) == (
        "alice",
        issued["authToken"],
        "QRCODE",
    )
    (record,) = api.state.provider_state("centagate")["transactions"]
    assert (record["kind"], record["transactionValue"]) == ("login", "")
    assert answer(api.post(path, login_body(api, issued)))[0] == 23001  # single use


@pytest.mark.parametrize("order", ["samples", "python", "table"])
def test_qr_login_accepts_the_documented_hmac_orders(api: Api, order: str) -> None:
    issued = api.issue()
    body = login_body(api, issued)
    body["hmac"] = sign(body, SECRET_KEY, order, endpoint="authQRCode")
    assert answer(api.post(AUTH_QR_CODE, body))[0] == 0


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        pytest.param({"otp": "000000"}, 23001, "wrong OTP", id="wrong-otp"),
        pytest.param({"otp": ""}, 10002, "otp is required", id="no-otp"),
        pytest.param({"devAccId": ""}, 10002, "devAccId is required", id="no-device"),
        pytest.param({"challenge": "12345678"}, 23001, "no challenge", id="unknown-challenge"),
        pytest.param({"isTransaction": "1"}, 10002, "transactionValue", id="half-a-signing"),
        pytest.param({"transactionValue": "9"}, 10002, "isTransaction", id="other-half"),
    ],
)
def test_qr_login_refusals_change_nothing_that_matters(
    api: Api, fields: dict[str, Any], code: int, words: str
) -> None:
    issued = api.issue()
    got, message, obj = answer(api.post(AUTH_QR_CODE, login_body(api, issued, **fields)))
    assert (got, obj) == (code, ""), message
    assert words in message
    assert api.state.provider_state("centagate")["transactions"] == []
    assert answer(api.post(AUTH_QR_CODE, login_body(api, issued)))[0] == 0


def test_a_signing_still_needs_both_transaction_fields(api: Api) -> None:
    """What the seed documents for transaction signing is unchanged."""
    issued = api.issue()
    code, _, _ = answer(api.authorize(issued))
    assert code == 0
    assert api.state.provider_state("centagate")["transactions"][0]["kind"] == "transaction"

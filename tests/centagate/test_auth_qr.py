"""authQRCode: signing a transaction with the OTP the device derived from the QR."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockbank import create_app
from mockbank.clients.centagate import sign
from tests.centagate.helpers import (
    ALICE_DEVICE,
    AUTH_QR,
    DETAILS,
    SECRET_KEY,
    Api,
    answer,
    auth_body,
    b64,
)

OBJECT_FIELDS = {
    "appId", "userId", "username", "companyId", "companyName", "role", "timezone", "authToken",
    "useSystemPassword", "passwordExpired", "secretCode", "authMethods", "sessionTimeout",
    "multiStepAuth", "email", "groupId", "lastSuccessLogin", "uuid",
}  # fmt: skip


def test_correct_otp_signs_the_transaction_and_consumes_the_challenge(api: Api) -> None:
    issued = api.issue()
    code, message, obj = answer(api.authorize(issued))
    assert (code, message) == (0, "Success")
    assert set(obj) == OBJECT_FIELDS
    assert obj["username"] == "alice"
    assert obj["userId"] == "a11ce0000000000000000000000000a1"
    assert obj["authToken"] == issued["authToken"]
    assert len(obj["secretCode"]) == 32
    assert obj["authMethods"] == "QRCODE"
    [challenge] = api.challenges()
    assert challenge["state"] == "used"
    [transaction] = api.state.provider_state("centagate")["transactions"]
    assert transaction["details"] == DETAILS
    assert transaction["transactionValue"] == "250.00"


def test_last_success_login_reports_the_previous_signing(api: Api) -> None:
    api.state.clock.freeze()
    first = answer(api.authorize(api.issue()))[2]
    assert first["lastSuccessLogin"] == 0
    api.state.clock.advance(10)
    second = answer(api.authorize(api.issue()))[2]
    assert second["lastSuccessLogin"] == int((api.epoch() - 10) * 1000)


def test_state_view_shows_last_login_as_a_date_not_a_card_like_number(api: Api) -> None:
    from datetime import UTC, datetime

    from mockbank.masking import find_card_numbers

    # 1795423487283 ms is Luhn-valid: the demo leak check failed whenever a run landed on one.
    api.state.clock.freeze(datetime.fromtimestamp(1795423487.283, tz=UTC))
    assert answer(api.authorize(api.issue()))[0] == 0
    response = api.client.get("/_mockbank/state/centagate")
    [alice] = [u for u in response.get_json()["users"] if u["username"] == "alice"]
    assert alice["lastSuccessLogin"] == "2026-11-23T08:44:47.283000+00:00"
    assert set(find_card_numbers(response.get_data(as_text=True))) == set()
    # The wire keeps Centagate's milliseconds.
    assert answer(api.authorize(api.issue()))[2]["lastSuccessLogin"] == 1795423487283


@pytest.mark.parametrize("order", ["samples", "table", "legacy"])
def test_each_documented_hmac_order_verifies(api: Api, order: str) -> None:
    response = api.authorize(api.issue(), order=order, supportFido="true")
    assert answer(response)[0] == 0
    assert response.headers["X-Mockbank-Hmac-Order"] == order


def test_php_sample_concatenation_verifies(api: Api) -> None:
    """$hmac_text exactly as the seed's PHP sample builds it, with every optional field set."""
    issued = api.issue()
    body = auth_body(issued, api.epoch(), supportFido="false", browserFp="fp-1", userAgent="php")
    b = body
    hmac_text = (
        b["username"] + b["devAccId"] + b["otp"] + b["challenge"] + b["details"] + b["authToken"]
        + b["integrationKey"] + b["unixTimestamp"] + b["supportFido"] + b["ipAddress"]
        + b["userAgent"] + b["browserFp"]
    )  # fmt: skip
    import hashlib
    import hmac

    body["hmac"] = hmac.new(SECRET_KEY.encode(), hmac_text.encode(), hashlib.sha256).hexdigest()
    response = api.post(AUTH_QR, body)
    assert answer(response)[0] == 0
    assert response.headers["X-Mockbank-Hmac-Order"] == "samples"


def test_replayed_challenge_is_refused_23001(api: Api, snapshot: Any) -> None:
    issued = api.issue()
    assert answer(api.authorize(issued))[0] == 0
    before = snapshot()
    code, message, obj = answer(api.authorize(issued))
    assert (code, obj) == (23001, "")
    assert "already used" in message
    assert snapshot() == before


def test_unknown_challenge_is_refused_23001(api: Api) -> None:
    issued = api.issue()
    code, _, _ = answer(api.authorize({**issued, "otpChallenge": "99999999"}))
    assert code == 23001
    assert api.challenges()[0]["state"] == "pending"


def test_wrong_otp_is_23001_and_the_challenge_survives(api: Api) -> None:
    issued = api.issue()
    code, message, _ = answer(api.authorize(issued, otp="000000"))
    assert code == 23001, message
    assert "4 attempts left" in message
    assert api.challenges()[0]["state"] == "pending"
    assert answer(api.authorize(issued))[0] == 0
    assert api.devices()[ALICE_DEVICE]["failedAttempts"] == 0  # a success clears the count


def test_five_wrong_otps_lock_the_device_account(api: Api) -> None:
    issued = api.issue()
    codes = [answer(api.authorize(issued, otp=f"00000{i}"))[0] for i in range(5)]
    assert codes == [23001, 23001, 23001, 23001, 29017]
    assert api.devices()[ALICE_DEVICE]["locked"] is True
    assert api.challenges()[0]["state"] == "pending"
    # Locked: even the right OTP, and new QR requests, are refused.
    assert answer(api.authorize(issued))[0] == 29017
    assert answer(api.request_qr())[0] == 29017
    api.state.reset("centagate")
    assert answer(api.request_qr())[0] == 0


def test_challenge_expires_after_180_seconds_of_app_clock(api: Api) -> None:
    api.state.clock.freeze()
    issued = api.issue()
    api.state.clock.advance(180)
    code, message, _ = answer(api.authorize(issued))
    assert code == 23001
    assert "expired" in message
    assert api.challenges()[0]["state"] == "expired"


def test_challenge_is_still_usable_just_before_expiry(api: Api) -> None:
    api.state.clock.freeze()
    issued = api.issue()
    api.state.clock.advance(179)
    assert answer(api.authorize(issued))[0] == 0


def test_challenge_ttl_is_configurable() -> None:
    app = create_app({"centagate.challenge_ttl_s": 30})
    short = Api(app.test_client(), app.extensions["mockbank"])
    short.state.clock.freeze()
    issued = short.issue()
    short.state.clock.advance(31)
    assert answer(short.authorize(issued))[0] == 23001
    app.extensions["mockbank"].close()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"username": "mallory"}, 22002),
        ({"username": "bob", "devAccId": "bob-device-1"}, 22004),
        ({"username": "carol"}, 29003),
        ({"devAccId": "bob-device-1"}, 29003),
        ({"devAccId": "ghost-device"}, 36000),
        ({"devAccId": "alice-device-old"}, 29002),
        ({"isTransaction": "0"}, 10002),
        ({"transactionValue": ""}, 10002),
        ({"otp": ""}, 10002),
        ({"details": b64("alice-device-1|forged|Transfer RM 9,999 to Mallory")}, 10002),
        ({"details": "%%%"}, 10002),
        ({"authToken": "someone-elses-token"}, 10002),
        ({"integrationKey": "mockbank-strict-integration-key"}, 55000),
        ({"integrationKey": "unknown-key"}, 10001),
    ],
    ids=["unknown-user", "inactive-user-bob", "user-without-device", "device-of-other-user",
         "unknown-device", "inactive-device", "isTransaction-0",
         "no-transactionValue", "no-otp", "details-not-the-challenge", "details-not-base64",
         "foreign-authToken", "other-apps-key", "unknown-app"],
)  # fmt: skip
def test_refusals_have_their_codes_and_change_no_state(
    api: Api, snapshot: Any, fields: dict[str, Any], code: int
) -> None:
    issued = api.issue()
    before = snapshot()
    got, message, obj = answer(api.authorize(issued, **fields))
    assert (got, obj) == (code, ""), message
    assert snapshot() == before
    assert answer(api.authorize(issued))[0] == 0  # the challenge was not burnt


def test_is_transaction_message_names_the_field(api: Api) -> None:
    _, message, _ = answer(api.authorize(api.issue(), isTransaction="0"))
    assert 'isTransaction must be "1"' in message


def test_challenge_issued_to_another_app_is_owner_mismatch_10001(api: Api, snapshot: Any) -> None:
    issued = api.issue()  # through the demo app
    before = snapshot()
    response = api.authorize(
        issued,
        integrationKey="mockbank-strict-integration-key",
        secret_key="mockbank-strict-secret-key",
    )
    code, message, _ = answer(response)
    assert code == 10001, message
    assert snapshot() == before


def test_bad_hmac_is_invalid_signature_55000_and_burns_nothing(api: Api, snapshot: Any) -> None:
    issued = api.issue()
    body = auth_body(issued, api.epoch())
    body["otp"] = "123456"  # tampered after signing
    before = snapshot()
    code, _, _ = answer(api.post(AUTH_QR, body))
    assert code == 55000
    assert snapshot() == before
    assert api.devices()[ALICE_DEVICE]["failedAttempts"] == 0


def test_stale_timestamp_is_10002_and_burns_nothing(api: Api, snapshot: Any) -> None:
    issued = api.issue()
    before = snapshot()
    body = auth_body(issued, api.epoch() - 301)
    assert answer(api.post(AUTH_QR, body))[0] == 10002
    assert snapshot() == before


def test_tampered_signature_over_legacy_order_without_device(api: Api) -> None:
    """The 2018 order has no devAccId: changing only the device breaks the other two orders."""
    issued = api.issue()
    body = auth_body(issued, api.epoch(), order="legacy")
    body["devAccId"] = "bob-device-1"  # not covered by the legacy HMAC
    code, _, _ = answer(api.post(AUTH_QR, body))
    assert code == 29003  # the signature passes; the device check still refuses it
    body["hmac"] = sign(body, SECRET_KEY, "samples")
    assert answer(api.post(AUTH_QR, body))[0] == 29003


def test_journal_never_holds_the_secret_key_or_device_secret(api: Api) -> None:
    issued = api.issue()
    answer(api.authorize(issued, otp="000000"))
    answer(api.authorize(issued))
    api.client.post("/centagate/device/alice-device-1", data={"challenge": "1"})
    text = str([e.as_dict() for e in api.state.journal.entries(provider="centagate")])
    assert SECRET_KEY not in text
    assert "alice-device-secret" not in text
    entry = api.state.journal.entries(endpoint="auth-qr")[-1]
    assert json.loads(entry.request_body)["hmac"] == "***"
    assert json.loads(entry.response_body)["code"] == "0"


def test_single_use_and_lock_hold_on_the_sqlite_store(tmp_path: Any) -> None:
    app = create_app({"state_path": tmp_path})
    sqlite = Api(app.test_client(), app.extensions["mockbank"])
    try:
        issued = sqlite.issue()
        assert answer(sqlite.authorize(issued, otp="000000"))[0] == 23001
        assert answer(sqlite.authorize(issued))[0] == 0
        assert answer(sqlite.authorize(issued))[0] == 23001
        assert sqlite.devices()[ALICE_DEVICE]["failedAttempts"] == 0
    finally:
        sqlite.state.close()

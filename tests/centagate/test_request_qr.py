"""requestQrCode: the challenge it issues, and every way a request is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from mockbank.clients.centagate import parse_qr, sign
from tests.centagate.helpers import (
    ALICE_DEVICE,
    API,
    DETAILS,
    REQUEST_QR,
    SECRET_KEY,
    Api,
    answer,
    b64,
    qr_body,
)


def test_request_qr_code_issues_a_challenge_whose_qr_carries_challenge_and_details(
    api: Api,
) -> None:
    code, message, obj = answer(api.request_qr())
    assert (code, message) == (0, "Success")
    assert set(obj) == {"qrCode", "otpChallenge", "plainText", "authToken"}
    account, request_id, details = obj["plainText"].split("|", 2)
    assert (account, details) == (ALICE_DEVICE, DETAILS)
    assert len(request_id) == 16
    assert obj["otpChallenge"].isdigit()
    assert len(obj["otpChallenge"]) == 8
    scanned = parse_qr(obj["qrCode"])
    assert scanned.dev_acc_id == ALICE_DEVICE
    assert scanned.otp_challenge == obj["otpChallenge"]
    assert scanned.plain_text == obj["plainText"]
    [pending] = api.challenges()
    assert pending["state"] == "pending"
    assert pending["otpChallenge"] == obj["otpChallenge"]


def test_request_qr_code_keeps_a_given_auth_token(api: Api) -> None:
    obj = api.issue(authToken="previous-token-123")
    assert obj["authToken"] == "previous-token-123"


def test_two_requests_get_different_challenges(api: Api) -> None:
    first, second = api.issue(), api.issue()
    assert first["otpChallenge"] != second["otpChallenge"]
    assert first["plainText"] != second["plainText"]  # request ids differ


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/req/requestQrCode",
        f"{API}/auth/requestQrCode",
        "/centagate/CentagateWS/webresources/auth/requestQrCode",
    ],
    ids=["v2-req", "v2-auth-older", "2018-unversioned"],
)
def test_request_qr_code_answers_on_every_documented_path(api: Api, path: str) -> None:
    code, _, obj = answer(api.post(path, qr_body(api.epoch())))
    assert code == 0
    assert obj["otpChallenge"]


@pytest.mark.parametrize("order", ["samples", "table", "legacy"])
def test_each_documented_hmac_order_verifies_and_is_named_in_a_header(api: Api, order: str) -> None:
    # Optional fields set, so the three canonical strings really differ.
    response = api.request_qr(order=order, authToken="t0k", supportFido="false", browserFp="fp")
    assert answer(response)[0] == 0
    assert response.headers["X-Mockbank-Hmac-Order"] == order


def test_the_transaction_signing_request_page_order_verifies(api: Api) -> None:
    # CentagateDocs "Request QR Code Transaction Signing" (Java, Node.js and PHP alike):
    # $username.$details.$devAccId.$authToken.$integrationKey.$unixTimestamp.$supportFido
    # .$ipAddress.$userAgent.$browserFp; details comes before devAccId there.
    body = qr_body(api.epoch(), authToken="t0k", supportFido="true", browserFp="fp")
    text = "".join(
        body[name]
        for name in (
            "username", "details", "devAccId", "authToken", "integrationKey", "unixTimestamp",
            "supportFido", "ipAddress", "userAgent", "browserFp",
        )
    )  # fmt: skip
    body["hmac"] = hmac.new(SECRET_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()
    response = api.post(REQUEST_QR, body)
    code, message, _ = answer(response)
    assert code == 0, message
    assert response.headers["X-Mockbank-Hmac-Order"] == "signing"
    assert sign(body, SECRET_KEY, "signing") == body["hmac"]
    # The strict app accepts its one order only.
    strict = qr_body(
        api.epoch(),
        integrationKey="mockbank-strict-integration-key",
        secret_key="mockbank-strict-secret-key",
        order="signing",
    )
    assert answer(api.post(REQUEST_QR, strict))[0] == 55000


def test_orders_that_coincide_are_all_named(api: Api) -> None:
    response = api.post(
        REQUEST_QR,
        qr_body(api.epoch(), ipAddress="", userAgent="", authToken="", browserFp=""),
    )
    assert answer(response)[0] == 0
    # username+devAccId+details+integrationKey+unixTimestamp in both the samples and the table.
    assert response.headers["X-Mockbank-Hmac-Order"] == "samples,table"


def test_uppercase_hmac_key_of_the_seed_table_is_accepted(api: Api) -> None:
    body = qr_body(api.epoch())
    body["HMAC"] = body.pop("hmac")
    assert answer(api.post(REQUEST_QR, body))[0] == 0


def test_strict_app_accepts_only_its_order(api: Api) -> None:
    strict = {
        "integrationKey": "mockbank-strict-integration-key",
        "secret_key": "mockbank-strict-secret-key",
        "userAgent": "ua",
        "authToken": "tok",
    }
    assert answer(api.request_qr(order="samples", **strict))[0] == 0
    code, message, _ = answer(api.request_qr(order="table", **strict))
    assert code == 55000, message


def test_config_option_makes_every_app_strict() -> None:
    from mockbank import create_app

    app = create_app({"centagate.hmac_order": "table"})
    strict = Api(app.test_client(), app.extensions["mockbank"])
    try:
        assert answer(strict.request_qr(order="table", userAgent="ua"))[0] == 0
        assert answer(strict.request_qr(order="samples", userAgent="ua"))[0] == 55000
    finally:
        strict.state.close()


def test_bad_hmac_is_55000_and_the_journal_shows_the_strings_tried(api: Api) -> None:
    body = qr_body(api.epoch(), userAgent="curl/8")
    body["hmac"] = sign(body, "not-the-secret")
    code, message, obj = answer(api.post(REQUEST_QR, body))
    assert (code, obj) == (55000, "")
    assert "Invalid API signature" in message
    entry = api.state.journal.entries(provider="centagate")[-1]
    tried = entry.notes["canonical_strings_tried"]
    assert set(tried) == {"samples", "table", "legacy", "signing", "python"}
    assert tried["samples"].startswith("alice" + ALICE_DEVICE + body["details"])
    assert "curl/8" in tried["table"]
    assert SECRET_KEY not in str(entry.as_dict())
    assert body["hmac"] not in str(entry.as_dict())
    assert api.challenges() == []


@pytest.mark.parametrize("offset", [-301, 301, -3600], ids=["5min-late", "5min-early", "1h-late"])
def test_stale_timestamp_is_10002(api: Api, offset: int) -> None:
    body = qr_body(api.epoch() + offset)
    code, message, _ = answer(api.post(REQUEST_QR, body))
    assert code == 10002, message
    assert api.challenges() == []


@pytest.mark.parametrize("offset", [-299, 0, 299])
def test_timestamp_inside_the_window_is_accepted(api: Api, offset: int) -> None:
    api.state.clock.freeze()
    assert answer(api.post(REQUEST_QR, qr_body(api.epoch() + offset)))[0] == 0


def test_timestamp_follows_the_app_clock(api: Api) -> None:
    api.state.clock.freeze()
    body = qr_body(api.epoch())
    api.state.clock.advance(3600)
    assert answer(api.post(REQUEST_QR, body))[0] == 10002


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"username": "mallory"}, 22002),
        ({"username": "bob", "devAccId": "bob-device-1"}, 22004),
        ({"username": "carol", "devAccId": "alice-device-1"}, 29003),
        ({"devAccId": "bob-device-1"}, 29003),
        ({"devAccId": "no-such-device"}, 36000),
        ({"devAccId": "alice-device-old"}, 29002),
    ],
    ids=["unknown-user", "inactive-user", "user-without-device", "others-device",
         "unknown-device", "inactive-device"],
)  # fmt: skip
def test_user_and_device_failures_have_their_codes_and_change_nothing(
    api: Api, snapshot: Any, fields: dict[str, str], code: int
) -> None:
    before = snapshot()
    got, message, obj = answer(api.request_qr(**fields))
    assert (got, obj) == (code, ""), message
    assert snapshot() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": ""}, "username"),
        ({"devAccId": None}, "devAccId"),
        ({"details": ""}, "details"),
        ({"integrationKey": ""}, "integrationKey"),
        ({"unixTimestamp": ""}, "unixTimestamp"),
        ({"username": ["alice"]}, "username"),
        ({"details": {"text": "x"}}, "details"),
        ({"supportFido": "maybe"}, "supportFido"),
        ({"unixTimestamp": "soon"}, "unixTimestamp"),
        ({"details": "not base64!"}, "details"),
        ({"details": base64.b64encode(b"\xff\xfe").decode()}, "details"),
        ({"details": b64("x" * 501)}, "details"),
        ({"userAgent": "u" * 5000}, "userAgent"),
    ],
    ids=["no-username", "null-device", "no-details", "no-key", "no-timestamp",
         "username-list", "details-object", "supportFido-word", "timestamp-word",
         "details-not-base64", "details-not-utf8", "details-too-long", "huge-user-agent"],
)  # fmt: skip
def test_invalid_fields_are_10002_naming_the_field(
    api: Api, snapshot: Any, change: dict[str, Any], field: str
) -> None:
    before = snapshot()
    body = qr_body(api.epoch())
    body.update(change)
    body["hmac"] = sign(body, SECRET_KEY, endpoint="requestQrCode")
    code, message, _ = answer(api.post(REQUEST_QR, body))
    assert code == 10002
    assert field in message
    assert snapshot() == before


def test_missing_hmac_is_10002(api: Api) -> None:
    body = qr_body(api.epoch())
    del body["hmac"]
    code, message, _ = answer(api.post(REQUEST_QR, body))
    assert code == 10002
    assert "hmac" in message


def test_unknown_integration_key_is_10001_permission_not_allowed(api: Api) -> None:
    code, message, _ = answer(api.request_qr(integrationKey="who-is-this"))
    assert code == 10001, message


def test_numeric_timestamp_is_accepted(api: Api) -> None:
    body = qr_body(api.epoch())
    body["unixTimestamp"] = int(body["unixTimestamp"])
    assert answer(api.post(REQUEST_QR, body))[0] == 0


def test_details_wrapped_by_a_java_encoder_are_accepted(api: Api) -> None:
    long_details = "Pay " + "x" * 100
    wrapped = b64(long_details)
    wrapped = wrapped[:76] + "\r\n" + wrapped[76:]
    obj = api.issue(details=wrapped)
    assert obj["plainText"].endswith(long_details)

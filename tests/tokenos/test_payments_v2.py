"""Payments v2 over real HTTP with requests only: redirect, embedded and decoupled auth,
settlement, every magic amount, duplicate refIds, paging and filters, and the v2 errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from mockbank.clients.tokenos import Member
from mockbank.providers.tokenos.models.payment_flow import PaymentStatus
from mockbank.testing import LiveServer
from tests.tokenos.helpers_v2 import (
    advance,
    api,
    approved,
    callback_params,
    create,
    decide,
    get,
    pay,
    sepa_initiation,
    status,
    url,
)

SETTLEMENT_ACCOUNT = {"virtualAccountId": "pa:4TXFcixy9yKfEmhad45Jp6Lb34d1:2gFUX1NEGTG"}


def test_redirect_payment_is_approved_on_the_bank_page_and_completes(live: LiveServer) -> None:
    payment = create(live, sepa_initiation("25.50"))
    assert payment["id"].startswith("pm2:")
    assert payment["status"] == "INITIATION_PENDING_REDIRECT_AUTH"
    assert payment["initiation"]["amount"] == {"value": "25.50", "currency": "EUR"}
    redirect = payment["authentication"]["redirectUrl"]
    page = requests.get(redirect, timeout=10)
    assert page.status_code == 200
    assert "Approve a payment of 25.50 EUR" in page.text
    assert "Book Shop GmbH" in page.text

    params = callback_params(decide(redirect, accountId="a:iron-savings"))
    assert params == {"payment-id": payment["id"], "state": "state-42"}
    assert status(live, payment["id"]) == "INITIATION_PENDING_REDIRECT_AUTH_VERIFICATION"
    advance(live, 1)
    assert status(live, payment["id"]) == "INITIATION_PROCESSING"
    advance(live, 4)
    done = get(live, payment["id"])
    assert done["status"] == "INITIATION_COMPLETED"
    assert done["statusReasonInformation"] == "success"
    assert done["bankPaymentStatus"] == "ACSC"
    assert done["bankTransactionId"]
    assert "authentication" not in done
    # The page is single-use: a second answer finds the payment closed.
    assert decide(redirect).status_code == 410


def test_payer_declining_at_the_bank_declines_the_payment(live: LiveServer) -> None:
    payment = create(live, sepa_initiation())
    params = callback_params(decide(payment["authentication"]["redirectUrl"], "deny"))
    assert params["payment-id"] == payment["id"]
    declined = get(live, payment["id"])
    assert declined["status"] == "INITIATION_DECLINED"
    assert "declined" in declined["statusReasonInformation"]


def test_unanswered_authentication_fails_after_15_minutes(live: LiveServer) -> None:
    payment = create(live, sepa_initiation())
    advance(live, 15 * 60)
    failed = get(live, payment["id"])
    assert failed["status"] == "INITIATION_FAILED"
    assert failed["errorInfo"]["httpErrorCode"] == 503
    assert requests.get(payment["authentication"]["redirectUrl"], timeout=10).status_code == 410


def test_embedded_payment_takes_a_one_time_password_then_completes(live: LiveServer) -> None:
    payment = create(live, sepa_initiation("201.00"))
    assert payment["status"] == "INITIATION_PENDING_EMBEDDED_AUTH"
    auth = payment["authentication"]
    assert auth["isRetry"] is False
    field = auth["fields"][0]
    assert field["type"] == "PASSWORD"
    embedded = url(live, f"/v2/payments/{payment['id']}/embedded-auth")

    wrong = api(live).post(embedded, json={"embeddedAuth": {field["id"]: "000000"}})
    assert wrong.status_code == 200
    assert wrong.json()["payment"]["status"] == "INITIATION_PENDING_EMBEDDED_AUTH"
    assert wrong.json()["payment"]["authentication"]["isRetry"] is True

    missing = api(live).post(embedded, json={"embeddedAuth": {}})
    assert missing.status_code == 400
    assert missing.json()["error"]["errorCode"] == "Field.Expected"

    right = api(live).post(embedded, json={"embeddedAuth": {field["id"]: "123456"}})
    assert right.status_code == 200, right.text
    assert right.json()["payment"]["status"] == "INITIATION_PENDING_EMBEDDED_AUTH_VERIFICATION"
    again = api(live).post(embedded, json={"embeddedAuth": {field["id"]: "123456"}})
    assert again.status_code == 400
    assert again.json()["error"]["errorCode"] == "FAILED_PRECONDITION"
    advance(live, 5)
    assert status(live, payment["id"]) == "INITIATION_COMPLETED"
    # The one-time password never reaches the journal.
    journal = requests.get(f"{live.url}/_mockbank/requests?provider=tokenos", timeout=10).text
    assert "123456" not in journal


def test_three_wrong_one_time_passwords_reject_the_payment(live: LiveServer) -> None:
    payment = create(live, sepa_initiation("201.00"))
    embedded = url(live, f"/v2/payments/{payment['id']}/embedded-auth")
    for _ in range(3):
        answer = api(live).post(embedded, json={"embeddedAuth": {"one-time-password": "12"}})
    assert answer.json()["payment"]["status"] == "INITIATION_REJECTED"


def test_decoupled_payment_is_approved_on_the_phone_as_the_clock_moves(live: LiveServer) -> None:
    payment = create(live, sepa_initiation("301.00"))
    assert payment["status"] == "INITIATION_PENDING_DECOUPLED_AUTH"
    assert "authentication" not in payment
    advance(live, 9)
    assert status(live, payment["id"]) == "INITIATION_PENDING_DECOUPLED_AUTH"
    advance(live, 1)
    assert status(live, payment["id"]) == "INITIATION_PROCESSING"
    advance(live, 4)
    assert status(live, payment["id"]) == "INITIATION_COMPLETED"


def test_payment_to_a_settlement_account_settles_after_completion(live: LiveServer) -> None:
    payment = approved(live, sepa_initiation(creditor=SETTLEMENT_ACCOUNT))
    advance(live, 5)
    assert status(live, payment["id"]) == "INITIATION_COMPLETED"
    advance(live, 1)
    assert status(live, payment["id"]) == "SETTLEMENT_IN_PROGRESS"
    advance(live, 60)
    assert status(live, payment["id"]) == "SETTLEMENT_COMPLETED"


def test_decoupled_payment_to_a_settlement_account_settles(live: LiveServer) -> None:
    payment = create(live, sepa_initiation("301.00", creditor=SETTLEMENT_ACCOUNT))
    advance(live, 15)
    assert status(live, payment["id"]) == "SETTLEMENT_IN_PROGRESS"
    advance(live, 60)
    assert status(live, payment["id"]) == "SETTLEMENT_COMPLETED"


def test_settlement_that_finds_no_match_is_incomplete(live: LiveServer) -> None:
    payment = approved(live, sepa_initiation("114.00", creditor=SETTLEMENT_ACCOUNT))
    advance(live, 100)
    assert status(live, payment["id"]) == "SETTLEMENT_INCOMPLETE"


@pytest.mark.parametrize(
    ("amount", "final", "reason"),
    [
        pytest.param("103", "INITIATION_REJECTED", "failure", id="103-rejected"),
        pytest.param("104", "INITIATION_DECLINED", "PERMISSION_DENIED", id="104-declined"),
        pytest.param("105", "INITIATION_NO_FINAL_STATUS_AVAILABLE", "30 days", id="105"),
        pytest.param("106", "INITIATION_DECLINED", "canceled", id="106-declined"),
        pytest.param("107", "INITIATION_FAILED", "UNAVAILABLE", id="107-failed"),
        pytest.param("108", "INITIATION_REJECTED_INSUFFICIENT_FUNDS", "Insufficient", id="108"),
        pytest.param("109", "INITIATION_EXPIRED", "in time", id="109-expired"),
        pytest.param("110", "INITIATION_NO_FINAL_STATUS_AVAILABLE", "30 days", id="110"),
        pytest.param("111", "CANCELED", "canceled", id="111-canceled"),
        pytest.param("112", "INITIATION_DECLINED", "declined", id="112-declined"),
        pytest.param("113", "INITIATION_NO_FINAL_STATUS_AVAILABLE", "no final", id="113"),
        pytest.param("116", "INITIATION_REJECTED", "Insufficient funds", id="116-rejected"),
        pytest.param("117", "INITIATION_DECLINED", "Permission denied", id="117-declined"),
        pytest.param("208.00", "INITIATION_REJECTED_INSUFFICIENT_FUNDS", "", id="208-embedded"),
        pytest.param("303", "INITIATION_REJECTED", "failure", id="303-decoupled"),
    ],
)
def test_magic_amount_reaches_its_failure_status(
    live: LiveServer, amount: str, final: str, reason: str
) -> None:
    payment = create(live, sepa_initiation(amount))
    if payment["status"] == "INITIATION_PENDING_REDIRECT_AUTH":
        callback_params(decide(payment["authentication"]["redirectUrl"]))
    elif payment["status"] == "INITIATION_PENDING_EMBEDDED_AUTH":
        answer = api(live).post(
            url(live, f"/v2/payments/{payment['id']}/embedded-auth"),
            json={"embeddedAuth": {"one-time-password": "654321"}},
        )
        assert answer.status_code == 200
    advance(live, 31 * 24 * 3600)
    done = get(live, payment["id"])
    assert done["status"] == final
    assert reason in done["statusReasonInformation"]


def test_processing_magic_amount_stays_processing_until_token_gives_up(live: LiveServer) -> None:
    payment = approved(live, sepa_initiation("105.00"))
    advance(live, 24 * 3600)
    assert get(live, payment["id"])["statusReasonInformation"] == "processing"
    assert status(live, payment["id"]) == "INITIATION_PROCESSING"


def test_two_step_bank_passes_through_the_redemption_states(live: LiveServer) -> None:
    payment = approved(live, sepa_initiation("115.00"))
    seen = [status(live, payment["id"])]
    for _ in range(8):
        advance(live, 1)
        seen.append(status(live, payment["id"]))
    assert list(dict.fromkeys(seen)) == [
        "INITIATION_PENDING_REDIRECT_AUTH_VERIFICATION",
        "INITIATION_PENDING_REDEMPTION",
        "INITIATION_PENDING_REDEMPTION_VERIFICATION",
        "INITIATION_PROCESSING",
        "INITIATION_COMPLETED",
    ]


def test_slow_bank_answers_on_the_clock_unless_request_timeout_allows_waiting(
    live: LiveServer,
) -> None:
    slow = create(live, sepa_initiation("102.00"))
    assert slow["status"] == "INITIATION_PENDING"
    assert "authentication" not in slow
    short = pay(live, sepa_initiation("102.00"), **{"request-timeout": "5"})
    assert short.json()["payment"]["status"] == "INITIATION_PENDING"
    advance(live, 10)
    assert status(live, slow["id"]) == "INITIATION_PENDING_REDIRECT_AUTH"
    waited = pay(live, sepa_initiation("102.00"), **{"request-timeout": "10"})
    assert waited.json()["payment"]["status"] == "INITIATION_PENDING_REDIRECT_AUTH"
    bad = pay(live, sepa_initiation(), **{"request-timeout": "soon"})
    assert bad.status_code == 400
    assert bad.json()["error"]["paths"] == ["request-timeout"]


def test_every_published_status_is_reachable() -> None:
    from mockbank.providers.tokenos.models.payment_flow import OUTCOMES

    reached = {o.status.value for o in OUTCOMES.values()} | {
        "INITIATION_PENDING",
        "INITIATION_PENDING_REDIRECT_AUTH",
        "INITIATION_PENDING_REDIRECT_AUTH_VERIFICATION",
        "INITIATION_PENDING_REDIRECT_HP",
        "INITIATION_PENDING_EMBEDDED_AUTH",
        "INITIATION_PENDING_EMBEDDED_AUTH_VERIFICATION",
        "INITIATION_PENDING_DECOUPLED_AUTH",
        "INITIATION_PENDING_REDEMPTION",
        "INITIATION_PENDING_REDEMPTION_VERIFICATION",
        "INITIATION_PROCESSING",
        "SETTLEMENT_IN_PROGRESS",
        "SETTLEMENT_COMPLETED",
        "SETTLEMENT_INCOMPLETE",
    }  # each is asserted over HTTP by a test in this directory
    # Pay by Link (INITIATION_PENDING_REDIRECT_PBL) belongs to /v2/payment-links, not emulated.
    assert {s.value for s in PaymentStatus} - reached == {"INITIATION_PENDING_REDIRECT_PBL"}


def test_duplicate_ref_id_is_refused_with_field_not_unique(live: LiveServer) -> None:
    init = sepa_initiation()
    assert pay(live, init).status_code == 200
    again = pay(live, {**init, "amount": {"value": "99.00", "currency": "EUR"}})
    assert again.status_code == 400
    assert again.json()["error"]["errorCode"] == "Field.NotUnique"
    assert again.json()["error"]["paths"] == ["initiation.refId"]


def test_concurrent_payments_with_one_ref_id_make_exactly_one(live: LiveServer) -> None:
    init = sepa_initiation()
    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda _: pay(live, init).status_code, range(20)))
    assert sorted(codes) == [200] + [400] * 19
    listed = api(live).get(
        url(live, "/v2/payments"), params={"limit": 200, "refIds": init["refId"]}
    )
    assert len(listed.json()["payments"]) == 1


def test_list_pages_and_filters(live: LiveServer) -> None:
    made = [create(live, sepa_initiation(f"{n}.00")) for n in (1, 2, 3)]
    callback_params(decide(made[0]["authentication"]["redirectUrl"], "deny"))
    listing = url(live, "/v2/payments")
    first = api(live).get(listing, params={"limit": 2}).json()
    assert [p["id"] for p in first["payments"]] == [made[2]["id"], made[1]["id"]]
    assert first["pageInfo"]["haveMore"] is True
    second = api(live).get(listing, params={"limit": 2, "offset": first["pageInfo"]["nextOffset"]})
    assert [p["id"] for p in second.json()["payments"]] == [made[0]["id"]]
    assert second.json()["pageInfo"]["haveMore"] is False

    declined = api(live).get(listing, params={"limit": 10, "statuses": "INITIATION_DECLINED"})
    assert [p["id"] for p in declined.json()["payments"]] == [made[0]["id"]]
    others = api(live).get(
        listing, params={"limit": 10, "statuses": "INITIATION_DECLINED", "invertStatuses": "true"}
    )
    assert {p["id"] for p in others.json()["payments"]} == {made[1]["id"], made[2]["id"]}
    picked = api(live).get(listing, params={"limit": 10, "ids": [made[1]["id"]], "partial": "true"})
    assert picked.json()["payments"] == [{"id": made[1]["id"], "status": made[1]["status"]}]
    by_ref = api(live).get(listing, params={"limit": 10, "refIds": made[2]["initiation"]["refId"]})
    assert [p["id"] for p in by_ref.json()["payments"]] == [made[2]["id"]]
    later = api(live).get(listing, params={"limit": 10, "createdAfter": "2999-01-01T00:00:00Z"})
    assert later.json()["payments"] == []


@pytest.mark.parametrize(
    ("query", "path"),
    [
        pytest.param({}, "limit", id="no-limit"),
        pytest.param({"limit": "0"}, "limit", id="limit-zero"),
        pytest.param({"limit": "201"}, "limit", id="limit-over-200"),
        pytest.param({"limit": "5", "statuses": "DONE"}, "statuses", id="bad-status"),
        pytest.param({"limit": "5", "offset": "nonsense!"}, "offset", id="bad-offset"),
        pytest.param({"limit": "5", "createdAfter": "yesterday"}, "createdAfter", id="bad-time"),
        pytest.param({"limit": "5", "type": "CARD"}, "type", id="bad-type"),
    ],
)
def test_bad_list_queries_name_the_parameter(
    live: LiveServer, query: dict[str, str], path: str
) -> None:
    answer = api(live).get(url(live, "/v2/payments"), params=query)
    assert answer.status_code == 400
    assert answer.json()["error"]["paths"] == [path]


def _without(init: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in init.items() if k != key}


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        pytest.param(
            lambda i: _without(i, "creditor"),
            "Field.Expected",
            "initiation.creditor",
            id="no-creditor",
        ),
        pytest.param(
            lambda i: _without(i, "refId"), "Field.Expected", "initiation.refId", id="no-ref"
        ),
        pytest.param(
            lambda i: {**i, "refId": "x" * 19},
            "Field.InvalidFormat",
            "initiation.refId",
            id="long-ref",
        ),
        pytest.param(
            lambda i: {**i, "amount": {"value": "1.23456", "currency": "EUR"}},
            "Field.InvalidFormat",
            "initiation.amount.value",
            id="5-decimals",
        ),
        pytest.param(
            lambda i: {**i, "amount": {"value": "0", "currency": "EUR"}},
            "Field.Invalid",
            "initiation.amount.value",
            id="zero",
        ),
        pytest.param(
            lambda i: {**i, "amount": {"value": "5", "currency": "GBP"}},
            "Field.Invalid",
            "initiation.amount.currency",
            id="wrong-currency",
        ),
        pytest.param(
            lambda i: {**i, "flowType": "POPUP"},
            "Field.Invalid",
            "initiation.flowType",
            id="flow-type",
        ),
        pytest.param(
            lambda i: {**i, "callbackUrl": "ftp://x"},
            "Field.InvalidFormat",
            "initiation.callbackUrl",
            id="callback",
        ),
        pytest.param(
            lambda i: {**i, "creditor": {"iban": "nope", "name": "X"}},
            "Field.InvalidFormat",
            "initiation.creditor.iban",
            id="iban",
        ),
        pytest.param(
            lambda i: {**i, "creditor": {"iban": "DE02120300000000202051"}},
            "Field.Expected",
            "initiation.creditor.name",
            id="no-name",
        ),
        pytest.param(
            lambda i: {**i, "localInstrument": "FASTER_PAYMENTS"},
            "Field.Invalid",
            "initiation.creditor",
            id="fp-with-iban",
        ),
        pytest.param(
            lambda i: {**i, "bankId": "gold"},
            "Bank.FeatureNotSupported",
            "initiation.bankId",
            id="no-payments",
        ),
        pytest.param(
            lambda i: {**i, "bankId": "atlantis"},
            "Field.Invalid",
            "initiation.bankId",
            id="unknown-bank",
        ),
        pytest.param(
            lambda i: _without(i, "bankId"),
            "Field.Expected",
            "initiation.bankId",
            id="api-only-no-bank",
        ),
        pytest.param(
            lambda i: {**i, "remittanceInformationPrimary": 7},
            "Field.InvalidFormat",
            "initiation.remittanceInformationPrimary",
            id="number",
        ),
    ],
)
def test_bad_initiation_is_refused_naming_the_field(
    live: LiveServer, change: Any, code: str, path: str
) -> None:
    answer = pay(live, change(sepa_initiation()))
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["errorCode"] == code
    assert error["paths"] == [path]
    assert error["message"]
    assert error["tokenTraceId"]
    if code == "Bank.FeatureNotSupported":
        assert error["bankId"] == "gold"
    empty = api(live).get(url(live, "/v2/payments"), params={"limit": 200}).json()["payments"]
    assert empty == []  # a refused initiation stores nothing


def test_unknown_payment_is_404_naming_the_payment(live: LiveServer) -> None:
    answer = api(live).get(url(live, "/v2/payments/pm2:nothing:here"))
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["errorCode"] == "NOT_FOUND"
    assert error["paymentId"] == "pm2:nothing:here"


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", b'{"initiation": []}', b'{"initiation": {"amount": "10"}}', b"\xff\xfe"],
    ids=["truncated", "array", "initiation-array", "amount-string", "not-utf8"],
)
def test_malformed_bodies_get_the_v2_envelope(live: LiveServer, body: bytes) -> None:
    answer = api(live).post(
        url(live, "/v2/payments"), data=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert set(answer.json()["error"]) >= {"errorCode", "message", "tokenTraceId"}


def test_calls_without_credentials_are_401_in_the_v2_envelope(live: LiveServer) -> None:
    answer = requests.post(url(live, "/v2/payments"), json={"initiation": sepa_initiation()})
    assert answer.status_code == 401
    assert answer.json()["error"]["errorCode"] == "UNAUTHENTICATED"
    wrong = requests.get(url(live, "/v2/payments?limit=5"), auth=("", "wrong"), timeout=10)
    assert wrong.status_code == 401


def test_signed_member_pays_and_sees_only_its_own_payments(
    live: LiveServer, merchant: Member
) -> None:
    created = merchant.call("POST", "/v2/payments", {"initiation": sepa_initiation()})["payment"]
    assert created["memberId"] == merchant.member_id
    mine = merchant.call("GET", "/v2/payments?limit=10")["payments"]
    assert [p["id"] for p in mine] == [created["id"]]
    other = api(live).get(url(live, f"/v2/payments/{created['id']}"))
    assert other.status_code == 404

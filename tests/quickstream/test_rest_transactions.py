"""The QuickStream REST API with `requests` only: tokens, payments, refunds, pre-auths, voids."""

from __future__ import annotations

import pytest

from mockbank.pytest_plugin import Mockbank
from tests.quickstream.helpers import (
    PAN_DECLINED,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    Rest,
    assert_envelope,
    card,
    payment,
)


@pytest.fixture
def rest(mockbank: Mockbank) -> Rest:
    return Rest(mockbank.url("quickstream", "/rest/v1"))


def test_root_answers_its_links_to_either_key(rest: Rest) -> None:
    for key, name in (
        (SECRET_KEY, "Mockbank secret key"),
        (PUBLISHABLE_KEY, "Mockbank publishable key"),
    ):
        answer = rest.call("GET", "", key)
        assert answer.status_code == 200
        root = answer.json()
        assert root["communityCode"] == "COMMUNITY1"
        assert root["communityName"] == "Mockbank Demo Facility"
        assert root["keyName"] == name
        rels = {link["rel"]: link for link in root["links"]}
        assert rels["single-use-tokens"]["requestMethod"] == "POST"
        assert rels["transactions"]["href"] == rest.base + "/transactions"


@pytest.mark.parametrize(
    ("auth", "why"),
    [
        (None, "No Authorization header"),
        (("MOCKBANK_SEC_wrong", ""), "not known"),
        ((SECRET_KEY, "secret"), "password blank"),
    ],
    ids=["no-header", "unknown-key", "password-given"],
)
def test_bad_credentials_are_401_in_the_envelope(
    rest: Rest, auth: tuple[str, str] | None, why: str
) -> None:
    answer = rest.http.get(rest.base, auth=auth, timeout=10)
    body = assert_envelope(answer, 401)
    assert body["customerMessage"] == "Authorisation failed."
    assert why in body["developerMessage"]


def test_publishable_key_cannot_take_payments_and_secret_key_cannot_make_tokens(rest: Rest) -> None:
    assert_envelope(rest.call("POST", "/transactions", PUBLISHABLE_KEY, json=payment()), 401)
    assert_envelope(rest.call("POST", "/single-use-tokens", SECRET_KEY, json=card()), 401)


def test_single_use_token_payment_then_refund(rest: Rest, mockbank: Mockbank) -> None:
    created = rest.call("POST", "/single-use-tokens", PUBLISHABLE_KEY, json=card())
    assert created.status_code == 201
    token = created.json()
    assert token["accountType"] == "CREDIT_CARD"
    assert token["creditCard"]["cardNumber"] == "424242...242"
    assert token["creditCard"]["cardScheme"] == "VISA"

    paid = rest.transact(payment(10.00, singleUseTokenId=token["singleUseTokenId"]))
    assert paid.status_code == 201, paid.text
    txn = paid.json()
    assert txn["transactionType"] == "PAYMENT"
    assert (txn["status"], txn["responseCode"], txn["summaryCode"]) == ("Approved", "08", "0")
    assert txn["responseDescription"] == "Honour with identification"
    assert txn["principalAmount"] == {"currency": "AUD", "amount": 10.0, "displayAmount": "$10.00"}
    assert txn["surchargeAmount"]["amount"] == 0.1  # VISA 1.00 % in the seeded facility
    assert txn["totalAmount"]["displayAmount"] == "$10.10"
    assert txn["creditCard"]["cardNumber"] == "424242...242"
    assert txn["source"] == "RESTAPI"
    assert txn["refundable"] is True
    assert txn["voidable"] is True
    receipt = txn["receiptNumber"]
    assert rest.call("GET", f"/transactions/{receipt}").json() == txn

    refunded = rest.transact(
        {"transactionType": "REFUND", "parentReceiptNumber": receipt, "principalAmount": 4.00}
    )
    assert refunded.status_code == 201, refunded.text
    refund = refunded.json()
    assert refund["transactionType"] == "REFUND"
    assert refund["status"] == "Approved"
    assert refund["parentReceiptNumber"] == receipt
    assert refund["principalAmount"]["amount"] == 4.0
    parent = rest.call("GET", f"/transactions/{receipt}").json()
    assert parent["voidable"] is False  # refunded: a void would undo the refund too
    too_much = rest.transact(
        {"transactionType": "REFUND", "parentReceiptNumber": receipt, "principalAmount": 6.01}
    )
    body = assert_envelope(too_much, 422)
    assert body["errors"][0]["fieldName"] == "principalAmount"
    listed = rest.call("GET", "/transactions").json()
    assert [t["receiptNumber"] for t in listed["data"]] == [refund["receiptNumber"], receipt]
    assert rest.call("GET", "/transactions?transactionType=REFUND").json()["data"] == [
        rest.call("GET", f"/transactions/{refund['receiptNumber']}").json()
    ]


def test_preauth_then_capture(rest: Rest) -> None:
    held = rest.transact(payment(50.00, transactionType="PREAUTH", singleUseTokenId=rest.token()))
    assert held.status_code == 201, held.text
    preauth = held.json()
    assert (preauth["transactionType"], preauth["status"]) == ("PREAUTH", "Approved")
    assert preauth["refundable"] is False
    captured = rest.transact(
        {
            "transactionType": "CAPTURE",
            "parentReceiptNumber": preauth["receiptNumber"],
            "principalAmount": 45.00,
        }
    )
    assert captured.status_code == 201, captured.text
    capture = captured.json()
    assert capture["transactionType"] == "CAPTURE"
    assert capture["principalAmount"]["amount"] == 45.0
    assert capture["refundable"] is True
    again = rest.transact(
        {"transactionType": "CAPTURE", "parentReceiptNumber": preauth["receiptNumber"]}
    )
    assert "captured" in assert_envelope(again, 422)["developerMessage"]


def test_a_bank_account_cannot_be_preauthorised(rest: Rest) -> None:
    bank = {
        "supplierBusinessCode": "SUPPLIER1",
        "accountType": "DIRECT_DEBIT",
        "accountName": "Jane Citizen",
        "bsb": "032-000",
        "accountNumber": "123456",
    }
    made = rest.call("POST", "/single-use-tokens", PUBLISHABLE_KEY, json=bank)
    assert made.status_code == 201, made.text
    assert made.json()["bankAccount"] == {
        "accountName": "Jane Citizen",
        "bsb": "032-000",
        "accountNumber": "***456",
    }
    token = made.json()["singleUseTokenId"]
    refused = rest.transact(payment(transactionType="PREAUTH", singleUseTokenId=token))
    assert assert_envelope(refused, 422)["errors"][0]["fieldName"] == "singleUseTokenId"
    paid = rest.transact(payment(12.00, singleUseTokenId=token)).json()  # still unused
    assert (paid["responseCode"], paid["surchargeAmount"]["amount"]) == ("00", 0.0)
    assert paid["bankAccount"]["bsb"] == "032-000"


def test_void_cancels_a_payment_once(rest: Rest) -> None:
    paid = rest.transact(payment(20.00, singleUseTokenId=rest.token())).json()
    voided = rest.transact(
        {"transactionType": "VOID", "parentReceiptNumber": paid["receiptNumber"]}
    )
    assert voided.status_code == 201, voided.text
    assert voided.json()["transactionType"] == "VOID"
    parent = rest.call("GET", f"/transactions/{paid['receiptNumber']}").json()
    assert parent["voidable"] is False
    assert parent["refundable"] is False
    twice = rest.transact({"transactionType": "VOID", "parentReceiptNumber": paid["receiptNumber"]})
    assert "not voidable" in assert_envelope(twice, 422)["developerMessage"]


def test_a_payment_is_not_voidable_after_settlement(rest: Rest, mockbank: Mockbank) -> None:
    paid = rest.transact(payment(20.00, singleUseTokenId=rest.token())).json()
    mockbank.clock.advance(4 * 24 * 3600)  # past the settlement cut-off, whatever the weekday
    parent = rest.call("GET", f"/transactions/{paid['receiptNumber']}").json()
    assert parent["voidable"] is False
    assert parent["refundable"] is True
    late = rest.transact({"transactionType": "VOID", "parentReceiptNumber": paid["receiptNumber"]})
    assert_envelope(late, 422)


def test_a_declined_test_card_is_a_processed_transaction(rest: Rest) -> None:
    answer = rest.transact(payment(10.00, singleUseTokenId=rest.token(PAN_DECLINED)))
    assert answer.status_code == 201
    txn = answer.json()
    assert (txn["status"], txn["responseCode"], txn["summaryCode"]) == ("Declined", "51", "1")
    assert txn["responseDescription"] == "Not sufficient funds"
    assert txn["refundable"] is False
    assert txn["voidable"] is False


def test_single_use_token_used_twice_is_refused_and_nothing_charged(rest: Rest) -> None:
    token = rest.token()
    assert rest.transact(payment(10.00, singleUseTokenId=token)).status_code == 201
    second = rest.transact(payment(10.00, singleUseTokenId=token))
    body = assert_envelope(second, 422)
    assert body["errors"][0]["fieldName"] == "singleUseTokenId"
    assert "already been used" in body["errors"][0]["messages"][0]
    assert len(rest.call("GET", "/transactions").json()["data"]) == 1


def test_single_use_token_expires_after_ten_minutes(rest: Rest, mockbank: Mockbank) -> None:
    token = rest.token()
    mockbank.clock.advance(601)
    body = assert_envelope(rest.transact(payment(singleUseTokenId=token)), 422)
    assert "expired" in body["errors"][0]["messages"][0]
    assert rest.call("GET", "/transactions").json()["data"] == []


def test_invalid_card_details_list_every_field_and_never_echo_the_number(rest: Rest) -> None:
    answer = rest.call(
        "POST",
        "/single-use-tokens",
        PUBLISHABLE_KEY,
        json=card("4242424242424241", expiryDateMonth="13", cvn="12"),
    )
    body = assert_envelope(answer, 422)
    fields = {e["fieldName"]: e for e in body["errors"]}
    assert set(fields) == {"cardNumber", "expiryDateMonth", "cvn"}
    assert fields["cardNumber"]["fieldValue"] is None
    assert "4242424242424241" not in answer.text


def test_inprocess_mode_routes_the_real_api_hosts(mockbank_inprocess: object) -> None:
    import requests

    for host in ("api.quickstream.support.qvalent.com", "api.quickstream.westpac.com.au"):
        base = f"https://{host}/rest/v1"
        made = requests.post(
            base + "/single-use-tokens", json=card(), auth=(PUBLISHABLE_KEY, ""), timeout=5
        )
        assert made.status_code == 201, made.text
        paid = requests.post(
            base + "/transactions",
            json=payment(singleUseTokenId=made.json()["singleUseTokenId"]),
            auth=(SECRET_KEY, ""),
            timeout=5,
        )
        assert paid.json()["status"] == "Approved"

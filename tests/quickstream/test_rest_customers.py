"""Customers, QuickVault accounts from single-use tokens, payments by accountToken, businesses."""

from __future__ import annotations

import pytest

from mockbank.pytest_plugin import Mockbank
from tests.quickstream.helpers import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    Rest,
    assert_envelope,
    payment,
)


@pytest.fixture
def rest(mockbank: Mockbank) -> Rest:
    return Rest(mockbank.url("quickstream", "/rest/v1"))


def _customer(rest: Rest, number: str = "CUST-42") -> dict[str, object]:
    made = rest.call(
        "POST",
        "/customers",
        json={
            "customerNumber": number,
            "customerName": "Jane Citizen",
            "supplierBusinessCode": "SUPPLIER1",
            "emailAddress": "jane@example.com",
        },
    )
    assert made.status_code == 201, made.text
    customer: dict[str, object] = made.json()
    return customer


def test_customer_and_account_from_a_single_use_token_then_pay_by_account_token(
    rest: Rest, mockbank: Mockbank
) -> None:
    customer = _customer(rest)
    customer_id = customer["customerId"]
    assert rest.call("GET", f"/customers/{customer_id}").json() == customer
    registered = rest.call(
        "POST", f"/customers/{customer_id}/accounts", json={"singleUseTokenId": rest.token()}
    )
    assert registered.status_code == 201, registered.text
    account = registered.json()
    token = account["accountToken"]
    assert account["accountType"] == "CREDIT_CARD"
    assert account["cardNumber"] == "424242...242"
    assert account["defaultAccount"] is True
    assert rest.call("GET", f"/accounts/{token}").json() == account
    listed = rest.call("GET", f"/customers/{customer_id}/accounts").json()
    assert [a["accountToken"] for a in listed["data"]] == [token]

    paid = rest.transact(payment(15.00, accountToken=token, eci="RECURRING"))
    assert paid.status_code == 201, paid.text
    txn = paid.json()
    assert txn["status"] == "Approved"
    assert txn["creditCard"]["accountToken"] == token
    assert txn["customerId"] == customer_id
    by_customer = rest.transact(payment(16.00, customerId=customer_id, eci="RECURRING"))
    assert by_customer.json()["creditCard"]["accountToken"] == token

    view = mockbank.state.provider_state("quickstream")
    assert [c["customerNumber"] for c in view["restCustomers"]] == ["CUST-42"]
    assert [a["accountToken"] for a in view["restAccounts"]] == [token]
    assert len(view["restTransactions"]) == 2
    assert "4242424242424242" not in str(view)

    deleted = rest.call("DELETE", f"/accounts/{token}")
    assert deleted.status_code == 200
    assert_envelope(rest.call("GET", f"/accounts/{token}"), 404)
    refused = rest.transact(payment(15.00, accountToken=token))
    assert assert_envelope(refused, 422)["errors"][0]["fieldName"] == "accountToken"


def test_a_bank_account_registers_and_the_newest_default_wins(rest: Rest) -> None:
    customer_id = _customer(rest)["customerId"]
    first = rest.call(
        "POST", f"/customers/{customer_id}/accounts", json={"singleUseTokenId": rest.token()}
    ).json()
    bank = rest.call(
        "POST",
        "/single-use-tokens",
        PUBLISHABLE_KEY,
        json={
            "supplierBusinessCode": "SUPPLIER1",
            "accountType": "DIRECT_DEBIT",
            "accountName": "Jane Citizen",
            "bsb": "032000",
            "accountNumber": "12345678",
        },
    ).json()["singleUseTokenId"]
    second = rest.call(
        "POST", f"/customers/{customer_id}/accounts", json={"singleUseTokenId": bank}
    ).json()
    assert second["accountType"] == "DIRECT_DEBIT"
    assert second["bsb"] == "032-000"
    assert rest.call("GET", f"/accounts/{first['accountToken']}").json()["defaultAccount"] is False
    listed = rest.call("GET", f"/customers/{customer_id}/accounts").json()["data"]
    assert [a["accountToken"] for a in listed] == [second["accountToken"], first["accountToken"]]
    reused = rest.call(
        "POST", f"/customers/{customer_id}/accounts", json={"singleUseTokenId": bank}
    )
    assert_envelope(reused, 422)


def test_customer_numbers_are_unique_and_searchable(rest: Rest) -> None:
    _customer(rest, "A-1")
    _customer(rest, "B-2")
    duplicate = rest.call(
        "POST",
        "/customers",
        json={"customerNumber": "A-1", "customerName": "X", "supplierBusinessCode": "SUPPLIER1"},
    )
    assert assert_envelope(duplicate, 422)["errors"][0]["fieldName"] == "customerNumber"
    found = rest.call("GET", "/customers?customerNumber=B-2").json()["data"]
    assert [c["customerNumber"] for c in found] == ["B-2"]
    page = rest.call("GET", "/customers?pageSize=1").json()
    assert len(page["data"]) == 1
    nxt = next(link for link in page["links"] if link["rel"] == "next")
    following = rest.http.get(nxt["href"], auth=(SECRET_KEY, ""), timeout=5).json()
    assert [c["customerNumber"] for c in following["data"]] != [
        c["customerNumber"] for c in page["data"]
    ]


def test_businesses_accepted_cards_and_surcharges(rest: Rest) -> None:
    listed = rest.call("GET", "/businesses").json()["data"]
    assert [b["supplierBusinessCode"] for b in listed] == ["SUPPLIER1"]
    accepted = rest.call("GET", "/businesses/SUPPLIER1/accepted-cards", PUBLISHABLE_KEY).json()
    assert [c["cardScheme"] for c in accepted["data"]] == ["VISA", "MASTERCARD", "AMEX"]
    surcharges = rest.call("GET", "/businesses/SUPPLIER1/card-surcharges").json()["data"]
    assert {(s["cardScheme"], s["cardType"], s["surchargePercentage"]) for s in surcharges} >= {
        ("VISA", "CREDIT", "1.00"),
        ("AMEX", "DEBIT", "2.50"),
    }
    queried = rest.call(
        "POST",
        "/businesses/SUPPLIER1/query-card-surcharge",
        PUBLISHABLE_KEY,
        json={"cardNumber": "378282246310005"},
    ).json()
    assert (queried["cardScheme"], queried["surchargePercentage"]) == ("AMEX", "2.50")
    assert_envelope(rest.call("GET", "/businesses/NOPE"), 404)


def test_an_account_quickweb_registered_pays_through_the_rest_api(mockbank: Mockbank) -> None:
    from tests.quickstream.helpers import card_form, open_session

    client = mockbank.client()
    page, csrf = open_session(client, registerPaymentAccount="true")
    assert client.post(page + "/pay", data=card_form(csrf, "4000000000000010")).status_code == 303
    [vault] = mockbank.state.provider_state("quickstream")["vaultAccounts"]
    token = vault["accountToken"]
    rest = Rest(mockbank.url("quickstream", "/rest/v1"))
    account = rest.call("GET", f"/accounts/{token}").json()
    assert (account["cardNumber"], account["customerId"]) == ("400000...010", None)
    paid = rest.transact(payment(8.00, accountToken=token, eci="RECURRING")).json()
    assert (paid["status"], paid["creditCard"]["accountToken"]) == ("Approved", token)
    assert rest.call("DELETE", f"/accounts/{token}").status_code == 200
    assert_envelope(rest.transact(payment(8.00, accountToken=token)), 422)

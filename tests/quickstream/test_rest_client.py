"""mockbank's QuickStream REST client against the live server and in process."""

from __future__ import annotations

import pytest

from mockbank.clients.quickstream_rest import QuickStreamRestClient, QuickStreamRestError
from mockbank.pytest_plugin import Mockbank


def test_the_client_runs_the_whole_api(mockbank: Mockbank) -> None:
    client = QuickStreamRestClient(mockbank.server.url)
    assert client.root()["communityCode"] == "COMMUNITY1"
    assert client.accepted_cards() == ["VISA", "MASTERCARD", "AMEX"]
    token = client.create_card_token("5555555555554444", "12", "2035", cvn="123")
    paid = client.pay(token["singleUseTokenId"], 99.95, paymentReferenceNumber="INV-7")
    assert (paid["status"], paid["creditCard"]["cardScheme"]) == ("Approved", "MASTERCARD")
    refund = client.refund(paid["receiptNumber"], 9.95)
    assert refund["parentReceiptNumber"] == paid["receiptNumber"]
    held = client.preauth(
        client.create_card_token("4111111111111111", "01", "2036")["singleUseTokenId"], 5
    )
    assert client.capture(held["receiptNumber"])["principalAmount"]["amount"] == 5.0
    voided = client.void(
        client.pay(
            client.create_card_token("4242424242424242", "12", "2035")["singleUseTokenId"], 1
        )["receiptNumber"]
    )
    assert voided["transactionType"] == "VOID"
    assert [t["transactionType"] for t in client.list_transactions(transactionType="REFUND")] == [
        "REFUND"
    ]
    assert len(client.list_transactions()) == 6

    customer = client.create_customer("C-1", "Jane Citizen")
    bank = client.create_bank_account_token("Jane Citizen", "032-000", "123456")
    account = client.register_account(customer["customerId"], bank["singleUseTokenId"])
    assert client.list_accounts(customer["customerId"]) == [account]
    by_token = client.pay(None, 20, account_token=account["accountToken"], eci="RECURRING")
    assert by_token["bankAccount"]["accountToken"] == account["accountToken"]
    client.delete_account(account["accountToken"])
    with pytest.raises(QuickStreamRestError) as refused:
        client.pay(None, 20, account_token=account["accountToken"])
    assert refused.value.status == 422
    assert refused.value.field_names == ["accountToken"]


def test_the_client_works_in_process_on_westpacs_own_host(mockbank_inprocess: object) -> None:
    client = QuickStreamRestClient("https://api.quickstream.support.qvalent.com/rest/v1")
    token = client.create_card_token("4000000000000796", "12", "2035", cvn="123")
    declined = client.pay(token["singleUseTokenId"], 10)
    assert (declined["status"], declined["responseCode"]) == ("Declined", "51")

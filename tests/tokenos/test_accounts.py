"""Account information on behalf of access tokens: permissions, balances, transactions."""

from __future__ import annotations

from typing import Any

import pytest

from mockbank import create_app
from mockbank.clients.tokenos import Member, TokenError
from mockbank.providers.tokenos.models import accounts as accounts_rules
from mockbank.providers.tokenos.records.accounts import NS_ACCOUNT
from mockbank.providers.tokenos.records.tokens import StoredToken
from mockbank.state import State
from mockbank.testing import LiveServer
from tests.tokenos.helpers import PAYER, access_payload, consent, mint, transfer_payload


def grant(live: LiveServer, member: Member, types: list[str], bank: str = "iron") -> str:
    token = mint(live, member, access_payload(types), {**PAYER, "bankId": bank})
    return str(token["id"])


def test_access_token_lists_the_consented_accounts(merchant: Member, live: LiveServer) -> None:
    token_id = grant(live, merchant, ["ACCOUNTS"])
    accounts = merchant.call("GET", "/accounts", on_behalf_of=token_id)["accounts"]
    assert [a["id"] for a in accounts] == ["a:iron-checking", "a:iron-savings"]
    assert accounts[0]["accountFeatures"]["supportsInformation"] is True
    assert accounts[0]["bankId"] == "iron"
    one = merchant.call("GET", "/accounts/a:iron-savings", on_behalf_of=token_id)["account"]
    assert one["name"] == "Iron Savings"


def test_without_an_access_token_a_tpp_sees_no_accounts(merchant: Member) -> None:
    assert merchant.call("GET", "/accounts") == {"accounts": []}
    with pytest.raises(TokenError) as refused:
        merchant.call("GET", "/accounts/a:iron-checking/balance")
    assert refused.value.code == "PERMISSION_DENIED"


@pytest.mark.parametrize(
    ("types", "path", "allowed"),
    [
        pytest.param(["ACCOUNTS"], "/accounts/a:iron-checking/balance", False, id="no-balances"),
        pytest.param(
            ["ACCOUNTS"],
            "/accounts/a:iron-checking/transactions?limit=2",
            False,
            id="no-transactions",
        ),
        pytest.param(["BALANCES"], "/accounts", False, id="no-accounts"),
        pytest.param(["BALANCES"], "/accounts/a:iron-checking", False, id="no-account"),
        pytest.param(["BALANCES"], "/accounts/a:iron-checking/balance", True, id="balance"),
        pytest.param(
            ["BALANCES"], "/accounts/a:wood-current/balance", False, id="other-bank-balance"
        ),
        pytest.param(
            ["TRANSACTIONS"],
            "/accounts/a:iron-savings/transactions?limit=2",
            True,
            id="transactions",
        ),
        pytest.param(
            ["TRANSACTIONS"],
            "/accounts/a:iron-savings/transaction/tx:iron-savings:0001",
            True,
            id="one-transaction",
        ),
        pytest.param(
            ["TRANSACTIONS"],
            "/accounts/a:iron-savings/balance",
            False,
            id="transactions-not-balance",
        ),
        pytest.param(
            ["TRANSFER_DESTINATIONS"],
            "/accounts/a:iron-savings/transfer-destinations",
            True,
            id="transfer-destinations",
        ),
        pytest.param(
            ["ACCOUNTS", "BALANCES"],
            "/accounts/a:iron-savings/transfer-destinations",
            False,
            id="no-transfer-destinations",
        ),
        pytest.param(
            ["STANDING_ORDERS"],
            "/accounts/a:iron-savings/standing-orders?page.offset=undefined&page.limit=10",
            True,
            id="standing-orders",
        ),
        pytest.param(
            ["ACCOUNTS"],
            "/accounts/a:iron-savings/standing-orders?page.offset=undefined&page.limit=10",
            False,
            id="no-standing-orders",
        ),
    ],
)
def test_each_resource_needs_its_permission(
    merchant: Member, live: LiveServer, types: list[str], path: str, allowed: bool
) -> None:
    token_id = grant(live, merchant, types)
    if allowed:
        merchant.call("GET", path, on_behalf_of=token_id)
        return
    with pytest.raises(TokenError) as refused:
        merchant.call("GET", path, on_behalf_of=token_id)
    assert (refused.value.status, refused.value.code) == (403, "PERMISSION_DENIED")


def test_access_token_of_another_member_is_refused(merchant: Member, live: LiveServer) -> None:
    token_id = grant(live, merchant, ["ACCOUNTS"])
    other = merchant.client.create_member({"type": "DOMAIN", "value": "spy.example.com"})
    with pytest.raises(TokenError) as refused:
        other.call("GET", "/accounts", on_behalf_of=token_id)
    assert refused.value.code == "PERMISSION_DENIED"


def test_transfer_token_cannot_be_used_for_account_information(
    merchant: Member, live: LiveServer
) -> None:
    token = mint(live, merchant, transfer_payload())
    with pytest.raises(TokenError) as refused:
        merchant.call("GET", "/accounts", on_behalf_of=token["id"])
    assert refused.value.code == "PERMISSION_DENIED"


def test_balance_is_cached_unless_customer_initiated(merchant: Member, live: LiveServer) -> None:
    access_id = grant(live, merchant, ["BALANCES"])
    path = "/accounts/a:iron-checking/balance"
    first = merchant.call("GET", path, on_behalf_of=access_id)
    assert first["status"] == "SUCCESSFUL_REQUEST"
    assert first["balance"]["current"] == {"currency": "EUR", "value": "5000.00"}
    transfer_token = mint(live, merchant, transfer_payload("100"))
    merchant.redeem_token(transfer_token, "40")
    live.state.clock.advance(6)
    cached = merchant.call("GET", path, on_behalf_of=access_id)
    assert cached["balance"]["current"]["value"] == "5000.00"
    assert cached["balance"]["updatedAtMs"] == first["balance"]["updatedAtMs"]
    fresh = merchant.call("GET", path, on_behalf_of=access_id, customer_initiated=True)
    assert fresh["balance"]["current"]["value"] == "4960.00"
    # The cache itself now holds the fresh value; after an hour it refreshes on its own.
    assert (
        merchant.call("GET", path, on_behalf_of=access_id)["balance"]["current"]["value"]
        == "4960.00"
    )


def test_transactions_page_and_include_settled_transfers(
    merchant: Member, live: LiveServer
) -> None:
    access_id = grant(live, merchant, ["TRANSACTIONS"])
    path = "/accounts/a:iron-checking/transactions"
    first = merchant.call(
        "GET", f"{path}?offset=undefined&limit=10&startDate=&endDate=", on_behalf_of=access_id
    )
    assert first["status"] == "SUCCESSFUL_REQUEST"
    assert len(first["transactions"]) == 10
    assert first["offset"] == "10"
    rest = merchant.call("GET", f"{path}?offset=10&limit=100", on_behalf_of=access_id)
    assert len(rest["transactions"]) == 20
    assert "offset" not in rest
    stamps = [int(t["createdAtMs"]) for t in first["transactions"] + rest["transactions"]]
    assert stamps == sorted(stamps, reverse=True)
    token = mint(live, merchant, transfer_payload("100"))
    transfer = merchant.redeem_token(token, "12.34", description="coffee beans")
    live.state.clock.advance(6)
    newest = merchant.call("GET", f"{path}?limit=1", on_behalf_of=access_id)["transactions"][0]
    assert newest["tokenTransferId"] == transfer["id"]
    assert newest["amount"] == {"currency": "EUR", "value": "12.34"}
    one = merchant.call(
        "GET", f"/accounts/a:iron-checking/transaction/{newest['id']}", on_behalf_of=access_id
    )
    assert one["transaction"]["description"] == "coffee beans"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("limit=0", id="zero-limit"),
        pytest.param("limit=abc", id="text-limit"),
        pytest.param("offset=-3&limit=5", id="negative-offset"),
        pytest.param("startDate=yesterday", id="bad-date"),
    ],
)
def test_bad_transaction_paging_is_rejected(merchant: Member, live: LiveServer, query: str) -> None:
    access_id = grant(live, merchant, ["TRANSACTIONS"])
    with pytest.raises(TokenError) as refused:
        merchant.call(
            "GET", f"/accounts/a:iron-checking/transactions?{query}", on_behalf_of=access_id
        )
    assert (refused.value.status, refused.value.code) == (400, "INVALID_ARGUMENT")


def test_unknown_transaction_is_not_found(merchant: Member, live: LiveServer) -> None:
    access_id = grant(live, merchant, ["TRANSACTIONS"])
    with pytest.raises(TokenError) as missing:
        merchant.call(
            "GET", "/accounts/a:iron-checking/transaction/tx:nope", on_behalf_of=access_id
        )
    assert missing.value.status == 404


@pytest.mark.parametrize(
    ("bank", "account", "destination"),
    [
        pytest.param(
            "iron",
            "a:iron-checking",
            {"sepa": {"iban": "DE89370400440532013000", "bic": "IRONDEFFXXX"}},
            id="sepa",
        ),
        pytest.param(
            "wood",
            "a:wood-current",
            {"fasterPayments": {"sortCode": "400515", "accountNumber": "12345678"}},
            id="faster-payments",
        ),
    ],
)
def test_transfer_destinations_follow_the_banks_payment_rail(
    merchant: Member, live: LiveServer, bank: str, account: str, destination: dict[str, Any]
) -> None:
    token_id = grant(live, merchant, ["TRANSFER_DESTINATIONS"], bank=bank)
    found = merchant.call(
        "GET", f"/accounts/{account}/transfer-destinations", on_behalf_of=token_id
    )
    assert found == {
        "transferDestinations": [{**destination, "customerData": {"legalNames": ["Pat Payer"]}}]
    }
    rails = {
        b["id"]: b["supportedTransferDestinationTypes"]
        for b in merchant.call("GET", "/banks")["banks"]
    }
    assert (
        next(iter(destination))
        == {"SEPA": "sepa", "FASTER_PAYMENTS": "fasterPayments"}[rails[bank][0]]
    )


def test_standing_orders_are_an_empty_list_and_none_can_be_found(
    merchant: Member, live: LiveServer
) -> None:
    token_id = grant(live, merchant, ["STANDING_ORDERS"])
    path = "/accounts/a:iron-checking/standing-orders"
    listed = merchant.call(
        "GET", f"{path}?page.offset=undefined&page.limit=10", on_behalf_of=token_id
    )
    assert listed == {"standingOrders": [], "status": "SUCCESSFUL_REQUEST"}
    with pytest.raises(TokenError) as missing:
        merchant.call("GET", f"{path}/so:1", on_behalf_of=token_id)
    assert (missing.value.status, missing.value.code) == (404, "NOT_FOUND")
    with pytest.raises(TokenError) as bad:
        merchant.call("GET", f"{path}?page.offset=x&page.limit=10", on_behalf_of=token_id)
    assert (bad.value.status, bad.value.code) == (400, "INVALID_ARGUMENT")
    # Another bank's account is not covered by the token.
    with pytest.raises(TokenError) as refused:
        merchant.call("GET", "/accounts/a:wood-current/standing-orders/so:1", on_behalf_of=token_id)
    assert refused.value.code == "PERMISSION_DENIED"


def test_funds_confirmation(merchant: Member, live: LiveServer) -> None:
    access_id = grant(live, merchant, ["FUNDS_CONFIRMATIONS"])
    path = "/accounts/a:iron-checking/funds-confirmation"

    def confirm(value: str, currency: str = "EUR") -> Any:
        body = {"accountId": "a:iron-checking", "amount": {"currency": currency, "value": value}}
        return merchant.call("PUT", path, body, on_behalf_of=access_id)["fundsAvailable"]

    assert confirm("5000") is True
    assert confirm("5000.01") is False
    with pytest.raises(TokenError) as wrong:
        confirm("1", "GBP")
    assert wrong.value.code == "INVALID_ARGUMENT"


def funds_request(bank_account: dict[str, Any]) -> dict[str, Any]:
    """What the SDK's createFundsConfirmationRequest(bankId, account) stores."""
    payload = access_payload()
    payload["accessBody"] = {
        "accountResourceList": {
            "resources": [{"type": "ACCOUNT_FUNDS_CONFIRMATION", "bankAccount": bank_account}]
        }
    }
    return payload


@pytest.mark.parametrize(
    ("bank", "bank_account", "account"),
    [
        pytest.param(
            "iron", {"sepa": {"iban": "DE02 1203 0000 0000 2020 51"}}, "a:iron-savings", id="iban"
        ),
        pytest.param(
            "wood",
            {"fasterPayments": {"sortCode": "40-05-15", "accountNumber": "87654321"}},
            "a:wood-savings",
            id="sort-code",
        ),
        pytest.param(
            "iron", {"token": {"accountId": "a:iron-checking"}}, "a:iron-checking", id="token"
        ),
    ],
)
def test_funds_confirmation_request_covers_the_named_account_only(
    merchant: Member, live: LiveServer, bank: str, bank_account: dict[str, Any], account: str
) -> None:
    token = mint(live, merchant, funds_request(bank_account), {**PAYER, "bankId": bank})
    assert token["payload"]["access"]["resources"] == [
        {"fundsConfirmation": {"accountId": account}}
    ]
    others = [a for a in ("a:iron-checking", "a:iron-savings") if a != account]
    currency = "GBP" if bank == "wood" else "EUR"
    body = {"amount": {"currency": currency, "value": "1"}}
    answer = merchant.call(
        "PUT", f"/accounts/{account}/funds-confirmation", body, on_behalf_of=token["id"]
    )
    assert answer == {"fundsAvailable": True}
    if bank == "iron":
        with pytest.raises(TokenError) as refused:
            merchant.call(
                "PUT", f"/accounts/{others[0]}/funds-confirmation", body, on_behalf_of=token["id"]
            )
        assert refused.value.code == "PERMISSION_DENIED"


def test_funds_confirmation_request_for_an_account_the_payer_lacks_mints_nothing(
    merchant: Member, live: LiveServer
) -> None:
    payload = funds_request({"sepa": {"iban": "DE44500105175407324931"}})
    stored = merchant.store_token_request(payload, PAYER)
    refused = consent(live, stored["id"])
    assert refused.status_code == 400
    assert "the payer has no account DE44500105175407324931 at Iron Bank" in refused.text
    assert live.state.provider_state("tokenos")["tokens"] == []
    assert consent(live, stored["id"], decision="deny").status_code == 302  # still pending
    with pytest.raises(TokenError) as bad:
        merchant.store_token_request(funds_request({"swift": {"bic": "X"}}), PAYER)
    assert (bad.value.status, bad.value.code) == (400, "INVALID_ARGUMENT")
    assert "bankAccount must name the account" in bad.value.message


def test_cancelled_access_token_is_refused(merchant: Member, live: LiveServer) -> None:
    access_id = grant(live, merchant, ["ACCOUNTS"])
    merchant.cancel_token(merchant.get_token(access_id))
    with pytest.raises(TokenError) as refused:
        merchant.call("GET", "/accounts", on_behalf_of=access_id)
    assert refused.value.code == "PERMISSION_DENIED"
    assert "cancelled" in refused.value.message


@pytest.mark.slow
def test_seeded_histories_are_deterministic_per_seed() -> None:
    def history(seed: int, read_first: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        app = create_app({"state_path": None, "seed": seed})
        state = app.extensions["mockbank"]
        state.provider("tokenos")  # seeded on first use: its accounts are read from the store
        # Histories are made on first read: which account is read first must not matter.
        for account_id in (*read_first, "a:wood-current"):
            account = state.store.get(NS_ACCOUNT, account_id, now=state.now())
            made = accounts_rules.transactions(
                state.store, account, state.seeded_faker, now=state.now()
            )
        items = [t for t in made if t["id"].startswith("tx:")]
        state.close()
        return [{k: t[k] for k in ("id", "amount", "description", "type")} for t in items]

    assert history(7) == history(7, read_first=("a:iron-checking", "a:gold-savings"))
    assert history(7) != history(8)
    assert len(history(7)) == 30


@pytest.mark.parametrize(
    ("resource", "kind", "account_id", "allowed"),
    [
        pytest.param({"allAccounts": {}}, "account", "a:wood-current", True, id="allAccounts"),
        pytest.param(
            {"allAccounts": {}}, "balance", "a:wood-current", False, id="allAccounts-not-balance"
        ),
        pytest.param({"allBalances": {}}, "balance", "a:gold-savings", True, id="allBalances"),
        pytest.param(
            {"allTransactions": {}}, "transactions", "a:iron-checking", True, id="allTransactions"
        ),
        pytest.param(
            {"allBalancesAtBank": {"bankId": "iron"}},
            "balance",
            "a:iron-savings",
            True,
            id="allBalancesAtBank",
        ),
        pytest.param(
            {"allBalancesAtBank": {"bankId": "iron"}},
            "balance",
            "a:wood-savings",
            False,
            id="allBalancesAtBank-other-bank",
        ),
        pytest.param(
            {"balance": {"accountId": "a:iron-checking"}},
            "balance",
            "a:iron-savings",
            False,
            id="balance-other-account",
        ),
        pytest.param(
            {"fundsConfirmation": {"accountId": "a:iron-checking"}},
            "fundsConfirmation",
            "a:iron-checking",
            True,
            id="fundsConfirmation",
        ),
    ],
)
def test_access_resources_grant_exactly_what_they_name(
    state: State, resource: dict[str, Any], kind: str, account_id: str, allowed: bool
) -> None:
    state.provider("tokenos")  # seeded: its accounts are read from the store here
    account = state.store.get("tokenos.account", account_id, now=state.now())
    terms = {"payload": {"access": {"resources": [resource]}}}
    grant = StoredToken(terms, "ACCESS", "m:tpp", "m:payer", 0)
    assert accounts_rules.allows(grant, kind, account) is allowed

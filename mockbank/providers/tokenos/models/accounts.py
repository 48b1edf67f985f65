"""Account information: payer accounts, histories, balances and access-token checks."""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from mockbank.providers.tokenos.errors import InvalidArgument, NotFound, PermissionDenied
from mockbank.providers.tokenos.models.common import (
    ALL_RESOURCE,
    TRANSFER_SETTLE_S,
    currency_field,
    money,
    ms,
    object_field,
    page_window,
    paged,
    parse_amount,
)
from mockbank.providers.tokenos.models.fixtures import Fixtures
from mockbank.providers.tokenos.models.standing_orders import account_standing_orders
from mockbank.providers.tokenos.models.tokens import (
    account_balance,
    is_cancelled,
    is_expired,
    settled_debits,
)
from mockbank.providers.tokenos.records.accounts import (
    NS_ACCOUNT,
    NS_BALANCE,
    NS_HISTORY,
    Account,
    BalanceCache,
    History,
)
from mockbank.providers.tokenos.records.tokens import NS_TOKEN, StoredToken
from mockbank.store import Store

# `State.seeded_faker`: a Faker seeded for one key, held for one caller at a time.
FakerFor = Callable[[str], AbstractContextManager[Any]]


def seed_accounts(store: Store, fixtures: Fixtures, *, seed: int, now: datetime) -> None:
    """Payer accounts, each with the recipe of its history (made on first read, see below)."""
    for payer in fixtures.payers:
        for account in payer.accounts:
            bank = fixtures.banks[account.bank_id]
            stored = Account(
                id=account.id,
                member_id=payer.member_id,
                bank_id=bank.id,
                name=account.name,
                number=account.number,
                currency=bank.currency,
                balance=account.balance,
            )
            # Where absent: a restart keeps what happened to the account.
            store.add(NS_ACCOUNT, account.id, stored.to_value(), now=now)
            recipe = {"seed": seed, "anchorMs": ms(now), "count": fixtures.transactions_per_account}
            store.add(NS_HISTORY, account.id, History(recipe).to_value(), now=now)


def make_history(
    account: dict[str, Any], recipe: dict[str, Any], faker_for: FakerFor
) -> list[dict[str, Any]]:
    """An account's Faker-made history, from seeds alone (the same --seed, the same history)."""
    rng = random.Random(f"{recipe['seed']}:{account['id']}")
    items = []
    # Walk back from when the server seeded, so histories look recent whatever day it started.
    moment = datetime.fromtimestamp(recipe["anchorMs"] / 1000, tz=UTC)
    with faker_for(account["id"]) as faker:
        for index in range(recipe["count"]):
            moment -= timedelta(hours=rng.randint(3, 60), minutes=rng.randint(0, 59))
            # A quarter are salary credits, the rest card spending: variety for paging.
            credit = rng.random() < 0.25
            cents = rng.randint(50_000, 350_000) if credit else rng.randint(150, 25_000)
            items.append(
                {
                    "id": f"tx:{account['id'].removeprefix('a:')}:{index:04d}",
                    "type": "CREDIT" if credit else "DEBIT",
                    "status": "SUCCESS",
                    "amount": money(Decimal(cents) / 100, account["currency"]),
                    "description": (
                        f"Salary {faker.company()}"
                        if credit
                        else f"{faker.company()} {faker.city()}"
                    ),
                    "createdAtMs": str(ms(moment)),
                    "metadata": {"merchantCategory": faker.bothify("####")},
                }
            )
    return items


def _history(
    store: Store, account: dict[str, Any], faker_for: FakerFor, *, now: datetime
) -> list[dict[str, Any]]:
    # Made on first read rather than at start-up: Faker is slow to load, and `mockbank serve`
    # must answer within half a second. Deterministic, so a racing reader makes the same list.
    value = store.get(NS_HISTORY, account["id"], now=now) or {}
    if "items" in value or "recipe" not in value:
        return list(value.get("items", []))
    items = make_history(account, value["recipe"], faker_for)
    store.update(
        NS_HISTORY, account["id"], lambda v: v if "items" in v else {**v, "items": items}, now=now
    )
    return items


def account_proto(account: dict[str, Any], fixtures: Fixtures) -> dict[str, Any]:
    """The `Account` message, with the accountFeatures the SDK reads."""
    bank = fixtures.banks[account["bankId"]]
    return {
        "id": account["id"],
        "name": account["name"],
        "bankId": account["bankId"],
        "isLocked": False,
        "accountFeatures": {
            "supportsInformation": bank.features.get("supportsInformation", False),
            "supportsSendPayment": bank.features.get("supportsSendPayment", False),
            "supportsReceivePayment": bank.features.get("supportsReceivePayment", False),
            "requiresExternalAuth": False,
        },
        "accountDetails": {
            "identifier": account["number"],
            "type": "CHECKING"
            if "checking" in account["name"].lower() or "current" in account["name"].lower()
            else "SAVINGS",
            "status": "ACTIVE",
            "accountHolderName": next(
                (p.name for p in fixtures.payers if p.member_id == account["memberId"]), ""
            ),
        },
    }


def balance_view(
    store: Store,
    fixtures: Fixtures,
    account: dict[str, Any],
    *,
    now: datetime,
    customer_initiated: bool,
    cache_s: int,
) -> dict[str, Any]:
    """A balance as the bank last reported it; customer-initiated calls read it afresh.

    Token.io caches what banks report and refreshes on a schedule (seed: "TokenOS will
    sometimes cache data ... customerInitiated bypasses the TokenOS cache").
    """
    # The cache record expires by the app clock, so moving time refreshes it too.
    cached = store.get(NS_BALANCE, account["id"], now=now)
    if cached is None or customer_initiated:
        value = account_balance(store, fixtures, account["id"], now=now)
        cached = BalanceCache(value, ms(now)).to_value()
        store.put(
            NS_BALANCE, account["id"], cached, now=now, expires_at=now + timedelta(seconds=cache_s)
        )
    amount = money(Decimal(cached["value"]), account["currency"])
    return {
        "accountId": account["id"],
        "current": amount,
        "available": amount,
        "updatedAtMs": cached["updatedAtMs"],
        "otherBalances": [],
    }


def transactions(
    store: Store, account: dict[str, Any], faker_for: FakerFor, *, now: datetime
) -> list[dict[str, Any]]:
    """Seeded history plus settled transfers out, newest first."""
    history = _history(store, account, faker_for, now=now)
    made = [
        {
            "id": e.transfer["transactionId"],
            "type": "DEBIT",
            "status": "SUCCESS",
            "amount": money(
                Decimal(e.transfer["payload"]["amount"]["value"]),
                e.transfer["payload"]["amount"]["currency"],
            ),
            "description": e.transfer["payload"].get("description", ""),
            "tokenId": e.token_id,
            "tokenTransferId": e.transfer["id"],
            "createdAtMs": str(e.created_at_ms + TRANSFER_SETTLE_S * 1000),
            "metadata": {},
        }
        for e in settled_debits(store, account["id"], now)
    ]
    return sorted(made + history, key=lambda t: -int(t["createdAtMs"]))


def transactions_page(
    store: Store,
    account: dict[str, Any],
    offset: str,
    limit: str,
    start_date: str,
    end_date: str,
    faker_for: FakerFor,
    *,
    now: datetime,
) -> dict[str, Any]:
    """``GET /accounts/<id>/transactions`` with paging and an optional date range."""
    start, count = page_window(offset, limit)
    items = transactions(store, account, faker_for, now=now)
    low, high = _date(start_date, "startDate"), _date(end_date, "endDate")
    if low or high:
        items = [t for t in items if (not low or _day(t) >= low) and (not high or _day(t) <= high)]
    page = paged("transactions", items, start, count)
    page["status"] = "SUCCESSFUL_REQUEST"
    return page


def _day(transaction: dict[str, Any]) -> date:
    from datetime import UTC

    return datetime.fromtimestamp(int(transaction["createdAtMs"]) / 1000, tz=UTC).date()


def _date(text: str, where: str) -> date | None:
    if text in ("", "undefined"):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"{where} must be a date like 2019-01-31") from None


def access_grant(store: Store, caller: str, token_id: str, *, now: datetime) -> StoredToken:
    """The access token named by ``on-behalf-of``, checked for the caller, state and expiry."""
    stored = store.get(NS_TOKEN, token_id, now=now)
    record = None if stored is None else StoredToken.from_value(stored)
    if record is None or record.type != "ACCESS":
        raise PermissionDenied(f"{token_id} is not an access token")
    if record.to_member_id != caller:
        raise PermissionDenied(f"access token {token_id} was granted to another member")
    if is_cancelled(record):
        raise PermissionDenied(f"access token {token_id} has been cancelled")
    if is_expired(record, now):
        raise PermissionDenied(f"access token {token_id} has expired")
    return record


def allows(grant: StoredToken | None, kind: str, account: dict[str, Any]) -> bool:
    """Whether an access token covers `kind` (account, balance, ...) for this account."""
    if grant is None:
        return False
    everything = ALL_RESOURCE.get(kind)
    for resource in grant.token["payload"]["access"]["resources"]:
        if everything and everything in resource:
            return True
        at_bank = resource.get(f"{everything}AtBank") if everything else None
        if isinstance(at_bank, dict) and at_bank.get("bankId") == account["bankId"]:
            return True
        if kind in resource and resource[kind].get("accountId") == account["id"]:
            return True
    return False


def visible_accounts(
    store: Store, caller: str, grant: StoredToken | None, *, now: datetime
) -> list[dict[str, Any]]:
    """The caller's own accounts, or those an access token shows."""
    # Only seeded payer accounts exist; a TPP member owns none.
    accounts = [r.value for r in store.records(NS_ACCOUNT)]
    if grant is None:
        return [a for a in accounts if a["memberId"] == caller]
    return [a for a in accounts if allows(grant, "account", a)]


def checked_account(
    store: Store,
    caller: str,
    grant: StoredToken | None,
    account_id: str,
    kind: str,
    *,
    now: datetime,
) -> dict[str, Any]:
    """An account the caller may read `kind` of; 403 PERMISSION_DENIED otherwise."""
    account = store.get(NS_ACCOUNT, account_id, now=now)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    if grant is None:
        if account["memberId"] != caller:
            raise PermissionDenied(
                f"account {account_id} is not the caller's; use an access token (on-behalf-of)"
            )
        return account
    if not allows(grant, kind, account):
        raise PermissionDenied(
            f"access token {grant.token['id']} does not grant {kind} of {account_id}"
        )
    return account


def confirm_funds(
    store: Store, fixtures: Fixtures, account: dict[str, Any], body: Any, *, now: datetime
) -> bool:
    """Whether the account's live balance covers the amount."""
    body = object_field(body, "body", required=True)
    amount_obj = object_field(body.get("amount"), "amount", required=True)
    amount = parse_amount(amount_obj.get("value"), "amount.value")
    currency = currency_field(amount_obj.get("currency"), "amount.currency")
    if currency != account["currency"]:
        raise InvalidArgument(f"account {account['id']} holds {account['currency']}")
    return account_balance(store, fixtures, account["id"], now=now) >= amount


def transfer_destinations(account: dict[str, Any], fixtures: Fixtures) -> list[dict[str, Any]]:
    """Where an account can be paid: Faster Payments in the UK, SEPA elsewhere."""
    bank = fixtures.banks[account["bankId"]]
    holder = next((p.name for p in fixtures.payers if p.member_id == account["memberId"]), "")
    number = account["number"]
    # The same rail the bank lists in supportedTransferDestinationTypes (GB: sort code + number).
    if bank.country == "GB":
        rail: dict[str, Any] = {
            "fasterPayments": {"sortCode": number[:6], "accountNumber": number[6:]}
        }
    else:
        rail = {"sepa": {"iban": number, "bic": bank.identifier}}
    return [{**rail, "customerData": {"legalNames": [holder]}}]


def standing_orders_page(
    store: Store, account_id: str, offset: str, limit: str, *, now: datetime
) -> dict[str, Any]:
    """``GET /accounts/<id>/standing-orders``: the standing orders set up from this account
    (by redeeming standing order tokens), oldest first."""
    start, count = page_window(offset, limit)
    page = paged(
        "standingOrders", account_standing_orders(store, account_id, now=now), start, count
    )
    page["status"] = "SUCCESSFUL_REQUEST"
    return page


def readable_accounts(
    store: Store, caller: str, grant: StoredToken | None, *, now: datetime
) -> list[dict[str, Any]]:
    """The accounts the caller (or the access token it acts under) may list; an access token
    that grants none is 403, where the caller's own empty list is just empty."""
    found = visible_accounts(store, caller, grant, now=now)
    if grant is not None and not found:
        raise PermissionDenied("the access token grants no account information")
    return found


def funds_account(
    store: Store, caller: str, grant: StoredToken | None, account_id: str, *, now: datetime
) -> dict[str, Any]:
    """The account a funds confirmation may read: a balance grant answers the narrower yes/no
    question too."""
    try:
        return checked_account(store, caller, grant, account_id, "fundsConfirmation", now=now)
    except PermissionDenied:
        return checked_account(store, caller, grant, account_id, "balance", now=now)


def find_transaction(
    store: Store,
    account: dict[str, Any],
    transaction_id: str,
    faker_for: FakerFor,
    *,
    now: datetime,
) -> dict[str, Any]:
    """One transaction of the account; 404 NOT_FOUND when it has none with this id."""
    for item in transactions(store, account, faker_for, now=now):
        if item["id"] == transaction_id:
            return item
    raise NotFound(f"transaction {transaction_id} not found in {account['id']}")


def find_standing_order(
    store: Store, account_id: str, standing_order_id: str, *, now: datetime
) -> dict[str, Any]:
    """One standing order set up from the account; 404 NOT_FOUND otherwise."""
    for order in account_standing_orders(store, account_id, now=now):
        if order["id"] == standing_order_id:
            return order
    raise NotFound(f"standing order {standing_order_id} not found in {account_id}")

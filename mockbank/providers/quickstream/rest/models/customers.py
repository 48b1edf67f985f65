"""Customers and their QuickVault accounts, registered from single-use tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from mockbank.providers.quickstream import records
from mockbank.providers.quickstream.models.common import Facility
from mockbank.providers.quickstream.records.payments import VaultAccount
from mockbank.providers.quickstream.rest.errors import NotFound, invalid
from mockbank.providers.quickstream.rest.models import tokens
from mockbank.providers.quickstream.rest.models.fields import Body
from mockbank.providers.quickstream.rest.records import (
    NS_ACCOUNT,
    NS_CUSTOMER,
    NS_CUSTOMER_NUMBER,
    Account,
    BankAccount,
    Card,
    Customer,
    PaymentAccount,
)
from mockbank.store import Store

# customerNumber is unique per facility: a marker record taken with the store's atomic add.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def create_customer(
    store: Store,
    facility: Facility,
    data: dict[str, Any],
    *,
    now: datetime,
    new_id: Callable[[], str],
) -> Customer:
    """A new customer; ``customerNumber`` must be new for this facility."""
    body = Body(data)
    number = body.text("customerNumber", required=True, max_length=50)
    name = body.text("customerName", required=True, max_length=100)
    code = tokens.supplier_code(body, facility)
    email = body.text("emailAddress", max_length=254)
    if email is not None and not EMAIL.fullmatch(email):
        body.fail("emailAddress", "emailAddress is not an email address.")
    phone = body.text("phoneNumber", max_length=20)
    body.check()
    assert number is not None
    assert name is not None
    assert code is not None
    if not store.add(
        NS_CUSTOMER_NUMBER, f"{facility.username}:{number}", {"customerNumber": number}, now=now
    ):
        raise invalid(
            "customerNumber", number, "A customer with this customerNumber already exists."
        )
    while True:
        customer = Customer(
            new_id(), facility.username, number, name, code, email, phone, now.isoformat()
        )
        if store.add(NS_CUSTOMER, customer.customer_id, customer.to_value(), now=now):
            return customer


def get_customer(store: Store, facility: Facility, customer_id: str) -> Customer | None:
    record = store.record(NS_CUSTOMER, customer_id)
    if record is None or record.value.get("facility") != facility.username:
        return None
    return Customer.from_value(record.value)


def list_customers(store: Store, facility: Facility, filters: dict[str, str]) -> list[Customer]:
    """Customers sorted by customerId; number exact, name and email partial (any case)."""
    found = [
        Customer.from_value(r.value)
        for r in store.records(NS_CUSTOMER)
        if r.value.get("facility") == facility.username
    ]
    if filters.get("customerNumber"):
        found = [c for c in found if c.customer_number == filters["customerNumber"]]
    if filters.get("customerName"):
        found = [c for c in found if filters["customerName"].lower() in c.customer_name.lower()]
    if filters.get("emailAddress"):
        wanted = filters["emailAddress"].lower()
        found = [c for c in found if wanted in (c.email_address or "").lower()]
    return sorted(found, key=lambda c: c.customer_id)


def accounts_of(store: Store, facility: Facility, customer_id: str) -> list[Account]:
    """The customer's accounts, most recently registered first."""
    found = [
        Account.from_value(r.value)
        for r in store.records(NS_ACCOUNT)
        if r.value.get("facility") == facility.username and r.value.get("customerId") == customer_id
    ]
    return sorted(found, key=lambda a: a.created, reverse=True)


def register_account(
    store: Store,
    facility: Facility,
    customer_id: str,
    data: dict[str, Any],
    *,
    now: datetime,
    new_token: Callable[[], str],
) -> Account:
    """Register the card or bank account of a single-use token (which is used up)."""
    body = Body(data)
    token_id = body.text("singleUseTokenId", required=True, max_length=255)
    default = body.boolean("defaultAccount", default=True)
    if get_customer(store, facility, customer_id) is None:
        raise NotFound("The customerId path parameter may be incorrect.")
    body.check()
    assert token_id is not None
    tokens.check_token(store, facility, token_id, now=now)
    existing = accounts_of(store, facility, customer_id)
    taken = tokens.take_token(store, facility, token_id, now=now)
    is_default = default or not existing
    if is_default:
        for other in existing:
            if other.default_account:
                store.update(NS_ACCOUNT, other.account_token, _not_default, now=now)
    while True:
        account = Account(
            new_token(), facility.username, customer_id, taken.account, is_default, now.isoformat()
        )
        if store.add(NS_ACCOUNT, account.account_token, account.to_value(), now=now):
            return account


def _not_default(value: dict[str, Any]) -> dict[str, Any]:
    value["defaultAccount"] = False
    return value


def find_account(store: Store, facility: Facility, account_token: str) -> Account | None:
    """A QuickVault account: registered through this API, or by a QuickWeb payment."""
    record = store.record(NS_ACCOUNT, account_token)
    if record is None:
        return quickweb_account(store, facility, account_token)
    if record.value.get("facility") != facility.username:
        return None
    return Account.from_value(record.value)


def quickweb_account(store: Store, facility: Facility, account_token: str) -> Account | None:
    """An account QuickWeb registered (``registerPaymentAccount``), seen as a REST account.

    QuickVault is one vault: the token from a QuickWeb passback pays through the REST API too.
    QuickWeb keeps the card masked to its last three digits, enough for the test outcome.
    """
    record = store.record(records.NS_VAULT, account_token)
    if record is None:
        return None
    vault = VaultAccount.from_value(record.value)
    if vault.facility != facility.username:
        return None
    paid = vault.account
    if paid.is_card and paid.masked_card_number:
        card = Card(
            masked=paid.masked_card_number,
            last_four=paid.masked_card_number[-3:],
            scheme=paid.card_scheme,
            expiry_month=paid.expiry_month,
            expiry_year=paid.expiry_year,
            cardholder_name=paid.cardholder_name,
        )
        account = PaymentAccount(card=card)
    elif not paid.is_card and paid.bsb:
        bank = BankAccount(paid.account_name, paid.bsb, paid.masked_account_number)
        account = PaymentAccount(bank=bank)
    else:
        return None
    return Account(account_token, facility.username, "", account, False, vault.created_at)


def default_account(store: Store, facility: Facility, customer_id: str) -> Account | None:
    return next((a for a in accounts_of(store, facility, customer_id) if a.default_account), None)


def delete_account(store: Store, facility: Facility, account_token: str) -> Account | None:
    """Remove an account from QuickVault; it can no longer be used for payments."""
    account = find_account(store, facility, account_token)
    if account is None:
        return None
    if store.delete(NS_ACCOUNT, account_token) or store.delete(records.NS_VAULT, account_token):
        return account
    return None

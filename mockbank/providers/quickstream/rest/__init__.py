"""The QuickStream REST API (``/quickstream/rest/v1``) and the quickstream-api.js Trusted Frame.

Served by the QuickStream blueprint under ``/rest/v1``, so the real hosts
``api.quickstream.westpac.com.au`` and ``api.quickstream.support.qvalent.com`` route here in
process exactly as QuickWeb's hosts do.
"""

from __future__ import annotations

from typing import Any

from mockbank.masking import mask_value
from mockbank.providers.quickstream.rest import frame, routes
from mockbank.providers.quickstream.rest.records import (
    ACCOUNT_NS,
    CUSTOMER_NS,
    IDEMPOTENCY_NS,
    TOKEN_NS,
    TRANSACTION_NS,
    IdempotencyEntry,
    Transaction,
)
from mockbank.providers.quickstream.rest.settings import Fixtures, load_fixtures
from mockbank.state import State

__all__ = ["API_HOSTS", "Fixtures", "bp", "credentials", "dashboard", "load_fixtures", "state_view"]

API_HOSTS = ("api.quickstream.westpac.com.au", "api.quickstream.support.qvalent.com")
bp = routes.bp
assert frame.__name__  # imported for its views, which live on the same blueprint


def _transaction_view(value: dict[str, Any]) -> dict[str, Any]:
    txn = Transaction.from_value(value)
    return {
        "receiptNumber": txn.receipt_number,
        "transactionType": txn.transaction_type.value,
        "status": txn.status.value,
        "responseCode": txn.response_code,
        "amount": f"{txn.currency} {(txn.principal + txn.surcharge) / 100:.2f}",
        "account": txn.account.card.masked
        if txn.account.card
        else (txn.account.bank.masked_number if txn.account.bank else ""),
        "parentReceiptNumber": txn.parent_receipt_number,
        "refunded": f"{txn.refunded / 100:.2f}",
        "voided": txn.voided,
        "captured": f"{txn.captured / 100:.2f}",
        "facility": txn.facility,
        "createdAt": txn.created,
    }


def state_view(state: State) -> dict[str, Any]:
    """REST transactions, customers, accounts, single-use tokens and idempotency keys."""
    now = state.now()
    store = state.store
    keys = []
    for record in store.records(IDEMPOTENCY_NS):
        entry = IdempotencyEntry.from_value(record.value)
        keys.append(
            {
                "key": entry.key,
                "facility": entry.facility,
                "state": "answered" if entry.done else "processing",
                "responseStatus": entry.response_status,
                "receiptNumber": entry.receipt_number,
                "createdAt": entry.created,
                "expiresAt": record.expires_at.isoformat() if record.expires_at else None,
            }
        )
    return {
        "restTransactions": [_transaction_view(r.value) for r in store.records(TRANSACTION_NS)],
        "restCustomers": [mask_value(r.value) for r in store.records(CUSTOMER_NS)],
        "restAccounts": [mask_value(r.value) for r in store.records(ACCOUNT_NS)],
        "restSingleUseTokens": [
            {
                # A live token is a bearer secret: only its first characters are shown.
                "singleUseTokenId": r.key[:6] + "…",
                "status": "used" if r.used else "expired" if r.expired(now) else "active",
                "accountType": "CREDIT_CARD" if r.value["account"].get("card") else "DIRECT_DEBIT",
                "createdAt": r.created_at.isoformat(),
            }
            for r in store.records(TOKEN_NS)
        ],
        "idempotencyKeys": keys,
    }


def dashboard(state: State) -> list[dict[str, str]]:
    """The latest REST transactions and idempotency keys for the dashboard card."""
    items: list[dict[str, str]] = []
    for record in state.store.records(TRANSACTION_NS)[-5:]:
        view = _transaction_view(record.value)
        items.append(
            {
                "label": f"REST {view['transactionType']} {view['receiptNumber']} {view['status']}",
                "detail": f"{view['amount']} {view['responseCode']} {view['account']}",
            }
        )
    for record in state.store.records(CUSTOMER_NS)[-3:]:
        items.append(
            {"label": f"REST customer {record.key}", "detail": record.value["customerNumber"]}
        )
    for record in state.store.records(IDEMPOTENCY_NS)[-3:]:
        entry = IdempotencyEntry.from_value(record.value)
        items.append(
            {
                "label": f"Idempotency-Key {entry.key[:24]}",
                "detail": f"receipt {entry.receipt_number or '-'} "
                + ("(answered)" if entry.done else "(processing)"),
            }
        )
    return items


def credentials(fixtures: object) -> list[tuple[str, str]]:
    """The seeded REST API keys (key as the Basic username, blank password)."""
    if not isinstance(fixtures, Fixtures):
        return []
    return [
        (f"REST API {key.key_type.value.lower()} key ({key.name})", key.key)
        for key in fixtures.rest.keys
    ]

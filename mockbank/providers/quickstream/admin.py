"""QuickStream's admin side: fixtures, seed, state view, dashboard card, magic values and the
seeded credentials (QuickWeb's and the REST API's)."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from mockbank.fixtures import FixtureReader
from mockbank.masking import mask_value
from mockbank.providers.quickstream import records
from mockbank.providers.quickstream.models import common, invoicing, paying
from mockbank.providers.quickstream.models.fixtures import read_fixtures
from mockbank.providers.quickstream.records.payments import Payment
from mockbank.providers.quickstream.records.sessions import Counter, TokenRecord
from mockbank.providers.quickstream.rest import admin as rest_admin
from mockbank.state import State
from mockbank.store import Record


def load_fixtures(reader: FixtureReader) -> rest_admin.Fixtures:
    """``fixtures/quickstream.json``: QuickWeb's facilities and invoices, the REST API's keys."""
    return rest_admin.with_rest(reader, read_fixtures(reader))


def _luhn_complete(prefix: str, ending: str, length: int) -> str:
    """A Luhn-valid number of `length` digits starting with `prefix` and ending with `ending`."""
    from mockbank.masking import luhn_complete

    return luhn_complete(prefix + "0" * (length - len(prefix) - len(ending) - 1), ending)


def magic_values() -> dict[str, Any]:
    """The QuickStream test environment's card table, as data."""
    outcomes = [
        {
            "lastTwoDigits": "00-89",
            "responseCode": common.APPROVED_RESPONSE[0],
            "responseDescription": common.APPROVED_RESPONSE[1],
            "summaryCode": common.SummaryCode.APPROVED.value,
        }
    ]
    outcomes += [
        {
            "lastTwoDigits": ending,
            "responseCode": code,
            "responseDescription": description,
            "summaryCode": common.SummaryCode.DECLINED.value,
            "example": _luhn_complete("4000", ending, 16),
        }
        for ending, (code, description) in common.DECLINES.items()
    ]
    return {
        "rule": "The last two digits of the card number choose the outcome.",
        "outcomes": outcomes,
        "cards": [
            {"number": "4242424242424242", "scheme": "VISA", "outcome": "approved (08)"},
            {"number": "4111111111111111", "scheme": "VISA", "outcome": "approved (08)"},
            {"number": "5555555555554444", "scheme": "MASTERCARD", "outcome": "approved (08)"},
            {"number": "378282246310005", "scheme": "AMEX", "outcome": "approved (08), CVN 4"},
            {
                "number": _luhn_complete("4000", "96", 16),
                "scheme": "VISA",
                "outcome": "declined 51 Not sufficient funds",
            },
            {
                "number": "36006666333344",
                "scheme": "DINERS",
                "outcome": "refused: not accepted by the seeded facility",
            },
        ],
        "validation": {
            "luhn": "card numbers must pass the Luhn check",
            "expiry": "month 01-12, not in the past (app clock)",
            "cvn": "3 digits, 4 for AMEX",
            "bsb": "6 digits, optionally 3-3 with a dash",
            "accountNumber": "4 to 9 digits",
        },
        "bankAccount": {
            "outcome": "always approved",
            "responseCode": common.BANK_APPROVED[0],
            "responseDescription": common.BANK_APPROVED[1],
        },
    }


def seed(state: State) -> None:
    """Seed the receipt-number counter from ``--seed`` alone (the same start whichever
    provider was used first: providers are seeded on first use).

    Only where absent: a store that already counted on (after a restart) keeps counting.
    """
    start = random.Random(f"{state.config.seed}:quickstream.receipt").randint(
        1_000_000_000, 1_899_999_999
    )
    state.store.add(records.NS_COUNTER, "receipt", Counter(start).to_value(), now=state.now())
    fixtures: common.QuickStreamFixtures = state.fixtures["quickstream"]
    invoicing.seed_invoices(state.store, fixtures.invoices, now=state.now())


def _token_view(record: Record, now: datetime) -> dict[str, Any]:
    status = "used" if record.used else "expired" if record.expired(now) else "active"
    token = TokenRecord.from_value(record.value)
    params = {k: v for k, v in token.params.items() if v not in ("", None, {})}
    # A merchant may put a card number in a custom parameter; the view never shows one whole.
    params = mask_value(params)
    return {
        # A live token is a bearer secret: only its first characters are shown.
        "token": record.key[:6] + "…",
        "status": status,
        "facility": token.facility,
        "createdAt": record.created_at.isoformat(),
        "expiresAt": record.expires_at.isoformat() if record.expires_at else None,
        "usedAt": record.used_at.isoformat() if record.used_at else None,
        "parameters": params,
        "unknownParameters": list(token.unknown_parameters),
    }


def state_view(state: State) -> dict[str, Any]:
    """Tokens (masked), payment sessions, payments and QuickVault accounts."""
    now = state.now()
    store = state.store
    return {
        "tokens": [_token_view(r, now) for r in store.records(records.NS_TOKEN)],
        "sessions": [
            {
                "session": r.key[:8] + "…",
                "expired": r.expired(now),
                **paying.session_summary(r.value),
            }
            for r in store.records(records.NS_SESSION)
        ],
        "payments": [r.value for r in store.records(records.NS_PAYMENT)],
        "vaultAccounts": [r.value for r in store.records(records.NS_VAULT)],
        # QuickWeb Recurring: the recurring payments customers set up (masked account token).
        "recurringPayments": [r.value for r in store.records(records.NS_RECURRING)],
        # QuickWeb Invoicing: every invoice with what is left to pay (CLOSED at 0.00).
        "invoices": [i.public() for i in invoicing.all_invoices(store)],
        **rest_admin.state_view(state),
    }


def dashboard(state: State) -> list[dict[str, str]]:
    """Live tokens, the latest payments and the REST API's latest for the dashboard card."""
    now = state.now()
    items: list[dict[str, str]] = []
    for record in state.store.records(records.NS_TOKEN)[-5:]:
        view = _token_view(record, now)
        items.append(
            {
                "label": f"token {view['token']} {view['status']}",
                "detail": f"expires {view['expiresAt']}",
            }
        )
    for record in state.store.records(records.NS_PAYMENT)[-5:]:
        txn = Payment.from_value(record.value).transaction
        outcome = "approved" if txn.approved else "declined"
        items.append(
            {
                "label": f"receipt {txn.receipt_number} {outcome}",
                "detail": (
                    f"{txn.currency_code} {txn.payment_amount} "
                    f"{txn.response_code} {txn.response_description}"
                ),
            }
        )
    return items + rest_admin.dashboard(state)


def credentials(fixtures: common.QuickStreamFixtures | None) -> list[tuple[str, str]]:
    """The seeded facility identities for the dashboard and the CLI banner."""
    lines: list[tuple[str, str]] = []
    for f in fixtures.facilities if fixtures else ():
        lines += [
            (f"{f.name}: username / password", f"{f.username} / {f.password}"),
            ("supplierBusinessCode", ", ".join(f.supplier_business_codes)),
            ("communityCode", f.community_code),
            ("IP allow-list", ", ".join(f.allowed_ips)),
            (
                "notification Basic auth",
                f"{f.notification_username} / {f.notification_password}",
            ),
            ("passback HMAC secret", f.passback_secret),
            (
                "surcharges",
                ", ".join(f"{k} {v / 100:.2f}%" for k, v in f.surcharges_bp.items()),
            ),
        ]
    return lines + rest_admin.credentials(fixtures)

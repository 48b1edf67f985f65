"""QuickStream / QuickWeb (Westpac): secure token request, handoff, hosted payment page,
server-to-server notification, signed passback and QuickVault registration (seed 000)."""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from mockbank.masking import mask_value
from mockbank.providers import Provider
from mockbank.providers.quickstream import models, rest
from mockbank.providers.quickstream.errors import render
from mockbank.providers.quickstream.routes import bp
from mockbank.providers.quickstream.settings import read_settings
from mockbank.state import State

HOSTS = (
    "ws.qvalent.com",
    "ws.support.qvalent.com",
    "quickweb.westpac.com.au",
    "quickweb.support.qvalent.com",
    *rest.API_HOSTS,
)
# The REST API and the Trusted Frame: /quickstream/rest/v1/...
bp.register_blueprint(rest.bp, url_prefix="/rest/v1")


def _luhn_complete(prefix: str, ending: str, length: int) -> str:
    """A Luhn-valid number of `length` digits starting with `prefix` and ending with `ending`."""
    from mockbank.masking import luhn_complete

    return luhn_complete(prefix + "0" * (length - len(prefix) - len(ending) - 1), ending)


def magic_values() -> dict[str, Any]:
    """The QuickStream test environment's card table, as data."""
    outcomes = [
        {
            "lastTwoDigits": "00-89",
            "responseCode": models.APPROVED_RESPONSE[0],
            "responseDescription": models.APPROVED_RESPONSE[1],
            "summaryCode": models.SummaryCode.APPROVED.value,
        }
    ]
    outcomes += [
        {
            "lastTwoDigits": ending,
            "responseCode": code,
            "responseDescription": description,
            "summaryCode": models.SummaryCode.DECLINED.value,
            "example": _luhn_complete("4000", ending, 16),
        }
        for ending, (code, description) in models.DECLINES.items()
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
            "responseCode": models.BANK_APPROVED[0],
            "responseDescription": models.BANK_APPROVED[1],
        },
    }


def seed(state: State) -> None:
    """Seed the receipt-number counter from the seeded generator (deterministic per seed).

    Only where absent: a store that already counted on (after a restart) keeps counting.
    """
    start = state.random.randint(1_000_000_000, 1_899_999_999)
    state.store.add(models.COUNTER_NS, "receipt", {"next": start}, now=state.now())
    fixtures: models.QuickStreamFixtures = state.fixtures["quickstream"]
    models.seed_invoices(state.store, fixtures.invoices, now=state.now())


def _token_view(record: Any, now: Any) -> dict[str, Any]:
    status = "used" if record.used else "expired" if record.expired(now) else "active"
    params = {k: v for k, v in record.value["params"].items() if v not in ("", None, {})}
    # A merchant may put a card number in a custom parameter; the view never shows one whole.
    params = mask_value(params)
    return {
        # A live token is a bearer secret: only its first characters are shown.
        "token": record.key[:6] + "…",
        "status": status,
        "facility": record.value["facility"],
        "createdAt": record.created_at.isoformat(),
        "expiresAt": record.expires_at.isoformat() if record.expires_at else None,
        "usedAt": record.used_at.isoformat() if record.used_at else None,
        "parameters": params,
        "unknownParameters": record.value.get("unknownParameters", []),
    }


def state_view(state: State) -> dict[str, Any]:
    """Tokens (masked), payment sessions, payments and QuickVault accounts."""
    now = state.now()
    store = state.store
    return {
        "tokens": [_token_view(r, now) for r in store.records(models.TOKEN_NS)],
        "sessions": [
            {
                "session": r.key[:8] + "…",
                "expired": r.expired(now),
                **models.session_summary(r.value),
            }
            for r in store.records(models.SESSION_NS)
        ],
        "payments": [r.value for r in store.records(models.PAYMENT_NS)],
        "vaultAccounts": [r.value for r in store.records(models.VAULT_NS)],
        # QuickWeb Recurring: the recurring payments customers set up (masked account token).
        "recurringPayments": [r.value for r in store.records(models.RECURRING_NS)],
        # QuickWeb Invoicing: every invoice with what is left to pay (CLOSED at 0.00).
        "invoices": [i.view() for i in models.all_invoices(store)],
        **rest.state_view(state),
    }


def dashboard(state: State) -> list[dict[str, str]]:
    """Live tokens and the latest payments for the dashboard card."""
    now = state.now()
    items: list[dict[str, str]] = []
    for record in state.store.records(models.TOKEN_NS)[-5:]:
        view = _token_view(record, now)
        items.append(
            {
                "label": f"token {view['token']} {view['status']}",
                "detail": f"expires {view['expiresAt']}",
            }
        )
    for record in state.store.records(models.PAYMENT_NS)[-5:]:
        payment = record.value
        outcome = "approved" if payment["summaryCode"] == "0" else "declined"
        items.append(
            {
                "label": f"receipt {payment['receiptNumber']} {outcome}",
                "detail": (
                    f"{payment['currencyCode']} {payment['paymentAmount']} "
                    f"{payment['responseCode']} {payment['responseDescription']}"
                ),
            }
        )
    return items


def credentials(fixtures: models.QuickStreamFixtures | None) -> list[tuple[str, str]]:
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
    return lines + rest.credentials(fixtures)


def _token_command(args: argparse.Namespace) -> int:
    """``mockbank quickstream-token``: request a token from a running server, print the handoff."""
    base = args.base_url.rstrip("/") + "/quickstream"
    params = {
        "username": args.username,
        "password": args.password,
        "supplierBusinessCode": args.supplier_business_code,
        "connectionType": "QUICKWEB",
        "product": "QUICKWEB",
        "currencyCode": args.currency,
    }
    if args.amount:
        params["principalAmount"] = args.amount
    if args.reference:
        params["paymentReference"] = args.reference
    for pair in args.param:
        name, _, value = pair.partition("=")
        params[name] = value
    request = urllib.request.Request(
        base + "/CommunityTokenRequestServlet",
        data=urlencode(params).encode(),
        headers={"Accept": "text/plain", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read().decode()
    except urllib.error.HTTPError as error:
        print(f"HTTP {error.code}: {error.read().decode()}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"cannot reach {base}: {error}", file=sys.stderr)
        return 2
    token = body.partition("=")[2]
    print(body)
    print(
        f"handoff: {base}/OnlinePaymentServlet3?"
        + urlencode({"token": token, "communityCode": args.community_code})
    )
    return 0


def cli(subparsers: Any) -> None:
    """Add ``mockbank quickstream-token``."""
    p = subparsers.add_parser(
        "quickstream-token",
        help="request a QuickStream security token and print a handoff URL to open",
    )
    p.add_argument("--base-url", default="http://127.0.0.1:8787")
    p.add_argument("--username", default="merchant")
    p.add_argument("--password", default="merchant-secret")
    p.add_argument("--supplier-business-code", default="SUPPLIER1")
    p.add_argument("--community-code", default="COMMUNITY1")
    p.add_argument("--currency", default="AUD", choices=models.CURRENCIES)
    p.add_argument("--amount", help="principalAmount, such as 100.00 (blank: the payer types it)")
    p.add_argument("--reference", help="paymentReference")
    p.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="any other parameter"
    )
    p.set_defaults(func=_token_command)


provider = Provider(
    name="quickstream",
    title="QuickStream / QuickWeb",
    blueprint=bp,
    render_error=render,
    read_settings=read_settings,
    hosts=HOSTS,
    load_fixtures=rest.load_fixtures,
    seed=seed,
    state_view=state_view,
    magic_values=magic_values,
    credentials=credentials,
    cli=cli,
    outbound_endpoints=("notify",),
    dashboard=lambda state: dashboard(state) + rest.dashboard(state),
)

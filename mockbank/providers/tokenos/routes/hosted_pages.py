"""The payer's pages: Token.io's Hosted Pages (bank selection) and the model bank's consent page.

Plain HTML forms (no script), so a browser and ``curl -d`` drive them the same way. Each
answers 302 to the next page, and finally to the TPP's ``callbackUrl`` with ``payment-id`` (or
``vrp-consent-id``) and ``state``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Response, render_template, request

from mockbank.providers.tokenos.errors import TokenOSError
from mockbank.providers.tokenos.models import payment_initiation as initiation
from mockbank.providers.tokenos.models import payments_v2 as payments
from mockbank.providers.tokenos.models import vrp
from mockbank.providers.tokenos.models.fixtures import Bank, Fixtures, PayerAccount
from mockbank.providers.tokenos.models.hosted_pages import (
    Next,
    PageAnswer,
    PageForm,
    bank_consent,
    bank_payment,
    consent_accounts,
    hosted_consent,
    hosted_payment,
)
from mockbank.providers.tokenos.records.payments_v2 import Payment
from mockbank.providers.tokenos.records.vrp import VrpConsent
from mockbank.providers.tokenos.routes import bp
from mockbank.providers.tokenos.routes.v2_common import base_url, notify, sweep
from mockbank.providers.tokenos.settings import settings
from mockbank.routing import endpoint, journal_note
from mockbank.state import State, current_state

HOSTED_BRAND = "Token.io · Pay by bank"


def _page(template: str, status: int = 200, **values: Any) -> Response:
    return Response(
        render_template(f"tokenos/{template}", **values), status=status, mimetype="text/html"
    )


def _message(heading: str, message: str, status: int, brand: str = HOSTED_BRAND) -> Response:
    return _page(
        "v2_message.html", status, title=heading, heading=heading, message=message, brand=brand
    )


def _redirect(url: str) -> Response:
    response = Response(status=302)
    response.headers["Location"] = url
    response.autocorrect_location_header = False
    return response


def _start() -> tuple[State, Fixtures]:
    state = current_state()
    sweep(state)
    return state, state.fixtures["tokenos"]


def _filtered(banks: list[Bank]) -> tuple[list[Bank], str, str, list[str]]:
    """The banks matching the page's ``search`` and ``country`` filters."""
    search = request.args.get("search", "").strip()
    country = request.args.get("country", "").strip().upper()
    countries = sorted({b.country for b in banks})
    shown = [
        b
        for b in banks
        if (not search or search.lower() in b.name.lower() or search.lower() in b.id.lower())
        and (not country or b.country == country)
    ]
    return shown, search, country, countries


def _amount(value: dict[str, Any]) -> str:
    return f"{value['value']} {value['currency']}"


def _form() -> PageForm:
    return PageForm(
        request.method,
        request.form.get("decision", ""),
        request.form.get("bankId") or None,
        request.form.get("accountId") or None,
    )


def _answered(state: State, answer: PageAnswer[Any]) -> None:
    """Publish what the page changed and note it in the journal."""
    notify(state, answer.resource, list(answer.changes))
    if answer.note is not None:
        journal_note(*answer.note)


@dataclass(frozen=True)
class _Kind:
    """How the pages of one kind of resource name it and where they send the payer."""

    what: str  # "payment" or "consent"
    bank_page: str
    callback: Callable[[Any], str]


def _follow(
    state: State,
    decide: Callable[[], PageAnswer[Any]],
    kind: _Kind,
    brand: str,
    unknown: str,
    show: Callable[[PageAnswer[Any]], Response],
) -> Response:
    """Run the page's model call and render its answer (404 saying `unknown` if none)."""
    try:
        answer = decide()
    except TokenOSError:
        return _message(f"Unknown {kind.what}", unknown, 404, brand)
    _answered(state, answer)
    resource = answer.resource
    if answer.next == Next.BANK:
        return _redirect(f"{base_url()}{kind.bank_page}{resource.id}")
    if answer.next == Next.CALLBACK:
        return _redirect(kind.callback(resource))
    if answer.next == Next.CLOSED:
        reason = answer.error or f"This {kind.what} is {resource.status}."
        return _message(f"{kind.what.capitalize()} closed", reason, 410, brand)
    return show(answer)


# -- payments: Hosted Pages and the bank ------------------------------------------------------
def _bank_choice(
    fixtures: Fixtures,
    rail: tuple[str, str],
    summary: tuple[str, list[str]],
    error: str | None,
    keep: list[tuple[str, str]],
) -> Response:
    """The Hosted Pages' bank list for a payment rail and currency, with search and country."""
    banks = initiation.payment_banks(fixtures, *rail)
    shown, search, country, countries = _filtered(banks)
    return _page(
        "hosted_banks.html",
        400 if error else 200,
        title="Choose your bank",
        brand=HOSTED_BRAND,
        summary_title=summary[0],
        summary=summary[1],
        error=error,
        action=request.path,
        post_action=request.full_path.rstrip("?"),
        keep=keep,
        banks=shown,
        search=search,
        country=country,
        countries=countries,
    )


def _hosted_choice(payment: Payment, fixtures: Fixtures, error: str | None) -> Response:
    init = payment.initiation
    creditor = init["creditor"].get("name") or "a Token.io settlement account"
    summary = (
        f"Pay {_amount(init['amount'])} to {creditor}",
        [f"Reference: {init['remittanceInformationPrimary']}"],
    )
    rail = (init["localInstrument"], payment.currency)
    return _bank_choice(fixtures, rail, summary, error, [])


def _bank_page(
    bank: Bank,
    heading: tuple[str, list[str]],
    error: str | None,
    accounts: list[PayerAccount],
    selected: PayerAccount | None,
) -> Response:
    """The model bank's page: what the payer approves, and the accounts to pay from."""
    return _page(
        "bank_page.html",
        400 if error else 200,
        title=bank.name,
        brand=bank.name,
        colour="#0b5d3b",
        heading=heading[0],
        summary=heading[1],
        error=error,
        action=request.path,
        accounts=accounts,
        selected=selected.id if selected else None,
    )


@bp.route("/session/<payment_id>", methods=["GET", "POST"])
@endpoint("hosted-session")
def hosted_session(payment_id: str) -> Response:
    """Token.io's Hosted Pages: bank selection (search, country), then the bank."""
    state, fixtures = _start()
    return _follow(
        state,
        lambda: hosted_payment(state.store, fixtures, payment_id, _form(), now=state.now()),
        PAYMENT,
        HOSTED_BRAND,
        f"No payment {payment_id}.",
        lambda answer: _hosted_choice(answer.resource, fixtures, answer.error),
    )


def _payment_bank_page(fixtures: Fixtures, payment: Payment, error: str | None) -> Response:
    init = payment.initiation
    accounts = payments.payer_accounts(payment, fixtures)
    preferred = initiation.debtor_account(init, accounts)
    creditor = init["creditor"].get("name") or "Token.io settlement account"
    heading = (
        f"Approve a payment of {_amount(init['amount'])}",
        [
            f"To: {creditor}",
            f"Reference: {init['remittanceInformationPrimary']}",
            f"Requested through Token.io for member {payment.member_id}",
        ],
    )
    bank = fixtures.banks[payment.bank_id or ""]
    first = accounts[0] if accounts else None
    return _bank_page(bank, heading, error, accounts, preferred or first)


@bp.route("/mock-bank/payments/<payment_id>", methods=["GET", "POST"])
@endpoint("bank-payment-page")
def bank_payment_page(payment_id: str) -> Response:
    """The model bank's consent page: the payer approves or declines, then back to the TPP."""
    state, fixtures = _start()
    timings = settings(state).payments
    return _follow(
        state,
        lambda: bank_payment(state.store, fixtures, payment_id, _form(), timings, now=state.now()),
        PAYMENT,
        "Bank",
        f"No payment {payment_id}.",
        lambda answer: _payment_bank_page(fixtures, answer.resource, answer.error),
    )


# -- VRP consents: Hosted Pages and the bank --------------------------------------------------
def _consent_callback(consent: VrpConsent) -> str:
    url = str(consent.initiation["callbackUrl"])
    query = urlencode(
        {"vrp-consent-id": consent.id, "state": consent.initiation.get("callbackState") or ""}
    )
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _consent_summary(consent: VrpConsent) -> list[str]:
    init = consent.initiation
    lines = [
        f"To: {init['creditor'].get('name')}",
        f"Reference: {init['remittanceInformationPrimary']}",
    ]
    lines.append(f"At most {init['maximumIndividualAmount']} {consent.currency} per payment")
    for limit in init["periodicLimits"]:
        lines.append(
            f"At most {limit['maximumAmount']} {consent.currency} per {limit['periodType'].lower()}"
        )
    return lines


@bp.route("/app/initiation", methods=["GET", "POST"])
@endpoint("vrp-hosted")
def vrp_hosted() -> Response:
    """Hosted Pages for a VRP consent without a bank (``?vrp-consent-id=``): choose the bank."""
    state, fixtures = _start()
    consent_id = request.args.get("vrp-consent-id", "")
    return _follow(
        state,
        lambda: hosted_consent(state.store, fixtures, consent_id, _form(), now=state.now()),
        CONSENT,
        HOSTED_BRAND,
        f"No VRP consent {consent_id!r}.",
        lambda answer: _consent_choice(answer.resource, fixtures, answer.error),
    )


@bp.route("/mock-bank/vrp-consents/<consent_id>", methods=["GET", "POST"])
@endpoint("bank-vrp-page")
def bank_vrp_page(consent_id: str) -> Response:
    """The model bank's page for a VRP consent: authorise or reject."""
    state, fixtures = _start()
    return _follow(
        state,
        lambda: bank_consent(state.store, fixtures, consent_id, _form(), now=state.now()),
        CONSENT,
        "Bank",
        f"No VRP consent {consent_id}.",
        lambda answer: _consent_bank_page(answer.resource, fixtures, answer.error),
    )


def _consent_choice(consent: VrpConsent, fixtures: Fixtures, error: str | None) -> Response:
    summary = ("Set up variable recurring payments", _consent_summary(consent))
    rail = ("FASTER_PAYMENTS", consent.currency)
    return _bank_choice(fixtures, rail, summary, error, [("vrp-consent-id", consent.id)])


def _consent_bank_page(consent: VrpConsent, fixtures: Fixtures, error: str | None) -> Response:
    bank = fixtures.banks[consent.bank_id or ""]
    accounts = consent_accounts(consent, fixtures)
    heading = ("Authorise variable recurring payments", _consent_summary(consent))
    return _bank_page(bank, heading, error, accounts, accounts[0] if accounts else None)


PAYMENT = _Kind("payment", payments.BANK_PAGE, payments.callback_location)
CONSENT = _Kind("consent", vrp.BANK_PAGE, _consent_callback)

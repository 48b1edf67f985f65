"""The payer's pages: Token.io's Hosted Pages (bank selection) and the model bank's consent page.

Plain HTML forms (no script), so a browser and ``curl -d`` drive them the same way. Each
answers 302 to the next page, and finally to the TPP's ``callbackUrl`` with ``payment-id`` (or
``vrp-consent-id``) and ``state``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, render_template, request

from mockbank.providers.tokenos.errors import TokenOSError
from mockbank.providers.tokenos.models import payment_initiation as initiation
from mockbank.providers.tokenos.models import payments_v2 as payments
from mockbank.providers.tokenos.models import vrp
from mockbank.providers.tokenos.models.fixtures import Bank, Fixtures
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
from mockbank.providers.tokenos.records.steps import Tracked
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


def _closed(what: str, resource: Tracked, answer: PageAnswer[Any], brand: str) -> Response:
    heading = f"{what.capitalize()} closed"
    return _message(heading, answer.error or f"This {what} is {resource.status}.", 410, brand)


# -- payments: Hosted Pages and the bank ------------------------------------------------------
def _hosted_choice(payment: Payment, fixtures: Fixtures, error: str | None) -> Response:
    init = payment.initiation
    banks = initiation.payment_banks(fixtures, init["localInstrument"], payment.currency)
    shown, search, country, countries = _filtered(banks)
    creditor = init["creditor"].get("name") or "a Token.io settlement account"
    return _page(
        "hosted_banks.html",
        400 if error else 200,
        title="Choose your bank",
        brand=HOSTED_BRAND,
        summary_title=f"Pay {_amount(init['amount'])} to {creditor}",
        summary=[f"Reference: {init['remittanceInformationPrimary']}"],
        error=error,
        action=request.path,
        post_action=request.full_path.rstrip("?"),
        keep=[],
        banks=shown,
        search=search,
        country=country,
        countries=countries,
    )


@bp.route("/session/<payment_id>", methods=["GET", "POST"])
@endpoint("hosted-session")
def hosted_session(payment_id: str) -> Response:
    """Token.io's Hosted Pages: bank selection (search, country), then the bank."""
    state, fixtures = _start()
    try:
        answer = hosted_payment(state.store, fixtures, payment_id, _form(), now=state.now())
    except TokenOSError:
        return _message("Unknown payment", f"No payment {payment_id}.", 404)
    _answered(state, answer)
    payment = answer.resource
    if answer.next == Next.BANK:
        return _redirect(f"{base_url()}{payments.BANK_PAGE}{payment.id}")
    if answer.next == Next.CALLBACK:
        return _redirect(payments.callback_location(payment))
    if answer.next == Next.CLOSED:
        return _closed("payment", payment, answer, HOSTED_BRAND)
    return _hosted_choice(payment, fixtures, answer.error)


def _bank_page(fixtures: Fixtures, payment: Payment, error: str | None) -> Response:
    init = payment.initiation
    bank = fixtures.banks[payment.bank_id or ""]
    accounts = payments.payer_accounts(payment, fixtures)
    preferred = initiation.debtor_account(init, accounts)
    creditor = init["creditor"].get("name") or "Token.io settlement account"
    return _page(
        "bank_page.html",
        400 if error else 200,
        title=bank.name,
        brand=bank.name,
        colour="#0b5d3b",
        heading=f"Approve a payment of {_amount(init['amount'])}",
        summary=[
            f"To: {creditor}",
            f"Reference: {init['remittanceInformationPrimary']}",
            f"Requested through Token.io for member {payment.member_id}",
        ],
        error=error,
        action=request.path,
        accounts=accounts,
        selected=(preferred or accounts[0]).id if accounts else None,
    )


@bp.route("/mock-bank/payments/<payment_id>", methods=["GET", "POST"])
@endpoint("bank-payment-page")
def bank_payment_page(payment_id: str) -> Response:
    """The model bank's consent page: the payer approves or declines, then back to the TPP."""
    state, fixtures = _start()
    try:
        answer = bank_payment(
            state.store,
            fixtures,
            payment_id,
            _form(),
            settings(state).payments,
            now=state.now(),
        )
    except TokenOSError:
        return _message("Unknown payment", f"No payment {payment_id}.", 404, "Bank")
    _answered(state, answer)
    if answer.next == Next.CLOSED:
        return _closed("payment", answer.resource, answer, "Bank")
    if answer.next == Next.CALLBACK:
        return _redirect(payments.callback_location(answer.resource))
    return _bank_page(fixtures, answer.resource, answer.error)


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
    try:
        answer = hosted_consent(state.store, fixtures, consent_id, _form(), now=state.now())
    except TokenOSError:
        return _message("Unknown consent", f"No VRP consent {consent_id!r}.", 404)
    _answered(state, answer)
    consent = answer.resource
    if answer.next == Next.BANK:
        return _redirect(f"{base_url()}{vrp.BANK_PAGE}{consent.id}")
    if answer.next == Next.CALLBACK:
        return _redirect(_consent_callback(consent))
    if answer.next == Next.CLOSED:
        return _closed("consent", consent, answer, HOSTED_BRAND)
    banks = initiation.payment_banks(fixtures, "FASTER_PAYMENTS", consent.currency)
    shown, search, country, countries = _filtered(banks)
    return _page(
        "hosted_banks.html",
        400 if answer.error else 200,
        title="Choose your bank",
        brand=HOSTED_BRAND,
        summary_title="Set up variable recurring payments",
        summary=_consent_summary(consent),
        error=answer.error,
        action=request.path,
        post_action=request.full_path.rstrip("?"),
        keep=[("vrp-consent-id", consent_id)],
        banks=shown,
        search=search,
        country=country,
        countries=countries,
    )


@bp.route("/mock-bank/vrp-consents/<consent_id>", methods=["GET", "POST"])
@endpoint("bank-vrp-page")
def bank_vrp_page(consent_id: str) -> Response:
    """The model bank's page for a VRP consent: authorise or reject."""
    state, fixtures = _start()
    try:
        answer = bank_consent(state.store, fixtures, consent_id, _form(), now=state.now())
    except TokenOSError:
        return _message("Unknown consent", f"No VRP consent {consent_id}.", 404, "Bank")
    _answered(state, answer)
    consent = answer.resource
    if answer.next == Next.CLOSED:
        return _closed("consent", consent, answer, "Bank")
    if answer.next == Next.CALLBACK:
        return _redirect(_consent_callback(consent))
    bank = fixtures.banks[consent.bank_id or ""]
    accounts = consent_accounts(consent, fixtures)
    return _page(
        "bank_page.html",
        400 if answer.error else 200,
        title=bank.name,
        brand=bank.name,
        colour="#0b5d3b",
        heading="Authorise variable recurring payments",
        summary=_consent_summary(consent),
        error=answer.error,
        action=request.path,
        accounts=accounts,
        selected=accounts[0].id if accounts else None,
    )

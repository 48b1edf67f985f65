"""The payer's pages: Token.io's Hosted Pages (bank selection) and the model bank's consent page.

Plain HTML forms (no script), so a browser and ``curl -d`` drive them the same way. Each
answers 302 to the next page, and finally to the TPP's ``callbackUrl`` with ``payment-id`` (or
``vrp-consent-id``) and ``state``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, render_template, request

from mockbank.providers.tokenos import routes
from mockbank.providers.tokenos.errors import TokenOSError
from mockbank.providers.tokenos.models import Bank, Fixtures, vrp
from mockbank.providers.tokenos.models import payment_initiation as initiation
from mockbank.providers.tokenos.models import payments_v2 as payments
from mockbank.providers.tokenos.routes_v2 import base_url, notify, sweep
from mockbank.routing import endpoint, journal_note
from mockbank.state import State, current_state

bp = routes.bp
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


# -- payments: Hosted Pages and the bank ------------------------------------------------------
def _hosted_choice(payment: payments.Payment, fixtures: Fixtures, error: str | None) -> Response:
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
    store, now = state.store, state.now()
    try:
        payment, changes = payments.load(store, payment_id, now=now)
    except TokenOSError:
        return _message("Unknown payment", f"No payment {payment_id}.", 404)
    notify(state, payment, changes)
    if payment.status == payments.S.PENDING_REDIRECT_AUTH:
        return _redirect(f"{base_url()}{payments.BANK_PAGE}{payment.id}")
    if payment.status != payments.S.PENDING_REDIRECT_HP:
        return _message("Payment closed", f"This payment is {payment.status}.", 410)
    decision = request.form.get("decision", "")
    bank_id = payment.bank_id or request.form.get("bankId") or None
    if decision == "cancel":
        payment, changes = payments.choose_bank(store, payment_id, None, fixtures, now=now)
        notify(state, payment, changes)
        return _redirect(payments.callback_location(payment))
    if bank_id is None or (request.method == "GET" and not payment.bank_id):
        return _hosted_choice(payment, fixtures, None)
    try:
        payment, changes = payments.choose_bank(store, payment_id, bank_id, fixtures, now=now)
    except TokenOSError as failure:
        return _hosted_choice(payment, fixtures, failure.detail)
    notify(state, payment, changes)
    journal_note("bank", bank_id)
    return _redirect(f"{base_url()}{payments.BANK_PAGE}{payment.id}")


def _bank_page(
    state: State, fixtures: Fixtures, payment: payments.Payment, error: str | None
) -> Response:
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
    store, now = state.store, state.now()
    try:
        payment, changes = payments.load(store, payment_id, now=now)
    except TokenOSError:
        return _message("Unknown payment", f"No payment {payment_id}.", 404, "Bank")
    notify(state, payment, changes)
    if payment.status != payments.S.PENDING_REDIRECT_AUTH:
        return _message("Payment closed", f"This payment is {payment.status}.", 410, "Bank")
    decision = request.form.get("decision", "")
    if request.method == "GET" or decision not in ("approve", "deny"):
        error = "decision must be approve or deny" if request.method == "POST" else None
        return _bank_page(state, fixtures, payment, error)
    account_id = request.form.get("accountId") or None
    allowed = [a.id for a in payments.payer_accounts(payment, fixtures)]
    if account_id is not None and account_id not in allowed:
        return _bank_page(
            state, fixtures, payment, f"{account_id} is not one of your accounts here"
        )
    if decision == "approve" and account_id is None and allowed:
        preferred = initiation.debtor_account(
            payment.initiation, payments.payer_accounts(payment, fixtures)
        )
        account_id = preferred.id if preferred else allowed[0]
    try:
        payment, changes = payments.payer_decision(
            store, payment_id, decision == "approve", account_id, routes_settings(state), now=now
        )
    except TokenOSError as failure:  # answered by a concurrent POST meanwhile
        return _message("Payment closed", failure.detail, 410, "Bank")
    notify(state, payment, changes)
    journal_note("decision", decision)
    return _redirect(payments.callback_location(payment))


def routes_settings(state: State) -> payments.Settings:
    """The tokenos.* durations."""
    from mockbank.providers.tokenos.settings import settings

    return settings(state).payments


# -- VRP consents: Hosted Pages and the bank --------------------------------------------------
def _consent_callback(consent: vrp.VrpConsent) -> str:
    url = str(consent.initiation["callbackUrl"])
    query = urlencode(
        {"vrp-consent-id": consent.id, "state": consent.initiation.get("callbackState") or ""}
    )
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _consent_summary(consent: vrp.VrpConsent) -> list[str]:
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
        consent, changes = vrp.load(state.store, consent_id, now=state.now())
    except TokenOSError:
        return _message("Unknown consent", f"No VRP consent {consent_id!r}.", 404)
    notify(state, consent, changes)
    if consent.status == vrp.PENDING_REDIRECT_AUTH:
        return _redirect(f"{base_url()}{vrp.BANK_PAGE}{consent.id}")
    if consent.status != vrp.PENDING_MORE_INFO:
        return _message("Consent closed", f"This consent is {consent.status}.", 410)
    decision, bank_id = request.form.get("decision", ""), request.form.get("bankId") or None
    error = None
    if request.method == "POST" and (decision == "cancel" or bank_id):
        try:
            consent, changes = vrp.choose_bank(
                state.store,
                consent_id,
                None if decision == "cancel" else bank_id,
                fixtures,
                now=state.now(),
            )
        except TokenOSError as failure:
            error = failure.detail
        else:
            notify(state, consent, changes)
            if consent.status == vrp.REJECTED:
                return _redirect(_consent_callback(consent))
            return _redirect(f"{base_url()}{vrp.BANK_PAGE}{consent.id}")
    banks = initiation.payment_banks(fixtures, "FASTER_PAYMENTS", consent.currency)
    shown, search, country, countries = _filtered(banks)
    return _page(
        "hosted_banks.html",
        400 if error else 200,
        title="Choose your bank",
        brand=HOSTED_BRAND,
        summary_title="Set up variable recurring payments",
        summary=_consent_summary(consent),
        error=error,
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
        consent, changes = vrp.load(state.store, consent_id, now=state.now())
    except TokenOSError:
        return _message("Unknown consent", f"No VRP consent {consent_id}.", 404, "Bank")
    notify(state, consent, changes)
    if consent.status != vrp.PENDING_REDIRECT_AUTH:
        return _message("Consent closed", f"This consent is {consent.status}.", 410, "Bank")
    bank = fixtures.banks[consent.bank_id or ""]
    accounts = [a for p in fixtures.payers for a in p.accounts if a.bank_id == bank.id]
    decision, account_id = request.form.get("decision", ""), request.form.get("accountId") or None
    if request.method == "POST" and decision in ("approve", "deny"):
        if account_id is None and accounts:
            account_id = accounts[0].id
        if account_id is None or account_id in [a.id for a in accounts]:
            try:
                consent, changes = vrp.payer_decision(
                    state.store, consent_id, decision == "approve", account_id, now=state.now()
                )
            except TokenOSError as failure:
                return _message("Consent closed", failure.detail, 410, "Bank")
            notify(state, consent, changes)
            return _redirect(_consent_callback(consent))
    error = "choose one of your accounts and approve or deny" if request.method == "POST" else None
    return _page(
        "bank_page.html",
        400 if error else 200,
        title=bank.name,
        brand=bank.name,
        colour="#0b5d3b",
        heading="Authorise variable recurring payments",
        summary=_consent_summary(consent),
        error=error,
        action=request.path,
        accounts=accounts,
        selected=accounts[0].id if accounts else None,
    )

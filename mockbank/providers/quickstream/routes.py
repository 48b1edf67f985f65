"""QuickStream / QuickWeb views: thin wrappers that parse, check, call one model, render."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl, quote

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from mockbank.outbox import Email
from mockbank.providers.quickstream import auth
from mockbank.providers.quickstream.errors import (
    AlreadyProcessed,
    InvalidParameter,
    SessionUnknown,
)
from mockbank.providers.quickstream.models import invoicing, paying, payment_form, products
from mockbank.providers.quickstream.models import token_request as tokens
from mockbank.providers.quickstream.models.common import (
    SESSION_TTL,
    Facility,
    QuickStreamFixtures,
    SessionStatus,
    sydney,
)
from mockbank.providers.quickstream.models.paying import Notification
from mockbank.providers.quickstream.records.payments import Transaction
from mockbank.providers.quickstream.records.sessions import Registration, Session
from mockbank.providers.quickstream.rest import frame
from mockbank.providers.quickstream.rest import routes as rest_routes
from mockbank.routing import endpoint, journal_note
from mockbank.state import State, current_state

bp = Blueprint("quickstream", __name__, template_folder="templates", static_folder="static")
# The REST API and the Trusted Frame (whose views `rest.frame` adds to the same blueprint).
bp.register_blueprint(rest_routes.bp, url_prefix="/rest/v1")
assert frame.__name__

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 200
COOKIE = "QWSESSION"


@bp.after_request
def _page_headers(response: Response) -> Response:
    # Payment page URLs carry the session id: keep them out of Referer headers to merchants.
    if response.mimetype == "text/html":
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _fixtures(state: State) -> QuickStreamFixtures:
    fixtures: QuickStreamFixtures = state.fixtures["quickstream"]
    return fixtures


def _facility(state: State, username: str) -> Facility:
    facility = _fixtures(state).facility_by_username(username)
    if facility is None:
        raise SessionUnknown()
    return facility


def _form_pairs() -> list[tuple[str, str]]:
    """The body's form fields, strictly decoded: bad encodings are the caller's 400."""
    content_type = (request.mimetype or "").lower()
    if content_type != FORM_TYPE:
        raise InvalidParameter(
            f"Send the parameters form-encoded (Content-Type: {FORM_TYPE}), "
            f"not {request.mimetype or 'no content type'}."
        )
    body = request.get_data(cache=True)
    try:
        return parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise InvalidParameter("The parameters are not valid UTF-8 form encoding.") from None
    except ValueError:
        raise InvalidParameter(f"Too many parameters (at most {MAX_FIELDS}).") from None


@bp.post("/CommunityTokenRequestServlet")
@bp.post("/services/quickweb/CommunityTokenRequestServlet")
@endpoint("token-request")
def token_request() -> Response:
    """Secure token request: check the caller and the parameters, answer ``token=...``."""
    state = current_state()
    values = tokens.single_values(_form_pairs())
    ip = auth.client_ip(
        request.remote_addr, request.headers.get("X-Forwarded-For"), state.config.trusted_proxies
    )
    facility = auth.authenticate(
        _fixtures(state), values.get("username", ""), values.get("password", ""), ip
    )
    grant = tokens.issue_token(
        state.store, facility, values, now=state.now(), new_token=lambda: state.token_urlsafe(40)
    )
    response = Response(f"token={grant.token}", content_type="text/plain; charset=utf-8")
    if grant.unknown:
        # Percent-encoded: a header must stay one line of latin-1 whatever the client sent.
        names = ", ".join(quote(name, safe="") for name in grant.unknown)
        journal_note("unknown_parameters", grant.unknown)
        response.headers["X-Mockbank-Warning"] = f"unknown parameters accepted and ignored: {names}"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/OnlinePaymentServlet3", methods=["GET", "POST"])
@endpoint("handoff")
def handoff() -> ResponseReturnValue:
    """The handoff: consume the token and send the browser to its payment page."""
    state = current_state()
    source = request.form if request.method == "POST" else request.args
    if tokens.token_connection(state.store, source.get("token", "")) == "QUICKCONNECT":
        return _quickconnect(state, source.to_dict())
    session_id, session = tokens.handoff(
        state.store,
        _fixtures(state),
        source.get("token", ""),
        source.get("communityCode", ""),
        now=state.now(),
        new_secret=lambda: state.token_urlsafe(24),
    )
    journal_note("session", session_id[:8])
    # See-other keeps a browser refresh from re-posting the (now used) token.
    response = redirect(url_for(".payment_page", session_id=session_id), code=303)
    response.set_cookie(
        COOKIE,
        session.binding,
        path=url_for(".payment_page", session_id=session_id),
        httponly=True,
        samesite="Lax",
        max_age=int(SESSION_TTL.total_seconds()),
    )
    return response


def _quickconnect(state: State, form: dict[str, str]) -> ResponseReturnValue:
    """QuickConnect's direct post: pay with the posted card, then back to the merchant."""
    token, community = form.pop("token", ""), form.pop("communityCode", "")
    journal_note("form", payment_form.masked_form(form))
    try:
        facility, session, transaction = products.quickconnect(
            state.store,
            _fixtures(state),
            token,
            community,
            form,
            now=state.now(),
            new_secret=lambda: state.token_urlsafe(24),
            new_account_token=lambda: state.token_hex(10),
        )
    except products.QuickConnectInvalid as invalid:
        # Nothing is taken: the merchant's page shows the problems and posts again.
        journal_note("invalid_fields", sorted(invalid.errors))
        refused = paying.passback_get_url(invalid.return_url, invalid.refused_fields())
        return redirect(refused, code=303)
    journal_note("receipt_number", transaction.receipt_number)
    _send_notification(state, paying.plan_notification(facility, session, transaction))
    _record_receipt_email(state, facility, session, transaction)
    return_url, fields = products.passback(facility, session)
    return redirect(paying.passback_get_url(return_url, fields), code=303)


def _binding() -> str:
    return request.cookies.get(COOKIE, "")


def _proofs(state: State) -> dict[str, Any]:
    """A session form's proofs: the page's CSRF token, the browser's cookie; and the time."""
    return {"csrf": request.form.get("csrf", ""), "binding": _binding(), "now": state.now()}


def _custom(session: Session) -> list[tuple[str, str, str]]:
    """The token's custom parameters as (label, name, value), for the pages."""
    custom = session.params.get("custom", {})
    return [(payment_form.custom_label(k), k, v) for k, v in custom.items()]


def _page(
    state: State,
    session_id: str,
    session: Session,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    facility = _facility(state, session.facility)
    params = session.params
    methods = payment_form.allowed_methods(params)
    errors = errors or {}
    values = values or {}
    html = render_template(
        "quickstream/payment.html",
        kind=products.page_kind(params),
        frequencies=products.FREQUENCIES,
        schedule_types=products.SCHEDULE_TYPES,
        today=sydney(state.now()).date().isoformat(),
        session_id=session_id,
        facility=facility,
        params=params,
        custom=_custom(session),
        methods=methods,
        csrf=session.csrf,
        surcharges={k: v / 100 for k, v in facility.surcharges_bp.items()},
        errors=errors,
        error_list=payment_form.errors_in_page_order(errors),
        focus=payment_form.focus_field(errors, values.get("paymentMethod") or methods[0]),
        values=values,
        years=[str(sydney(state.now()).year + i) for i in range(0, 16)],
        invoices=_invoices(state, session),
    )
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


def _invoices(state: State, session: Session) -> list[dict[str, Any]]:
    """QuickWeb Invoicing: the open invoices of the token's customer (other pages: none)."""
    if products.page_kind(session.params) != "invoicing":
        return []
    customer = session.params.get("customerReferenceNumber", "")
    return [i.public() for i in invoicing.open_invoices(state.store, session.facility, customer)]


@bp.get("/quickweb/<session_id>")
@endpoint("payment-page")
def payment_page(session_id: str) -> ResponseReturnValue:
    """The QuickWeb 'Payment Details' page."""
    state = current_state()
    session = tokens.load_session(state.store, session_id, now=state.now(), binding=_binding())
    if session.status == SessionStatus.COMPLETED:
        return redirect(url_for(".receipt", session_id=session_id), code=303)
    if session.status == SessionStatus.CANCELLED:
        raise AlreadyProcessed("This payment was cancelled.")
    return _page(state, session_id, session)


@bp.post("/quickweb/<session_id>/pay")
@endpoint("pay")
def pay(session_id: str) -> ResponseReturnValue:
    """Submit the payment form: inline errors, or the outcome and a redirect to the receipt."""
    state = current_state()
    form = request.form.to_dict()
    # The raw body is not journaled (form parsing consumes it); this masked copy is.
    journal_note("form", payment_form.masked_form(form))
    sent = paying.Submission(
        session_id,
        form,
        csrf=form.get("csrf", ""),
        binding=_binding(),
        now=state.now(),
        new_account_token=lambda: state.token_hex(10),
    )
    try:
        facility, completed = products.submit(state.store, _fixtures(state), sent)
    except payment_form.PaymentInvalid as invalid:
        journal_note("invalid_fields", sorted(invalid.errors))
        session = tokens.load_session(state.store, session_id, now=state.now())
        # Card number and CVN are never echoed back into the page.
        kept = {k: v for k, v in form.items() if k not in ("cardNumber", "cvn", "csrf")}
        return _page(state, session_id, session, errors=invalid.errors, values=kept, status=400)
    session = tokens.load_session(state.store, session_id, now=state.now())
    if isinstance(completed, Registration):
        _registered(state, facility, session, completed)
    else:
        journal_note("receipt_number", completed.receipt_number)
        journal_note("summary_code", completed.summary_code)
        _send_notification(state, paying.plan_notification(facility, session, completed))
        _record_receipt_email(state, facility, session, completed)
    return _after_completion(facility, session_id, session)


def _registered(
    state: State, facility: Facility, session: Session, registration: Registration
) -> None:
    """QuickVault registration only, or a QuickWeb Recurring setup: journal, notification."""
    if registration.kind == "recurring":
        journal_note("schedule", registration.schedule_id or "not created")
    journal_note("account_token", registration.account_token if registration.success_flag else None)
    planned = products.plan_registration_notification(facility, session, registration)
    if planned is not None:
        _deliver(state, planned)


def _after_completion(facility: Facility, session_id: str, session: Session) -> ResponseReturnValue:
    """The receipt page, or straight back to the merchant for a facility without one."""
    if facility.receipt_page or not session.params.get("returnUrl"):
        return redirect(url_for(".receipt", session_id=session_id), code=303)
    return _passback(facility, session)


def _send_notification(state: State, planned: Notification | None) -> None:
    if planned is None:
        journal_note("notification", "none: no serverReturnUrl")
        return
    _deliver(state, planned)


def _deliver(state: State, planned: Notification) -> None:
    """Hand one notification to the outbox (its retries, its failure email)."""
    fallback = None
    if planned.error_email and planned.failure_subject:
        fallback = Email(
            to=planned.error_email, subject=planned.failure_subject, body=planned.failure_body
        )
    credentials = f"{planned.username}:{planned.password}".encode()
    message = state.outbox.send_http(
        "quickstream",
        planned.url,
        headers={
            "Content-Type": planned.content_type,
            "Authorization": "Basic " + base64.b64encode(credentials).decode("ascii"),
        },
        body=planned.body,
        retry_delays=planned.retry_delays,
        fallback=fallback,
        label=planned.label,
        fault_endpoint="notify",
    )
    journal_note("notification", f"outbox message {message.id}")


def _record_receipt_email(
    state: State, facility: Facility, session: Session, transaction: Transaction
) -> None:
    """``receiptEmailAddress``: QuickWeb emails the payer a receipt; mockbank records it."""
    address = session.params.get("receiptEmailAddress")
    if not address:
        return
    email = Email(
        to=address,
        subject=f"Your payment receipt {transaction.receipt_number} from {facility.name}",
        body=paying.receipt_email_body(facility, session, transaction),
    )
    state.outbox.record_email("quickstream", email, label="payment receipt")


@bp.get("/quickweb/<session_id>/receipt")
@endpoint("receipt")
def receipt(session_id: str) -> ResponseReturnValue:
    """The receipt page: outcome, receipt number, and the way back to the merchant."""
    state = current_state()
    session = tokens.load_session(state.store, session_id, now=state.now(), binding=_binding())
    completed = paying.require_completed(session)
    facility = _facility(state, session.facility)
    registered = isinstance(completed, Registration)
    html = render_template(
        "quickstream/registered.html" if registered else "quickstream/receipt.html",
        session_id=session_id,
        facility=facility,
        params=session.params,
        custom=_custom(session),
        transaction=completed.to_value(),
        csrf=session.csrf,
    )
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/quickweb/<session_id>/return")
@endpoint("passback")
def return_to_merchant(session_id: str) -> ResponseReturnValue:
    """'Return to merchant': the signed passback to returnUrl (auto-submitted POST, or GET)."""
    state = current_state()
    session = tokens.returning_session(state.store, session_id, **_proofs(state))
    return _passback(_facility(state, session.facility), session)


def _passback(facility: Facility, session: Session) -> ResponseReturnValue:
    """The signed passback to returnUrl: an auto-submitted POST form, or a GET redirect."""
    return_url, fields = products.passback(facility, session)
    journal_note("passback", {"method": facility.passback_method, "url": return_url})
    if facility.passback_method == "GET":
        return redirect(paying.passback_get_url(return_url, fields), code=303)
    html = render_template("quickstream/passback.html", url=return_url, fields=fields)
    return Response(html, content_type="text/html; charset=utf-8")


@bp.post("/quickweb/<session_id>/cancel")
@endpoint("cancel")
def cancel(session_id: str) -> ResponseReturnValue:
    """The payer cancels: the session closes and the browser goes to cancelUrl."""
    state = current_state()
    session = paying.cancel(state.store, session_id, **_proofs(state))
    facility = _facility(state, session.facility)
    cancel_url = session.params.get("cancelUrl")
    if cancel_url:
        return redirect(cancel_url, code=303)
    html = render_template("quickstream/cancelled.html", facility=facility)
    return Response(html, content_type="text/html; charset=utf-8")

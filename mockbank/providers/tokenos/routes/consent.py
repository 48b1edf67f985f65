"""The consent web app: bank, email, accounts, then approve or deny."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response, render_template, request

from mockbank.providers.tokenos.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    RequestAnswered,
    RequestExpired,
    TokenOSError,
)
from mockbank.providers.tokenos.i18n import TEXTS, format_amount, pick_language
from mockbank.providers.tokenos.models import consent as consent_models
from mockbank.providers.tokenos.models import consent as consent_rules
from mockbank.providers.tokenos.models import token_requests
from mockbank.providers.tokenos.records.members import NS_MEMBER
from mockbank.providers.tokenos.routes import bp
from mockbank.providers.tokenos.routes.common import provider_state
from mockbank.routing import endpoint, journal_note
from mockbank.state import State


def _describe(request_record: dict[str, Any], lang: str) -> str:
    texts = TEXTS[lang]
    payload = request_record["requestPayload"]
    if request_record["kind"] == "STANDING_ORDER":
        body = payload["standingOrderBody"]
        return texts["standing_order"].format(
            amount=format_amount(Decimal(str(body["amount"])), lang),
            currency=body["currency"],
            frequency=body["frequency"],
            start=body["startDate"],
        )
    if request_record["kind"] == "TRANSFER":
        body = payload["transferBody"]
        text = texts["transfer"].format(
            amount=format_amount(Decimal(str(body["lifetimeAmount"])), lang),
            currency=body["currency"],
        )
        if body.get("executionDate"):
            text += ", " + texts["execution_date"].format(date=body["executionDate"])
        return text
    kinds = [k for k, _ in token_requests.access_resources(payload["accessBody"])]
    labels = [texts.get(f"resource_{k}", k) for k in dict.fromkeys(kinds)]
    return texts["access"].format(resources=", ".join(labels))


def _consent_page(
    consent: consent_rules.Consent,
    request_id: str,
    lang: str,
    *,
    email: str | None,
    error: str | None,
    status: int,
) -> Response:
    state, _ = provider_state()
    record = consent.request
    payload = record["requestPayload"]
    step = "bank" if consent.bank is None else "email" if consent.payer is None else "accounts"
    member = state.store.get(NS_MEMBER, record["memberId"], now=state.now()) or {}
    profile = member.get("profile") or {}
    acting = payload.get("actingAs") or {}
    requester = acting.get("displayName") or profile.get("displayNameFirst") or record["memberId"]
    html = render_template(
        "tokenos/consent.html",
        lang=lang,
        t=TEXTS[lang],
        step=step,
        action=f"{request.script_root}{request.path}?lang={lang}",
        requester=requester,
        what=_describe(record, lang),
        description=payload.get("description"),
        ref_id=payload.get("refId"),
        banks=consent.banks,
        unavailable=[
            (bank, TEXTS[lang][f"bank_unavailable_{reason}"].format(**values))
            for bank, reason, values in consent.unavailable
        ],
        bank_fixed=bool(record["requestOptions"].get("bankId") or consent.source),
        payer_fixed=bool(record["requestOptions"].get("from") or {}),
        bank=consent.bank,
        email=email or (consent.payer.email if consent.payer else None),
        accounts=consent.accounts,
        transfer=record["kind"] != "ACCESS",
        error=error,
    )
    journal_note("consent_step", step)
    return Response(html, status=status, mimetype="text/html")


def _error_page(message: str, lang: str, status: int, detail: str | None = None) -> Response:
    html = render_template(
        "tokenos/error.html", lang=lang, t=TEXTS[lang], message=message, detail=detail
    )
    return Response(html, status=status, mimetype="text/html")


def _unusable(failure: TokenOSError, lang: str) -> Response:
    """The page for a request that cannot be answered: unknown, expired or already answered."""
    texts = TEXTS[lang]
    if isinstance(failure, RequestAnswered):
        return _error_page(texts["answered_request"], lang, 410, failure.detail)
    if isinstance(failure, RequestExpired):
        return _error_page(texts["expired_request"], lang, 410, failure.detail)
    if isinstance(failure, NotFound):
        return _error_page(texts["unknown_request"], lang, 404, failure.detail)
    return _error_page(failure.detail, lang, 410)


def _redirect(url: str) -> Response:
    # Built by hand so the already-encoded callback parameters reach the browser verbatim.
    response = Response(status=302)
    response.headers["Location"] = url
    response.autocorrect_location_header = False
    return response


def _deny(state: State, request_id: str, lang: str) -> Response:
    try:
        denied = consent_rules.deny(state.store, request_id, now=state.now())
    except RequestAnswered as raced:  # answered by a concurrent POST in the meantime
        return _unusable(raced, lang)
    journal_note("decision", "deny")
    return _redirect(denied)


def _worded(step: consent_models.ConsentStep, lang: str) -> str | None:
    if step.unknown_email is not None:
        return TEXTS[lang]["unknown_email"].format(email=step.unknown_email)
    return step.problem


@bp.route("/app/request-token/<request_id>", methods=["GET", "POST"])
@bp.route("/request-token/<request_id>", methods=["GET", "POST"])
@endpoint("consent")
def consent(request_id: str) -> Response:
    """The consent web app: bank, email, accounts, then approve or deny."""
    state, fixtures = provider_state()
    lang = pick_language(request.values.get("lang"))
    store, now = state.store, state.now()
    form = request.form  # empty on GET
    try:
        token_requests.pending_request(store, request_id, now=now)
        asked = consent_models.consent_form(
            form.get("decision", ""),
            form.get("bankId", ""),
            form.get("email", ""),
            form.get("back", ""),
            form.getlist("accountId"),
        )
        if asked.decision == "deny":
            return _deny(state, request_id, lang)
        step = consent_models.consent_step(store, request_id, fixtures, asked, now=now)
    except InvalidArgument as bad:
        return _error_page(bad.detail, lang, 400)
    except (NotFound, FailedPrecondition) as gone:  # also: answered meanwhile by another POST
        return _unusable(gone, lang)
    error = _worded(step, lang)
    if step.consent is None:  # the request's own options no longer fit the fixtures
        return _error_page(error or "this request cannot be shown", lang, 400)
    if asked.decision == "approve" and error is None:
        try:
            url = consent_models.approve_consent(
                store,
                request_id,
                step.consent,
                asked.account_ids,
                fixtures,
                now=now,
                rng=state.token_bytes,
            )
        except RequestAnswered as raced:
            return _unusable(raced, lang)
        except TokenOSError as failure:
            error = failure.detail
        else:
            journal_note("decision", "approve")
            return _redirect(url)
    status = 400 if error else 200
    return _consent_page(
        step.consent, request_id, lang, email=step.email, error=error, status=status
    )

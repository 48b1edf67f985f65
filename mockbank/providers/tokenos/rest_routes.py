"""Views for the current API reference's v1 calls the SDK 1.0.57 does not make."""

from __future__ import annotations

from flask import Response, jsonify, request

from mockbank.providers.tokenos.models import banks_v2, rest_v1
from mockbank.providers.tokenos.routes import _state, authenticate, bp
from mockbank.routing import endpoint


@bp.get("/token-requests/<request_id>/result")
@endpoint("token-request-result-status")
def token_request_result_v1(request_id: str) -> Response:
    """PENDING, PROCESSED (with the token id and Token's signature), REJECTED or EXPIRED."""
    state, _ = _state()
    caller = authenticate()
    return jsonify(
        rest_v1.request_result_with_status(state.store, caller.id, request_id, now=state.now())
    )


@bp.get("/bank/countries")
@endpoint("bank-countries-v1")
def bank_countries_v1() -> Response:
    """Countries of the banks matching the reference's filters."""
    _, fixtures = _state()
    return jsonify(banks_v2.bank_countries(fixtures, request.args.to_dict(flat=False)))


@bp.get("/v2/banks")
@endpoint("banks-v2")
def banks_v2_list() -> Response:
    """``BankV2`` records with filters, sorting and paging."""
    _, fixtures = _state()
    return jsonify(banks_v2.list_banks_v2(fixtures, request.args.to_dict(flat=False)))

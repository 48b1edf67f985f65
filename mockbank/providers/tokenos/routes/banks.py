"""Model banks and their countries (v1 filters, and the reference's ``/v2/banks``)."""

from __future__ import annotations

from flask import Response, jsonify, request

from mockbank.providers.tokenos.models import banks as bank_models
from mockbank.providers.tokenos.models import banks as banks_rules
from mockbank.providers.tokenos.models import banks_v2
from mockbank.providers.tokenos.routes import bp
from mockbank.providers.tokenos.routes.common import provider_state
from mockbank.routing import endpoint


@bp.get("/banks")
@endpoint("banks")
def banks() -> Response:
    """Model banks with filters and paging."""
    _, fixtures = provider_state()
    return jsonify(banks_rules.list_banks(fixtures, request.args.to_dict(flat=False)))


@bp.get("/banks/countries")
@endpoint("bank-countries")
def bank_countries() -> Response:
    """Countries that have banks matching the same filters."""
    _, fixtures = provider_state()
    countries = bank_models.list_countries(fixtures, request.args.to_dict(flat=False))
    return jsonify({"countries": countries})


@bp.get("/bank/countries")
@endpoint("bank-countries-v1")
def bank_countries_v1() -> Response:
    """Countries of the banks matching the reference's filters."""
    _, fixtures = provider_state()
    return jsonify(banks_v2.bank_countries(fixtures, request.args.to_dict(flat=False)))


@bp.get("/v2/banks")
@endpoint("banks-v2")
def banks_v2_list() -> Response:
    """``BankV2`` records with filters, sorting and paging."""
    _, fixtures = provider_state()
    return jsonify(banks_v2.list_banks_v2(fixtures, request.args.to_dict(flat=False)))

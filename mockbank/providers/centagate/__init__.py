"""centagate: placeholder until its provider issue lands (routes, models, auth, errors)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from mockbank.errors import ProviderError
from mockbank.providers import Provider

bp = Blueprint("centagate", __name__)


def render(error: ProviderError) -> Response:
    response = jsonify({"error": {"code": error.code, "message": error.detail}})
    response.status_code = error.http_status
    return response


provider = Provider(name="centagate", title="centagate", blueprint=bp, render_error=render)

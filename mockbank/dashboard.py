"""``/`` and ``/<provider>``: the dashboard console (clock, requests, faults, outbox, resets).

The pages are empty shells: ``static/console/console.js`` fills them from the control API
(``/_mockbank/console`` and friends), sending the control token when the server has one. So
the pages themselves never carry a credential, a record or a journal entry.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template

from mockbank import __version__
from mockbank.state import current_state

bp = Blueprint("dashboard", __name__)


def _page(view: str, provider: str = "", title: str = "mockbank dashboard") -> Response:
    html = render_template(
        "console.html",
        version=__version__,
        view=view,
        provider=provider,
        title=title,
        sandbox=current_state().sandbox or "default",
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def index() -> Response:
    """The console: providers, clock, request inspector, faults, outbox."""
    return _page("overview")


@bp.get("/<name>")
def provider_page(name: str) -> Response:
    """A provider's page at its base URL: endpoints, credentials, live records, magic values."""
    provider = current_state().providers.get(name)
    if provider is None:
        abort(404)
    return _page("provider", name, f"{provider.title} · mockbank")

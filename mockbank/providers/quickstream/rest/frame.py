"""quickstream-api.js and the Trusted Frame it puts in the merchant's page.

Westpac serves ``/rest/v1/quickstream-api-1.0.min.js`` from the API host; a merchant page
loads it from mockbank instead and nothing else changes. The card (or bank account) fields
live in an iframe served by mockbank, which alone may be framed, and only by the origins in
``restApi.trustedFrameOrigins``: its own Content-Security-Policy says so. The frame makes the
single-use token itself (same origin, so no CORS) and hands only the token to the page, over
postMessage with both sides checking the other's origin.
"""

from __future__ import annotations

from importlib import resources

from flask import Response, render_template, request, url_for

from mockbank.providers.quickstream.models import common
from mockbank.providers.quickstream.rest.admin import origin_allowed
from mockbank.providers.quickstream.rest.errors import NotFound
from mockbank.providers.quickstream.rest.routes import _fixtures, bp
from mockbank.routing import endpoint, skip_journal_body
from mockbank.state import current_state

KINDS = {"credit-card": "creditCard", "bank-account": "bankAccount"}
SCRIPTS = ("quickstream-api-1.0.min.js", "quickstream-api-1.0.js", "quickstream-api.js")


def _static(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


@bp.get("/<any(" + ", ".join(f'"{s}"' for s in SCRIPTS) + "):name>")
@endpoint("quickstream-api-js")
def quickstream_api_js(name: str) -> Response:
    """The browser library: QuickstreamAPI.init, creditCards / bankAccounts, Trusted Frames."""
    skip_journal_body()
    response = Response(
        _static("quickstream-api.js"), content_type="text/javascript; charset=utf-8"
    )
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"  # a script, loadable from any page
    return response


@bp.get("/trusted-frame/trusted-frame.js")
@endpoint("trusted-frame")
def trusted_frame_js() -> Response:
    """The script inside the frame (a static file: the frame's CSP forbids inline script)."""
    skip_journal_body()
    response = Response(_static("trusted-frame.js"), content_type="text/javascript; charset=utf-8")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/trusted-frame/<kind>")
@endpoint("trusted-frame")
def trusted_frame(kind: str) -> Response:
    """The frame page: card or bank-account fields, framed only by allowed origins."""
    if kind not in KINDS:
        raise NotFound(f"No Trusted Frame of kind {kind!r}; one of {', '.join(KINDS)}.")
    state = current_state()
    allowed = _fixtures(state).rest.frame_origins
    parent = request.args.get("origin", "")
    ok = origin_allowed(parent, allowed)
    year = common.sydney(state.now()).year
    html = render_template(
        "quickstream_rest/trusted_frame.html",
        kind=KINDS[kind],
        parent_origin=parent if ok else "",
        frame_id=request.args.get("frameId", "")[:64],
        refused=not ok,
        allowed=allowed,
        token_url=url_for(".create_single_use_token"),
        business_url=url_for(".root").rstrip("/") + "/businesses/",
        script_url=url_for(".trusted_frame_js"),
        months=[f"{m:02d}" for m in range(1, 13)],
        years=[str(year + i) for i in range(0, 16)],
    )
    response = Response(html, status=200 if ok else 403, content_type="text/html; charset=utf-8")
    # The one page mockbank lets others frame: its own policy, so none is added on top.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; form-action 'none'; base-uri 'none'; "
        "frame-ancestors " + " ".join(allowed)
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response

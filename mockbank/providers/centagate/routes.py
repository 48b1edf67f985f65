"""Centagate's HTTP surface: the two QR signing APIs and the simulated CENTAGATE app page."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template, request

from mockbank.clients.centagate import qr_content
from mockbank.context import vendor_context
from mockbank.providers.centagate import auth, device, models, outofband
from mockbank.providers.centagate.admin import fixtures
from mockbank.providers.centagate.errors import CentagateRequest, envelope
from mockbank.providers.centagate.qr import qr_png
from mockbank.providers.centagate.settings import settings
from mockbank.routing import endpoint, journal_note, skip_journal_body
from mockbank.state import State, current_state

bp = Blueprint("centagate", __name__, template_folder="templates")

# The v2 cloud paths of the seed, and the unversioned paths of the 2018 API document.
API_PREFIXES = ("/v2/CentagateWS/webresources", "/CentagateWS/webresources")
HMAC_ORDER_HEADER = "X-Mockbank-Hmac-Order"


def _is_2018_path() -> bool:
    """Whether the request came in on an unversioned (2018 API) path, not a /v2 one."""
    rule = request.url_rule.rule if request.url_rule else ""
    return API_PREFIXES[0] + "/" not in rule


def _authenticate(
    state: State, body: dict[str, Any], api: str
) -> tuple[models.App, dict[str, str]]:
    """Fields, app, HMAC and timestamp checks shared by the APIs."""
    fields = models.request_fields(body, api, legacy_path=_is_2018_path())
    sent = models.read_hmac(body)
    app = models.find_app(fixtures(state), fields["integrationKey"])
    options = settings(state)
    # From here on, failures are written in this app's return-code table.
    per_request = vendor_context(CentagateRequest)
    per_request.return_codes = app.return_codes or options.return_codes
    setting = options.hmac_order or app.hmac_order
    try:
        orders = auth.verify_hmac(fields, sent, app.secret_key, endpoint=api, setting=setting)
    except auth.SignatureMismatch as error:
        # The integrator sees what we signed, in each order, and can diff it with theirs.
        journal_note("canonical_strings_tried", error.tried)
        raise
    # With optional fields empty, several orders give the same text; the header lists them all.
    per_request.hmac_order = ",".join(orders)
    journal_note("hmac_order", per_request.hmac_order)
    auth.verify_timestamp(fields["unixTimestamp"], state.clock.epoch())
    return app, fields


def _success(obj: dict[str, Any]) -> Response:
    return envelope(0, "Success", json.dumps(obj, separators=(",", ":")))


@bp.after_request
def _hmac_order_header(response: Response) -> Response:
    order = vendor_context(CentagateRequest).hmac_order
    if order:
        response.headers[HMAC_ORDER_HEADER] = order
    return response


def _routes(path: str) -> list[str]:
    return [prefix + path for prefix in API_PREFIXES]


def request_qr_code() -> Response:
    """Create a QR transaction-signing challenge for a user's device account."""
    state = current_state()
    body = models.parse_body(request.get_data(cache=True))
    app, fields = _authenticate(state, body, "requestQrCode")
    ttl = settings(state).challenge_ttl_s
    obj = models.request_qr_code(
        state.store, fixtures(state), app, fields, state, now=state.now(), ttl_s=ttl
    )
    journal_note("otpChallenge", obj["otpChallenge"])
    return _success(obj)


def auth_qr_code() -> Response:
    """Verify the OTP the device derived from the QR, and consume the challenge."""
    state = current_state()
    body = models.parse_body(request.get_data(cache=True))
    app, fields = _authenticate(state, body, "authQRCode")
    obj = models.authorize_qr_code(
        state.store, fixtures(state), app, fields, state, now=state.now()
    )
    return _success(obj)


def state_check() -> Response:
    """Poll an out-of-band QR approval: pending until the device approves, then signed in."""
    state = current_state()
    body = models.parse_body(request.get_data(cache=True))
    app, fields = _authenticate(state, body, "statecheck")
    obj = outofband.state_check(state.store, fixtures(state), app, fields, state, now=state.now())
    return _success(obj)


for _rule in _routes("/session/statecheck"):
    bp.add_url_rule(_rule, view_func=endpoint("statecheck")(state_check), methods=["POST"])
for _rule in _routes("/req/requestQrCode") + _routes("/auth/requestQrCode"):
    bp.add_url_rule(_rule, view_func=endpoint("request-qr")(request_qr_code), methods=["POST"])
# authQrCode is how the 2018 sample client spells it; JAX-RS paths are case-sensitive.
for _rule in _routes("/auth/authQRCode") + _routes("/auth/authQrCode"):
    bp.add_url_rule(_rule, view_func=endpoint("auth-qr")(auth_qr_code), methods=["POST"])


# -- the simulated CENTAGATE app --------------------------------------------------------------
@bp.route("/device/<dev_acc_id>", methods=["GET", "POST"])
@endpoint("device-page")
def device_page(dev_acc_id: str) -> tuple[str, int]:
    """The CENTAGATE app of one device account: pending QRs, and the OTP once approved."""
    state = current_state()
    known = fixtures(state)
    account = known.devices.get(dev_acc_id)
    if account is None:
        page = render_template(
            "centagate/device.html",
            device=None,
            dev_acc_id=dev_acc_id,
            known=sorted(known.devices),
        )
        return page, 404
    wanted = request.form.get("challenge", "") if request.method == "POST" else None
    shown = device.device_page(state.store, account, now=state.now(), approve=wanted)
    if shown.shows_otp:
        skip_journal_body()
    page = render_template(
        "centagate/device.html",
        device=account,
        dev_acc_id=dev_acc_id,
        challenges=shown.pending,
        waiting=shown.waiting,
        approved=shown.approved,
        problem=shown.problem,
        fingerprint=shown.fingerprint,
    )
    return page, shown.status


@bp.get("/device/<dev_acc_id>/qr/<otp_challenge>.png")
@endpoint("device-qr")
def device_qr_png(dev_acc_id: str, otp_challenge: str) -> Response:
    """One pending challenge's QR as a PNG image."""
    state = current_state()
    match = models.pending_challenge(state.store, dev_acc_id, otp_challenge, now=state.now())
    if match is None:
        return Response(
            f"No pending challenge {otp_challenge} for device {dev_acc_id}.\n",
            status=404,
            mimetype="text/plain",
        )
    skip_journal_body()
    image = qr_png(qr_content(dev_acc_id, otp_challenge, match.plain_text))
    return Response(image, mimetype="image/png", headers={"Cache-Control": "no-store"})

"""Centagate's HTTP surface: the two QR signing APIs and the simulated CENTAGATE app page."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

import segno
from flask import Blueprint, Response, render_template, request

from mockbank.clients.centagate import otp_from_qr, qr_content
from mockbank.context import vendor_context
from mockbank.masking import mask_cards, mask_cards_in
from mockbank.providers.centagate import auth, models, outofband
from mockbank.providers.centagate import settings as settings_module
from mockbank.providers.centagate.errors import CentagateRequest, envelope
from mockbank.routing import endpoint, journal_note, skip_journal_body
from mockbank.state import State, current_state

bp = Blueprint("centagate", __name__, template_folder="templates")

# The v2 cloud paths of the seed, and the unversioned paths of the 2018 API document.
API_PREFIXES = ("/v2/CentagateWS/webresources", "/CentagateWS/webresources")
HMAC_ORDER_HEADER = "X-Mockbank-Hmac-Order"


def _fixtures(state: State) -> models.CentagateFixtures:
    fixtures: models.CentagateFixtures = state.fixtures["centagate"]
    return fixtures


def _is_2018_path() -> bool:
    """Whether the request came in on an unversioned (2018 API) path, not a /v2 one."""
    rule = request.url_rule.rule if request.url_rule else ""
    return API_PREFIXES[0] + "/" not in rule


def _is_login(body: dict[str, Any]) -> bool:
    """A QR login sends neither transaction field; a signing sends both (one alone is 10002)."""
    return body.get("isTransaction") is None and body.get("transactionValue") is None


def _authenticate(
    state: State, body: dict[str, Any], required: tuple[str, ...], api: str
) -> tuple[models.App, dict[str, str]]:
    """Fields, app, HMAC and timestamp checks shared by the APIs."""
    optional: tuple[str, ...] = models.REQUEST_QR_OPTIONAL if api == "requestQrCode" else ()
    if api == "authQRCode" and _is_login(body):
        required, optional = models.AUTH_QR_LOGIN_FIELDS, models.AUTH_QR_LOGIN_OPTIONAL
    if _is_2018_path() and api != "statecheck":
        legacy = (
            models.REQUEST_QR_FIELDS_2018 if api == "requestQrCode" else models.AUTH_QR_FIELDS_2018
        )
        optional += tuple(f for f in required if f not in legacy)
        fields = models.read_fields(body, legacy, optional)
    else:
        fields = models.read_fields(body, required, optional)
    sent = models.read_hmac(body)
    app = models.find_app(_fixtures(state), fields["integrationKey"])
    settings = settings_module.settings(state)
    # From here on, failures are written in this app's return-code table.
    per_request = vendor_context(CentagateRequest)
    per_request.return_codes = app.return_codes or settings.return_codes
    setting = settings.hmac_order or app.hmac_order
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
    app, fields = _authenticate(state, body, models.REQUEST_QR_FIELDS, "requestQrCode")
    ttl = settings_module.settings(state).challenge_ttl_s
    obj = models.request_qr_code(
        state.store, _fixtures(state), app, fields, state, now=state.now(), ttl_s=ttl
    )
    journal_note("otpChallenge", obj["otpChallenge"])
    return _success(obj)


def auth_qr_code() -> Response:
    """Verify the OTP the device derived from the QR, and consume the challenge."""
    state = current_state()
    body = models.parse_body(request.get_data(cache=True))
    app, fields = _authenticate(state, body, models.AUTH_QR_FIELDS, "authQRCode")
    obj = models.authorize_qr_code(
        state.store, _fixtures(state), app, fields, state, now=state.now()
    )
    return _success(obj)


def state_check() -> Response:
    """Poll an out-of-band QR approval: pending until the device approves, then signed in."""
    state = current_state()
    body = models.parse_body(request.get_data(cache=True))
    app, fields = _authenticate(state, body, outofband.STATECHECK_FIELDS, "statecheck")
    obj = outofband.state_check(state.store, _fixtures(state), app, fields, state, now=state.now())
    return _success(obj)


for _rule in _routes("/session/statecheck"):
    bp.add_url_rule(_rule, view_func=endpoint("statecheck")(state_check), methods=["POST"])
for _rule in _routes("/req/requestQrCode") + _routes("/auth/requestQrCode"):
    bp.add_url_rule(_rule, view_func=endpoint("request-qr")(request_qr_code), methods=["POST"])
# authQrCode is how the 2018 sample client spells it; JAX-RS paths are case-sensitive.
for _rule in _routes("/auth/authQRCode") + _routes("/auth/authQrCode"):
    bp.add_url_rule(_rule, view_func=endpoint("auth-qr")(auth_qr_code), methods=["POST"])


# -- the simulated CENTAGATE app --------------------------------------------------------------
QR_BORDER = 2
QR_TARGET_PX = 240  # about what a phone camera needs from a screen at arm's length


def qr_code(content: str) -> segno.QRCode:
    """A full-size QR symbol; segno.make would pick a Micro QR for short text, which phone
    cameras do not read."""
    return segno.make_qr(content, error="m")


def qr_scale(symbol: segno.QRCode) -> int:
    """Whole pixels per module (at least 3), so dense codes stay crisp and scannable."""
    modules = int(symbol.symbol_size(scale=1, border=QR_BORDER)[0])
    return max(3, -(-QR_TARGET_PX // modules))


def qr_data_uri(content: str) -> str:
    """The QR for `content` as a PNG data: URI (the device page and the dashboard show it)."""
    symbol = qr_code(content)
    return str(symbol.png_data_uri(scale=qr_scale(symbol), border=QR_BORDER))


@bp.route("/device/<dev_acc_id>", methods=["GET", "POST"])
@endpoint("device-page")
def device_page(dev_acc_id: str) -> tuple[str, int]:
    """The CENTAGATE app of one device account: pending QRs, and the OTP once approved."""
    state = current_state()
    fixtures = _fixtures(state)
    device = fixtures.devices.get(dev_acc_id)
    if device is None:
        page = render_template(
            "centagate/device.html",
            device=None,
            dev_acc_id=dev_acc_id,
            known=sorted(fixtures.devices),
        )
        return page, 404
    now = state.now()
    approved: dict[str, str] | None = None
    problem: str | None = None
    status = 200
    if request.method == "POST":
        wanted = request.form.get("challenge", "")
        match = models.pending_challenge(state.store, dev_acc_id, wanted, now=now)
        if match is None:
            problem = f"Challenge {wanted or '(none)'} is not pending on this device any more."
            status = 410
        else:
            # Online mode: the approval reaches the server (session/statecheck reports it);
            # offline mode: the user types the OTP shown here into the bank's page.
            outofband.approve(state.store, dev_acc_id, wanted, now=now)
            content = qr_content(dev_acc_id, match["otpChallenge"], match["plainText"])
            approved = {"challenge": wanted, "otp": otp_from_qr(device.secret, content)}
            # Approved on the device: no longer pending there, until the OTP is used or expires.
            state.store.add(APPROVED_NS, wanted, {"approvedAt": now.isoformat()}, now=now)
            skip_journal_body()  # the page now shows an OTP
    pending, waiting = [], []
    for c in models.pending_challenges(state.store, dev_acc_id, now=now):
        content = qr_content(dev_acc_id, c["otpChallenge"], c["plainText"])
        # Text on the page has card numbers masked; the QR itself carries the whole
        # transaction text, as the device derives the OTP from it.
        shown = {
            **mask_cards_in(c),
            "qrCode": mask_cards(content),
            "expires": _readable(c["expiresAt"], now),
        }
        if state.store.record(APPROVED_NS, c["otpChallenge"]) is None:
            pending.append({**shown, "image": qr_data_uri(content)})
        elif approved is None or approved["challenge"] != c["otpChallenge"]:
            waiting.append({**shown, "otp": otp_from_qr(device.secret, content)})
    if waiting or approved:
        skip_journal_body()
    page = render_template(
        "centagate/device.html",
        device=device,
        dev_acc_id=dev_acc_id,
        challenges=pending,
        waiting=waiting,
        approved=approved,
        problem=problem,
        now=now.isoformat(),
        # What the page's script compares to reload when the lists change; the challenge
        # approved by this POST counts as waiting, as it will on the next GET.
        fingerprint=" ".join(
            sorted(
                [c["otpChallenge"] for c in pending]
                + ["a:" + c["otpChallenge"] for c in waiting]
                + (["a:" + approved["challenge"]] if approved else [])
            )
        ),
    )
    return page, status


APPROVED_NS = "centagate.device_approval"


def _readable(iso: str, now: datetime) -> str:
    """``2026-12-03T10:15:02+00:00`` as ``3 Dec 2026, 10:15:02 UTC (in 2 min 30 s)``."""
    try:
        at = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    left = int((at - now).total_seconds())
    span = f"{left // 60} min {left % 60} s" if left >= 60 else f"{max(left, 0)} s"
    return f"{at.day} {at:%b %Y, %H:%M:%S} UTC (in {span})"


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

    buffer = io.BytesIO()
    symbol = qr_code(qr_content(dev_acc_id, otp_challenge, match["plainText"]))
    symbol.save(buffer, kind="png", scale=qr_scale(symbol), border=QR_BORDER)
    skip_journal_body()
    return Response(buffer.getvalue(), mimetype="image/png", headers={"Cache-Control": "no-store"})

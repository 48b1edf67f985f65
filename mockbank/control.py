"""``/_mockbank``: the control API (health, reset, clock, requests, state, faults, outbox...).

Each view mirrors a method on `State`, so tests can do the same thing in Python. Callers must
be on loopback unless a control token is configured, in which case every caller must send
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, jsonify, request

from mockbank import __version__
from mockbank.clock import parse_instant
from mockbank.faults import FaultSpecError
from mockbank.hosts import external_base_url
from mockbank.masking import mask_cards_in
from mockbank.outbound import is_loopback
from mockbank.sandboxes import ENVIRON_NAME, SandboxError, Sandboxes, check_name
from mockbank.state import State, UnknownProvider, current_state

bp = Blueprint("control", __name__)


class ControlError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


@bp.errorhandler(ControlError)
def _control_error(error: ControlError) -> Response:
    return _error(error.status, error.code, error.message)


@bp.errorhandler(UnknownProvider)
def _unknown_provider(error: UnknownProvider) -> Response:
    return _error(404, "unknown_provider", str(error))


# Content types a web page can send cross-site without a CORS preflight.
SIMPLE_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _refuse_cross_site() -> None:
    """State-changing calls come from scripts and tools, never from another site's page."""
    if request.method not in UNSAFE_METHODS:
        return
    site = request.headers.get("Sec-Fetch-Site", "").lower()
    if site in ("cross-site", "same-site"):
        raise ControlError(403, "cross_site", f"the control API refuses {site} requests")
    origin = request.headers.get("Origin")
    if origin is not None and not _same_origin(origin):
        raise ControlError(
            403, "cross_site", f"the control API refuses requests from the page at {origin[:100]}"
        )
    if request.mimetype in SIMPLE_TYPES:
        raise ControlError(
            415,
            "unsupported_media_type",
            f"send JSON ('Content-Type: application/json') or no body, not {request.mimetype}",
        )


def _same_origin(origin: str) -> bool:
    """The page's origin is this server as the caller reached it, or ``--public-url``."""
    public = current_state().config.public_url
    allowed = {f"{request.scheme}://{request.host}".lower()}
    if public:
        parts = urlsplit(public)
        allowed.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origin.strip().lower() in allowed


@bp.before_request
def _authorize() -> None:
    _refuse_cross_site()
    token = current_state().config.control_token
    if token:
        sent = request.headers.get("Authorization", "")
        scheme, _, value = sent.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode(), token.encode()
        ):
            raise ControlError(
                401, "unauthorized", "the control API needs 'Authorization: Bearer <control token>'"
            )
    elif not is_loopback(request.remote_addr or ""):
        raise ControlError(
            403,
            "forbidden",
            "the control API answers loopback callers only; "
            "start mockbank with --control-token to allow others",
        )


def _json_body() -> dict[str, Any]:
    if not request.get_data(cache=True):
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ControlError(400, "bad_json", "the body must be a JSON object")
    return data


@bp.get("/health")
def health() -> Response:
    """Liveness, version, the providers served and this process's instance name."""
    state = current_state()
    return jsonify(
        {
            "status": "ok",
            "version": __version__,
            "providers": list(state.providers),
            "now": state.clock_snapshot()["now"],
            "instance": state.config.instance or None,
        }
    )


@bp.get("/ready")
def ready() -> Response:
    """Readiness for orchestrators and load balancers: 200 once the store answers, else 503."""
    state = current_state()
    try:
        state.store.record("mockbank.ready", "probe")
    except Exception as error:  # any store failure means: do not route traffic here yet
        response = jsonify({"ready": False, "reason": f"the store does not answer: {error}"})
        response.status_code = 503
        return response
    return jsonify({"ready": True, "instance": state.config.instance or None})


@bp.post("/reset")
def reset() -> Response:
    """Forget all state (or ``?provider=``) and reload the fixtures."""
    state = current_state()
    provider = request.args.get("provider") or _json_body().get("provider")
    if provider is not None:
        state.provider(str(provider))
    state.reset(provider)
    return jsonify({"reset": provider or "all"})


@bp.route("/clock", methods=["GET", "POST"])
def clock() -> Response:
    """Read or move the app clock: advance, freeze, resume."""
    state = current_state()
    if request.method == "GET":
        return jsonify(state.clock_snapshot())
    try:
        return jsonify(state.set_clock(_json_body()))
    except ValueError as error:
        raise ControlError(400, "bad_clock", str(error)) from None


def _int_arg(name: str) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise ControlError(400, "bad_filter", f"'{name}' must be a whole number")
    return int(value)


@bp.get("/requests")
def requests_list() -> Response:
    """The journal, filtered by provider, path prefix, status, endpoint, since, limit."""
    state = current_state()
    provider = request.args.get("provider")
    if provider:
        state.provider(provider)
    since_arg = request.args.get("since")
    since: Any = None
    if since_arg:
        try:
            since = int(since_arg) if since_arg.isdigit() else parse_instant(since_arg)
        except ValueError:
            raise ControlError(
                400, "bad_filter", "'since' is an entry id or an ISO-8601 time"
            ) from None
    entries = state.requests(
        provider=provider or None,
        path=request.args.get("path") or None,
        status=_int_arg("status"),
        since=since,
        endpoint=request.args.get("endpoint") or None,
        limit=_int_arg("limit"),
    )
    return jsonify({"requests": [e.as_dict() for e in entries], "count": len(entries)})


@bp.get("/requests/<int:entry_id>")
def requests_one(entry_id: int) -> Response:
    """One journal entry: masked headers and bodies, notes, timing."""
    entries = current_state().requests(since=entry_id - 1)
    if not entries or entries[0].id != entry_id:
        raise ControlError(404, "unknown_request", f"no journal entry with id {entry_id}")
    return jsonify(entries[0].as_dict())


@bp.get("/console")
def console() -> Response:
    """What the dashboard shows: every provider's card and the clock."""
    from mockbank import console_data

    base = request.host_url.rstrip("/") + request.script_root
    return jsonify(console_data.overview(current_state(), base))


@bp.get("/console/<provider>")
def console_provider(provider: str) -> Response:
    """A provider's page: routes, credentials, live records, magic values, browser pages."""
    from mockbank import console_data

    state = current_state()
    base = request.host_url.rstrip("/") + request.script_root
    return jsonify(
        console_data.provider_page(state, state.provider(provider), current_app.url_map, base)
    )


@bp.delete("/requests")
def requests_clear() -> Response:
    state = current_state()
    provider = request.args.get("provider")
    if provider:
        state.provider(provider)
    state.clear_requests(provider or None)
    return jsonify({"cleared": provider or "all"})


@bp.get("/state/<provider>")
def provider_state(provider: str) -> Response:
    """A provider's records (tokens, vault accounts, transfers...), masked."""
    return jsonify(mask_cards_in(current_state().provider_state(provider)))


@bp.get("/faults")
def faults_list() -> Response:
    state = current_state()
    state.ready_providers()  # every provider's endpoint names are known once its views are
    return jsonify(
        {
            "faults": [f.as_dict() for f in state.faults.list()],
            "endpoints": {k: sorted(v) for k, v in state.endpoints.items()},
        }
    )


@bp.post("/faults")
def faults_add() -> Response:
    """Add a fault rule: provider, endpoint, status | latency_ms | drop, count | probability."""
    try:
        fault = current_state().add_fault(_json_body())
    except FaultSpecError as error:
        raise ControlError(400, "bad_fault", str(error)) from None
    response = jsonify(fault.as_dict())
    response.status_code = 201
    return response


@bp.delete("/faults")
def faults_clear() -> Response:
    state = current_state()
    fault_id = _int_arg("id")
    if fault_id is not None:
        if not state.faults.remove(fault_id):
            raise ControlError(404, "unknown_fault", f"no fault with id {fault_id}")
        return jsonify({"removed": fault_id})
    provider = request.args.get("provider")
    if provider:
        state.provider(provider)
    state.faults.clear(provider or None)
    return jsonify({"cleared": provider or "all"})


@bp.get("/outbox")
def outbox() -> Response:
    """Notifications and emails the providers sent, with every delivery attempt."""
    state = current_state()
    provider = request.args.get("provider")
    if provider:
        state.provider(provider)
    messages = state.outbox_messages(provider or None)
    shown = mask_cards_in([m.as_dict() for m in messages])
    return jsonify({"messages": shown, "count": len(messages)})


@bp.post("/outbox/<int:message_id>/redeliver")
def outbox_redeliver(message_id: int) -> Response:
    """Send a notification again now: one more attempt, recorded like the others."""
    try:
        message = current_state().outbox.redeliver(message_id)
    except LookupError as error:
        raise ControlError(404, "unknown_message", str(error)) from None
    except ValueError as error:
        raise ControlError(409, "not_redeliverable", str(error)) from None
    response = jsonify(message.as_dict())
    response.status_code = 202
    return response


@bp.get("/magic-values")
def magic_values() -> Response:
    """Each provider's test-value table as data."""
    return jsonify(current_state().magic_values())


@bp.get("/magic-values/<provider>")
def magic_values_one(provider: str) -> Response:
    state = current_state()
    state.provider(provider)
    return jsonify(state.magic_values().get(provider, {}))


@bp.get("/ca.pem")
def ca_pem() -> Response:
    """The proxy's CA certificate (PEM), for clients to trust."""
    pem = current_state().proxy.ca().pem
    return Response(pem, mimetype="application/x-pem-file")


def _sandbox_registry() -> Sandboxes:
    """Sandboxes are managed from the default sandbox's control API only."""
    if request.environ.get(ENVIRON_NAME) is not None:
        raise ControlError(
            400,
            "not_in_sandbox",
            "sandboxes are created, listed and removed through the unprefixed /_mockbank",
        )
    root: State = current_app.extensions["mockbank"]
    return root.sandboxes


def _sandbox_answer(entry: dict[str, Any]) -> dict[str, Any]:
    base = f"{external_base_url()}{request.script_root}/s/{entry['name']}"
    return {
        **entry,
        "base_url": base,
        "control_url": f"{base}/_mockbank",
        "urls": {name: f"{base}/{name}" for name in current_state().providers},
    }


@bp.errorhandler(SandboxError)
def _sandbox_error(error: SandboxError) -> Response:
    return _error(error.status, error.code, error.message)


@bp.post("/sandboxes")
def sandboxes_create() -> Response:
    """Create a sandbox (``name``, ``idle_ttl_s``, ``fixtures``); answers its base URLs."""
    registry = _sandbox_registry()
    record, _ = registry.create(_json_body())
    entry = next((e for e in registry.list() if e["name"] == record.name), record.to_value())
    response = jsonify(_sandbox_answer(entry))
    response.status_code = 201
    return response


@bp.get("/sandboxes")
def sandboxes_list() -> Response:
    """Every live sandbox with its base URLs and idle deadline."""
    entries = [_sandbox_answer(e) for e in _sandbox_registry().list()]
    return jsonify({"sandboxes": entries, "count": len(entries)})


@bp.get("/sandboxes/<name>")
def sandboxes_get(name: str) -> Response:
    registry = _sandbox_registry()
    check_name(name)
    entry = next((e for e in registry.list() if e["name"] == name), None)
    if entry is None:
        raise ControlError(404, "unknown_sandbox", f"no sandbox named {name!r}")
    return jsonify(_sandbox_answer(entry))


@bp.delete("/sandboxes/<name>")
def sandboxes_delete(name: str) -> Response:
    """Remove a sandbox and every record in it."""
    if not _sandbox_registry().delete(name):
        raise ControlError(404, "unknown_sandbox", f"no sandbox named {name!r}")
    return jsonify({"deleted": name})


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    abort(404)

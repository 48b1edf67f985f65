"""What several tests in tests/core share: a small 'demo' provider (core behaviour tested without
depending on a real one) and a local HTTP receiver for outbound calls."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flask import Blueprint, Response, jsonify, request

from mockbank.errors import ProviderError
from mockbank.providers import Emulation, Provider
from mockbank.routing import endpoint
from mockbank.settings import check_known
from mockbank.state import current_state

demo_bp = Blueprint("demo", __name__)


@demo_bp.post("/tokens")
@endpoint("issue")
def issue() -> Response:
    state = current_state()
    key = state.token_hex(8)
    state.store.put("demo.tokens", key, {"card": request.form.get("card", "")}, now=state.now())
    return jsonify({"token": key})


@demo_bp.post("/tokens/<key>/use")
@endpoint("use")
def use(key: str) -> Response:
    state = current_state()
    if state.store.take_once("demo.tokens", key, now=state.now()) is None:
        raise ProviderError("token unusable", status=409)
    return jsonify({"used": key})


@demo_bp.get("/boom")
@endpoint("boom")
def boom() -> Response:
    raise RuntimeError("a bug in a view")


def render(error: ProviderError) -> Response:
    """The demo vendor spells errors as {"demoError": {...}}."""
    response = jsonify({"demoError": {"kind": error.code, "text": error.detail}})
    response.status_code = error.http_status
    return response


def demo_provider() -> Provider:
    return Provider(
        name="demo",
        title="Demo Bank",
        hosts=("api.demo-bank.example",),
        read_settings=lambda options: check_known(options, "demo", ()),
        cli=lambda subparsers: None,
        load=lambda: Emulation(
            blueprint=demo_bp,
            render_error=render,
            load_fixtures=lambda reader: {"user": reader.get("user", str)},
            credentials=lambda fixtures: [("user", fixtures["user"])],
            magic_values=lambda: {"cards": {"4111111111111111": "approved"}},
            state_view=lambda state: {
                "tokens": [r.key for r in state.store.records("demo.tokens")]
            },
        ),
    )


class Receiver:
    """A local HTTP server answering with the statuses it is given, recording each call."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.calls: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls.append((self.path, dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

"""The proxy is generic (Forter passes its paths and phrases in); its CA and upstream pool
belong to the app's `State` and are closed by `State.close()`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from mockbank import create_app
from mockbank.proxy.server import ForwardProxy
from mockbank.proxy.tenant import Tenant
from mockbank.proxy.wsgi import response_head
from mockbank.state import State

PROXY_PACKAGE = Path(__file__).resolve().parents[2] / "mockbank" / "proxy"


class _KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture
def target() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_state_close_closes_the_upstream_pool_and_the_ca(tmp_path: Path, target: str) -> None:
    app = create_app({"state_path": None})
    state: State = app.extensions["mockbank"]
    ca = state.proxy.ca(tmp_path / "ca")
    ca.server_context("127.0.0.1")
    lease = state.proxy.pool().lease(target)
    assert lease.send("GET", "/", [("Host", "127.0.0.1")], b"").body == b"ok"
    kept = lease.connection  # back in the pool, idle and open
    assert kept.sock.fileno() != -1
    state.close()
    assert kept.sock.fileno() == -1
    assert not state.proxy.has_ca
    assert ca.cached_hosts == []


def test_sandbox_states_share_the_apps_proxy_resources_and_leave_them_open(
    app: Flask, state: State, tmp_path: Path
) -> None:
    ca = state.proxy.ca(tmp_path / "ca")
    _, sandbox = state.sandboxes.create({"name": "team-a"})
    assert sandbox.proxy is state.proxy
    sandbox.close()
    assert state.proxy.ca() is ca


def test_a_proxy_started_with_its_own_ca_serves_with_it(
    app: Flask, state: State, tmp_path: Path
) -> None:
    from mockbank.proxy.ca import LocalCA

    own = LocalCA.load_or_create(tmp_path / "own")
    proxy = ForwardProxy(app, tenant=Tenant("forter", "/forter/echo", "/forter/echo"), ca=own)
    try:
        assert state.proxy.ca() is own
    finally:
        proxy.stop()


def test_the_proxy_serves_any_tenants_paths(app: Flask, tmp_path: Path) -> None:
    tenant = Tenant(provider="forter", path="/forter/echo", connect_path="/forter/echo")
    with ForwardProxy(app, tenant=tenant, ca_dir=tmp_path / "ca") as proxy:
        answer = requests.get("http://psp.example/pay?x=1", proxies={"http": proxy.url}, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["method"] == "GET"


def test_status_phrases_come_from_the_tenant() -> None:
    head = response_head(599, [], 0, close=False, phrase={599: "Tenant Phrase"}.__getitem__)
    assert head.startswith(b"HTTP/1.1 599 Tenant Phrase\r\n")
    assert response_head(599, [], 0, close=False).startswith(b"HTTP/1.1 599 Unknown\r\n")


def test_the_proxy_package_names_no_provider() -> None:
    for module in PROXY_PACKAGE.glob("*.py"):
        text = module.read_text().lower()
        assert "mockbank.providers" not in text, module.name
        assert "forter" not in text, module.name


def test_a_proxy_without_a_tenant_is_refused(app: Flask) -> None:
    with pytest.raises(TypeError, match="tenant"):
        ForwardProxy(app)


def test_a_tenant_words_the_proxys_own_refusals(app: Flask, tmp_path: Path) -> None:
    plain = Tenant(provider="forter", path="/forter/echo", connect_path="/forter/echo")
    with ForwardProxy(app, tenant=plain, ca_dir=tmp_path / "ca") as proxy:
        answer = requests.get(f"{proxy.url}/not-a-proxy-request", timeout=10)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.text.startswith("This is an HTTP proxy")

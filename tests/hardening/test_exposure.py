"""Safe when exposed (the network side): the Forter proxy listens only where ``--host`` says,
relays to loopback targets only where mapped once it listens beyond loopback, and never asks
DNS about a localhost name (``*.localhost`` is loopback by RFC 6761)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from mockbank import create_app
from mockbank.outbound import create_connection, http_connection
from mockbank.providers.forter.proxy import ForterProxy
from tests.processes import free_port, wait_for_health

TOKEN = "ftr1df95272f9e204c5791427722cc4ef407"


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append({"host": self.headers["Host"], "body": body})  # type: ignore[attr-defined]
        payload = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST


@pytest.fixture
def loopback_service() -> Iterator[ThreadingHTTPServer]:
    """A local service on 127.0.0.1 that the network must not reach through the proxy."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.daemon_threads = True
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app({"state_path": None})
    yield app
    app.extensions["mockbank"].close()


def _through(proxy: ForterProxy, url: str) -> requests.Response:
    scheme, _, rest = proxy.url.partition("://")
    proxies = {"http": f"{scheme}://SITE_ID:SITE_SECRET@{rest}"}
    return requests.post(
        url,
        data='{"last4": "{{ card_last_four }}"}',
        headers={"forter-token": TOKEN, "Content-Type": "application/json"},
        proxies=proxies,
        timeout=10,
    )


def test_a_proxy_open_to_the_network_does_not_relay_to_loopback(
    app: Flask, tmp_path: Path, loopback_service: ThreadingHTTPServer
) -> None:
    port = loopback_service.server_address[1]
    with ForterProxy(app, "127.0.0.1", 0, ca_dir=tmp_path / "ca", relay_loopback=False) as proxy:
        for host in ("127.0.0.1", "localhost", "shop.localhost", "[::1]"):
            response = _through(proxy, f"http://{host}:{port}/internal")
            assert response.status_code == 502, (host, response.text)
            assert response.json()["code"] == "TARGET_UNREACHABLE"
            assert "--upstream" in response.json()["error"]
    assert loopback_service.seen == []  # type: ignore[attr-defined]


def test_a_mapped_loopback_upstream_is_still_relayed_when_exposed(
    app: Flask, tmp_path: Path, loopback_service: ThreadingHTTPServer
) -> None:
    port = loopback_service.server_address[1]
    app.extensions["mockbank"].outbound.upstreams["psp.example"] = f"http://127.0.0.1:{port}"
    with ForterProxy(app, "127.0.0.1", 0, ca_dir=tmp_path / "ca", relay_loopback=False) as proxy:
        response = _through(proxy, "http://psp.example/charge")
    assert response.status_code == 200, response.text
    [seen] = loopback_service.seen  # type: ignore[attr-defined]
    assert json.loads(seen["body"]) == {"last4": "1111"}


def test_a_proxy_on_loopback_keeps_relaying_to_loopback_targets(
    app: Flask, tmp_path: Path, loopback_service: ThreadingHTTPServer
) -> None:
    port = loopback_service.server_address[1]
    with ForterProxy(app, "127.0.0.1", 0, ca_dir=tmp_path / "ca") as proxy:
        assert proxy.relay_loopback
        assert _through(proxy, f"http://127.0.0.1:{port}/x").status_code == 200


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 9))  # no packet is sent: this only picks a route
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith(("127.", "0.")) else address


def test_on_a_real_non_loopback_address_relaying_to_loopback_is_off_by_default(
    app: Flask, tmp_path: Path, loopback_service: ThreadingHTTPServer
) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    port = loopback_service.server_address[1]
    with ForterProxy(app, address, 0, ca_dir=tmp_path / "ca") as proxy:
        assert not proxy.relay_loopback
        assert _through(proxy, f"http://127.0.0.1:{port}/x").status_code == 502
    assert loopback_service.seen == []  # type: ignore[attr-defined]


@pytest.mark.slow
def test_serve_binds_the_proxy_to_the_same_host_as_the_providers(tmp_path: Path) -> None:
    port, proxy_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "mockbank.cli", "serve", "--quiet", "--host", "127.0.0.2"),
            *("--port", str(port), "--proxy-port", str(proxy_port)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_health(f"http://127.0.0.2:{port}", process, timeout=90)
        socket.create_connection(("127.0.0.2", proxy_port), timeout=5).close()
        for where in (port, proxy_port):
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", where), timeout=5)
    finally:
        process.terminate()
        process.communicate(timeout=15)


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every name looked up; fail any lookup of a localhost name."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        asked.append(name)
        if name.lower().rstrip(".").endswith("localhost"):
            raise AssertionError(f"a DNS lookup of {name}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_proxy_reaches_a_localhost_name_without_dns(
    app: Flask, tmp_path: Path, loopback_service: ThreadingHTTPServer, no_dns: list[str]
) -> None:
    port = loopback_service.server_address[1]
    with ForterProxy(app, "127.0.0.1", 0, ca_dir=tmp_path / "ca") as proxy:
        response = _through(proxy, f"http://shop.localhost:{port}/pay")
    assert response.status_code == 200, response.text
    [seen] = loopback_service.seen  # type: ignore[attr-defined]
    assert seen["host"] == f"shop.localhost:{port}"  # the name is kept, only DNS is skipped
    assert not [name for name in no_dns if name.endswith("localhost")]


def test_outbound_connections_to_localhost_names_skip_dns(
    loopback_service: ThreadingHTTPServer, no_dns: list[str]
) -> None:
    port = loopback_service.server_address[1]
    create_connection(("Deep.Shop.LOCALHOST.", port), 5).close()
    connection = http_connection(f"http://hooks.localhost:{port}/notify", 5)
    connection.request("POST", "/notify", body=b"x")
    assert connection.getresponse().status == 200
    connection.close()
    assert loopback_service.seen[-1]["host"] == f"hooks.localhost:{port}"  # type: ignore[attr-defined]
    assert not [name for name in no_dns if "localhost" in name.lower()]

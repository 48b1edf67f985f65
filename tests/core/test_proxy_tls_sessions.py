"""The proxy's upstream pool resumes its last TLS session with an origin on a new connection."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mockbank.proxy.ca import LocalCA
from mockbank.proxy.upstream import UpstreamPool


class _Target(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture
def target(tmp_path: Path) -> Iterator[tuple[LocalCA, str]]:
    ca = LocalCA.load_or_create(tmp_path / "ca")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    server.daemon_threads = True
    server.socket = ca.server_context("127.0.0.1").wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield ca, f"https://127.0.0.1:{server.server_address[1]}/pay"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _send(pool: UpstreamPool, url: str) -> Any:
    lease = pool.lease(url)
    answer = lease.send("POST", "/pay", [("Host", "127.0.0.1"), ("Content-Length", "1")], b"x")
    assert (answer.status, answer.body) == (200, b"ok")
    return lease


def test_a_new_upstream_connection_resumes_the_last_tls_session(
    target: tuple[LocalCA, str],
) -> None:
    ca, url = target
    pool = UpstreamPool(ca.client_context())
    first = _send(pool, url)
    assert not first.connection.sock.session_reused  # a full handshake the first time
    pool.close()  # the pooled connection goes; the session stays
    second = _send(pool, url)
    assert not second.reused  # a new connection, not the pooled one
    assert second.connection.sock.session_reused
    pool.close()


def test_the_session_is_copied_out_once_per_connection_not_per_request(
    target: tuple[LocalCA, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Python copies a session out (serialized, then parsed again) on every read of it.
    reads: list[int] = []
    original: property = ssl.SSLSocket.__dict__["session"]

    def counting(sock: ssl.SSLSocket) -> Any:
        reads.append(id(sock))
        assert original.fget is not None
        return original.fget(sock)

    monkeypatch.setattr(ssl.SSLSocket, "session", property(counting, original.fset))
    ca, url = target
    pool = UpstreamPool(ca.client_context())
    leases = [_send(pool, url) for _ in range(5)]
    assert len({id(lease.connection) for lease in leases}) == 1  # one pooled connection
    assert len(reads) == 1
    pool.close()
    second = _send(pool, url)  # a new connection still resumes the session kept then
    assert second.connection.sock.session_reused
    assert len(reads) == 2
    pool.close()

"""The proxy's per-request shortcuts keep its behaviour: a worker serves a kept-alive tunnel's
next request itself (a plain connection goes back to the event loop), TCP_QUICKACK only before a
read that would wait, and requests whose body follows the head in a later write."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import requests

from mockbank.clock import monotonic
from mockbank.providers.forter.proxy import TENANT
from mockbank.proxy import reactor as reactor_module
from mockbank.proxy.http import Reader
from mockbank.proxy.reactor import NEXT_REQUEST_S, WORKERS, Reactor
from mockbank.proxy.server import ProxyConnection
from mockbank.pytest_plugin import ForterProxyHandle, Mockbank
from tests.forter.helpers import TOKEN

PAN = "4111111111111111"
CREDENTIALS = base64.b64encode(b"SITE_ID:SITE_SECRET").decode()


# -- end to end through the live proxy ------------------------------------------------------
def _tunnel(forter: ForterProxyHandle) -> ssl.SSLSocket:
    host, port = forter.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(
        b"CONNECT api.forter-secure.com:443 HTTP/1.1\r\nHost: api.forter-secure.com:443\r\n"
        b"Proxy-Authorization: Basic " + CREDENTIALS.encode() + b"\r\n\r\n"
    )
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    context = ssl.create_default_context(cafile=str(forter.ca_path))
    return context.wrap_socket(sock, server_hostname="api.forter-secure.com")


def _head(body: bytes) -> bytes:
    return (
        b"POST /v3/x HTTP/1.1\r\nHost: api.forter-secure.com\r\n"
        b"Content-Type: application/json\r\nforter-token: " + TOKEN.encode() + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )


def _answer(tls: ssl.SSLSocket) -> tuple[int, dict[str, Any]]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    while len(body) < length:
        chunk = tls.recv(65536)
        assert chunk, body
        body += chunk
    return int(lines[0].split()[1]), json.loads(body)


BODY = b'{"n": "{{ card_number }}"}'


def test_a_tunnel_answers_requests_sent_at_once_and_after_the_worker_let_it_go(
    forter: ForterProxyHandle, mockbank: Mockbank
) -> None:
    with _tunnel(forter) as tls:
        for pause in (0.0, 0.0, NEXT_REQUEST_S * 4, 0.0, NEXT_REQUEST_S * 4):
            time.sleep(pause)  # longer than a worker waits: the event loop has it again
            tls.sendall(_head(BODY) + BODY)
            status, echo = _answer(tls)
            assert status == 200
            assert json.loads(echo["body"]) == {"n": PAN}
    assert len(mockbank.state.requests(provider="forter", endpoint="proxy-connect")) == 1
    assert len(mockbank.state.requests(provider="forter", endpoint="proxy")) == 5


def test_a_body_sent_after_the_head_in_a_later_write_is_read(forter: ForterProxyHandle) -> None:
    with _tunnel(forter) as tls:
        for _ in range(3):
            tls.sendall(_head(BODY))
            time.sleep(0.05)  # the proxy reads the head and waits for the body
            tls.sendall(BODY)
            status, echo = _answer(tls)
            assert status == 200
            assert json.loads(echo["body"]) == {"n": PAN}


def test_an_https_proxy_url_tunnel_is_kept_alive_across_pauses(
    forter: ForterProxyHandle, mockbank: Mockbank
) -> None:
    # TLS to the proxy, TLS again inside: a worker waits on the outer connection's socket.
    proxy = forter.https_url.replace("https://", "https://SITE_ID:SITE_SECRET@")
    with requests.Session() as session:
        for pause in (0.0, 0.0, NEXT_REQUEST_S * 4, 0.0):
            time.sleep(pause)
            response = session.post(
                "https://api.forter-secure.com/v3/x",
                data=BODY,
                headers={"forter-token": TOKEN, "Content-Type": "application/json"},
                proxies={"https": proxy},
                verify=str(forter.ca_path),
                timeout=10,
            )
            assert response.status_code == 200
            assert json.loads(response.json()["body"]) == {"n": PAN}
    assert len(mockbank.state.requests(provider="forter", endpoint="proxy-connect")) == 1


# -- the reactor: who serves a connection's next request ----------------------------------
class _Handler:
    """A connection whose first `run` makes its client send again at once."""

    def __init__(self, sock: socket.socket, *, plain: bool, client: socket.socket) -> None:
        self.control = sock
        self.buffer = bytearray()
        self._plain = plain
        self.client = client
        self.runs: list[tuple[int, int]] = []  # (thread, times the loop had registered it)
        self.registrations = 0
        self.done = threading.Event()
        self.closed = False

    @property
    def plain(self) -> bool:
        return self._plain

    def run(self) -> bool:
        self.buffer.clear()
        try:
            while self.control.recv(65536):
                pass
        except BlockingIOError:
            pass
        self.runs.append((threading.get_ident(), self.registrations))
        if len(self.runs) == 1:
            self.client.sendall(b"GET http://x/ HTTP/1.1\r\n\r\n")  # the next request, now
        else:
            self.done.set()
        return True

    def close(self) -> None:
        self.closed = True
        self.control.close()


@contextmanager
def _reactor(*, plain: bool) -> Iterator[tuple[Reactor, _Handler]]:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    made: list[_Handler] = []

    def make(sock: socket.socket, address: Any) -> _Handler:
        made.append(_Handler(sock, plain=plain, client=client))
        return made[-1]

    reactor = Reactor(listener, make)
    original_wait = reactor._wait

    def counting_wait(handler: Any) -> None:
        handler.registrations += 1
        original_wait(handler)

    reactor._wait = counting_wait  # type: ignore[method-assign]
    thread = threading.Thread(target=reactor.serve_forever, daemon=True)
    thread.start()
    try:
        client.sendall(b"GET http://x/ HTTP/1.1\r\n\r\n")
        deadline = monotonic() + 10
        while not made and monotonic() < deadline:
            time.sleep(0.01)
        yield reactor, made[0]
    finally:
        reactor.stop()
        thread.join(timeout=5)
        client.close()


def test_a_worker_serves_a_tls_connections_next_request_without_the_loop() -> None:
    with _reactor(plain=False) as (_, handler):
        assert handler.done.wait(10)
        (first_thread, first_seen), (second_thread, second_seen) = handler.runs
        assert first_thread == second_thread
        assert first_seen == second_seen == 1  # registered once: at accept, never in between


def test_a_plain_connections_next_request_goes_back_through_the_loop() -> None:
    # The loop collects a plain head without a thread (a slow head never holds a worker).
    with _reactor(plain=True) as (_, handler):
        assert handler.done.wait(10)
        (_, first_seen), (_, second_seen) = handler.runs
        assert (first_seen, second_seen) == (1, 2)


def test_no_worker_waits_for_a_next_request_when_half_the_pool_is_busy() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    reactor = Reactor(listener, lambda sock, address: _Handler(sock, plain=False, client=sock))
    left, right = socket.socketpair()
    waiting = SimpleNamespace(control=left, buffer=bytearray(), plain=False)
    try:
        right.sendall(b"the next request")
        assert reactor._next_request_soon(waiting)
        reactor._busy.update(object() for _ in range(WORKERS // 2 + 1))  # type: ignore[misc]
        assert not reactor._next_request_soon(waiting)
        reactor._busy.clear()
        waiting.plain = True
        assert not reactor._next_request_soon(waiting)
    finally:
        reactor.stop(timeout=0)
        left.close()
        right.close()


def test_a_worker_gives_up_an_idle_tls_connection_after_the_grace(monkeypatch: Any) -> None:
    monkeypatch.setattr(reactor_module, "NEXT_REQUEST_S", 0.01)
    with _reactor(plain=False) as (reactor, handler):
        assert handler.done.wait(10)
        deadline = monotonic() + 10
        while handler.registrations < 2 and monotonic() < deadline:
            time.sleep(0.01)
        assert handler.registrations == 2  # back in the loop, waiting for input
        assert not reactor._busy
        assert reactor.open_connections == 1
        assert not handler.closed


# -- TCP_QUICKACK only before a read that waits --------------------------------------------
class _Recording:
    """The connection's control socket, recording setsockopt calls."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.options: list[tuple[int, int, int]] = []

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self.options.append((level, option, value))
        self.sock.setsockopt(level, option, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


@contextmanager
def _connection() -> Iterator[tuple[ProxyConnection, socket.socket, _Recording]]:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, address = listener.accept()
    listener.close()
    connection = ProxyConnection(SimpleNamespace(tenant=TENANT), server, address)  # type: ignore[arg-type]
    recording = _Recording(connection.control)
    connection.control = recording  # type: ignore[assignment]
    try:
        yield connection, client, recording
    finally:
        connection.close()
        client.close()


QUICKACK = (socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def test_quickack_is_set_before_a_read_that_waits_and_not_when_bytes_are_there() -> None:
    with _connection() as (connection, client, recording):
        connection._quickack()  # nothing has arrived: the client may be waiting for an ACK
        assert recording.options == [QUICKACK]
        client.sendall(b"body")
        deadline = monotonic() + 5
        while not connection._readable.poll(0) and monotonic() < deadline:
            time.sleep(0.01)
        connection._quickack()  # a byte is waiting: the read will not wait
        assert recording.options == [QUICKACK]


def test_a_request_read_whole_from_the_buffer_sets_no_quickack_and_one_read_later_does() -> None:
    with _connection() as (connection, client, recording):
        head = b"POST http://x/ HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n"
        connection.buffer += head + b"body"  # what the event loop collected
        line = connection.reader.readline(65537)
        connection.reader.before_wait = connection._quickack
        assert line.startswith(b"POST")
        assert connection._parse_request(line)
        assert connection._read_body() == (b"body", None)
        assert recording.options == []
        connection.buffer += head
        connection.reader.readline(65537)
        assert connection._parse_request(line)
        threading.Timer(0.05, client.sendall, (b"late",)).start()
        assert connection._read_body() == (b"late", None)  # waited for the client
        assert recording.options == [QUICKACK]


def test_the_reader_calls_before_wait_only_before_a_socket_read() -> None:
    left, right = socket.socketpair()
    calls: list[int] = []
    reader = Reader(left, b"line one\n", timeout=5)
    reader.before_wait = lambda: calls.append(reader.buffered)
    try:
        assert reader.readline(100) == b"line one\n"
        assert calls == []
        right.sendall(b"line two\n")
        assert reader.readline(100) == b"line two\n"
        assert calls == [0]
    finally:
        left.close()
        right.close()

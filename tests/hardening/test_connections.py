"""A server that keeps serving: idle and slowloris connections by the thousand on both ports,
bursts of CONNECTs, and a normal client still answered within a second.

Each test runs ``mockbank serve`` as a process, once per WSGI server (`--server`), so what is
measured is what users run: granian or waitress on the main port, the Forter proxy's own event
loop on the proxy port.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mockbank.clock import monotonic
from mockbank.proxy.reactor import HEAD_TIMEOUT_S
from tests.processes import free_port, wait_for_health

pytestmark = pytest.mark.slow

IDLE = 1000
CREDENTIALS = base64.b64encode(b"SITE_ID:SITE_SECRET").decode()
ANSWER_WITHIN_S = 1.0  # the requirement: a normal client is answered within a second


@dataclass
class Served:
    process: subprocess.Popen[str]
    port: int
    proxy_port: int

    @property
    def threads(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("Threads:"))[8:])


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * IDLE + 512
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"the open-file hard limit {hard} is below the {wanted} this test needs")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@pytest.fixture(scope="module", params=["granian", "waitress"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    _raise_fd_limit()  # the child inherits it, and raises its own to the hard limit anyway
    port, proxy_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "mockbank.cli", "serve", "--quiet"),
            *("--server", request.param, "--port", str(port), "--proxy-port", str(proxy_port)),
            *("--upstream", "api.forter-secure.com=echo"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_health(f"http://127.0.0.1:{port}", process, timeout=90)
        yield Served(process, port, proxy_port)
    finally:
        process.terminate()
        process.communicate(timeout=15)


def _idle(port: int, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]


class Slowloris(threading.Thread):
    """Sends a request head one byte at a time, never finishing it; notes when it is cut off."""

    def __init__(self, port: int, head: bytes) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.head = head * 100
        self.cut_off_after: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        started = monotonic()
        try:
            for byte in self.head:
                if self.stop.wait(0.2):
                    return
                self.sock.sendall(bytes([byte]))
        except OSError:
            self.cut_off_after = monotonic() - started


def _timed(call: object) -> float:
    started = monotonic()
    call()  # type: ignore[operator]
    return monotonic() - started


def _main_port_request(port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/_mockbank/health")
    response = connection.getresponse()
    assert response.status == 200
    response.read()
    connection.close()


def _proxied_request(proxy_port: int) -> None:
    """A real detokenizing request through the proxy to the echo target."""
    connection = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=10)
    connection.request(
        "POST",
        "http://api.forter-secure.com/v1/charge",
        body=b'{"last4": "{{ card_last_four }}"}',
        headers={
            "Proxy-Authorization": f"Basic {CREDENTIALS}",
            "forter-token": "ftr1df95272f9e204c5791427722cc4ef407",
            "Content-Type": "application/json",
        },
    )
    response = connection.getresponse()
    body = response.read()
    assert response.status == 200, body
    assert b"1111" in body
    connection.close()


def test_a_thousand_idle_and_a_slowloris_on_each_port_and_a_client_still_answered(
    served: Served,
) -> None:
    sockets: list[socket.socket] = []
    slow = [
        Slowloris(served.port, b"GET /_mockbank/health HTTP/1.1\r\nX-Slow: "),
        Slowloris(served.proxy_port, b"GET http://api.forter-secure.com/ HTTP/1.1\r\nX-Slow: "),
    ]
    try:
        for thread in slow:
            thread.start()
        sockets += _idle(served.port, IDLE)
        sockets += _idle(served.proxy_port, IDLE)
        time.sleep(0.5)  # let both servers take every connection in
        main = [_timed(lambda: _main_port_request(served.port)) for _ in range(3)]
        proxied = [_timed(lambda: _proxied_request(served.proxy_port)) for _ in range(3)]
        print(f"main port answers in {main}, proxied requests in {proxied} (seconds)")
        assert statistics.median(main) < ANSWER_WITHIN_S
        assert statistics.median(proxied) < ANSWER_WITHIN_S
        # 2,000 idle connections did not become 2,000 threads.
        assert served.threads < 200, served.threads
        # A head still incomplete after the limit is cut off on both ports.
        for thread in slow:
            thread.join(timeout=HEAD_TIMEOUT_S + 15)
            assert thread.cut_off_after is not None, "a slowloris head was never cut off"
            assert thread.cut_off_after < HEAD_TIMEOUT_S + 10
    finally:
        for thread in slow:
            thread.stop.set()
            thread.sock.close()
        for sock in sockets:
            sock.close()


def _connect_once(port: int, barrier: threading.Barrier, results: list[str]) -> None:
    request = (
        "CONNECT api.forter-secure.com:443 HTTP/1.1\r\nHost: api.forter-secure.com:443\r\n"
        f"Proxy-Authorization: Basic {CREDENTIALS}\r\n\r\n"
    ).encode()
    try:
        barrier.wait(timeout=30)
        with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
            sock.sendall(request)
            answer = sock.recv(1024)
        results.append("ok" if answer.startswith(b"HTTP/1.1 200") else f"answer {answer[:40]!r}")
    except ConnectionResetError:
        results.append("reset")
    except OSError as error:
        results.append(f"{type(error).__name__}: {error}")


def test_fifty_way_connect_bursts_are_never_reset(served: Served) -> None:
    for _ in range(5):
        results: list[str] = []
        barrier = threading.Barrier(50)
        threads = [
            threading.Thread(target=_connect_once, args=(served.proxy_port, barrier, results))
            for _ in range(50)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert results.count("reset") == 0, results
        assert results == ["ok"] * 50, sorted(set(results))


def test_five_hundred_idle_proxy_connections_are_not_five_hundred_threads(
    served: Served,
) -> None:
    before = served.threads
    sockets = _idle(served.proxy_port, 500)
    try:
        time.sleep(0.5)
        with contextlib.suppress(OSError):
            _proxied_request(served.proxy_port)
        assert served.threads < before + 70, (before, served.threads)  # the pool's bound: 64
    finally:
        for sock in sockets:
            sock.close()

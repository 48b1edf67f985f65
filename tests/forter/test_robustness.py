"""Bad input never breaks the proxy or the API: generated bodies, raw protocol garbage, limits."""

from __future__ import annotations

import base64
import json
import socket
import threading
from pathlib import Path

import pytest
from flask import Flask

from mockbank.clock import monotonic
from mockbank.config import Config
from mockbank.providers.forter.proxy import ForterProxy, services
from mockbank.pytest_plugin import ForterProxyHandle, Mockbank
from tests.forter.helpers import TOKEN

AUTH = {"Authorization": "Basic " + base64.b64encode(b"SITE_ID:SITE_SECRET").decode()}
CREDENTIALS = base64.b64encode(b"SITE_ID:SITE_SECRET").decode()


def _raw_exchange(url: str, data: bytes, *, read_timeout: float = 5.0) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as sock:
        sock.sendall(data)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and b"Connection: close" in answer:
                    head, _, rest = answer.partition(b"\r\n\r\n")
                    length = [
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ]
                    if length and len(rest) >= length[0]:
                        break
        except (TimeoutError, ConnectionResetError):
            pass
    return answer


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x00\x01garbage\r\n\r\n", id="binary-request-line"),
        pytest.param(b"GET\r\n\r\n", id="no-target"),
        pytest.param(b"CONNECT nohostport HTTP/1.1\r\n\r\n", id="connect-without-port"),
        pytest.param(b"CONNECT host:99999 HTTP/1.1\r\n\r\n", id="connect-bad-port"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", id="origin-form-not-proxy"),
        pytest.param(
            b"POST http://api.forter-secure.com/ HTTP/1.1\r\nHost: x\r\n"
            b"Proxy-Authorization: Basic " + CREDENTIALS.encode() + b"\r\n"
            b"Content-Length: abc\r\n\r\n",
            id="bad-content-length",
        ),
        pytest.param(
            b"POST http://api.forter-secure.com/ HTTP/1.1\r\nHost: x\r\n"
            b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
            id="bad-chunk",
        ),
        pytest.param(
            b"GET http://x/ HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n",
            id="huge-header",
        ),
    ],
)
def test_protocol_garbage_gets_a_4xx_or_a_closed_socket(
    mockbank_forter_proxy: ForterProxyHandle, mockbank: Mockbank, data: bytes
) -> None:
    answer = _raw_exchange(mockbank_forter_proxy.url, data)
    if answer:
        status = int(answer.split(b" ", 2)[1])
        assert 400 <= status < 500, answer[:200]
    assert mockbank.state.take_server_errors() == []


@pytest.mark.parametrize(
    ("head", "status"),
    [
        pytest.param(b"GET http://x/ HTTP/2.0\r\n\r\n", 505, id="http2-request-line"),
        pytest.param(b"GET http://x/ HTTP/1.x\r\n\r\n", 400, id="bad-version"),
        pytest.param(b"GET http://x/\r\n\r\n", 400, id="http09-request-line"),
        pytest.param(
            b"GET http://x/ HTTP/1.1\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n",
            431,
            id="too-many-headers",
        ),
        pytest.param(b"GET http://x/ HTTP/1.1\r\nX Bad: 1\r\n\r\n", 400, id="space-in-name"),
        pytest.param(b"GET http://x/ HTTP/1.1\r\nNo colon\r\n\r\n", 400, id="no-colon"),
        pytest.param(
            b"GET http://x/ HTTP/1.1\r\nX-A: 1\rInjected: 2\r\n\r\n", 400, id="bare-cr-in-value"
        ),
    ],
)
def test_malformed_request_heads_get_their_status_in_forters_format(
    mockbank_forter_proxy: ForterProxyHandle, mockbank: Mockbank, head: bytes, status: int
) -> None:
    answer = _raw_exchange(mockbank_forter_proxy.url, head)
    first, _, rest = answer.partition(b"\r\n")
    assert int(first.split(b" ", 2)[1]) == status
    assert b"Connection: close" in rest
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["code"] == "BAD_PROXY_REQUEST"
    assert mockbank.state.take_server_errors() == []


def test_request_head_keeps_order_duplicates_folding_and_answers_expect_100(
    forter: ForterProxyHandle,
) -> None:
    credentials = base64.b64encode(b"SITE_ID:SITE_SECRET").decode()
    body = b'{"n": "{{ card_last_four }}"}'
    request = (
        b"POST http://api.forter-secure.com/h HTTP/1.1\r\nHost: api.forter-secure.com\r\n"
        + f"Proxy-Authorization: Basic {credentials}\r\nforter-token: {TOKEN}\r\n".encode()
        + b"X-Dup: one\r\nX-Dup: two\r\nX-Folded: first\r\n  second\r\n"
        + b"Expect: 100-continue\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
    )
    host, port = forter.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        interim = sock.recv(25)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    echo = json.loads(payload)
    assert json.loads(echo["body"]) == {"n": "1111"}
    assert echo["headers"]["X-Dup"] == "one, two"  # both forwarded; the echo joins them
    assert echo["headers"]["X-Folded"] == "first second"
    assert "Expect" not in echo["headers"]


def test_chunked_request_body_is_read(forter: ForterProxyHandle) -> None:
    body = b'{"n": "{{ card_last_four }}"}'
    request = (
        b"POST http://api.forter-secure.com/chunked HTTP/1.1\r\nHost: api.forter-secure.com\r\n"
        b"Proxy-Authorization: Basic " + CREDENTIALS.encode() + b"\r\n"
        b"forter-token: " + TOKEN.encode() + b"\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + f"{len(body[:10]):x}".encode()
        + b"\r\n"
        + body[:10]
        + b"\r\n"
        + f"{len(body[10:]):x}".encode()
        + b"\r\n"
        + body[10:]
        + b"\r\n0\r\n\r\n"
    )
    answer = _raw_exchange(forter.url, request)
    assert answer.startswith(b"HTTP/1.1 200")
    echo = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert echo["body"] == '{"n": "1111"}'
    assert echo["headers"]["Content-Length"] == "13"
    assert "Transfer-Encoding" not in echo["headers"]


def test_body_over_10_mib_is_413_in_forters_format(forter: ForterProxyHandle) -> None:
    request = (
        b"POST http://api.forter-secure.com/big HTTP/1.1\r\nHost: api.forter-secure.com\r\n"
        b"Proxy-Authorization: Basic " + CREDENTIALS.encode() + b"\r\n"
        b"Content-Length: " + str(10 * 1024 * 1024 + 1).encode() + b"\r\n\r\n"
    )
    answer = _raw_exchange(forter.url, request)
    assert answer.startswith(b"HTTP/1.1 413")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["code"] == "PAYLOAD_TOO_LARGE"


def test_stop_is_prompt_and_closes_open_tunnels(app: Flask, tmp_path: Path) -> None:
    proxy = ForterProxy(app, ca_dir=tmp_path / "ca")
    proxy.start()
    host, port = proxy.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.sendall(
        f"CONNECT api.forter-secure.com:443 HTTP/1.1\r\nHost: x\r\n"
        f"Proxy-Authorization: Basic {CREDENTIALS}\r\n\r\n".encode()
    )
    assert sock.recv(1024).startswith(b"HTTP/1.1 200")
    closed = threading.Event()

    def wait_for_close() -> None:
        try:
            while sock.recv(1024):
                pass
        except OSError:
            pass
        closed.set()

    threading.Thread(target=wait_for_close, daemon=True).start()
    started = monotonic()
    proxy.stop()
    assert monotonic() - started < 1.0
    assert closed.wait(2)
    sock.close()


def test_services_hook_gives_the_proxy_on_the_configured_port(app: Flask, tmp_path: Path) -> None:
    config = Config(proxy_port=0, state_path=tmp_path)
    [service] = services(app, config)
    service.start()
    try:
        assert service.url.startswith("http://127.0.0.1:")
        assert isinstance(service, ForterProxy)
        assert service.ca_path == tmp_path / "ca" / "ca.pem"
    finally:
        service.stop()


def test_drop_fault_closes_the_tunnel_without_an_answer(
    forter: ForterProxyHandle, mockbank: Mockbank
) -> None:
    import requests

    mockbank.state.add_fault({"provider": "forter", "endpoint": "proxy", "drop": True, "count": 1})
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(
            "https://api.forter-secure.com/x",
            data="{}",
            headers={"forter-token": TOKEN},
            proxies=forter.proxies(),
            verify=str(forter.ca_path),
            timeout=10,
        )


def test_concurrent_ca_creation_yields_one_ca(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from mockbank.proxy.ca import LocalCA

    with ThreadPoolExecutor(8) as pool:
        pems = set(pool.map(lambda _: LocalCA.load_or_create(tmp_path / "ca").pem, range(8)))
    assert len(pems) == 1
    assert (tmp_path / "ca" / "ca.pem").read_text() in pems

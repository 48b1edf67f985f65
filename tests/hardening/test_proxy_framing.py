"""The Forter proxy reads request framing per RFC 9112, over raw sockets.

Ambiguous framing is refused and the connection closed, so a request smuggled after a refused
one is never run: each case sends a second request behind the bad one and expects exactly one
answer.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator

import pytest

from mockbank.pytest_plugin import ForterProxyHandle, Mockbank

CREDENTIALS = base64.b64encode(b"SITE_ID:SITE_SECRET").decode()
TOKEN = "ftr1df95272f9e204c5791427722cc4ef407"
HEAD = (
    "POST http://api.forter-secure.com/pay HTTP/1.1\r\nHost: api.forter-secure.com\r\n"
    f"Proxy-Authorization: Basic {CREDENTIALS}\r\nforter-token: {TOKEN}\r\n"
    "Content-Type: application/json\r\n"
).encode()
SMUGGLED = (
    "GET http://api.forter-secure.com/smuggled HTTP/1.1\r\nHost: api.forter-secure.com\r\n"
    f"Proxy-Authorization: Basic {CREDENTIALS}\r\nforter-token: {TOKEN}\r\n\r\n"
).encode()


@pytest.fixture
def proxy(mockbank: Mockbank, mockbank_forter_proxy: ForterProxyHandle) -> Iterator[str]:
    upstreams = mockbank.state.outbound.upstreams
    saved = dict(upstreams)
    upstreams["api.forter-secure.com"] = "echo"
    yield mockbank_forter_proxy.url
    upstreams.clear()
    upstreams.update(saved)


def exchange(url: str, data: bytes, timeout: float = 10.0) -> bytes:
    """Send `data`, then read until the proxy closes the connection."""
    host, port = url.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def answers(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Split a stream of responses (each with Content-Length) into (status, headers, body)."""
    found = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        found.append((int(lines[0].split()[1]), headers, rest[:length]))
        raw = rest[length:]
    return found


def refused_alone(url: str, mockbank: Mockbank, request: bytes, status: int) -> dict[str, object]:
    """`request` then a smuggled one: one answer, `status`, closed; nothing reached the app."""
    result = answers(exchange(url, request + SMUGGLED))
    assert len(result) == 1, result
    code, headers, body = result[0]
    assert code == status, body
    assert headers["connection"] == "close"
    error: dict[str, object] = json.loads(body)
    assert error["code"] == "BAD_PROXY_REQUEST"
    targets = [entry.notes.get("target") for entry in mockbank.state.requests(provider="forter")]
    assert not any("smuggled" in str(target) for target in targets)
    return error


def test_content_length_with_transfer_encoding_is_400_and_closes(
    proxy: str, mockbank: Mockbank
) -> None:
    request = HEAD + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    error = refused_alone(proxy, mockbank, request, 400)
    assert "Transfer-Encoding" in str(error["error"])


@pytest.mark.parametrize(
    "lengths",
    [
        pytest.param(b"Content-Length: 2\r\nContent-Length: 3\r\n", id="two-fields"),
        pytest.param(b"Content-Length: 2, 3\r\n", id="one-list"),
        pytest.param(b"Content-Length: +2\r\n", id="signed"),
        pytest.param(b"Content-Length: 0x2\r\n", id="hex"),
        pytest.param(b"Content-Length: \r\n", id="empty"),
    ],
)
def test_differing_or_malformed_content_lengths_are_400(
    proxy: str, mockbank: Mockbank, lengths: bytes
) -> None:
    refused_alone(proxy, mockbank, HEAD + lengths + b"\r\n{}", 400)


def test_repeated_equal_content_lengths_are_one_length(proxy: str) -> None:
    body = b'{"n": "{{ card_last_four }}"}'
    size = str(len(body)).encode()
    request = HEAD + b"Content-Length: " + size + b", " + size + b"\r\nConnection: close\r\n\r\n"
    [(status, _, payload)] = answers(exchange(proxy, request + body))
    assert status == 200, payload
    assert json.loads(json.loads(payload)["body"]) == {"n": "1111"}


@pytest.mark.parametrize(
    "coding",
    [b"xchunked", b"gzip, chunked", b"identity", b"chunked, gzip", b"deflate"],
)
def test_transfer_codings_other_than_chunked_are_501(
    proxy: str, mockbank: Mockbank, coding: bytes
) -> None:
    request = HEAD + b"Transfer-Encoding: " + coding + b"\r\n\r\n0\r\n\r\n"
    refused_alone(proxy, mockbank, request, 501)


@pytest.mark.parametrize(
    "request_head",
    [
        pytest.param(HEAD + b"Transfer-Encoding: chunked, chunked\r\n\r\n", id="chunked-twice"),
        pytest.param(
            HEAD.replace(b"HTTP/1.1", b"HTTP/1.0") + b"Transfer-Encoding: chunked\r\n\r\n",
            id="http-1.0",
        ),
    ],
)
def test_chunked_twice_or_in_http_1_0_is_400(
    proxy: str, mockbank: Mockbank, request_head: bytes
) -> None:
    refused_alone(proxy, mockbank, request_head + b"0\r\n\r\n", 400)


@pytest.mark.parametrize(
    "size_line",
    [
        pytest.param(b"-1\r\n", id="negative"),
        pytest.param(b"zz\r\n", id="not-hex"),
        pytest.param(b"0x10\r\n", id="0x-prefix"),
        pytest.param(b"+10\r\n", id="plus"),
        pytest.param(b"1" * 17 + b"\r\n", id="overflow"),
        pytest.param(b"\r\n", id="empty"),
        pytest.param(b"1 0\r\n", id="inner-space"),
    ],
)
def test_invalid_chunk_sizes_are_400(proxy: str, mockbank: Mockbank, size_line: bytes) -> None:
    request = HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + size_line + b"{}\r\n0\r\n\r\n"
    refused_alone(proxy, mockbank, request, 400)


def test_chunk_data_not_followed_by_crlf_is_400(proxy: str, mockbank: Mockbank) -> None:
    request = HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n"
    refused_alone(proxy, mockbank, request, 400)


def test_chunk_extensions_and_trailers_are_accepted(proxy: str) -> None:
    body = b'{"n": "{{ card_last_four }}"}'
    request = (
        HEAD
        + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + f"{len(body):x};name=value\r\n".encode()
        + body
        + b"\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    [(status, _, payload)] = answers(exchange(proxy, request))
    assert status == 200, payload
    assert json.loads(json.loads(payload)["body"]) == {"n": "1111"}


def test_one_huge_chunk_is_413_without_reading_it(proxy: str) -> None:
    request = HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"a00001\r\n" + b"x" * 1000
    [(status, headers, payload)] = answers(exchange(proxy, request))
    assert status == 413
    assert headers["connection"] == "close"
    assert json.loads(payload)["code"] == "PAYLOAD_TOO_LARGE"


def test_chunks_adding_up_past_10_mib_are_413(proxy: str) -> None:
    host, port = proxy.removeprefix("http://").split(":")
    chunk = b"100000\r\n" + b"x" * 0x100000 + b"\r\n"  # 1 MiB each
    answer = b""
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(HEAD + b"Transfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(12):
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the proxy stopped reading at the limit: that is the point
        while data := sock.recv(65536):
            answer += data
    [(status, headers, _)] = answers(answer)
    assert status == 413
    assert headers["connection"] == "close"


def test_keep_alive_still_serves_a_second_well_framed_request(proxy: str) -> None:
    body = b"{}"
    first = HEAD + b"Content-Length: 2\r\n\r\n" + body
    second = HEAD + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    result = answers(exchange(proxy, first + second))
    assert [status for status, _, _ in result] == [200, 200]

"""The proxy's HTTP/1.x reader for target answers, and its keep-alive pool, on real sockets."""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from mockbank.proxy.upstream import UpstreamPool, read_response


@pytest.mark.parametrize(
    ("raw", "method", "status", "body", "close"),
    [
        pytest.param(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA",
            "POST",
            200,
            b"hello",
            False,
            id="content-length",
        ),
        pytest.param(
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n",
            "POST",
            201,
            b"abcde",
            False,
            id="chunked-with-trailer",
        ),
        pytest.param(
            b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            "GET",
            200,
            b"ok",
            False,
            id="interim-1xx-skipped",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
            "HEAD",
            200,
            b"",
            False,
            id="head",
        ),
        pytest.param(b"HTTP/1.1 204 No Content\r\n\r\n", "DELETE", 204, b"", False, id="204"),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
            "GET",
            200,
            b"until the end",
            True,
            id="close-delimited",
        ),
        pytest.param(
            b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
            "GET",
            200,
            b"x",
            True,
            id="http10-closes",
        ),
        pytest.param(
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx",
            "GET",
            200,
            b"x",
            False,
            id="http10-keep-alive",
        ),
    ],
)
def test_answers_are_read_to_their_end(
    raw: bytes, method: str, status: int, body: bytes, close: bool
) -> None:
    answer, must_close = read_response(io.BytesIO(raw), method)
    assert (answer.status, answer.body, must_close) == (status, body, close)


def test_repeated_and_folded_answer_headers_are_kept_in_order() -> None:
    raw = (
        b"HTTP/1.1 418 I'm a teapot\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
        b"X-Long: one\r\n two\r\nContent-Length: 0\r\n\r\n"
    )
    answer, _ = read_response(io.BytesIO(raw), "GET")
    assert answer.reason == "I'm a teapot"
    assert answer.headers[:3] == [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("X-Long", "one two"),
    ]


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        pytest.param(b"", http.client.RemoteDisconnected, id="nothing"),
        pytest.param(b"SSH-2.0-OpenSSH\r\n\r\n", http.client.BadStatusLine, id="not-http"),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort",
            http.client.IncompleteRead,
            id="short-body",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            http.client.HTTPException,
            id="bad-chunk",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            http.client.HTTPException,
            id="bad-length",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 101 + b"\r\n",
            http.client.HTTPException,
            id="too-many-headers",
        ),
    ],
)
def test_broken_answers_raise_what_the_proxy_turns_into_502(
    raw: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        read_response(io.BytesIO(raw), "GET")


@pytest.fixture
def closing_target() -> Iterator[tuple[int, list[bytes]]]:
    """A plain-HTTP target that answers one request per connection, then closes it silently
    (no Connection: close), like a server whose keep-alive timer just ran out."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                seen.append(data)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], seen
    listener.close()


def test_a_stale_pooled_connection_is_retried_once_on_a_fresh_one(
    closing_target: tuple[int, list[bytes]],
) -> None:
    port, seen = closing_target
    pool = UpstreamPool(ssl.create_default_context())  # plain http: the context is unused
    url = f"http://127.0.0.1:{port}/pay"
    for _ in range(3):
        lease = pool.lease(url)
        answer = lease.send("GET", "/pay", [("Host", f"127.0.0.1:{port}")], b"")
        assert (answer.status, answer.body) == (200, b"ok")
    assert len(seen) == 3
    assert seen[0].startswith(b"GET /pay HTTP/1.1\r\nHost: 127.0.0.1:")
    pool.close()

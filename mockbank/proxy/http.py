"""HTTP/1.1 request framing for the proxy (RFC 9112): the head, and the body's length.

A request whose framing is ambiguous is refused and its connection closed, so no byte after
it is ever read as another request: ``Content-Length`` together with ``Transfer-Encoding``,
differing ``Content-Length`` values, a malformed length or chunk size (400), and a transfer
coding other than ``chunked`` (501). Chunked bodies are held to the same 10 MiB limit as
bodies with a length.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mockbank.clock import monotonic

MAX_BODY_BYTES = 10 * 1024 * 1024  # the proxy accepts bodies up to 10 MiB
MAX_HEADERS = 100  # as http.client: more is a 431
MAX_LINE = 65536
MAX_CHUNK_LINE = 4096  # a chunk-size line with its extensions
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")


class FramingError(Exception):
    """The request cannot be read safely: answer `status` and close the connection."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Reader:
    """Buffered reads over a ``recv`` callable, with an optional overall deadline.

    The buffer is visible (`buffered`), so the proxy knows whether a kept-alive connection has
    a next request waiting before it hands the socket back to the event loop.
    """

    def __init__(self, connection: Any, initial: bytes = b"", timeout: float = 30.0) -> None:
        self.connection = connection
        self.buffer = bytearray(initial)
        self.timeout = timeout
        self.deadline: float | None = None
        self.eof = False
        self.before_wait: Callable[[], None] | None = None  # called before each socket read

    @property
    def buffered(self) -> int:
        return len(self.buffer)

    def _fill(self) -> bool:
        if self.eof:
            return False
        wait = self.timeout
        if self.deadline is not None:
            wait = min(wait, self.deadline - monotonic())
            if wait <= 0:
                raise TimeoutError("the request head did not arrive in time")
        current = getattr(self.connection, "gettimeout", None)
        if current is None or current() != wait:  # settimeout costs system calls: on change
            self.connection.settimeout(wait)
        if self.before_wait is not None:
            self.before_wait()
        data = self.connection.recv(65536)
        if not data:
            self.eof = True
            return False
        self.buffer += data
        return True

    def readline(self, limit: int) -> bytes:
        """Up to and including the next LF, at most `limit` bytes (b"" at EOF)."""
        start = 0
        while True:
            end = self.buffer.find(b"\n", start, limit)
            if end >= 0:
                return self._take(end + 1)
            if len(self.buffer) >= limit:
                return self._take(limit)
            start = len(self.buffer)
            if not self._fill():
                return self._take(len(self.buffer))

    def read(self, size: int) -> bytes:
        """Exactly `size` bytes, or fewer if the peer closed first."""
        while len(self.buffer) < size and self._fill():
            pass
        return self._take(min(size, len(self.buffer)))

    def _take(self, size: int) -> bytes:
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data


class RequestHeaders:
    """A request's header fields in arrival order, looked up case-insensitively.

    ``http.server`` parses headers with the ``email`` package, which costs about as much as
    the rest of the proxy's own work on a small request; this is the subset the proxy uses.
    """

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._fields = fields
        self._index: dict[str, str] = {}
        for name, value in fields:
            self._index.setdefault(name.lower(), value)  # the first one wins, as in email

    def get(self, name: str, default: Any = None) -> Any:
        return self._index.get(name.lower(), default)

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`, each comma-separated list split into its members."""
        key = name.lower()
        values: list[str] = []
        for field, value in self._fields:
            if field.lower() == key:
                values.extend(part.strip() for part in value.split(","))
        return values

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __len__(self) -> int:
        return len(self._fields)


class HeadTooLarge(Exception):
    pass


class BadHead(Exception):
    pass


def read_request_headers(rfile: Any) -> RequestHeaders:
    """Read header lines up to the blank line (obs-fold lines joined to the previous one)."""
    fields: list[tuple[str, str]] = []
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise HeadTooLarge("Line too long")
        if line in (b"\r\n", b"\n", b""):
            break
        if len(fields) >= MAX_HEADERS:
            raise HeadTooLarge("Too many headers")
        text = line.decode("iso-8859-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {text.strip()}")
            continue
        name, colon, value = text.partition(":")
        # What is forwarded must be a well-formed field: a token name (RFC 9110 §5.1) and no
        # CR or NUL in the value, which a target could read as the start of another field.
        if not colon or not _TOKEN.fullmatch(name) or "\r" in value or "\0" in value:
            raise BadHead(f"Malformed header line {text[:60]!r}")
        fields.append((name, value.strip()))
    return RequestHeaders(fields)


def body_framing(headers: RequestHeaders, version: str) -> tuple[str, int]:
    """How the body is delimited: ``("chunked", 0)`` or ``("length", n)``, or `FramingError`."""
    codings = headers.get_all("Transfer-Encoding") if "Transfer-Encoding" in headers else None
    lengths = headers.get_all("Content-Length") if "Content-Length" in headers else None
    if codings is not None:
        if lengths is not None:
            raise FramingError(400, "Content-Length and Transfer-Encoding together")
        if version == "HTTP/1.0":
            raise FramingError(400, "Transfer-Encoding in an HTTP/1.0 request")
        lowered = [coding.lower() for coding in codings]
        unknown = [coding for coding in lowered if coding != "chunked"]
        if unknown:
            raise FramingError(501, f"Transfer-Encoding {unknown[0][:40]!r} is not supported")
        if lowered != ["chunked"]:
            raise FramingError(400, "Transfer-Encoding must be chunked, once")
        return "chunked", 0
    if lengths is None:
        return "length", 0
    if any(not value.isdigit() or not value.isascii() for value in lengths):
        raise FramingError(400, "Content-Length must be a number")
    if len({int(value) for value in lengths}) != 1:
        raise FramingError(400, "differing Content-Length values")
    return "length", int(lengths[0])


def read_chunked(reader: Reader, limit: int = MAX_BODY_BYTES) -> tuple[bytes, int | None]:
    """A chunked body, or ``(b"", size)`` once the sizes pass `limit` (the rest unread)."""
    chunks: list[bytes] = []
    total = 0
    while True:
        size = _chunk_size(reader.readline(MAX_CHUNK_LINE + 1))
        if size == 0:
            _skip_trailers(reader)
            return b"".join(chunks), None
        total += size
        if total > limit:
            return b"", total
        chunk = reader.read(size)
        if len(chunk) < size:
            raise ConnectionAbortedError("the client closed mid-body")
        chunks.append(chunk)
        if reader.readline(3) not in (b"\r\n", b"\n"):
            raise FramingError(400, "chunk data not followed by CRLF")


def _chunk_size(line: bytes) -> int:
    if len(line) > MAX_CHUNK_LINE or not line.endswith(b"\n"):
        if not line:
            raise ConnectionAbortedError("the client closed mid-body")
        raise FramingError(400, "malformed chunk size line")
    size_text = line.split(b";", 1)[0].rstrip(b"\r\n").rstrip(b" \t")
    if not _HEX.fullmatch(size_text):
        raise FramingError(400, f"invalid chunk size {size_text[:20]!r}")
    return int(size_text, 16)


def _skip_trailers(reader: Reader) -> None:
    for _ in range(MAX_HEADERS + 1):
        line = reader.readline(MAX_LINE + 1)
        if line in (b"\r\n", b"\n", b""):
            return
    raise FramingError(431, "Too many trailer fields")

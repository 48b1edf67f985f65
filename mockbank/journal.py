"""The request journal: a bounded, masked ring of what each provider was asked and answered.

Bounded twice: by entries (``capacity``) and by bytes (``max_bytes``), the oldest entries going
first. One body, note or header keeps at most `BODY_LIMIT` bytes, cut with a visible marker, so
a client sending megabyte bodies cannot grow the server's memory.

A request is recorded as a `Capture`: its parts as they were (bodies already cut to
`BODY_LIMIT`), masked the first time the journal is read. Most entries are never read before
they leave the ring, so the request path no longer pays for masking; what a reader gets is the
same masked entry, made from the same bytes. A journal kept in a shared store masks at once:
nothing unmasked is ever written outside this process's memory.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

log = logging.getLogger("mockbank")

DEFAULT_CAPACITY = 10_000
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
BODY_LIMIT = 64 * 1024
HEADER_LIMIT = 8 * 1024
# What `record` allows a text that was cut (and marked) before masking: the marker fits.
_RECORDED_LIMIT = BODY_LIMIT + 128
# Notes are built by code, never deeply nested; anything deeper is not worth keeping.
_NOTE_DEPTH = 12
# Cut bodies also lose a trailing run of digits and separators, so the cut never leaves the
# first 13-18 digits of a card number where the masking cannot recognise them.
_TRAILING_DIGITS = re.compile(r"[\d \-+%.,]{1,96}$")


def truncation_marker(dropped: int) -> str:
    # ASCII only: one non-ASCII character would double the memory of the whole kept text.
    return f"...[mockbank: {dropped} more bytes not recorded]"


def clip_text(text: str, limit: int = BODY_LIMIT) -> str:
    """`text` if it fits in `limit` UTF-8 bytes, else its head and a truncation marker."""
    if len(text) * 4 <= limit:  # no character takes more than 4 bytes: fits for sure
        return text
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= limit:
        return text
    head = encoded[:limit].decode("utf-8", "ignore")
    head = _TRAILING_DIGITS.sub("", head)
    return head + truncation_marker(len(encoded) - len(head.encode("utf-8", "surrogatepass")))


def clip_raw(data: bytes | str, limit: int = BODY_LIMIT) -> tuple[bytes | str, int]:
    """A raw body cut to `limit` before masking (masking megabytes is wasted work).

    Returns the head, without a trailing run of digits, and how much was dropped.
    """
    if len(data) <= limit:
        return data, 0
    head = data[:limit]
    if isinstance(head, bytes):
        head = head.rstrip(b"0123456789 -+%.,")
    else:
        head = _TRAILING_DIGITS.sub("", head)
    return head, len(data) - len(head)


def _clip_note(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return clip_text(value, _RECORDED_LIMIT)
    if depth >= _NOTE_DEPTH:
        return "...[mockbank: nested too deep to record]"
    if isinstance(value, dict):
        return {str(k)[:256]: _clip_note(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clip_note(v, depth + 1) for v in value]
    return value


def _size(value: Any, depth: int = 0) -> int:
    """Roughly the bytes `value` holds: string lengths plus a little per container item."""
    if isinstance(value, str):
        return len(value) + 50
    if depth >= _NOTE_DEPTH:
        return 50
    if isinstance(value, dict):
        return 64 + sum(len(str(k)) + _size(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return 56 + sum(_size(v, depth + 1) for v in value)
    return 32


@dataclass
class Entry:
    """One request and its response, masked before it is stored."""

    id: int
    time: datetime
    provider: str | None
    endpoint: str | None
    method: str
    path: str
    query: str
    status: int
    latency_ms: float
    correlation_id: str
    remote_addr: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    notes: dict[str, Any] = field(default_factory=dict)
    # The process that served it, when several share one store (``--instance``).
    instance: str | None = None
    size: int = field(default=0, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("size")
        data["time"] = self.time.isoformat().replace("+00:00", "Z")
        return data


def _clipped(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields of an entry with every text bounded."""
    clipped = dict(fields)
    for name in ("path", "query", "request_body", "response_body"):
        if isinstance(clipped.get(name), str):
            clipped[name] = clip_text(clipped[name], _RECORDED_LIMIT)
    for name in ("request_headers", "response_headers"):
        headers = clipped.get(name)
        if isinstance(headers, dict):
            clipped[name] = {
                clip_text(str(k), HEADER_LIMIT): clip_text(str(v), HEADER_LIMIT)
                for k, v in headers.items()
            }
    if "notes" in clipped:
        clipped["notes"] = _clip_note(clipped["notes"])
    return clipped


@dataclass(slots=True)
class Capture:
    """One request as the journal takes it on the request path: unmasked, bodies already cut."""

    time: datetime
    provider: str | None
    endpoint: str | None
    method: str
    path: str
    query: bytes
    status: int
    latency_ms: float
    correlation_id: str
    remote_addr: str | None
    request_headers: list[tuple[str, str]]  # WSGI environ keys (HTTP_*, CONTENT_*) and values
    request_body: bytes | str
    request_type: str | None
    response_headers: list[tuple[str, str]]
    response_body: bytes | str | None  # None: kept out of the journal on purpose
    response_type: str | None
    notes: dict[str, Any]
    dropped: tuple[int, int] = (0, 0)  # bytes cut from the request and response bodies

    @classmethod
    def cut(cls, **parts: Any) -> Capture:
        """A capture whose bodies are cut to `BODY_LIMIT` now (masking megabytes is waste)."""
        request_body, request_dropped = clip_raw(parts.pop("request_body"))
        response_body = parts.pop("response_body")
        response_dropped = 0
        if response_body is not None:
            response_body, response_dropped = clip_raw(response_body)
        return cls(
            request_body=request_body,
            response_body=response_body,
            dropped=(request_dropped, response_dropped),
            **parts,
        )

    def size(self) -> int:
        """Roughly the bytes this capture holds (an entry made from it holds about as many)."""
        headers = sum(len(k) + len(v) + 100 for k, v in self.request_headers)
        headers += sum(len(k) + len(v) + 100 for k, v in self.response_headers)
        bodies = len(self.request_body) + len(self.response_body or "")
        notes = _size(self.notes) if self.notes else 0
        return 700 + len(self.path) + len(self.query) + headers + bodies + notes

    def fields(self) -> dict[str, Any]:
        """The entry's fields, masked: what `Journal.record` takes."""
        from mockbank.masking import mask_form, mask_headers, mask_text

        if self.response_body is None:
            response_body = "<not recorded>"
        else:
            response_body = _masked(self.response_body, self.dropped[1], self.response_type)
        return {
            "time": self.time,
            "provider": self.provider,
            "endpoint": self.endpoint,
            "method": self.method,
            "path": mask_text(self.path),
            "query": mask_form(self.query.decode("latin-1")) if self.query else "",
            "status": self.status,
            "latency_ms": self.latency_ms,
            "correlation_id": self.correlation_id,
            "remote_addr": self.remote_addr,
            "request_headers": mask_headers(environ_headers(self.request_headers)),
            "request_body": _masked(self.request_body, self.dropped[0], self.request_type),
            "response_headers": mask_headers(self.response_headers),
            "response_body": response_body,
            "notes": self.notes,
        }

    def unmaskable(self) -> dict[str, Any]:
        """The fields when masking failed: nothing that could hold a secret."""
        lost = "<not recorded: masking failed>"
        return {
            "time": self.time,
            "provider": self.provider,
            "endpoint": self.endpoint,
            "method": self.method,
            "path": lost,
            "query": "",
            "status": self.status,
            "latency_ms": self.latency_ms,
            "correlation_id": self.correlation_id,
            "remote_addr": self.remote_addr,
            "request_body": lost,
            "response_body": lost,
        }


class _Slot:
    """One place in the ring: a masked `Entry`, or a `Capture` masked on first read."""

    __slots__ = ("capture", "entry", "id", "provider", "size")

    def __init__(self, entry_id: int, size: int, provider: str | None) -> None:
        self.id, self.size, self.provider = entry_id, size, provider
        self.entry: Entry | None = None
        self.capture: Capture | None = None

    def read(self) -> Entry:
        entry = self.entry
        if entry is not None:
            return entry
        capture = self.capture
        assert capture is not None
        try:
            fields = _clipped(capture.fields())
        except Exception as error:  # one bad entry must not hide the journal
            log.error("could not mask journal entry %s: %s", self.id, type(error).__name__)
            fields = capture.unmaskable()
        entry = Entry(id=self.id, size=self.size, **fields)
        # Two readers may both mask it: the same entry either way, and the capture goes.
        self.entry, self.capture = entry, None
        return entry


def clip(fields: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """An entry's fields with bodies cut to the journal's limit, and its estimated bytes."""
    clipped = _clipped(fields)
    return clipped, 200 + sum(_size(v) for v in clipped.values())


class Journal:
    """Thread-safe ring buffer of entries; `record` takes masked fields, `record_capture`
    takes a request's parts and masks them when the journal is read."""

    def __init__(
        self, capacity: int = DEFAULT_CAPACITY, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self._entries: deque[_Slot] = deque()
        self._lock = threading.Lock()
        self._next_id = 1
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._bytes = 0

    def record(self, **fields: Any) -> Entry:
        clipped, size = clip(fields)
        with self._lock:
            slot = self._add(size, clipped.get("provider"))
            entry = slot.entry = Entry(id=slot.id, size=size, **clipped)
            return entry

    def record_capture(self, capture: Capture) -> None:
        """Keep `capture`; it is masked (once) when an entry list that holds it is read."""
        size = capture.size()
        with self._lock:
            self._add(size, capture.provider).capture = capture

    def _add(self, size: int, provider: str | None) -> _Slot:
        slot = _Slot(self._next_id, size, provider)
        self._next_id += 1
        self._entries.append(slot)
        self._bytes += size
        while self._entries and (
            len(self._entries) > self.capacity or self._bytes > self.max_bytes
        ):
            self._bytes -= self._entries.popleft().size
        return slot

    @property
    def bytes(self) -> int:
        """The estimated bytes the journal holds now."""
        return self._bytes

    def entries(
        self,
        *,
        provider: str | None = None,
        path: str | None = None,
        status: int | None = None,
        since: datetime | int | None = None,
        endpoint: str | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Entries oldest first; `path` matches a prefix; `since` is a time or an entry id."""
        with self._lock:
            slots = list(self._entries)
        if provider is not None:
            slots = [s for s in slots if s.provider == provider]
        if isinstance(since, int):
            slots = [s for s in slots if s.id > since]
        if path is None and status is None and endpoint is None and not isinstance(since, datetime):
            slots = slots[-limit:] if limit else slots  # mask only what is returned
        found: Iterable[Entry] = [s.read() for s in slots]
        if endpoint is not None:
            found = [e for e in found if e.endpoint == endpoint]
        if path is not None:
            found = [e for e in found if e.path.startswith(path)]
        if status is not None:
            found = [e for e in found if e.status == status]
        if isinstance(since, datetime):
            found = [e for e in found if e.time >= since]
        result = list(found)
        return result[-limit:] if limit else result

    def clear(self, provider: str | None = None) -> None:
        with self._lock:
            if provider is None:
                self._entries.clear()
            else:
                kept = [s for s in self._entries if s.provider != provider]
                self._entries.clear()
                self._entries.extend(kept)
            self._bytes = sum(s.size for s in self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def environ_headers(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Header names and values from WSGI environ entries, as werkzeug's `Headers` gives them."""
    headers = []
    for key, value in pairs:
        if key.startswith("HTTP_"):
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                headers.append((key[5:].replace("_", "-").title(), value))
        elif value:
            headers.append((key.replace("_", "-").title(), value))
    return headers


def _masked(head: bytes | str, dropped: int, content_type: str | None) -> str:
    from mockbank.masking import mask_body

    text = mask_body(head, content_type)
    return text + truncation_marker(dropped) if dropped else text


def masked_body(data: bytes | str, content_type: str | None) -> str:
    """A body as the journal keeps it: cut to `BODY_LIMIT` first, then masked, then marked."""
    head, dropped = clip_raw(data)
    return _masked(head, dropped, content_type)

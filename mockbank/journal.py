"""The request journal: a bounded, masked ring of what each provider was asked and answered.

Bounded twice: by entries (``capacity``) and by bytes (``max_bytes``), the oldest entries going
first. One body, note or header keeps at most `BODY_LIMIT` bytes, cut with a visible marker, so
a client sending megabyte bodies cannot grow the server's memory.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

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


class Journal:
    """Thread-safe ring buffer of `Entry` records; callers mask before recording."""

    def __init__(
        self, capacity: int = DEFAULT_CAPACITY, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self._entries: deque[Entry] = deque()
        self._lock = threading.Lock()
        self._next_id = 1
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._bytes = 0

    def record(self, **fields: Any) -> Entry:
        clipped = _clipped(fields)
        size = 200 + sum(_size(v) for v in clipped.values())
        with self._lock:
            entry = Entry(id=self._next_id, size=size, **clipped)
            self._next_id += 1
            self._entries.append(entry)
            self._bytes += size
            while self._entries and (
                len(self._entries) > self.capacity or self._bytes > self.max_bytes
            ):
                self._bytes -= self._entries.popleft().size
            return entry

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
            found: Iterable[Entry] = list(self._entries)
        if provider is not None:
            found = [e for e in found if e.provider == provider]
        if endpoint is not None:
            found = [e for e in found if e.endpoint == endpoint]
        if path is not None:
            found = [e for e in found if e.path.startswith(path)]
        if status is not None:
            found = [e for e in found if e.status == status]
        if isinstance(since, datetime):
            found = [e for e in found if e.time >= since]
        elif isinstance(since, int):
            found = [e for e in found if e.id > since]
        result = list(found)
        return result[-limit:] if limit else result

    def clear(self, provider: str | None = None) -> None:
        with self._lock:
            if provider is None:
                self._entries.clear()
            else:
                kept = [e for e in self._entries if e.provider != provider]
                self._entries.clear()
                self._entries.extend(kept)
            self._bytes = sum(e.size for e in self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def masked_body(data: bytes | str, content_type: str | None) -> str:
    """A body as the journal keeps it: cut to `BODY_LIMIT` first, then masked, then marked."""
    from mockbank.masking import mask_body

    head, dropped = clip_raw(data)
    text = mask_body(head, content_type)
    return text + truncation_marker(dropped) if dropped else text

"""The access log: one line per request on stderr, as text or JSON; and the log setup.

A line is logged on ``mockbank.access`` at INFO with its fields as a tuple; nothing is
formatted unless a handler is going to write it, and each line is one ``write``.

Text::

    2026-12-03T10:15:02.123Z 5f0c1a2b3c4d quickstream token-request POST /quickstream/x 200 3.2ms

JSON (one object a line)::

    {"time": "...", "request_id": "...", "provider": "quickstream", "endpoint": "token-request",
     "method": "POST", "path": "/quickstream/...", "status": 200, "duration_ms": 3.2}
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any, NamedTuple

ACCESS = "mockbank.access"
FORMATS = ("text", "json")
LEVELS = ("debug", "info", "warning", "error")

log = logging.getLogger(ACCESS)


class Access(NamedTuple):
    request_id: str
    provider: str | None
    endpoint: str | None
    method: str
    path: str  # masked by the caller
    status: int | str  # a number, or "dropped"
    duration_ms: float

    def as_dict(self, created: float) -> dict[str, Any]:
        return {"time": _iso(created), **self._asdict()}


def access(entry: Access) -> None:
    """Log one request; cheap when the access log is off (``--quiet``, ``--log-level``)."""
    if log.isEnabledFor(logging.INFO):
        log.info("%s %s", entry.method, entry.path, extra={"access": entry})


def proxy_access(
    provider: str, method: str, target: str, status: int, duration_ms: float = 0.0
) -> None:
    """For a proxy listener: a request it refused itself, before the app saw it.

    Requests the proxy relays run through the app, whose hook logs them with their target.
    """
    if log.isEnabledFor(logging.INFO):
        from mockbank.masking import mask_text

        line = Access("-", provider, "proxy", method, mask_text(target), status, duration_ms)
        access(line)


def _iso(created: float) -> str:
    seconds = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: Access | None = getattr(record, "access", None)
        if entry is None:
            line = f"{_iso(record.created)} {record.levelname.lower()} {record.name}: "
            return line + super().format(record)
        return (
            f"{_iso(record.created)} {entry.request_id or '-'} {entry.provider or '-'} "
            f"{entry.endpoint or '-'} {entry.method} {entry.path} {entry.status} "
            f"{entry.duration_ms:.1f}ms"
        )


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: Access | None = getattr(record, "access", None)
        if entry is not None:
            data = entry.as_dict(record.created)
            data["duration_ms"] = round(entry.duration_ms, 1)
        else:
            data = {
                "time": _iso(record.created),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            }
            if record.exc_info:
                data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, separators=(", ", ": "))


class _OneWriteHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes each line, newline included, in one call."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + "\n")
        except Exception:  # a closed stderr must not break a request
            self.handleError(record)


def configure(
    log_format: str = "text",
    level: str = "info",
    *,
    quiet: bool = False,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Set up the root logger for `mockbank serve`: one handler on stderr.

    ``quiet`` keeps the access log off (warnings and errors still show).
    """
    if log_format not in FORMATS:
        raise ValueError(f"--log-format {log_format} is not one of {', '.join(FORMATS)}")
    if level.lower() not in LEVELS:
        raise ValueError(f"--log-level {level} is not one of {', '.join(LEVELS)}")
    handler = _OneWriteHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old, _OneWriteHandler):  # configured before: replace it
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    log.setLevel(logging.WARNING if quiet else logging.NOTSET)
    return handler

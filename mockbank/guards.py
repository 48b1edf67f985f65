"""Checks every request passes and headers every response gets (browser-facing safety).

- ``Host`` must name this server (`mockbank.hosts`), against DNS rebinding.
- A JSON body nested deeper than `MAX_JSON_DEPTH` is refused before any view parses it: past
  a few hundred levels Python's parser and every recursive walk over the value fail.
- Every response is ``nosniff`` with ``Referrer-Policy: no-referrer``; HTML pages get a
  Content-Security-Policy (unless they set their own) and ``X-Frame-Options: DENY`` (unless
  their own policy names ``frame-ancestors``, as a page meant to be framed does).
- Unexpected exceptions are logged with a bounded traceback.
"""

from __future__ import annotations

import re
import traceback

from flask import Response

from mockbank.errors import NestedTooDeep, ProviderError

MAX_JSON_DEPTH = 100
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self' http: https:; frame-ancestors 'none'"
)
# A traceback is logged with its last frames only, and cut to this many characters.
LOG_FRAMES = 12
LOG_CHARS = 4000
# JSON strings (an unterminated one runs to the end) and brackets; possessive: linear time.
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]++|\\.)*+"?|[\[\]{}]')


class HostNotAllowed(ProviderError):
    status = 400
    code = "HOST_NOT_ALLOWED"
    message = "The Host header does not name this server."


def host_refused(host: str) -> HostNotAllowed:
    shown = host[:100] if host else "(none)"
    return HostNotAllowed(
        f"The Host header {shown!r} does not name this mockbank server. Use localhost or "
        "127.0.0.1, or start mockbank with --public-url naming the address clients use."
    )


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when `body`, read as JSON, opens more than `limit` nested arrays or objects."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the common case: too few brackets to nest that deep
    depth = 0
    for match in _JSON_TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth = max(0, depth - 1)
    return False


def looks_like_json(body: bytes, content_type: str | None) -> bool:
    if not body:
        return False
    return "json" in (content_type or "").lower() or body.lstrip()[:1] in (b"{", b"[")


def check_json_depth(body: bytes, content_type: str | None) -> None:
    """Refuse a JSON body nested past `MAX_JSON_DEPTH` (in the caller's provider format)."""
    if looks_like_json(body, content_type) and json_too_deep(body):
        raise NestedTooDeep(
            f"The JSON body is nested too deeply (more than {MAX_JSON_DEPTH} levels).",
            field="body",
        )


def add_security_headers(response: Response, request_id: str | None = None) -> None:
    """nosniff and no-referrer everywhere; CSP and frame denial on HTML pages.

    With `request_id`, also ``X-Request-Id`` unless the view set one. One pass over the
    headers: `Headers.setdefault` scans them all for every name.
    """
    headers = response.headers
    present = {key.lower() for key, _ in headers.items()}
    if request_id is not None and "x-request-id" not in present:
        headers.add("X-Request-Id", request_id)
    if "x-content-type-options" not in present:
        headers.add("X-Content-Type-Options", "nosniff")
    if "referrer-policy" not in present:
        headers.add("Referrer-Policy", "no-referrer")
    if response.mimetype != "text/html":
        return
    own = headers.get("Content-Security-Policy")
    if own is None:
        headers["Content-Security-Policy"] = CSP
    if own is None or "frame-ancestors" not in own:
        headers.setdefault("X-Frame-Options", "DENY")


def short_traceback(error: BaseException) -> str:
    """The exception and its last frames, at most `LOG_CHARS` characters (no chained causes)."""
    lines = traceback.format_exception(
        type(error), error, error.__traceback__, limit=-LOG_FRAMES, chain=False
    )
    text = "".join(lines)
    if len(text) > LOG_CHARS:
        text = text[: LOG_CHARS // 2] + "\n[...]\n" + text[-LOG_CHARS // 2 :]
    return text

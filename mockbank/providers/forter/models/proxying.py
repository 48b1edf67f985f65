"""A request through the Detokenization Proxy: detokenize, sign, then relay or echo it.

The view parses the request into a `ProxyRequest` and renders what comes back; the rules are
here: which headers are forwarded, what is noted in the journal (masked), where the request
goes, and when its single-use tokens are spent (`spending`).
"""

from __future__ import annotations

import base64
import http.client
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from mockbank.masking import mask_body, mask_headers, mask_text
from mockbank.outbound import OutboundPolicy, OutboundRefused
from mockbank.providers.forter.errors import TargetUnreachable
from mockbank.providers.forter.models.detokenize import (
    Resolved,
    choose_tokens,
    looks_like_json,
    mask_secrets,
    placeholder_value,
    resolve_tokens,
    substitute,
)
from mockbank.providers.forter.models.signing import sign_request
from mockbank.providers.forter.models.spending import consume_single_use
from mockbank.proxy.upstream import HOP_BY_HOP, Unreachable, UpstreamResponse
from mockbank.store import Store

Note = Callable[[str, Any], None]  # the journal's note for this request


@dataclass(frozen=True)
class ProxyRequest:
    """A request that came through the proxy, as the view read it."""

    target: str
    method: str
    raw_headers: list[tuple[str, str]]  # as sent inside the tunnel (or to the proxy)
    connect_headers: Mapping[str, str]  # the CONNECT's, lowercased (empty without a tunnel)
    body: bytes
    content_type: str | None
    relay_loopback: bool = True


@dataclass(frozen=True)
class Forward:
    """The detokenized request, ready to leave, and what it spends."""

    resolved: Resolved
    url: str | None  # None: the built-in echo target
    method: str
    request_uri: str
    headers: list[tuple[str, str]]
    body: bytes
    secrets: list[str]


@dataclass(frozen=True)
class Relayed:
    """What the proxy answers: the target's status, headers (hop-by-hop dropped) and body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Lease(Protocol):
    def send(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> UpstreamResponse: ...

    def discard(self) -> None: ...


class Pool(Protocol):
    def lease(self, url: str) -> Lease: ...


def request_uri(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def forward_headers(
    raw: list[tuple[str, str]], body_length: int, method: str
) -> list[tuple[str, str]]:
    """The headers to forward: forter-*, proxy-*, hop-by-hop and Expect stripped, and
    Content-Length recomputed (the seed: the proxy alters the body, so the length changes)."""
    connection_named = {
        token.strip().lower()
        for name, value in raw
        if name.lower() == "connection"
        for token in value.split(",")
    }
    kept = [
        (name, value)
        for name, value in raw
        if not name.lower().startswith(("forter-", "proxy-"))
        and name.lower() not in HOP_BY_HOP
        and name.lower() not in connection_named
        and name.lower() not in ("content-length", "expect")  # the proxy answered any 100
    ]
    if body_length or method in ("POST", "PUT", "PATCH"):
        kept.append(("Content-Length", str(body_length)))
    return kept


def combine_headers(headers: Any) -> dict[str, str]:
    """Headers as one object for the echo: a repeated field's values joined with ", "
    (RFC 9110 §5.3), under the first spelling of its name."""
    combined: dict[str, str] = {}
    spelled: dict[str, str] = {}
    for name, value in headers:
        key = spelled.setdefault(name.lower(), name)
        combined[key] = f"{combined[key]}, {value}" if key in combined else value
    return combined


def prepare(
    store: Store,
    outbound: OutboundPolicy,
    incoming: ProxyRequest,
    *,
    now: datetime,
    hmac_encoding: str,
    token_bytes: Callable[[int], bytes],
    note: Note,
) -> Forward:
    """Resolve the tokens, check the target, fill the placeholders and sign; nothing is spent."""
    inner = {name.lower(): value for name, value in incoming.raw_headers}
    choice = choose_tokens(inner, incoming.connect_headers)
    resolved = resolve_tokens(store, choice, now=now)
    note("token", resolved.token)
    note("tokenSource", choice.source)
    try:
        destination = outbound.resolve(incoming.target, loopback=incoming.relay_loopback)
    except OutboundRefused as error:
        raise TargetUnreachable(str(error)) from None
    substitution = substitute(
        incoming.body,
        lambda name: placeholder_value(
            name,
            resolved,
            cryptogram=lambda: base64.b64encode(token_bytes(20)).decode("ascii"),
        ),
        json_body=looks_like_json(incoming.body, incoming.content_type),
    )
    uri = request_uri(incoming.target)
    method, body = incoming.method, substitution.body
    headers = forward_headers(incoming.raw_headers, len(body), method)
    headers, signing = sign_request(
        headers,
        inner,
        method=method,
        request_uri=uri,
        body=body,
        now=now,
        hmac_encoding=hmac_encoding,
    )
    for key, value in signing.items():
        note(key, value)
    note("placeholders", substitution.names)
    note("forwardedHeaders", mask_headers(headers))
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
    masked = mask_secrets(body.decode("utf-8", "replace"), substitution.secrets)
    note("forwardedBody", mask_body(masked, content_type))
    url = None if destination.echo else destination.url
    return Forward(resolved, url, method, uri, headers, body, substitution.secrets)


def send(
    store: Store, pool: Callable[[], Pool], forward: Forward, *, now: datetime, note: Note
) -> dict[str, Any] | Relayed:
    """Send the detokenized request: the echo target's answer (a dict), or the target's."""
    if forward.url is None:
        return echo(store, forward, now=now, note=note)
    return relay(store, pool(), forward, now=now, note=note)


def echo(store: Store, forward: Forward, *, now: datetime, note: Note) -> dict[str, Any]:
    """The echo target's answer: the request as the target would have received it."""
    consume_single_use(store, forward.resolved, now=now)
    note("upstream", "echo")
    # The echo repeats forwardedHeaders and forwardedBody, already noted (masked).
    note("responseBody", "<echo of the forwarded request>")
    return {
        "method": forward.method,
        "path": forward.request_uri,
        "headers": combine_headers(forward.headers),
        "body": forward.body.decode("utf-8", "replace"),
    }


def relay(store: Store, pool: Pool, forward: Forward, *, now: datetime, note: Note) -> Relayed:
    """Connect, spend the single-use tokens, send, and read the whole answer.

    An unreachable target spends nothing; a token already spent (a concurrent request won)
    closes the connection unsent; a target failing after the request left keeps it spent.
    """
    assert forward.url is not None
    note("upstream", mask_text(forward.url))
    try:
        lease = pool.lease(forward.url)  # connect first: an unreachable target burns no token
    except Unreachable as error:
        raise TargetUnreachable(f"The target could not be reached: {error}.") from None
    try:
        consume_single_use(store, forward.resolved, now=now)
    except Exception:
        lease.discard()
        raise
    try:
        # The path on the target as mapped (``--upstream HOST=URL`` may add a prefix).
        answer = lease.send(forward.method, request_uri(forward.url), forward.headers, forward.body)
    except (OSError, http.client.HTTPException) as error:
        lease.discard()
        raise TargetUnreachable(f"The target failed mid-request: {error}.") from None
    headers = [
        (name, value)
        for name, value in answer.headers
        if name.lower() not in HOP_BY_HOP and name.lower() != "content-length"
    ]
    headers.append(("Content-Length", str(len(answer.body))))
    note("responseBody", _response_note(answer.body, headers, forward.secrets))
    return Relayed(answer.status, headers, answer.body)


def _response_note(body: bytes, headers: list[tuple[str, str]], secrets: list[str]) -> str:
    """The journal's copy of the target's answer: masked, or its size when compressed."""
    found: dict[str, str] = {}
    for name, value in headers:
        found.setdefault(name.lower(), value)  # the first of a repeated field, as Flask reads
    encoding = found.get("content-encoding", "")
    if "gzip" in encoding or "br" in encoding:
        return f"<{len(body)} bytes, compressed>"
    return mask_secrets(mask_body(body, found.get("content-type")), secrets)

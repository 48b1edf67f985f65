"""The typed per-request context: what the request path and the providers keep for one request.

One `RequestContext` per request, created on first use and dropped with the request. The core
fills in the provider, correlation id, endpoint name and timing; views add journal notes. A
provider keeps its own per-request values in a dataclass of its own, reached with
`vendor_context(Kind)` (created on first use, one per kind per request). This is the only
module that touches `flask.g`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from flask import g

if TYPE_CHECKING:
    from mockbank.providers import Provider

T = TypeVar("T")
_KEY = "mockbank_request_context"


@dataclass
class RequestContext:
    """What one request carries from the first hook to the journal entry."""

    # The provider whose path this is; None for the control API, dashboard and static files.
    provider: Provider | None = None
    # This request's id (X-Request-Id, the journal's correlation id); empty until assigned.
    correlation_id: str = ""
    # The view's endpoint name (`routing.endpoint`), for faults and the journal.
    endpoint_name: str | None = None
    # clock.monotonic() reading when the request began (latency), None before that.
    started: float | None = None
    # Notes for this request's journal entry (masked text only, never a secret).
    journal_notes: dict[str, Any] = field(default_factory=dict)
    # Keep the response body out of the journal (a card shown on purpose, an image).
    journal_skip_body: bool = False
    # A provider's own per-request dataclass instances, keyed by their class.
    vendor: dict[type, object] = field(default_factory=dict)


def request_context() -> RequestContext:
    """This request's context (created on first use)."""
    space = vars(g._get_current_object())  # one proxy lookup: this runs on every request
    found: RequestContext | None = space.get(_KEY)
    if found is None:
        found = space[_KEY] = RequestContext()
    return found


def vendor_context(kind: type[T]) -> T:
    """This request's instance of a provider's own context dataclass `kind` (created on first
    use with no arguments, so every field needs a default)."""
    slots = request_context().vendor
    found = slots.get(kind)
    if found is None:
        found = slots[kind] = kind()
    return found  # type: ignore[return-value]

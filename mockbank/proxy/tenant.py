"""Who the proxy serves: the app paths of its views and the wording of the proxy's own answers.

The proxy knows nothing of any provider. The provider that mounts it passes a `Tenant`: where
a proxied request and a CONNECT go in the app, the reason phrases of its own status codes, and
how a request the proxy refuses before the app sees it reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


def text_refusal(message: str) -> bytes:
    """A refusal as plain text (a tenant passes its own format)."""
    return message.encode("utf-8") + b"\n"


@dataclass(frozen=True)
class Tenant:
    """The app behind a proxy listener, and how the listener speaks for it."""

    provider: str  # the access log's provider column for requests refused before the app
    path: str  # the app path that serves a proxied request
    connect_path: str  # the app path that answers a CONNECT (200 opens the tunnel)
    label: str = "the proxy"  # in log lines and the "port in use" message
    # Reason phrases of statuses HTTP does not name (the tenant's own codes).
    phrases: Mapping[int, str] = field(default_factory=dict)
    # A request refused by the listener itself (bad framing, not a proxy request): the body.
    refusal: Callable[[str], bytes] = text_refusal
    content_type: str = "text/plain; charset=utf-8"
    # The answer when the app fails below its own error handling.
    unexpected_status: int = 500
    unexpected_body: bytes = b"An unexpected error has occurred.\n"
    usage: str = (
        "This is an HTTP proxy: send absolute-URI requests or CONNECT, not web-server requests."
    )

    def phrase(self, status: int) -> str:
        return self.phrases.get(status, "Unknown")

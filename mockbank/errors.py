"""What went wrong, independent of how each vendor spells it.

Each provider's ``errors.render(error)`` turns a `ProviderError` into that vendor's envelope
and status. The classes here are the failures the core raises on every provider's behalf
(routing, size limits, injected faults, unexpected exceptions); providers subclass
`ProviderError` for their own.
"""

from __future__ import annotations

from typing import ClassVar


class ProviderError(Exception):
    """A failure to report to the client in the provider's own wire format."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BAD_REQUEST"
    message: ClassVar[str] = "The request is not valid."

    def __init__(
        self, message: str | None = None, *, status: int | None = None, field: str | None = None
    ) -> None:
        self.detail = message or type(self).message
        self.http_status = status or type(self).status
        self.field = field
        super().__init__(self.detail)

    def __str__(self) -> str:
        return self.detail


class RouteNotFound(ProviderError):
    status = 404
    code = "NOT_FOUND"
    message = "No such endpoint."


class MethodNotAllowed(ProviderError):
    status = 405
    code = "METHOD_NOT_ALLOWED"
    message = "This endpoint does not accept that HTTP method."


class PayloadTooLarge(ProviderError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "The request body is larger than the limit."


class MalformedRequest(ProviderError):
    status = 400
    code = "MALFORMED"
    message = "The request could not be parsed."


class NestedTooDeep(MalformedRequest):
    """A JSON body nested past the limit, refused before any view parses it."""

    message = "The JSON body is nested too deeply."


class FaultInjected(ProviderError):
    """A failure a test asked for through the faults API."""

    code = "INJECTED_FAULT"
    message = "mockbank answered with an injected fault."


class InternalError(ProviderError):
    """An unexpected exception; the traceback went to the server log, not to the client."""

    status = 500
    code = "INTERNAL"
    message = "mockbank failed unexpectedly; the server log has the traceback."

    def __init__(self, correlation_id: str) -> None:
        super().__init__(f"{type(self).message} Correlation id: {correlation_id}.")
        self.correlation_id = correlation_id

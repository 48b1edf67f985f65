"""The REST API's errors and the one JSON envelope Westpac's client libraries parse.

Every failure is JSON: ``links``, ``errors`` (``fieldName``, ``fieldValue``, ``messages``; only
422 carries entries), ``status``, ``requestMethod``, ``requestUrl``, ``customerMessage``,
``developerMessage`` and ``traceCode`` (the journal's correlation id). A card decline is not an
error: it is a processed transaction answered 201 with ``status`` "Declined".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from mockbank.errors import InternalError, ProviderError

if TYPE_CHECKING:
    from flask import Response

PREFIX = "/quickstream/rest/"


@dataclass(frozen=True)
class FieldError:
    """One invalid field: its name, the value sent (never a card number or CVN) and why."""

    field_name: str
    field_value: str | None
    messages: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "fieldName": self.field_name,
            "fieldValue": self.field_value,
            "messages": list(self.messages),
        }


class RestError(ProviderError):
    """Base class; `customer_message` is what a payer may be shown."""

    customer_message: ClassVar[str] = "Your request could not be processed."


class Unauthorised(RestError):
    status = 401
    code = "UNAUTHORISED"
    message = "Authorisation failed."
    customer_message = "Authorisation failed."


class NotFound(RestError):
    status = 404
    code = "NOT_FOUND"
    message = "The resource was not found."
    customer_message = "The requested resource was not found."


class BadRequest(RestError):
    status = 400
    code = "BAD_REQUEST"
    message = "The request body is not a JSON object."
    customer_message = "Your request could not be processed."


class Conflict(RestError):
    status = 409
    code = "CONFLICT"
    message = "A request with this Idempotency-Key is still being processed. Retry shortly."
    customer_message = "Your request is already being processed."


class Invalid(RestError):
    """422: one or more fields are invalid; nothing was processed."""

    status = 422
    code = "UNPROCESSABLE_ENTITY"
    message = "One or more fields are invalid."
    customer_message = "Some of the details you entered are not valid."

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        first = errors[0] if errors else None
        detail = message or (
            f"{first.field_name}: {first.messages[0]}" if first and first.messages else None
        )
        super().__init__(detail, field=first.field_name if first else None)
        self.errors = errors


def invalid(name: str, value: Any, message: str) -> Invalid:
    """A 422 naming one field."""
    shown = None if value is None else str(value)[:100]
    return Invalid([FieldError(name, shown, (message,))])


def envelope(error: ProviderError, method: str, url: str, trace: str) -> dict[str, Any]:
    """The error body for `error` answered to ``method url``."""
    errors = getattr(error, "errors", [])
    if isinstance(error, InternalError):
        customer = "QuickStream is unavailable. Try again later."
    elif isinstance(error, RestError):
        customer = error.customer_message
    elif error.http_status >= 500:
        customer = "QuickStream is unavailable. Try again later."
    else:
        customer = "Your request could not be processed."
    return {
        "links": [],
        "errors": [e.as_dict() for e in errors],
        "status": str(error.http_status),
        "requestMethod": method,
        "requestUrl": url,
        "customerMessage": customer,
        "developerMessage": error.detail,
        "traceCode": trace,
    }


def render(error: ProviderError) -> Response:
    """The REST envelope as JSON with the error's status."""
    from flask import jsonify, request

    from mockbank.context import request_context

    body = envelope(error, request.method, request.url, request_context().correlation_id)
    response = jsonify(body)
    response.status_code = error.http_status
    if error.http_status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="QuickStream REST API"'
    return response

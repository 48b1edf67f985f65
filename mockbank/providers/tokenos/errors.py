"""TokenOS errors: a gRPC status code name, its HTTP status, and how the gateway spells it.

Token.io's REST gateway answers a failed call with the HTTP status of the gRPC code, the code
name in a ``token-error`` header and the message as a text body; a client that sends
``token-json-error: true`` gets ``{"error": {"errorCode", "message", "tokenTraceId"}}``. That
is how the SDK 1.0.57 gateway spoke; the current API reference answers REST clients with
``{"error": {"message", "tokenTraceId"}}``, which mockbank sends to every caller that is not an
SDK (no ``token-sdk`` header and no Ed25519 request signature).
"""

from __future__ import annotations

from typing import ClassVar

from flask import Response, jsonify, request

from mockbank.context import request_context
from mockbank.errors import (
    FaultInjected,
    InternalError,
    MalformedRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    ProviderError,
    RouteNotFound,
)

# The grpc-gateway mapping from gRPC code to HTTP status.
HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INTERNAL": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
_CODE_FOR_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ABORTED",
    413: "RESOURCE_EXHAUSTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class TokenOSError(ProviderError):
    """A failure with a gRPC code; the HTTP status follows from it."""

    code: ClassVar[str] = "INVALID_ARGUMENT"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message, status=HTTP_STATUS[type(self).code], field=field)


class InvalidArgument(TokenOSError):
    """A field is missing, malformed or out of range."""

    code = "INVALID_ARGUMENT"
    message = "The request is not valid."


class FailedPrecondition(TokenOSError):
    """The request is well formed but the state forbids it."""

    code = "FAILED_PRECONDITION"
    message = "The operation is not allowed in the current state."


class RequestAnswered(FailedPrecondition):
    """A token request the payer has already approved or denied."""

    message = "The token request has already been answered."


class RequestExpired(FailedPrecondition):
    """A token request left unanswered past its lifetime."""

    message = "The token request has expired."


class Unauthenticated(TokenOSError):
    """No valid signature or API key."""

    code = "UNAUTHENTICATED"
    message = "The request is not authenticated."


class PermissionDenied(TokenOSError):
    """Authenticated, but not allowed to touch this resource."""

    code = "PERMISSION_DENIED"
    message = "The caller may not do this."


class NotFound(TokenOSError):
    """No such member, request, token, transfer or account."""

    code = "NOT_FOUND"
    message = "Not found."


class UnknownPayer(NotFound):
    """The email typed on the consent page belongs to no Token user."""

    message = "No Token user has this email."


class AlreadyExists(TokenOSError):
    """An alias or refId is taken."""

    code = "ALREADY_EXISTS"
    message = "It already exists."


class Aborted(TokenOSError):
    """Lost a race with a concurrent change."""

    code = "ABORTED"
    message = "The operation was aborted by a concurrent change; retry."


class Unimplemented(TokenOSError):
    """A TokenOS feature mockbank does not emulate."""

    code = "UNIMPLEMENTED"
    message = "mockbank does not implement this TokenOS operation."


def code_of(error: ProviderError) -> str:
    """The gRPC code name for any error, including the core's generic ones."""
    if isinstance(error, TokenOSError):
        return error.code
    if isinstance(error, InternalError):
        return "INTERNAL"
    if isinstance(error, RouteNotFound):
        return "NOT_FOUND"
    if isinstance(error, MethodNotAllowed):
        return "UNIMPLEMENTED"
    if isinstance(error, PayloadTooLarge):
        return "RESOURCE_EXHAUSTED"
    if isinstance(error, MalformedRequest):
        return "INVALID_ARGUMENT"
    if isinstance(error, FaultInjected):
        return _CODE_FOR_STATUS.get(error.http_status, "UNAVAILABLE")
    return _CODE_FOR_STATUS.get(error.http_status, "UNKNOWN")


def _sdk_request() -> bool:
    """Token's SDKs name themselves in ``token-sdk`` and sign with Token-Ed25519-SHA512; they
    read an error as the text body plus the ``token-error`` header."""
    authorization = request.headers.get("Authorization", "")
    return bool(request.headers.get("token-sdk")) or authorization.startswith("Token-Ed25519")


def render(error: ProviderError) -> Response:
    """The gateway's answer: status from the code, ``token-error`` header, text or JSON body."""
    code = code_of(error)
    trace_id = request_context().correlation_id
    from mockbank.providers.tokenos import errors_v2  # imports this module: load it late

    if errors_v2.is_v2_path(request.path):
        response = jsonify(errors_v2.envelope(error, code, trace_id))
    elif request.headers.get("token-json-error", "").strip().lower() == "true":
        response = jsonify(
            {"error": {"errorCode": code, "message": error.detail, "tokenTraceId": trace_id}}
        )
    elif _sdk_request():
        response = Response(error.detail, mimetype="text/plain")
    else:
        # The current API reference's v1 envelope, for REST clients (API key, JWT, no auth).
        response = jsonify({"error": {"message": error.detail, "tokenTraceId": trace_id}})
    response.status_code = error.http_status
    response.headers["token-error"] = code
    response.headers["token-trace-id"] = trace_id
    return response

"""Forter's errors: JSON ``{"error": message, "code": CODE}`` with the proxy's own statuses.

The seed (003) reserves 407, 502, 555, 556 and 565 for the Detokenization Proxy so they cannot be
mistaken for the target's answers; the tokenization API answers 400/401/404 (our choice).
"""

from __future__ import annotations

from flask import Response, jsonify, request

from mockbank.context import request_context
from mockbank.errors import InternalError, ProviderError

PROXY_REALM = 'Basic realm="Forter Secure Proxy"'
API_REALM = 'Basic realm="Forter Tokenization API"'


class ForterError(ProviderError):
    """Base class of Forter's own failures."""


class ValidationFailed(ForterError):
    status = 400
    code = "VALIDATION_ERROR"
    message = "The request is not valid."


class Unauthorized(ForterError):
    status = 401
    code = "UNAUTHORIZED"
    message = "Send 'Authorization: Basic base64(site_id:site_secret)'."


class TokenNotFound(ForterError):
    status = 404
    code = "TOKEN_NOT_FOUND"
    message = "No such token."


class ProxyAuthenticationRequired(ForterError):
    status = 407
    code = "PROXY_AUTHENTICATION_REQUIRED"
    message = "Send 'Proxy-Authorization: Basic base64(site_id:site_secret)'."


class TargetUnreachable(ForterError):
    status = 502
    code = "TARGET_UNREACHABLE"
    message = "The target could not be reached."


class ProxyTokenNotFound(ForterError):
    status = 555
    code = "TOKEN_NOT_FOUND"
    message = "The supplied token could not be found."


class ProxyValidationError(ForterError):
    status = 556
    code = "VALIDATION_ERROR"
    message = "Please check the inputs passed to the Detokenization Proxy."


class ProxyUnexpectedError(ForterError):
    status = 565
    code = "UNEXPECTED_ERROR"
    message = "An unexpected error has occurred."


def is_proxy_request() -> bool:
    """True while serving a request that came in through the proxy front door."""
    return "mockbank.proxy" in request.environ


def render(error: ProviderError) -> Response:
    """Write any error (Forter's or the core's) as Forter's JSON envelope and status."""
    status = error.http_status
    body: dict[str, object] = {"error": error.detail, "code": error.code}
    if error.field:
        body["field"] = error.field
    if isinstance(error, InternalError):
        body["correlationId"] = error.correlation_id
        # The seed: "565 - An unexpected error has occurred" is the proxy's own failure code.
        if is_proxy_request():
            status = ProxyUnexpectedError.status
            body["code"] = ProxyUnexpectedError.code
    elif status >= 500 and request_context().correlation_id:
        body["correlationId"] = request_context().correlation_id
    response = jsonify(body)
    response.status_code = status
    if status == ProxyAuthenticationRequired.status:
        response.headers["Proxy-Authenticate"] = PROXY_REALM
    elif status == Unauthorized.status:
        response.headers["WWW-Authenticate"] = API_REALM
    return response

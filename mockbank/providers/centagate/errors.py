"""Centagate's return codes, and the ``{"code","message","object"}`` envelope they travel in."""

from __future__ import annotations

from typing import ClassVar

from flask import Response, jsonify

from mockbank.errors import (
    FaultInjected,
    InternalError,
    MalformedRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    ProviderError,
    RouteNotFound,
)


class CentagateError(ProviderError):
    """A failure with a Centagate return code; answered with HTTP 200 like the real API."""

    status = 200
    return_code: ClassVar[int] = 10002


class InvalidInput(CentagateError):
    return_code = 10002
    code = "INVALID_INPUT"
    message = "Invalid input"


class UserNotFound(CentagateError):
    return_code = 22002
    code = "USER_NOT_FOUND"
    message = "User not found"


class UserNotActive(CentagateError):
    return_code = 22004
    code = "USER_NOT_ACTIVE"
    message = "User is not active"


class InvalidCredentials(CentagateError):
    return_code = 23001
    code = "INVALID_CREDENTIALS"
    message = "Invalid credentials"


class DeviceNotBound(CentagateError):
    return_code = 23013
    code = "DEVICE_NOT_BOUND"
    message = "User does not bind with any device"


class AuthenticationDataNotFound(CentagateError):
    return_code = 23016
    code = "AUTH_DATA_NOT_FOUND"
    message = "Authentication data does not exist"


class RequestOwnerMismatch(CentagateError):
    return_code = 23019
    code = "OWNER_MISMATCH"
    message = "Authentication request owner not match"


class InvalidSignature(CentagateError):
    return_code = 23022
    code = "INVALID_SIGNATURE"
    message = "Authentication request rejected. Invalid API signature"


class RequestExpired(CentagateError):
    return_code = 23023
    code = "REQUEST_EXPIRED"
    message = "Authentication request rejected. Request expired"


class ApiNotFound(CentagateError):
    return_code = 23024
    code = "API_NOT_FOUND"
    message = "API not found"


class ApiError(CentagateError):
    return_code = 23025
    code = "API_ERROR"
    message = "Authentication API error"


class TokenLocked(CentagateError):
    return_code = 23036
    code = "OTP_TOKEN_LOCKED"
    message = "OTP token locked"


class DeviceNotFound(CentagateError):
    return_code = 36000
    code = "DEVICE_NOT_FOUND"
    message = "Device not found"


class DeviceNotActive(CentagateError):
    return_code = 36004
    code = "DEVICE_NOT_ACTIVE"
    message = "User device not active"


def return_code_for(error: ProviderError) -> int:
    """The Centagate return code for any failure, core ones included."""
    if isinstance(error, CentagateError):
        return error.return_code
    if isinstance(error, RouteNotFound | MethodNotAllowed):
        return ApiNotFound.return_code
    if isinstance(error, FaultInjected | InternalError):
        return ApiError.return_code
    if isinstance(error, PayloadTooLarge | MalformedRequest):
        return InvalidInput.return_code
    return InvalidInput.return_code if error.http_status < 500 else ApiError.return_code


def envelope(code: int, message: str, obj: str = "") -> Response:
    """Centagate's response body: ``object`` is JSON-encoded text, empty on failure."""
    return jsonify({"code": code, "message": message, "object": obj})


def render(error: ProviderError) -> Response:
    """Write any failure in Centagate's envelope.

    Centagate answers its own failures with HTTP 200 and a return code; failures below the API
    (unknown path, wrong method, oversized body, injected faults, crashes) keep their HTTP
    status so clients that check it still see them, with the envelope as the body.
    """
    response = envelope(return_code_for(error), error.detail)
    response.status_code = error.http_status
    return response

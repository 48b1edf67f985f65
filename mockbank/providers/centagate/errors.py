"""Centagate's return codes, and the ``{"code","message","object"}`` envelope they travel in.

Two code tables: ``current`` (CentagateDocs' ``ReturnCode.mdx``, the default) and ``2018`` (the
CENTAGATE API document of 2018, which the errors below are named after). An app picks one with
``returnCodes`` in its fixture; the option ``centagate.return_codes`` sets the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from flask import Response, jsonify

from mockbank.context import vendor_context
from mockbank.errors import (
    FaultInjected,
    InternalError,
    MalformedRequest,
    MethodNotAllowed,
    NestedTooDeep,
    PayloadTooLarge,
    ProviderError,
    RouteNotFound,
)
from mockbank.state import current_state


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


class AuthenticationPending(CentagateError):
    """statecheck: the user has not approved on the device yet (our code; the docs show none)."""

    return_code = 23100
    code = "AUTH_PENDING"
    message = "Authentication pending"


ERROR_CLASSES: tuple[type[CentagateError], ...] = (
    InvalidInput,
    UserNotFound,
    UserNotActive,
    InvalidCredentials,
    DeviceNotBound,
    AuthenticationDataNotFound,
    RequestOwnerMismatch,
    InvalidSignature,
    RequestExpired,
    ApiNotFound,
    ApiError,
    TokenLocked,
    DeviceNotFound,
    DeviceNotActive,
    AuthenticationPending,
)

RETURN_CODE_TABLES = ("current", "2018")
DEFAULT_RETURN_CODES = "current"
# 2018 code -> the current table's code and message for the same condition. Codes the current
# table keeps (0, 10002, 22002, 22004, 23001, 23025, 36000) map to themselves; the others go to
# the nearest current entry (docs/providers/centagate.md says why for each).
CURRENT_CODES: dict[int, tuple[int, str]] = {
    10002: (10002, "Invalid Input"),
    22002: (22002, "User Not Found"),
    22004: (22004, "User Is Not Active"),
    23001: (23001, "Invalid Credentials"),
    23013: (29003, "Token Is Not Bound to the User"),
    23016: (23001, "Invalid Credentials"),
    23019: (10001, "Permission Not Allowed"),
    23022: (55000, "Invalid Signature"),
    23023: (10002, "Invalid Input"),
    23024: (10001, "Permission Not Allowed"),
    23025: (23025, "Web API Error"),
    23036: (29017, "Invalid Token Status"),
    36000: (36000, "Device Not Found"),
    36004: (29002, "Token Not Active"),
    23100: (23100, "Authentication pending"),
}


def return_code_for(error: ProviderError) -> int:
    """The Centagate return code (2018 table) for any failure, core ones included."""
    if isinstance(error, CentagateError):
        return error.return_code
    if isinstance(error, RouteNotFound | MethodNotAllowed):
        return ApiNotFound.return_code
    if isinstance(error, FaultInjected | InternalError):
        return ApiError.return_code
    if isinstance(error, PayloadTooLarge | MalformedRequest):
        return InvalidInput.return_code
    return InvalidInput.return_code if error.http_status < 500 else ApiError.return_code


def in_table(code: int, detail: str, table: str) -> tuple[int, str]:
    """A 2018 code and its message as `table` spells them (the why after a colon is kept)."""
    if table == "2018" or code not in CURRENT_CODES:
        return code, detail
    current, message = CURRENT_CODES[code]
    _, colon, why = detail.partition(": ")
    if not colon:
        why = detail.rstrip(".")
    return current, f"{message}: {why}" if why and why.lower() != message.lower() else message


@dataclass
class CentagateRequest:
    """Centagate's own per-request values (its slot in the request context)."""

    # The return-code table of the app this request named; None until the app is known.
    return_codes: str | None = None
    # The HMAC orders that matched this request's signature, comma-separated (a header).
    hmac_order: str | None = None


def table_in_use() -> str:
    """The table of the app this request named (set by the views), else the default."""
    table = vendor_context(CentagateRequest).return_codes
    if table is None:
        from mockbank.providers.centagate.settings import settings

        table = settings(current_state()).return_codes
    return str(table)


def envelope(code: int, message: str, obj: str = "") -> Response:
    """Centagate's response body: ``code`` a string, as the real server sends it (SecureMetric's
    own client casts it to String); ``object`` JSON-encoded text, empty on failure."""
    return jsonify({"code": str(code), "message": message, "object": obj})


def render(error: ProviderError) -> Response:
    """Write any failure in Centagate's envelope.

    Centagate answers its own failures with HTTP 200 and a return code; failures below the API
    (unknown path, wrong method, oversized body, injected faults, crashes) keep their HTTP
    status so clients that check it still see them, with the envelope as the body.
    """
    code = return_code_for(error)
    if isinstance(error, RouteNotFound | MethodNotAllowed) and table_in_use() == "current":
        code = ApiError.return_code  # "Web API Error": the current table has no "API not found"
    response = envelope(*in_table(code, error.detail, table_in_use()))
    # A body nested too deeply is refused before the view parses it; the view itself
    # answers an unparseable body as invalid input (10002) with HTTP 200.
    response.status_code = 200 if isinstance(error, NestedTooDeep) else error.http_status
    return response

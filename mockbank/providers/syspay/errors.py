"""SysPay's errors and the one `render` that writes them in SysPay's envelopes.

v1 paths answer ``{"error": {"code": int, "message": str}}`` (the shape SysPay's PHP SDK reads
into ``Syspay_Merchant_RequestException``); v2 paths (and anything else under ``/syspay``)
answer ``{"error_code": int, "errors": [{"code": int, "message": str}, ...]}``. The one-time
redirect pages answer HTML instead, because a browser is reading them.

Where SysPay's own code table (its v2 PHP SDK's ``ErrorCodes``, which cites
``app.syspay.com/docs/api/v2/merchant/reference/codes.html``) has a code for the condition,
that code and its message are used. Conditions SysPay's table has no code for get mockbank's
own codes in the 99xxxx block, outside every SysPay range: ``99`` + HTTP status + a serial.
``docs/providers/syspay.md`` lists them all with their source; ``/_mockbank/magic-values/syspay``
serves the table as data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from flask import Response, jsonify, render_template, request

from mockbank import errors as core
from mockbank.context import vendor_context
from mockbank.errors import ProviderError
from mockbank.state import current_state

PREFIX = "/syspay"
REDIRECT_PATH = f"{PREFIX}/redirect/"
UUID_HEADER = "X-Syspay-Request-Uuid"
SYSPAY_TABLE = "SysPay code table"
OURS = "mockbank (SysPay has no code)"

# The codes of SysPay's table this emulator uses, with SysPay's messages ({{ x }} filled in).
MISSING_PARAMETERS = 10003  # "Missing required parameters: {{ parameters }}"
EXTRA_PARAMETERS = 10004  # "Extra parameters not allowed: {{ parameters }}"
INVALID_DATA_FORMAT = 10001  # "Invalid data format"
WRONG_TYPE = 10009  # "The value {{ value }} is not of type {{ type }}"
RESOURCE_NOT_FOUND = 20019  # "Resource not found"
TOO_LONG = 20035  # "This parameter has a maximum length of {{ limit }} characters"
INVALID_CARDHOLDER = 30020  # "Invalid cardholder parameter"
INVALID_CARDNUMBER = 30021  # "Invalid cardnumber"
INVALID_CVC = 30022  # "Invalid cvc parameter"
INVALID_EXP_MONTH = 30023  # "Invalid exp_month parameter"
INVALID_EXP_YEAR = 30024  # "Invalid exp_year parameter"
INVALID_EXPIRE_DATE = 30025  # "Invalid expire date"
NO_TYPE_PERMISSION = 30033  # "No permission to detokenize as: {{ type }}"
BAD_CHECK_DIGIT = 30048  # "Invalid check digit for provided card number"
INVALID_DETOKENIZER = 60005  # "Invalid Detokenizer ID"
INVALID_DETOKENIZER_IDS = 60006  # "Invalid authorized_detokenizers IDs"
COMPANY_REFERENCE_MISMATCH = 60007  # "Company Reference does not match expected value"


class SysPayError(ProviderError):
    """A SysPay failure with its numeric code and where that code comes from."""

    syspay_code: ClassVar[int] = 994000
    source: ClassVar[str] = OURS

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        field: str | None = None,
        problems: list[tuple[str, str, int]] | None = None,
    ) -> None:
        super().__init__(message, status=status, field=field)
        # (field, message, code) triples: v2 lists each one, v1 shows the first.
        self.problems = problems or []

    @property
    def number(self) -> int:
        """The code on the wire: a validation error's first problem decides it."""
        return self.problems[0][2] if self.problems else self.syspay_code


# -- 403: authentication (SysPay's merchant API answers a failed login with 403) ----------------
class AuthMissing(SysPayError):
    status, code, syspay_code = 403, "AUTH_MISSING", 994031
    message = "The X-Wsse header is missing."


class AuthMalformed(SysPayError):
    status, code, syspay_code = 403, "AUTH_MALFORMED", 994032
    message = "The X-Wsse header is malformed."


class UnknownLogin(SysPayError):
    status, code, syspay_code = 403, "UNKNOWN_LOGIN", 994033
    message = "Unknown API login."


class InvalidDigest(SysPayError):
    status, code, syspay_code = 403, "INVALID_DIGEST", 994034
    message = "The PasswordDigest does not match the nonce, Created and passphrase."


class StaleCreated(SysPayError):
    status, code, syspay_code = 403, "STALE_CREATED", 994035
    message = "Created is too far from the server's clock."


class ReplayedNonce(SysPayError):
    status, code, syspay_code = 403, "NONCE_REPLAYED", 994036
    message = "This nonce was already used; generate a new X-Wsse header for every request."


class WrongLoginKind(SysPayError):
    status, code, syspay_code = 403, "WRONG_LOGIN_KIND", 994037
    message = "This endpoint needs another kind of API login."


AUTH_ERRORS: tuple[type[SysPayError], ...] = (
    AuthMissing,
    AuthMalformed,
    UnknownLogin,
    InvalidDigest,
    StaleCreated,
    ReplayedNonce,
    WrongLoginKind,
)


# -- 400, 415: the request body -----------------------------------------------------------------
class ValidationFailed(SysPayError):
    """Wrong fields; each problem carries its own code from SysPay's table."""

    status, code, syspay_code = 400, "VALIDATION", MISSING_PARAMETERS
    source = SYSPAY_TABLE
    message = "Missing required parameters"


class MalformedJson(SysPayError):
    status, code, syspay_code = 400, "MALFORMED_JSON", INVALID_DATA_FORMAT
    source = SYSPAY_TABLE
    message = "Invalid data format"


class UnsupportedMediaType(SysPayError):
    status, code, syspay_code = 415, "UNSUPPORTED_MEDIA_TYPE", 994151
    message = "The request body must be JSON (Content-Type: application/json)."


# -- 403: permissions ---------------------------------------------------------------------------
class NotADetokenizer(SysPayError):
    status, code, syspay_code = 403, "NOT_A_DETOKENIZER", INVALID_DETOKENIZER
    source = SYSPAY_TABLE
    message = "Invalid Detokenizer ID"


class TypeNotAllowed(SysPayError):
    status, code, syspay_code = 403, "TYPE_NOT_ALLOWED", NO_TYPE_PERMISSION
    source = SYSPAY_TABLE
    message = "No permission to detokenize as: {{ type }}"


class CompanyReferenceMismatch(SysPayError):
    status, code, syspay_code = 403, "COMPANY_REFERENCE_MISMATCH", COMPANY_REFERENCE_MISMATCH
    source = SYSPAY_TABLE
    message = "Company Reference does not match expected value"


class PartnerNotLinked(SysPayError):
    status, code, syspay_code = 403, "PARTNER_NOT_LINKED", 994038
    message = "This partner may not act for this merchant."


# -- 404, 410: things that are not (or no longer) there -----------------------------------------
class UnknownToken(SysPayError):
    status, code, syspay_code = 404, "UNKNOWN_TOKEN", RESOURCE_NOT_FOUND
    source = SYSPAY_TABLE
    message = "Resource not found"


class UnsupportedVersion(SysPayError):
    status, code, syspay_code = 404, "UNSUPPORTED_VERSION", 994042
    message = "Unknown API version; use v1 or v2."


class UnknownRedirect(SysPayError):
    status, code, syspay_code = 404, "UNKNOWN_REDIRECT", 994043
    message = "This detokenization URL does not exist."


class RedirectUsed(SysPayError):
    status, code, syspay_code = 410, "REDIRECT_USED", 994101
    message = "This detokenization URL has already been used; request another one."


class RedirectExpired(SysPayError):
    status, code, syspay_code = 410, "REDIRECT_EXPIRED", 994102
    message = "This detokenization URL expired (60 seconds); request another one."


# The core's failures: SysPay's "Invalid data format" for an unparseable body, ours otherwise.
CORE_CODES: dict[type[ProviderError], int] = {
    core.RouteNotFound: 994041,
    core.MethodNotAllowed: 994051,
    core.PayloadTooLarge: 994131,
    core.MalformedRequest: INVALID_DATA_FORMAT,
    core.InternalError: 995001,
}

ERROR_CLASSES: tuple[type[SysPayError], ...] = (
    *AUTH_ERRORS,
    ValidationFailed,
    MalformedJson,
    UnsupportedMediaType,
    NotADetokenizer,
    TypeNotAllowed,
    CompanyReferenceMismatch,
    PartnerNotLinked,
    UnknownToken,
    UnsupportedVersion,
    UnknownRedirect,
    RedirectUsed,
    RedirectExpired,
)

# Validation codes a single field problem can carry (all 400, all from SysPay's table).
VALIDATION_CODES: dict[int, str] = {
    MISSING_PARAMETERS: "Missing required parameters: {{ parameters }}",
    EXTRA_PARAMETERS: "Extra parameters not allowed: {{ parameters }}",
    INVALID_DATA_FORMAT: "Invalid data format",
    WRONG_TYPE: "The value {{ value }} is not of type {{ type }}",
    TOO_LONG: "This parameter has a maximum length of {{ limit }} characters",
    INVALID_CARDHOLDER: "Invalid cardholder parameter",
    INVALID_CARDNUMBER: "Invalid cardnumber",
    INVALID_CVC: "Invalid cvc parameter",
    INVALID_EXP_MONTH: "Invalid exp_month parameter",
    INVALID_EXP_YEAR: "Invalid exp_year parameter",
    INVALID_EXPIRE_DATE: "Invalid expire date",
    BAD_CHECK_DIGIT: "Invalid check digit for provided card number",
    INVALID_DETOKENIZER_IDS: "Invalid authorized_detokenizers IDs",
}


def syspay_code(error: ProviderError) -> int:
    """The numeric code for any error, ours or the core's (injected faults: 99 + status + 9)."""
    if isinstance(error, SysPayError):
        return error.number
    for kind, number in CORE_CODES.items():
        if isinstance(error, kind):
            return number
    return 990009 + error.http_status * 10


def _row(http: object, code: object, name: str, message: str, source: str) -> dict[str, object]:
    return {"http": http, "code": code, "name": name, "message": message, "source": source}


def error_table() -> list[dict[str, object]]:
    """Every code mockbank answers with, and where it comes from, as data."""
    rows = [
        _row(k.status, k.syspay_code, k.code, k.message, k.source)
        for k in ERROR_CLASSES
        if k is not ValidationFailed
    ]
    rows += [
        _row(400, number, "VALIDATION", message, SYSPAY_TABLE)
        for number, message in VALIDATION_CODES.items()
    ]
    rows += [
        _row(k.status, n, k.code, k.message, SYSPAY_TABLE if n < 990000 else OURS)
        for k, n in CORE_CODES.items()
        if n != INVALID_DATA_FORMAT
    ]
    rows.append(
        _row("any", "99 + status + 9", core.FaultInjected.code, core.FaultInjected.message, OURS)
    )
    return sorted(rows, key=lambda row: str(row["code"]))


@dataclass
class SyspayRequest:
    """SysPay's own per-request values (its slot in the request context)."""

    request_uuid: str | None = None  # this request's X-Syspay-Request-Uuid, once made


def request_uuid() -> str:
    """One X-Syspay-Request-Uuid per request (seeded, so runs are reproducible)."""
    per_request = vendor_context(SyspayRequest)
    if per_request.request_uuid is None:
        per_request.request_uuid = current_state().new_uuid()
    return per_request.request_uuid


def _html_page(error: ProviderError) -> Response:
    """The card URL's failures as a page in the card page's style."""
    title = "Card details unavailable" if error.http_status == 410 else "SysPay"
    body = render_template(
        "syspay/unavailable.html",
        title=title,
        detail=error.detail,
        code=syspay_code(error),
        status=error.http_status,
    )
    response = Response(body, status=error.http_status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def render(error: ProviderError) -> Response:
    """Write `error` in SysPay's envelope for the path it happened on."""
    path = request.path
    number = syspay_code(error)
    if path.startswith(REDIRECT_PATH):
        response = _html_page(error)
    elif path.startswith(f"{PREFIX}/api/v1/"):
        response = jsonify({"error": {"code": number, "message": error.detail}})
    else:
        problems = getattr(error, "problems", None) or [(error.field or "", error.detail, number)]
        response = jsonify(
            {
                "error_code": number,
                "errors": [
                    {"code": code, "message": message, **({"field": name} if name else {})}
                    for name, message, code in problems
                ],
            }
        )
    response.status_code = error.http_status
    if isinstance(error, AUTH_ERRORS):
        response.headers["WWW-Authenticate"] = 'WSSE realm="SysPay", profile="UsernameToken"'
    response.headers[UUID_HEADER] = request_uuid()
    return response

"""SysPay's errors and the one `render` that writes them in SysPay's envelopes.

v1 paths answer ``{"error": {"code": int, "message": str}}`` (the shape SysPay's PHP SDK reads
into ``Syspay_Merchant_RequestException``); v2 paths (and anything else under ``/syspay``)
answer ``{"error_code": int, "errors": [{"code": int, "message": str}, ...]}``. The one-time
redirect pages answer HTML instead, because a browser is reading them. The numeric codes are
ours (the seed lists none): HTTP status times 100 plus a serial, documented in
``docs/providers/syspay.md`` and served by ``/_mockbank/magic-values/syspay``.
"""

from __future__ import annotations

from html import escape
from typing import ClassVar

from flask import Response, g, jsonify, request

from mockbank import errors as core
from mockbank.errors import ProviderError
from mockbank.state import current_state

PREFIX = "/syspay"
REDIRECT_PATH = f"{PREFIX}/redirect/"
UUID_HEADER = "X-Syspay-Request-Uuid"


class SysPayError(ProviderError):
    """A SysPay failure with its numeric code."""

    syspay_code: ClassVar[int] = 40000

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        field: str | None = None,
        problems: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message, status=status, field=field)
        # (field, message) pairs: v2 lists each one, v1 shows the first.
        self.problems = problems or []


# -- 401: authentication ------------------------------------------------------------------------
class AuthMissing(SysPayError):
    status, code, syspay_code = 401, "AUTH_MISSING", 40101
    message = "The X-Wsse header is missing."


class AuthMalformed(SysPayError):
    status, code, syspay_code = 401, "AUTH_MALFORMED", 40102
    message = "The X-Wsse header is malformed."


class UnknownLogin(SysPayError):
    status, code, syspay_code = 401, "UNKNOWN_LOGIN", 40103
    message = "Unknown API login."


class InvalidDigest(SysPayError):
    status, code, syspay_code = 401, "INVALID_DIGEST", 40104
    message = "The PasswordDigest does not match the nonce, Created and passphrase."


class StaleCreated(SysPayError):
    status, code, syspay_code = 401, "STALE_CREATED", 40105
    message = "Created is too far from the server's clock."


class ReplayedNonce(SysPayError):
    status, code, syspay_code = 401, "NONCE_REPLAYED", 40106
    message = "This nonce was already used; generate a new X-Wsse header for every request."


class WrongLoginKind(SysPayError):
    status, code, syspay_code = 401, "WRONG_LOGIN_KIND", 40107
    message = "This endpoint needs another kind of API login."


# -- 400, 415: the request body -----------------------------------------------------------------
class ValidationFailed(SysPayError):
    status, code, syspay_code = 400, "VALIDATION", 40001
    message = "The request parameters are not valid."


class MalformedJson(SysPayError):
    status, code, syspay_code = 400, "MALFORMED_JSON", 40002
    message = "The request body is not a valid JSON object."


class UnsupportedMediaType(SysPayError):
    status, code, syspay_code = 415, "UNSUPPORTED_MEDIA_TYPE", 41501
    message = "The request body must be JSON (Content-Type: application/json)."


# -- 403: permissions ---------------------------------------------------------------------------
class NotADetokenizer(SysPayError):
    status, code, syspay_code = 403, "NOT_A_DETOKENIZER", 40301
    message = "You are not in the list of authorized detokenizers of this token."


class TypeNotAllowed(SysPayError):
    status, code, syspay_code = 403, "TYPE_NOT_ALLOWED", 40302
    message = "You are not allowed this detokenization type."


class PartnerNotLinked(SysPayError):
    status, code, syspay_code = 403, "PARTNER_NOT_LINKED", 40303
    message = "This partner may not act for this merchant."


# -- 404, 410: things that are not (or no longer) there -----------------------------------------
class UnknownToken(SysPayError):
    status, code, syspay_code = 404, "UNKNOWN_TOKEN", 40401
    message = "No such token."


class UnsupportedVersion(SysPayError):
    status, code, syspay_code = 404, "UNSUPPORTED_VERSION", 40403
    message = "Unknown API version; use v1 or v2."


class UnknownRedirect(SysPayError):
    status, code, syspay_code = 404, "UNKNOWN_REDIRECT", 40404
    message = "This detokenization URL does not exist."


class RedirectUsed(SysPayError):
    status, code, syspay_code = 410, "REDIRECT_USED", 41001
    message = "This detokenization URL has already been used; request another one."


class RedirectExpired(SysPayError):
    status, code, syspay_code = 410, "REDIRECT_EXPIRED", 41002
    message = "This detokenization URL expired (60 seconds); request another one."


# The core's failures, numbered in the same scheme.
CORE_CODES: dict[type[ProviderError], int] = {
    core.RouteNotFound: 40402,
    core.MethodNotAllowed: 40501,
    core.PayloadTooLarge: 41301,
    core.MalformedRequest: 40002,
    core.InternalError: 50001,
}

ERROR_CLASSES: tuple[type[SysPayError], ...] = (
    AuthMissing,
    AuthMalformed,
    UnknownLogin,
    InvalidDigest,
    StaleCreated,
    ReplayedNonce,
    WrongLoginKind,
    ValidationFailed,
    MalformedJson,
    UnsupportedMediaType,
    NotADetokenizer,
    TypeNotAllowed,
    PartnerNotLinked,
    UnknownToken,
    UnsupportedVersion,
    UnknownRedirect,
    RedirectUsed,
    RedirectExpired,
)


def syspay_code(error: ProviderError) -> int:
    """The numeric code for any error, ours or the core's (injected faults: status*100+99)."""
    if isinstance(error, SysPayError):
        return error.syspay_code
    for kind, number in CORE_CODES.items():
        if isinstance(error, kind):
            return number
    return error.http_status * 100 + 99


def error_table() -> list[dict[str, object]]:
    """Every documented code as data, for magic-values and the docs."""
    rows: list[dict[str, object]] = [
        {"http": k.status, "code": k.syspay_code, "name": k.code, "message": k.message}
        for k in ERROR_CLASSES
    ]
    rows += [
        {"http": k.status, "code": n, "name": k.code, "message": k.message}
        for k, n in CORE_CODES.items()
    ]
    rows.append(
        {
            "http": "any",
            "code": "status*100+99",
            "name": core.FaultInjected.code,
            "message": core.FaultInjected.message,
        }
    )
    return sorted(rows, key=lambda row: str(row["code"]))


def request_uuid() -> str:
    """One X-Syspay-Request-Uuid per request (seeded, so runs are reproducible)."""
    existing: str | None = g.get("syspay_request_uuid")
    if existing is None:
        existing = current_state().new_uuid()
        g.syspay_request_uuid = existing
    return existing


def _html_page(error: ProviderError) -> Response:
    title = "Card details unavailable" if error.http_status == 410 else "SysPay"
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body>"
        f"<h1>{escape(title)}</h1><p class='reason'>{escape(error.detail)}</p>"
        f"<p>Error {syspay_code(error)} (HTTP {error.http_status}).</p></body></html>"
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
        problems = getattr(error, "problems", None) or [(error.field or "", error.detail)]
        response = jsonify(
            {
                "error_code": number,
                "errors": [
                    {"code": number, "message": message, **({"field": name} if name else {})}
                    for name, message in problems
                ],
            }
        )
    response.status_code = error.http_status
    if error.http_status == 401:
        response.headers["WWW-Authenticate"] = 'WSSE realm="SysPay", profile="UsernameToken"'
    response.headers[UUID_HEADER] = request_uuid()
    return response

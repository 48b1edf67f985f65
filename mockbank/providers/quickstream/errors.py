"""QuickStream's errors and the two envelopes they are written in.

The secure token request is a machine-to-machine API that answers ``text/plain``: a failure is
``error=<message naming the parameter>`` with 400, 401 or 403 (DESIGN §2; the seed shows no
failure body). The QuickWeb pages a person sees (handoff, payment, receipt) answer with an HTML
error page and a 4xx status instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from mockbank.errors import ProviderError

if TYPE_CHECKING:
    from flask import Response

# Paths under the prefix that are pages a person sees; everything else is the text API.
PAGE_PATHS = ("/quickstream/OnlinePaymentServlet3", "/quickstream/quickweb/")
# The REST API answers JSON in its own envelope (rest/errors.py).
REST_PREFIX = "/quickstream/rest/"


class QuickStreamError(ProviderError):
    """Base class; `title` heads the HTML error page."""

    title: ClassVar[str] = "Something went wrong"


class IpNotAllowed(QuickStreamError):
    status = 403
    code = "IP_NOT_ALLOWED"
    message = "The IP address is not on the facility's allow-list."


class BadCredentials(QuickStreamError):
    status = 401
    code = "BAD_CREDENTIALS"
    message = "username or password is incorrect."


class InvalidParameter(QuickStreamError):
    status = 400
    code = "INVALID_PARAMETER"
    message = "A parameter is not valid."


class TokenUnknown(QuickStreamError):
    status = 404
    code = "TOKEN_UNKNOWN"
    title = "Unknown security token"
    message = "The security token is not known. Start the payment again from the merchant's site."


class TokenUsed(QuickStreamError):
    status = 410
    code = "TOKEN_USED"
    title = "Security token already used"
    message = "The security token has already been used. A token can be used only once."


class TokenExpired(QuickStreamError):
    status = 410
    code = "TOKEN_EXPIRED"
    title = "Security token expired"
    message = "The security token has expired. A token is valid for 1 hour after it is created."


class CommunityMismatch(QuickStreamError):
    status = 403
    code = "COMMUNITY_MISMATCH"
    title = "Community code does not match"
    message = "The communityCode does not belong to the facility that requested this token."


class WrongConnectionType(QuickStreamError):
    status = 400
    code = "WRONG_CONNECTION_TYPE"
    title = "Token issued for another product"
    message = "This token was not requested for QuickWeb."


class SessionUnknown(QuickStreamError):
    status = 404
    code = "SESSION_UNKNOWN"
    title = "Payment session not found"
    message = "This payment session does not exist. Start again from the merchant's site."


class SessionExpired(QuickStreamError):
    status = 410
    code = "SESSION_EXPIRED"
    title = "Payment session expired"
    message = "This payment session has expired. Start again from the merchant's site."


class SessionCheckFailed(QuickStreamError):
    status = 403
    code = "SESSION_CHECK_FAILED"
    title = "Session check failed"
    message = (
        "The form did not come from this payment session (CSRF token or session cookie "
        "missing or wrong). Reload the payment page and try again."
    )


class AlreadyProcessed(QuickStreamError):
    status = 409
    code = "ALREADY_PROCESSED"
    title = "Already processed"
    message = "This payment session has already been completed or cancelled."


class NotCompleted(QuickStreamError):
    status = 409
    code = "NOT_COMPLETED"
    title = "No receipt yet"
    message = "This payment session has no completed transaction yet."


def render(error: ProviderError) -> Response:
    """QuickStream's envelope: ``error=...`` as text/plain, or an HTML page for QuickWeb."""
    # Imported here so that models.py, which raises these errors, stays free of flask.
    from flask import Response, render_template, request

    if request.path.startswith(REST_PREFIX):
        from mockbank.providers.quickstream.rest.errors import render as render_rest

        return render_rest(error)
    if request.path.startswith(PAGE_PATHS):
        title = getattr(error, "title", None) or _generic_title(error.http_status)
        html = render_template(
            "quickstream/error.html", title=title, message=error.detail, code=error.code
        )
        return Response(html, status=error.http_status, content_type="text/html; charset=utf-8")
    # One line, so a client that reads up to the first newline gets the whole message.
    text = "error=" + " ".join(error.detail.split())
    return Response(text, status=error.http_status, content_type="text/plain; charset=utf-8")


def _generic_title(status: int) -> str:
    return {
        400: "Invalid request",
        404: "Page not found",
        405: "Method not allowed",
        413: "Request too large",
    }.get(status, "QuickWeb is unavailable" if status >= 500 else "Request refused")

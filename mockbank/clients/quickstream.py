"""Helpers for integrators of mockbank's QuickStream / QuickWeb: check a passback's ``hmac``;
request a secure token and build the handoff URL.

The passback to ``returnUrl`` carries ``hmac``: HMAC-SHA256, hex, keyed with the facility's
passback secret (``passback-secret`` in the seeded fixtures), over every other field joined as
a query string (``name=value&...``, form-encoded as UTF-8). The fields are taken in the
documented order below; any field outside that list (``accountName``, ``bsb``,
``maskedAccountNumber``, ``accountToken``...) follows in ASCII order of its name, so the
result does not depend on how your framework orders the fields it received.

>>> fields = {"communityCode": "COMMUNITY1", "receiptNumber": "1000000001"}
>>> fields["hmac"] = sign_passback(fields, "passback-secret")
>>> verify_passback(fields, "passback-secret")
True
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

# The rule DESIGN documents (the default), and the one QuickStream's own "Validating the hmac"
# page describes (every field but hmac in ASCII order of its name), a per-facility option.
# The currencies QuickStream takes payments in (the token request's currencyCode, the REST
# API's currency).
CURRENCIES = ("AUD", "NZD")
LISTED_ORDER = "listed-order"
SORTED = "sorted"
RULES = (LISTED_ORDER, SORTED)

PASSBACK_ORDER = (
    "communityCode",
    "supplierBusinessCode",
    "surchargeAmount",
    "paymentAmount",
    "paymentReference",
    "customerReferenceNumber",
    "receiptNumber",
    "responseCode",
    "responseDescription",
    "summaryCode",
    "createdDateTime",
    "settlementDate",
    "cardholderName",
    "maskedCardNumber",
    "cardScheme",
    "expiryDateMonth",
    "expiryDateYear",
)


def passback_message(fields: Mapping[str, str], *, rule: str = LISTED_ORDER) -> str:
    """The exact text that is signed: the fields other than ``hmac`` as a query string."""
    if rule not in RULES:
        raise ValueError(f"unknown passback hmac rule {rule!r}; one of {', '.join(RULES)}")
    if rule == SORTED:
        return urlencode(sorted((k, v) for k, v in fields.items() if k != "hmac"))
    known = [(name, fields[name]) for name in PASSBACK_ORDER if name in fields]
    rest = sorted((k, v) for k, v in fields.items() if k not in PASSBACK_ORDER and k != "hmac")
    return urlencode([*known, *rest])


def sign_passback(fields: Mapping[str, str], secret: str, *, rule: str = LISTED_ORDER) -> str:
    """The ``hmac`` value for `fields` (HMAC-SHA256 of `passback_message`, lowercase hex)."""
    message = passback_message(fields, rule=rule).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_passback(
    fields: Mapping[str, str] | Iterable[tuple[str, str]],
    secret: str,
    *,
    rule: str = LISTED_ORDER,
) -> bool:
    """True when the passback's ``hmac`` matches its other fields signed with `secret`."""
    values = dict(fields.items() if isinstance(fields, Mapping) else fields)
    sent = values.get("hmac")
    if not isinstance(sent, str) or not sent:
        return False
    expected = sign_passback(values, secret, rule=rule)
    # Compared in constant time; a non-ASCII value can never match a hex digest.
    return hmac.compare_digest(sent.lower().encode("utf-8"), expected.encode("ascii"))


# -- QuickWeb's secure token request and handoff --------------------------------------------
class TokenRefused(Exception):
    """The token request answered an HTTP error: its status and ``error=...`` body."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


def request_token(base_url: str, params: Mapping[str, str], *, timeout: float = 10) -> str:
    """POST the secure token request to ``<base_url>/CommunityTokenRequestServlet``.

    `base_url` ends in ``/quickstream``. Returns the token; raises `TokenRefused` on an HTTP
    error and `OSError` when the server cannot be reached.
    """
    request = urllib.request.Request(
        base_url.rstrip("/") + "/CommunityTokenRequestServlet",
        data=urlencode(params).encode(),
        headers={"Accept": "text/plain", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: str = response.read().decode()
    except urllib.error.HTTPError as error:
        raise TokenRefused(error.code, error.read().decode()) from None
    return body.partition("=")[2]


def handoff_url(base_url: str, token: str, community_code: str) -> str:
    """Where to send the payer's browser with a token: ``OnlinePaymentServlet3?token=...``."""
    query = urlencode({"token": token, "communityCode": community_code})
    return f"{base_url.rstrip('/')}/OnlinePaymentServlet3?{query}"

"""Integrator helpers for mockbank's Centagate: sign requests and act as the CENTAGATE app.

Nothing here imports Flask, so client code and tests can use it on its own::

    from mockbank.clients.centagate import sign, device_otp, parse_qr

    fields["hmac"] = sign(fields, "mockbank-secret-key")          # the seed's sample order
    otp = device_otp("alice-device-secret", challenge, plain_text)  # what the phone shows
"""

from __future__ import annotations

import hashlib
import hmac
from base64 import b64decode, urlsafe_b64encode
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

OTP_DIGITS = 6
QR_SCHEME = "centagate"

# The HMAC input is the plain concatenation of field values, and Centagate's own documents
# disagree on the order. Each tuple is one documented order; missing fields count as "".
AUTH_QR_ORDERS: dict[str, tuple[str, ...]] = {
    # The parameter table of the seed ("Authorize QR Code Transaction Signing", HMAC row).
    "table": (
        "username", "devAccId", "otp", "challenge", "details", "authToken", "userAgent",
        "integrationKey", "supportFido", "browserFp", "unixTimestamp", "ipAddress",
    ),
    # The seed's Java, Node.js and PHP samples ($hmac_text / hmacText).
    "samples": (
        "username", "devAccId", "otp", "challenge", "details", "authToken", "integrationKey",
        "unixTimestamp", "supportFido", "ipAddress", "userAgent", "browserFp",
    ),
    # CENTAGATE API Documentation 3.1.3 (2018 PDF), §3.1.1.9: no devAccId yet.
    "legacy": (
        "username", "otp", "challenge", "details", "integrationKey", "unixTimestamp",
        "authToken", "supportFido", "ipAddress", "userAgent", "browserFp",
    ),
    # The Python sample of "Authorize QR Code Transaction Signing" (CentagateDocs 1.4.3.5.05):
    # the 2018 order with devAccId after username.
    "python": (
        "username", "devAccId", "otp", "challenge", "details", "integrationKey",
        "unixTimestamp", "authToken", "supportFido", "ipAddress", "userAgent", "browserFp",
    ),
}  # fmt: skip

REQUEST_QR_ORDERS: dict[str, tuple[str, ...]] = {
    # "Request QR Code Transaction Signing" parameter table (same shape as the seed's table).
    "table": (
        "username", "devAccId", "details", "authToken", "userAgent", "integrationKey",
        "supportFido", "browserFp", "unixTimestamp", "ipAddress",
    ),
    # The Java, Node.js and PHP samples of "Request QR Code Authentication API".
    "samples": (
        "username", "devAccId", "details", "authToken", "integrationKey", "unixTimestamp",
        "supportFido", "ipAddress", "userAgent", "browserFp",
    ),
    # CENTAGATE API Documentation 3.1.3 (2018 PDF), §3.1.1.17.
    "legacy": (
        "username", "details", "integrationKey", "unixTimestamp", "authToken", "ipAddress",
        "userAgent",
    ),
    # The Java, Node.js and PHP samples of "Request QR Code Transaction Signing", the request
    # half of the seed's flow (CentagateDocs 1.4.3.4.05): details before devAccId.
    "signing": (
        "username", "details", "devAccId", "authToken", "integrationKey", "unixTimestamp",
        "supportFido", "ipAddress", "userAgent", "browserFp",
    ),
    # The Python sample of that page: its transactionId instead of devAccId, 2018 order after.
    "python": (
        "username", "details", "transactionId", "integrationKey", "unixTimestamp", "authToken",
        "supportFido", "ipAddress", "userAgent", "browserFp",
    ),
}  # fmt: skip

STATECHECK_ORDERS: dict[str, tuple[str, ...]] = {
    # "Check Authentication State API" (CentagateDocs 1.4.3.2.01): its Java, Node.js and PHP
    # samples (the Postman script is the same order with the optional fields left out).
    "samples": (
        "username", "authMethod", "authToken", "integrationKey", "unixTimestamp",
        "supportFido", "ipAddress", "userAgent", "browserFp",
    ),
    # That page's parameter table (HMAC row).
    "table": (
        "username", "authMethod", "userAgent", "integrationKey", "supportFido", "browserFp",
        "unixTimestamp", "authToken", "ipAddress",
    ),
}  # fmt: skip

# The orders an app can be strict on, one per document family for both APIs. The samples
# come first: they are what integrators copy, so they name a match first. The other orders
# ("signing", "python") come from single sample programs and are accepted by non-strict apps.
ORDER_NAMES = ("samples", "table", "legacy")
ORDERS = {
    "authQRCode": AUTH_QR_ORDERS,
    "requestQrCode": REQUEST_QR_ORDERS,
    "statecheck": STATECHECK_ORDERS,
}


def canonical_string(fields: Mapping[str, object], order: tuple[str, ...]) -> str:
    """The text that is HMAC'd: the values of `order` concatenated, absent ones as ""."""
    return "".join("" if fields.get(name) is None else str(fields.get(name)) for name in order)


def hmac_hex(secret_key: str, text: str) -> str:
    """HMAC-SHA256 of `text` keyed with `secret_key` (both UTF-8), lowercase hex."""
    return hmac.new(secret_key.encode(), text.encode(), hashlib.sha256).hexdigest()


def endpoint_for(fields: Mapping[str, object]) -> str:
    """Which API a field set belongs to: authQRCode carries an OTP, statecheck an authMethod."""
    if "authMethod" in fields:
        return "statecheck"
    return "authQRCode" if "otp" in fields or "challenge" in fields else "requestQrCode"


def sign(
    fields: Mapping[str, object],
    secret_key: str,
    order: str = "samples",
    *,
    endpoint: str | None = None,
) -> str:
    """The ``hmac`` value for a requestQrCode, authQRCode or session/statecheck body, in a
    documented field order."""
    orders = ORDERS[endpoint or endpoint_for(fields)]
    if order not in orders:
        raise ValueError(f"unknown HMAC order {order!r}; use one of {', '.join(orders)}")
    return hmac_hex(secret_key, canonical_string(fields, orders[order]))


def device_otp(secret: str, otp_challenge: str, plain_text: str) -> str:
    """The 6-digit OTP the CENTAGATE app shows for a QR (mockbank's documented OCRA-style rule).

    HOTP dynamic truncation (RFC 4226) of HMAC-SHA1(key = device secret, message =
    otpChallenge + ":" + hex(SHA-256(plainText))), modulo 10^6, zero-padded.
    """
    message = f"{otp_challenge}:{hashlib.sha256(plain_text.encode()).hexdigest()}"
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**OTP_DIGITS).zfill(OTP_DIGITS)


@dataclass(frozen=True)
class QrContent:
    """What a CENTAGATE app reads from the QR: the device, the challenge and the details."""

    dev_acc_id: str
    otp_challenge: str
    plain_text: str


def _b64url(text: str) -> str:
    return urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _unb64url(text: str) -> str:
    padded = text + "=" * (-len(text) % 4)
    return b64decode(padded.encode("ascii"), altchars=b"-_", validate=True).decode("utf-8")


def qr_content(dev_acc_id: str, otp_challenge: str, plain_text: str) -> str:
    """The ``qrCode`` string: ``centagate://sign?d=<devAccId>&c=<challenge>&t=<b64url text>``."""
    query = urlencode({"d": dev_acc_id, "c": otp_challenge, "t": _b64url(plain_text)})
    return f"{QR_SCHEME}://sign?{query}"


def parse_qr(content: str) -> QrContent:
    """Read a ``qrCode`` string; ValueError says what is wrong with it."""
    parts = urlsplit(content.strip())
    if parts.scheme != QR_SCHEME or parts.netloc != "sign":
        raise ValueError(f"not a Centagate QR (expected {QR_SCHEME}://sign?...): {content!r}")
    query = parse_qs(parts.query, keep_blank_values=True)
    values: dict[str, str] = {}
    for key in ("d", "c", "t"):
        found = query.get(key)
        if not found or len(found) != 1 or not found[0]:
            raise ValueError(f"the QR content lacks its '{key}' parameter")
        values[key] = found[0]
    try:
        plain_text = _unb64url(values["t"])
    except (ValueError, UnicodeError):
        raise ValueError("the QR's 't' parameter is not base64url UTF-8 text") from None
    return QrContent(values["d"], values["c"], plain_text)


def otp_from_qr(secret: str, content: str) -> str:
    """The OTP for a scanned ``qrCode`` string."""
    parsed = parse_qr(content)
    return device_otp(secret, parsed.otp_challenge, parsed.plain_text)

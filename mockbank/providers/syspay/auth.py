"""X-Wsse verification: parse the header, check the digest and the Created window.

Pure functions over the header text and the secrets passed in; the nonce's single use is
recorded by `models.spend_nonce` once the request has succeeded.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from mockbank.clients.syspay import password_digest
from mockbank.providers.syspay import errors


class LoginKind(StrEnum):
    """Which attribute named the login: PartnerAPILogin or MerchantAPILogin."""

    PARTNER = "partner"
    MERCHANT = "merchant"


LOGIN_ATTRIBUTES = {"PartnerAPILogin": LoginKind.PARTNER, "MerchantAPILogin": LoginKind.MERCHANT}
REQUIRED = ("PasswordDigest", "Nonce", "Created")
# SysPay's hospitality API: a partner acting for a merchant adds these two to a merchant header.
ACTING_PARTNER = ("PartnerLogin", "PartnerDigest")
# Key="value" or Key='value' (SysPay's Ruby SDK quotes with '), spacing around = and , free.
_ATTRIBUTE = re.compile(r"""\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|'([^']*)')\s*(,|$)""")
_SCHEME = re.compile(r"^\s*AuthToken\s+", re.IGNORECASE)


@dataclass(frozen=True)
class WsseToken:
    """The parsed header."""

    kind: LoginKind
    login: str
    digest: str
    nonce_b64: str
    nonce: bytes
    created_text: str
    created: datetime
    partner_login: str | None = None
    partner_digest: str | None = None


@dataclass(frozen=True)
class Identity:
    """A verified caller and what its nonce record needs.

    `acting_partner` is set when a partner signed a merchant header as well (hospitality API).
    """

    kind: LoginKind
    login: str
    nonce_key: str
    nonce_expires_at: datetime
    acting_partner: str | None = None


def parse_wsse(header: str | None) -> WsseToken:
    """Parse ``AuthToken PartnerAPILogin="…", PasswordDigest="…", Nonce="…", Created="…"``."""
    if header is None or not header.strip():
        raise errors.AuthMissing(
            'The X-Wsse header is missing. Send X-Wsse: AuthToken PartnerAPILogin="…", '
            'PasswordDigest="…", Nonce="…", '
            'Created="…" (MerchantAPILogin for merchants).'
        )
    scheme = _SCHEME.match(header)
    if scheme is None:
        raise errors.AuthMalformed("The X-Wsse header must start with 'AuthToken '.")
    found = _attributes(header[scheme.end() :])
    login_attribute = _check_attributes(found)
    # Created before Nonce: a header wrong in both hears about Created first.
    created = _created(found["Created"])
    return WsseToken(
        kind=LOGIN_ATTRIBUTES[login_attribute],
        login=found[login_attribute],
        digest=found["PasswordDigest"],
        nonce_b64=found["Nonce"],
        nonce=_nonce(found["Nonce"]),
        created_text=found["Created"],
        created=created,
        partner_login=found.get("PartnerLogin"),
        partner_digest=found.get("PartnerDigest"),
    )


def _attributes(rest: str) -> dict[str, str]:
    """``Name="value"`` pairs after the scheme, each name once, nothing after the last."""
    found: dict[str, str] = {}
    position = 0
    while position < len(rest):
        match = _ATTRIBUTE.match(rest, position)
        if match is None:
            raise errors.AuthMalformed(
                f"The X-Wsse header is malformed near {rest[position : position + 20]!r}; "
                'expected Name="value" pairs separated by commas.'
            )
        name = match.group(1)
        if name in found:
            raise errors.AuthMalformed(f"The X-Wsse header repeats {name}.")
        found[name] = match.group(2) if match.group(2) is not None else match.group(3)
        position = match.end()
        if match.group(4) == "" and rest[position:].strip():
            raise errors.AuthMalformed("The X-Wsse header has text after its last attribute.")
    return found


def _check_attributes(found: dict[str, str]) -> str:
    """The one login attribute, once the set of attributes is known to be complete and valid."""
    unknown = sorted(set(found) - set(LOGIN_ATTRIBUTES) - set(REQUIRED) - set(ACTING_PARTNER))
    if unknown:
        raise errors.AuthMalformed(
            f"The X-Wsse header has unsupported attribute(s): {', '.join(unknown)}."
        )
    logins = [name for name in LOGIN_ATTRIBUTES if name in found]
    if len(logins) != 1:
        raise errors.AuthMalformed(
            "The X-Wsse header needs exactly one of PartnerAPILogin or MerchantAPILogin."
        )
    _check_acting_partner(found, logins[0])
    missing = [name for name in REQUIRED if not found.get(name)]
    if missing or not found[logins[0]]:
        names = missing or [logins[0]]
        raise errors.AuthMalformed(f"The X-Wsse header lacks {', '.join(names)}.")
    return logins[0]


def _check_acting_partner(found: dict[str, str], login_attribute: str) -> None:
    """PartnerLogin and PartnerDigest: both or neither, and only on a merchant header."""
    acting = [name for name in ACTING_PARTNER if name in found]
    if acting and login_attribute != "MerchantAPILogin":
        raise errors.AuthMalformed(
            "PartnerLogin and PartnerDigest go with MerchantAPILogin (a partner acting for a "
            "merchant); a partner acting for itself sends PartnerAPILogin alone."
        )
    if acting and (len(acting) != len(ACTING_PARTNER) or not all(found[n] for n in acting)):
        raise errors.AuthMalformed(
            "The X-Wsse header needs both PartnerLogin and PartnerDigest, or neither."
        )


def _created(text: str) -> datetime:
    """``Created``: unix seconds, ASCII digits only."""
    # Eleven digits reach the year 5138; more would overflow datetime (a 500, not a 401).
    if not text.isascii() or not text.isdigit() or len(text) > 11:
        raise errors.AuthMalformed("Created must be a unix timestamp in seconds, e.g. 1400000000.")
    return datetime.fromtimestamp(int(text), tz=UTC)


def _nonce(text: str) -> bytes:
    """``Nonce``: the raw nonce, base64-encoded."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise errors.AuthMalformed("Nonce must be base64-encoded.") from None


def verify_wsse_header(
    header: str | None,
    *,
    expected: LoginKind,
    passphrases: dict[str, str],
    now: datetime,
    window_s: float,
    partner_passphrases: dict[str, str] | None = None,
) -> Identity:
    """Check the header against the login's passphrase and the clock; raise a 401 otherwise.

    A merchant header may carry ``PartnerLogin``/``PartnerDigest`` as well: the same digest
    over the same nonce and Created with the partner's passphrase (checked against
    `partner_passphrases`).
    """
    token = parse_wsse(header)
    if token.kind is not expected:
        attribute = "PartnerAPILogin" if expected is LoginKind.PARTNER else "MerchantAPILogin"
        raise errors.WrongLoginKind(
            f"This endpoint is for {expected.value}s: authenticate with {attribute}, "
            f"not a {token.kind.value} login."
        )
    passphrase = passphrases.get(token.login)
    if passphrase is None:
        raise errors.UnknownLogin(f"Unknown {token.kind.value} API login {token.login!r}.")
    expected_digest = password_digest(token.nonce, token.created_text, passphrase)
    if not hmac.compare_digest(expected_digest.encode(), token.digest.encode("utf-8", "replace")):
        raise errors.InvalidDigest(
            "PasswordDigest does not match BASE64(SHA1(nonce + Created + passphrase)) "
            f"for {token.login!r}."
        )
    if token.partner_login is not None:
        _verify_partner_digest(token, partner_passphrases or {})
    drift = (token.created - now).total_seconds()
    if abs(drift) > window_s:
        direction = "ahead of" if drift > 0 else "behind"
        raise errors.StaleCreated(
            f"Created={token.created_text} is {abs(drift):.0f} s {direction} the server clock "
            f"(now {int(now.timestamp())}); the limit is {window_s:g} s."
        )
    return Identity(
        kind=token.kind,
        login=token.login,
        # The nonce is unique per login, kept until the header would be stale anyway.
        nonce_key=f"{token.kind.value}:{token.login}:{base64.b64encode(token.nonce).decode()}",
        nonce_expires_at=token.created + timedelta(seconds=window_s),
        acting_partner=token.partner_login,
    )


def _verify_partner_digest(token: WsseToken, passphrases: dict[str, str]) -> None:
    """PartnerDigest: BASE64(SHA1(nonce + Created + partner passphrase)), in constant time."""
    assert token.partner_login is not None
    assert token.partner_digest is not None
    passphrase = passphrases.get(token.partner_login)
    if passphrase is None:
        raise errors.UnknownLogin(f"Unknown partner API login {token.partner_login!r}.")
    expected = password_digest(token.nonce, token.created_text, passphrase)
    if not hmac.compare_digest(expected.encode(), token.partner_digest.encode("utf-8", "replace")):
        raise errors.InvalidDigest(
            "PartnerDigest does not match BASE64(SHA1(nonce + Created + partner passphrase)) "
            f"for {token.partner_login!r}."
        )

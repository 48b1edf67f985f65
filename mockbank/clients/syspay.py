"""Client helpers for SysPay integrators: build the ``X-Wsse`` header the API expects.

The algorithm is the one SysPay documents (seed 001)::

    PasswordDigest = BASE64(BINARY_SHA1(NONCE + CREATED + PASSPHRASE))

where NONCE is the raw nonce (sent base64-encoded in ``Nonce``) and CREATED the unix timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from mockbank.clock import wall_epoch

__all__ = ["password_digest", "wsse_header"]


def _raw(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def password_digest(nonce: bytes | str, created: int | str, passphrase: str) -> str:
    """BASE64(SHA1(raw nonce + Created + passphrase)), as SysPay computes it."""
    material = _raw(nonce) + str(created).encode("ascii") + passphrase.encode("utf-8")
    return base64.b64encode(hashlib.sha1(material).digest()).decode("ascii")


def wsse_header(
    login: str,
    passphrase: str,
    *,
    partner: bool = True,
    nonce: bytes | str | None = None,
    created: int | None = None,
    acting_partner: tuple[str, str] | None = None,
) -> str:
    """The value of an ``X-Wsse`` header for a partner (default) or a merchant login.

    `nonce` is the raw nonce (random 16 bytes when omitted, like the seed's ``md5(rand(), true)``)
    and `created` the unix timestamp (now when omitted). Every request needs a fresh header.
    `acting_partner=(partner_login, partner_passphrase)` with ``partner=False`` builds the
    hospitality API's header for a partner acting for a merchant: ``PartnerLogin`` and
    ``PartnerDigest`` (the same digest with the partner's passphrase) are appended.
    """
    if acting_partner is not None and partner:
        raise ValueError("acting_partner goes with a merchant header (partner=False)")
    raw_nonce = secrets.token_bytes(16) if nonce is None else _raw(nonce)
    # A client signs with its own wall clock (the server checks it against the app clock).
    timestamp = int(wall_epoch()) if created is None else int(created)
    attribute = "PartnerAPILogin" if partner else "MerchantAPILogin"
    b64nonce = base64.b64encode(raw_nonce).decode("ascii")
    digest = password_digest(raw_nonce, timestamp, passphrase)
    value = (
        f'AuthToken {attribute}="{login}", PasswordDigest="{digest}", '
        f'Nonce="{b64nonce}", Created="{timestamp}"'
    )
    if acting_partner is not None:
        partner_login, partner_passphrase = acting_partner
        partner_digest = password_digest(raw_nonce, timestamp, partner_passphrase)
        value += f', PartnerLogin="{partner_login}", PartnerDigest="{partner_digest}"'
    return value

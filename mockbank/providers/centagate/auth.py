"""Request authentication: the app's integration key, the timestamp window and the HMAC."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from mockbank.clients.centagate import ORDER_NAMES, ORDERS, canonical_string, hmac_hex
from mockbank.masking import mask_text
from mockbank.providers.centagate.errors import InvalidInput, InvalidSignature, RequestExpired

TIMESTAMP_WINDOW_S = 300


class SignatureMismatch(InvalidSignature):
    """Invalid HMAC, carrying the canonical strings tried so the journal can show them."""

    def __init__(self, tried: dict[str, str]) -> None:
        super().__init__()
        self.tried = tried


def verify_timestamp(unix_timestamp: str, now_epoch: float) -> int:
    """The request's time in seconds; RequestExpired (23023) outside ±300 s of the app clock."""
    text = unix_timestamp.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise InvalidInput(
            "Invalid input: unixTimestamp must be whole seconds since the epoch",
            field="unixTimestamp",
        )
    sent = int(text)
    if abs(sent - now_epoch) > TIMESTAMP_WINDOW_S:
        raise RequestExpired(
            f"Authentication request rejected. Request expired (unixTimestamp {sent} is "
            f"{int(sent - now_epoch):+d} s from the server clock; the window is "
            f"±{TIMESTAMP_WINDOW_S} s)"
        )
    return sent


def allowed_orders(setting: str, endpoint: str) -> tuple[str, ...]:
    """The field orders an app accepts: every documented one ("any") or exactly one (strict)."""
    documented = ORDERS[endpoint]
    if setting != "any":
        # statecheck documents no 2018 order: a strict "legacy" app signs it the samples' way.
        return (setting if setting in documented else "samples",)
    # Orders documented by one sample program only ("signing", "python") come after.
    return (
        *(name for name in ORDER_NAMES if name in documented),
        *(name for name in documented if name not in ORDER_NAMES),
    )


def verify_hmac(
    fields: Mapping[str, object],
    sent: str,
    secret_key: str,
    *,
    endpoint: str,
    setting: str = "any",
) -> tuple[str, ...]:
    """The documented orders whose HMAC equals `sent` (several when the strings coincide)."""
    candidate = sent.strip().lower().encode()
    texts = {
        name: canonical_string(fields, ORDERS[endpoint][name])
        for name in allowed_orders(setting, endpoint)
    }
    # Every allowed order is compared (no early exit), so timing does not say which was close.
    matches = [
        name
        for name, text in texts.items()
        if hmac.compare_digest(candidate, hmac_hex(secret_key, text).encode())
    ]
    if matches:
        return tuple(matches)
    raise SignatureMismatch({name: mask_text(text) for name, text in texts.items()})

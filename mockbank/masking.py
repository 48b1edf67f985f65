"""Masking for everything mockbank writes down: the journal, the outbox and the server log.

Card numbers (13-19 digits, spaces or dashes allowed, passing Luhn) keep their first six and
last four digits; values of fields and headers named like a secret become ``***``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from typing import Any
from urllib.parse import unquote_plus

MASK = "***"
SENSITIVE = re.compile(
    r"cvc|cvv|cvn|password|passphrase|secret|hmac|authorization|x-wsse", re.IGNORECASE
)
# Spaces, dashes, or '+' (a space in a form body) may group the digits.
_CARD = re.compile(r"(?<![\d])\d(?:[ +-]?\d){12,18}(?![\d])")
# key = value, key: value, "key": "value" in text that is neither JSON nor a form.
_TEXT_FIELD = re.compile(
    # Anchored at a word start, the keyword found by a lookahead and the word taken
    # possessively: linear time (the plain form backtracked quadratically on long words).
    r"""(?<![\w.-])(?=[\w.-]*?(?:cvc|cvv|cvn|password|passphrase|secret|hmac|x-wsse))"""
    r"""(?P<key>[\w.-]++)"""
    r"""(?P<sep>["']?\s*[:=]\s*["']?)(?P<value>[^"'&,;\s}<]+)""",
    re.IGNORECASE,
)


def luhn_valid(digits: str) -> bool:
    """True when `digits` (digits only) passes the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def luhn_complete(head: str, tail: str = "") -> str:
    """``head + d + tail`` with the one digit `d` that makes the number pass Luhn."""
    for digit in "0123456789":
        if luhn_valid(head + digit + tail):
            return head + digit + tail
    raise AssertionError("unreachable: one digit always completes a Luhn number")


def mask_pan(digits: str) -> str:
    """First six and last four digits kept, the middle starred."""
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def _mask_card(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"[ +-]", "", text)
    if not 13 <= len(digits) <= 19 or not luhn_valid(digits):
        return text
    return mask_pan(digits)


def mask_cards(text: str) -> str:
    """Mask every Luhn-valid card number in free text."""
    return _CARD.sub(_mask_card, text)


@functools.lru_cache(maxsize=4096)  # header and field names repeat on every request
def is_sensitive(name: str) -> bool:
    return SENSITIVE.search(name) is not None


def mask_value(value: Any) -> Any:
    """Recursively mask a JSON-like value: sensitive keys starred, card numbers masked."""
    if isinstance(value, dict):
        return {k: MASK if is_sensitive(str(k)) else mask_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, str):
        return mask_cards(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 10**12:
        return mask_cards(str(value))
    return value


def mask_headers(headers: Any) -> dict[str, str]:
    """Headers as a dict with secret ones starred and card numbers masked."""
    items = [
        (str(k), str(v)) for k, v in (headers.items() if hasattr(headers, "items") else headers)
    ]
    # One scan of all values decides whether any needs the per-value card masking.
    cards = _CARD.search("\n".join(v for _, v in items)) is not None
    return {k: MASK if is_sensitive(k) else (mask_cards(v) if cards else v) for k, v in items}


def mask_text(text: str) -> str:
    """Mask secrets named in free text, then card numbers."""
    if SENSITIVE.search(text) is None and _CARD.search(text) is None:
        return text
    text = _TEXT_FIELD.sub(lambda m: f"{m.group('key')}{m.group('sep')}{MASK}", text)
    return mask_cards(text)


def mask_body(body: bytes | str, content_type: str | None = None) -> str:
    """A request or response body as masked text, structured where it parses."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not text:
        return ""
    kind = (content_type or "").lower()
    if "image/" in kind or "octet-stream" in kind:
        return f"<{len(body)} bytes of {kind}>"
    if SENSITIVE.search(text) is None and _CARD.search(text) is None:
        return text  # the common case, and the journal runs on every request: no parsing
    stripped = text.lstrip()
    if "json" in kind or stripped[:1] in "{[":
        try:
            return json.dumps(mask_value(json.loads(text)), ensure_ascii=False)
        except ValueError:
            pass
    if "x-www-form-urlencoded" in kind:
        return mask_cards(_mask_form(text))
    return mask_text(text)


def _mask_form(text: str) -> str:
    """Star the values of secret-named fields in a form body, keeping its raw encoding."""
    fields = text.split("&")
    for index, field in enumerate(fields):
        key, sep, _ = field.partition("=")
        if sep and is_sensitive(unquote_plus(key) if "%" in key else key):
            fields[index] = f"{key}={MASK}"
    return "&".join(fields)


class MaskingFilter(logging.Filter):
    """A logging filter that masks card numbers and secrets in every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug, not ours to hide
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True

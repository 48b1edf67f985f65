"""Masking for everything mockbank writes down: the journal, the outbox, state views, pages, logs.

One rule decides what a card number is (`is_card_number`): 13 to 19 digits that a card network
could issue (a real issuer range for that length) and that pass Luhn. Digits may be grouped by
spaces, dashes, ``+`` or ``%20`` (a space in a form or a URL), and may be a JSON number, integer
or float. Matches keep their first six and last four digits. Epoch-millisecond timestamps and
other long ids start with digits no network issues, so they are left alone. Values of fields and
headers whose name has a secret word in it (`is_sensitive`) become ``***``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

MASK = "***"
# Structures nested deeper than this are not walked (a request that deep is refused anyway).
MAX_DEPTH = 200
DEEP = "<nested too deep to show>"
# A cheap pre-filter: a name that may be secret. `is_sensitive` makes the decision.
SENSITIVE = re.compile(
    r"cvc|cvv|cvn|password|passphrase|passwd|secret|hmac|authorization|wsse", re.IGNORECASE
)
_SECRET_WORDS = frozenset(
    {"cvc", "cvv", "cvn", "password", "passphrase", "passwd", "secret", "authorization", "wsse"}
)
_NAME_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_SEPARATOR = r"(?:[ +-]|%20)"
# A run of digits, single separators allowed between them (cards hide inside such runs).
# The "20" of a leading "%20" is a separator, not the start of a number.
_RUN = re.compile(rf"(?:(?<=%20)|(?<![\d%]))\d+(?:{_SEPARATOR}\d+)*")
_SEPARATORS = re.compile(_SEPARATOR)
# At least 13 digits in one run: the fast test for "may hold a card".
_HINT = re.compile(rf"\d(?:{_SEPARATOR}?\d){{12}}|\d\.\d+[eE]\+?1\d")
# A JSON or text number in exponent form whose value is 13 to 19 digits long.
_SCIENTIFIC = re.compile(r"(?<![\w.])\d\.\d{1,18}[eE]\+?1[2-8](?![\w.])")
# key = value, key: value, "key": "value" in text that is neither JSON nor a form.
_TEXT_FIELD = re.compile(
    # Anchored at a word start, the keyword found by a lookahead and the word taken
    # possessively: linear time (the plain form backtracked quadratically on long words).
    r"""(?<![\w.-])(?=[\w.-]*?(?:cvc|cvv|cvn|password|passphrase|passwd|secret|hmac|wsse|authorization))"""
    r"""(?P<key>[\w.-]++)"""
    r"""(?P<sep>["']?\s*[:=]\s*["']?)(?P<value>[^"'&,;\s}<]+)""",
    re.IGNORECASE,
)

_ANY = tuple(range(13, 20))
_FIRST_DIGITS = frozenset("234568")
# Issuer identification ranges (first digits, inclusive) and the lengths each network issues.
NETWORKS: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[int, ...]], ...] = (
    ("Visa", (("4", "4"),), (13, 16, 19)),
    ("Mastercard", (("51", "55"), ("2221", "2720")), (16,)),
    ("American Express", (("34", "34"), ("37", "37")), (15,)),
    ("Discover", (("6011", "6011"), ("622126", "622925"), ("644", "649"), ("65", "65")), _ANY),
    ("JCB", (("3528", "3589"),), (16, 17, 18, 19)),
    ("Diners Club", (("300", "305"), ("3095", "3095"), ("36", "36"), ("38", "39")), _ANY),
    ("UnionPay", (("62", "62"), ("81", "81")), (16, 17, 18, 19)),
    ("Maestro", (("50", "50"), ("56", "69")), _ANY),
    ("Mir", (("2200", "2204"),), (16, 17, 18, 19)),
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


def _by_length() -> dict[int, tuple[tuple[str, str, str], ...]]:
    table: dict[int, list[tuple[str, str, str]]] = {}
    for name, ranges, lengths in NETWORKS:
        for length in lengths:
            table.setdefault(length, []).extend((low, high, name) for low, high in ranges)
    return {length: tuple(found) for length, found in table.items()}


_RANGES_BY_LENGTH = _by_length()


def card_network(digits: str) -> str | None:
    """The network whose issuer ranges include `digits` at that length, or None."""
    for low, high, name in _RANGES_BY_LENGTH.get(len(digits), ()):
        if low <= digits[: len(low)] <= high:
            return name
    return None


def is_card_number(digits: str) -> bool:
    """The one rule: 13-19 digits, in a real network's issuer range for that length, Luhn-valid."""
    return (
        13 <= len(digits) <= 19
        and digits.isascii()
        and digits.isdigit()
        and card_network(digits) is not None
        and luhn_valid(digits)
    )


def mask_pan(digits: str) -> str:
    """First six and last four digits kept, the middle starred."""
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def _groups(run: str) -> list[tuple[int, int]]:
    """(start, end) of each digit group in a run such as ``4111 1111-1111%201111``."""
    spans, start = [], 0
    for separator in _SEPARATORS.finditer(run):
        spans.append((start, separator.start()))
        start = separator.end()
    spans.append((start, len(run)))
    return spans


def _cards_in_run(run: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, digits) of each card in a run; a card spans whole groups.

    A card is written whole or in groups of three or more digits (4-4-4-4, 4-6-5...); shorter
    groups (``12 2030``, ``4 4 4 ...``) are never part of one, which also bounds the work.
    """
    spans = _groups(run)
    index = 0
    while index < len(spans):
        found = None
        if run[spans[index][0] : spans[index][0] + 1] in _FIRST_DIGITS:
            found = _card_from(run, spans, index)
        if found is None:
            index += 1
            continue
        end, digits = found
        yield spans[index][0], spans[end][1], digits
        index = end + 1


def _card_from(run: str, spans: list[tuple[int, int]], index: int) -> tuple[int, str] | None:
    """The longest card made of whole groups from `index` on: (last group, digits), or None."""
    found = None
    digits = ""
    for end in range(index, min(len(spans), index + 7)):
        start, stop = spans[end]
        if stop - start < 3 and end > index:
            break
        digits += run[start:stop]
        if len(digits) > 19:
            break
        if len(digits) >= 13 and is_card_number(digits):
            found = (end, digits)  # keep looking: the longest card wins
    return found


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) < 13:
        return run
    pieces, last = [], 0
    for start, end, digits in _cards_in_run(run):
        pieces += [run[last:start], mask_pan(digits)]
        last = end
    if not pieces:
        return run
    pieces.append(run[last:])
    return "".join(pieces)


def _mask_scientific(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = _integral_digits(float(text))
    return mask_pan(digits) if digits and is_card_number(digits) else text


def _integral_digits(number: float) -> str | None:
    if number != number or number in (float("inf"), float("-inf")):
        return None
    if not number.is_integer() or not 1e12 <= abs(number) < 1e19:
        return None
    return str(int(abs(number)))


def find_card_numbers(text: str) -> list[str]:
    """Every card number written in `text` in full (digits only), by the masking rule."""
    found: list[str] = []
    for match in _RUN.finditer(text):
        found.extend(digits for _, _, digits in _cards_in_run(match.group(0)))
    for match in _SCIENTIFIC.finditer(text):
        digits = _integral_digits(float(match.group(0)))
        if digits and is_card_number(digits):
            found.append(digits)
    return found


def mask_cards(text: str) -> str:
    """Mask every card number in free text (any grouping, exponent-form numbers too)."""
    if _HINT.search(text) is None:
        return text
    text = _RUN.sub(_mask_run, text)
    return _SCIENTIFIC.sub(_mask_scientific, text) if "e" in text or "E" in text else text


@functools.lru_cache(maxsize=4096)  # header and field names repeat on every request
def is_sensitive(name: str) -> bool:
    """True for names of secrets: a word such as cvc, password or secret, or ending in hmac."""
    if SENSITIVE.search(name) is None:
        return False
    words = [word.lower() for word in _NAME_WORDS.findall(name)]
    # An HMAC field (Centagate's ``hmac``, QuickStream's passback ``hmac``) is starred; a name
    # that only mentions one (``X-Mockbank-Hmac-Order``, ``forter-hmac-algo``) is not.
    return any(word in _SECRET_WORDS for word in words) or (bool(words) and words[-1] == "hmac")


def _number(value: int | float) -> Any:
    digits = _integral_digits(float(value)) if isinstance(value, float) else None
    if isinstance(value, int) and value >= 10**12:
        digits = str(value)
    return mask_pan(digits) if digits and is_card_number(digits) else value


def mask_value(value: Any, _depth: int = 0) -> Any:
    """Mask a JSON-like value: sensitive keys starred, card numbers (text or number) masked."""
    if _depth > MAX_DEPTH:
        return DEEP
    if isinstance(value, dict):
        return {
            k: MASK if is_sensitive(str(k)) else mask_value(v, _depth + 1) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_value(v, _depth + 1) for v in value]
    if isinstance(value, str):
        return mask_cards(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number(value)
    return value


def mask_cards_in(value: Any, _depth: int = 0) -> Any:
    """Mask card numbers anywhere in a JSON-like value, keys kept (state views, the outbox)."""
    if _depth > MAX_DEPTH:
        return DEEP
    if isinstance(value, dict):
        return {k: mask_cards_in(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_cards_in(v, _depth + 1) for v in value]
    if isinstance(value, str):
        return mask_cards(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number(value)
    return value


def mask_headers(headers: Any) -> dict[str, str]:
    """Headers as a dict with secret ones starred and card numbers masked."""
    items = [
        (str(k), str(v)) for k, v in (headers.items() if hasattr(headers, "items") else headers)
    ]
    # One scan of all values decides whether any needs the per-value card masking.
    cards = _HINT.search("\n".join(v for _, v in items)) is not None
    return {k: MASK if is_sensitive(k) else (mask_cards(v) if cards else v) for k, v in items}


def _mask_field(match: re.Match[str]) -> str:
    if not is_sensitive(match.group("key")):
        return match.group(0)
    return f"{match.group('key')}{match.group('sep')}{MASK}"


def mask_text(text: str) -> str:
    """Mask secrets named in free text, then card numbers."""
    if SENSITIVE.search(text) is not None:
        text = _TEXT_FIELD.sub(_mask_field, text)
    return mask_cards(text)


def mask_body(body: bytes | str, content_type: str | None = None) -> str:
    """A request or response body as masked text, structured where it parses."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not text:
        return ""
    kind = (content_type or "").lower()
    if "image/" in kind or "octet-stream" in kind:
        return f"<{len(body)} bytes of {kind}>"
    if SENSITIVE.search(text) is None and _HINT.search(text) is None:
        return text  # the common case, and the journal runs on every request: no parsing
    stripped = text.lstrip()
    if "json" in kind or stripped[:1] in "{[":
        try:
            return json.dumps(mask_value(json.loads(text)), ensure_ascii=False)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's limit
            pass
    if "x-www-form-urlencoded" in kind:
        return mask_form(text)
    return mask_text(text)


def mask_form(text: str) -> str:
    """A form body or query string, masked: secret-named fields starred, cards masked."""
    fields = text.split("&")
    for index, field in enumerate(fields):
        key, sep, _ = field.partition("=")
        if sep and is_sensitive(unquote_plus(key) if "%" in key else key):
            fields[index] = f"{key}={MASK}"
    return mask_cards("&".join(fields))


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

"""mockbank.clients.centagate: the OTP rule, the signing helper and the QR content format."""

from __future__ import annotations

import hashlib
import hmac
import struct

import pytest

import mockbank.providers.centagate as provider_package
from mockbank.clients.centagate import (
    AUTH_QR_ORDERS,
    REQUEST_QR_ORDERS,
    device_otp,
    otp_from_qr,
    parse_qr,
    qr_content,
    sign,
)
from tests.centagate.helpers import reference_otp


def _hotp(key: bytes, counter: int) -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), "sha1").digest()
    offset = mac[19] & 0xF
    (code,) = struct.unpack(">I", mac[offset : offset + 4])
    return f"{(code & 0x7FFFFFFF) % 1_000_000:06d}"


def test_reference_truncation_matches_rfc_4226_test_vectors() -> None:
    # RFC 4226 Appendix D, so the test's own implementation of the rule is trustworthy.
    expected = ["755224", "287082", "359152", "969429", "338314"]
    assert [_hotp(b"12345678901234567890", c) for c in range(5)] == expected


@pytest.mark.parametrize(
    ("secret", "challenge", "plain_text"),
    [
        ("alice-device-secret", "12345678", "alice-device-1|0123456789abcdef|Pay RM 10"),
        ("bob-device-secret", "00000001", "bob-device-1|ffff|Überweisung 100 € → Zoë"),
        ("s", "0", ""),
        ("x" * 100, "99999999", "|" * 300),
    ],
    ids=["alice", "unicode", "minimal", "long"],
)
def test_device_otp_agrees_with_an_independent_implementation(
    secret: str, challenge: str, plain_text: str
) -> None:
    otp = device_otp(secret, challenge, plain_text)
    assert otp == reference_otp(secret, challenge, plain_text)
    assert len(otp) == 6
    assert otp.isdigit()


def test_device_otp_depends_on_secret_challenge_and_text() -> None:
    base = device_otp("secret", "11111111", "a|b|c")
    assert device_otp("secreT", "11111111", "a|b|c") != base
    assert device_otp("secret", "11111112", "a|b|c") != base
    assert device_otp("secret", "11111111", "a|b|d") != base


def test_qr_content_round_trips() -> None:
    content = qr_content("alice-device-1", "04200042", "alice-device-1|r1|Pay 10 € & more")
    assert content.startswith("centagate://sign?")
    parsed = parse_qr(content)
    assert (parsed.dev_acc_id, parsed.otp_challenge, parsed.plain_text) == (
        "alice-device-1",
        "04200042",
        "alice-device-1|r1|Pay 10 € & more",
    )
    assert otp_from_qr("k", content) == reference_otp("k", "04200042", parsed.plain_text)


@pytest.mark.parametrize(
    "content",
    [
        "https://sign?d=a&c=1&t=eA",
        "centagate://other?d=a&c=1&t=eA",
        "centagate://sign?d=a&t=eA",
        "centagate://sign?d=a&c=1&t=%%%",
        "centagate://sign?d=a&c=1&c=2&t=eA",
        "",
    ],
    ids=["scheme", "action", "no-challenge", "bad-text", "two-challenges", "empty"],
)
def test_parse_qr_rejects_other_content_with_a_reason(content: str) -> None:
    with pytest.raises(ValueError, match=r"QR"):
        parse_qr(content)


def test_sign_uses_the_documented_concatenations() -> None:
    fields = {name: f"<{name}>" for names in AUTH_QR_ORDERS.values() for name in names}
    for order, names in AUTH_QR_ORDERS.items():
        text = "".join(f"<{n}>" for n in names)
        expected = hmac.new(b"k", text.encode(), hashlib.sha256).hexdigest()
        assert sign(fields, "k", order) == expected
    request_fields = {name: f"<{name}>" for names in REQUEST_QR_ORDERS.values() for name in names}
    for order, names in REQUEST_QR_ORDERS.items():
        text = "".join(f"<{n}>" for n in names)
        assert (
            sign(request_fields, "k", order) == hmac.new(b"k", text.encode(), "sha256").hexdigest()
        )


def test_sign_order_samples_is_the_seed_php_and_node_line() -> None:
    f = {name: f"[{name}]" for name in AUTH_QR_ORDERS["table"]}
    # $username.$devAccId.$otp.$challenge.$details.$authToken.$integrationKey.$unixTimestamp
    # .$supportFido.$ipAddress.$userAgent.$browserFp (PHP), the same sum in Node.js.
    text = (
        f["username"] + f["devAccId"] + f["otp"] + f["challenge"] + f["details"] + f["authToken"]
        + f["integrationKey"] + f["unixTimestamp"] + f["supportFido"] + f["ipAddress"]
        + f["userAgent"] + f["browserFp"]
    )  # fmt: skip
    assert sign(f, "key") == hmac.new(b"key", text.encode(), hashlib.sha256).hexdigest()


def test_sign_rejects_an_unknown_order() -> None:
    with pytest.raises(ValueError, match="unknown HMAC order"):
        sign({"otp": "1"}, "k", "alphabetical")


def test_helpers_have_one_import_path() -> None:
    assert not hasattr(provider_package, "device_otp")
    assert not hasattr(provider_package, "sign")

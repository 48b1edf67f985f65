"""Masking of card numbers and secrets in everything mockbank writes down."""

from __future__ import annotations

import json
import logging

import pytest

from mockbank.masking import MaskingFilter, luhn_valid, mask_body, mask_headers, mask_text

VISA = "4111111111111111"
AMEX = "378282246310005"
MASTERCARD = "5555444433331111"


@pytest.mark.parametrize(
    ("number", "valid"),
    [(VISA, True), (AMEX, True), (MASTERCARD, True), ("4111111111111112", False)],
    ids=["visa", "amex", "mastercard", "bad-check-digit"],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


def test_json_body_masks_cards_and_secret_fields() -> None:
    body = json.dumps(
        {
            "card": {"number": VISA, "cvc": "737", "expiry": "12/30"},
            "site_secret": "s3cr3t",
            "amount": 1000,
            "pan": int(MASTERCARD),
        }
    )
    masked = json.loads(mask_body(body, "application/json"))
    assert masked["card"] == {"number": "411111******1111", "cvc": "***", "expiry": "12/30"}
    assert masked["site_secret"] == "***"
    assert masked["amount"] == 1000
    assert masked["pan"] == "555544******1111"


def test_form_body_masks_cards_and_passwords() -> None:
    body = f"username=merchant&password=merchant-secret&cardNumber={AMEX}&cvn=1234"
    masked = mask_body(body, "application/x-www-form-urlencoded")
    assert "merchant-secret" not in masked
    assert AMEX not in masked
    assert "378282*****0005" in masked
    assert "cvn=***" in masked
    assert "username=merchant" in masked


@pytest.mark.parametrize(
    "text",
    [f"card {VISA} end", "card 4111 1111 1111 1111 end", "card 4111-1111-1111-1111 end"],
    ids=["plain", "spaces", "dashes"],
)
def test_text_body_masks_grouped_card_numbers(text: str) -> None:
    masked = mask_body(text, "text/plain")
    assert masked == "card 411111******1111 end"


def test_text_body_masks_named_secrets_and_keeps_non_card_numbers() -> None:
    text = 'cvc=123 password: hunter2 "hmac":"abcdef" order 1234567890123 ok'
    masked = mask_text(text)
    assert "123 " not in masked.split("order")[0]
    assert "hunter2" not in masked
    assert "abcdef" not in masked
    assert "1234567890123" in masked  # fails Luhn: not a card, left alone


def test_headers_mask_authorization_and_wsse() -> None:
    masked = mask_headers(
        {
            "Authorization": "Basic abc",
            "Proxy-Authorization": "Basic x",
            "X-Wsse": 'AuthToken PasswordDigest="d"',
            "Accept": "text/plain",
        }
    )
    assert masked == {
        "Authorization": "***",
        "Proxy-Authorization": "***",
        "X-Wsse": "***",
        "Accept": "text/plain",
    }


def test_binary_bodies_are_summarised() -> None:
    assert mask_body(b"\x89PNG....", "image/png") == "<8 bytes of image/png>"


def test_logging_filter_masks_messages(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("mockbank.test-masking")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="mockbank.test-masking"):
        logger.info("GET /pay?card=%s&cvc=%s", VISA, "737")
    assert VISA not in caplog.text
    assert "411111******1111" in caplog.text
    assert "737" not in caplog.text


def test_luhn_complete_inserts_the_one_digit_that_passes() -> None:
    from mockbank.masking import luhn_complete

    assert luhn_complete("411111111111111") == VISA
    number = luhn_complete("4000000000000", "96")
    assert len(number) == 16
    assert number.startswith("4000000000000")
    assert number.endswith("96")
    assert luhn_valid(number)

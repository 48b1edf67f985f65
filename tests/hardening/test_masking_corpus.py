"""The masking corpus: every way a card number is written is masked, in every view; timestamps,
ids and diagnostic headers that only look like secrets are left alone."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from mockbank.masking import (
    find_card_numbers,
    is_card_number,
    is_sensitive,
    luhn_complete,
    luhn_valid,
    mask_body,
    mask_headers,
    mask_text,
    mask_value,
)
from mockbank.state import State
from tests.centagate.helpers import REQUEST_QR, b64, qr_body

# One number per network and length the rule knows (each Luhn-valid, in a real issuer range).
CARDS = {
    "visa-16": "4111111111111111",
    "visa-13": "4222222222222",
    "visa-19": luhn_complete("411111111111111111"),
    "mastercard-51": "5105105105105100",
    "mastercard-2221": "2223000048400011",
    "amex": "378282246310005",
    "discover": "6011111111111117",
    "jcb": "3530111333300000",
    "diners-14": "30569309025904",
    "unionpay": "6200000000000005",
    "maestro": "6759649826438453",
    "mir": luhn_complete("220000000000000"),
}


def _grouped(number: str, separator: str) -> str:
    """Grouped as printed on the card: 4-6-5 (Amex), 4-6-4 (Diners), else fours."""
    sizes = {15: (4, 6, 5), 14: (4, 6, 4)}.get(len(number), (4,) * 5)
    groups, start = [], 0
    for size in sizes:
        if start < len(number):
            groups.append(number[start : start + size])
            start += size
    return separator.join(groups)


@pytest.mark.parametrize(("network", "number"), CARDS.items(), ids=list(CARDS))
def test_every_network_number_is_a_card(network: str, number: str) -> None:
    assert is_card_number(number), network
    assert (
        mask_text(f"pay {number} now")
        == f"pay {number[:6]}{'*' * (len(number) - 10)}{number[-4:]} now"
    )


WRITINGS = {
    "plain": lambda n: f"card {n} end",
    "spaces": lambda n: f"card {_grouped(n, ' ')} end",
    "dashes": lambda n: f"card {_grouped(n, '-')} end",
    "plus": lambda n: f"cardNumber={_grouped(n, '+')}&x=1",
    "percent-20": lambda n: f"cardNumber={_grouped(n, '%20')}&x=1",
    "leading-percent-20": lambda n: f"q=%20{n}%20",
    "json-string": lambda n: json.dumps({"pan": n}),
    "json-integer": lambda n: json.dumps({"pan": int(n)}),
    "json-float": lambda n: json.dumps({"pan": float(n)}) if len(n) < 16 else f'{{"pan": {n}.0}}',
    "json-exponent": lambda n: f'{{"pan": {int(n):.15e}}}' if len(n) <= 16 else f'{{"pan": {n}}}',
    "followed-by-numbers": lambda n: f"card {n} 12 2030 cvc",
    "in-a-word": lambda n: f"ref=card{n}x",
    "next-to-a-timestamp": lambda n: f"at 1733212345678 card {n}",
}


@pytest.mark.parametrize("network", ["visa-16", "amex", "mastercard-2221", "diners-14"])
@pytest.mark.parametrize("writing", WRITINGS, ids=list(WRITINGS))
def test_every_writing_of_a_card_is_masked(writing: str, network: str) -> None:
    number = CARDS[network]
    text = WRITINGS[writing](number)
    if "exponent" in writing and float(f"{int(number):.15e}") != int(number):
        pytest.skip("this number is not exact as a 16-significant-digit float")
    for kind in ("text/plain", "application/json", "application/x-www-form-urlencoded", None):
        masked = mask_body(text, kind)
        assert number not in masked.replace(" ", "").replace("-", "").replace("+", ""), (
            kind,
            masked,
        )
        assert number[-4:] in masked, (kind, masked)
        assert find_card_numbers(masked) == [], (kind, masked)
    assert find_card_numbers(text) == [number]


NOT_CARDS = {
    # Epoch milliseconds pass Luhn one time in ten; no card network issues numbers from 1.
    "epoch-ms-luhn-valid": luhn_complete("173321234567"),
    "epoch-ms-2033": luhn_complete("200000000000"),
    "epoch-us": luhn_complete("173321234567890"),
    "epoch-ns": luhn_complete("173321234567890123"),
    "leading-zero-id": luhn_complete("000000000000001"),
    "mastercard-range-wrong-length": luhn_complete("51051051051051"),
    "amex-range-wrong-length": luhn_complete("378282246310005"),
    "seven-prefix": luhn_complete("700000000000000"),
    "nine-prefix": luhn_complete("900000000000000"),
    "too-long": luhn_complete("41111111111111111111"),
    "bad-check-digit": "4111111111111112",
}


@pytest.mark.parametrize(("case", "number"), NOT_CARDS.items(), ids=list(NOT_CARDS))
def test_numbers_no_network_issues_are_left_alone(case: str, number: str) -> None:
    if case != "bad-check-digit":
        assert luhn_valid(number), "the corpus must hold Luhn-valid numbers to mean anything"
    assert not is_card_number(number)
    for text in (
        f"at {number} ok",
        json.dumps({"createdAtMs": int(number), "id": number}),
        f"ts={number}&id={number}",
    ):
        assert mask_body(text, None) == text
        assert mask_text(text) == text


def test_a_thousand_epoch_millisecond_timestamps_are_never_masked() -> None:
    start = 1_700_000_000_000
    stamps = [str(start + i * 7_919_017) for i in range(1000)]
    assert sum(luhn_valid(s) for s in stamps) > 50  # about one in ten pass Luhn
    text = json.dumps({"times": [int(s) for s in stamps], "text": " ".join(stamps)})
    assert mask_body(text, "application/json") == text


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("X-Mockbank-Hmac-Order", False),
        ("forter-hmac-algo", False),
        ("forter-hmac-target-header", False),
        ("hmacOrder", False),
        ("X-Mockbank-Warning", False),
        ("hmac", True),
        ("HMAC", True),
        ("X-Signature-Hmac", True),
        ("forter-hmac-secret", True),
        ("Authorization", True),
        ("Proxy-Authorization", True),
        ("X-Wsse", True),
        ("cvc", True),
        ("cardCVC", True),
        ("site_secret", True),
        ("PasswordDigest", True),
        ("passphrase", True),
    ],
)
def test_only_names_of_secrets_are_starred(name: str, secret: bool) -> None:
    assert is_sensitive(name) is secret
    masked = mask_headers({name: "auth-table"})[name]
    assert masked == ("***" if secret else "auth-table")
    assert (mask_text(f"{name}=auth-table") == f"{name}=***") is secret


def test_deep_values_are_cut_not_crashed() -> None:
    value: Any = "4111111111111111"
    for _ in range(5000):
        value = [value]
    masked = json.dumps(mask_value(value))
    assert "4111111111111111" not in masked
    body = "[" * 100_000 + '"4111111111111111", {"cvc": "123"}' + "]" * 100_000
    masked_body = mask_body(body, "application/json")
    assert "4111111111111111" not in masked_body
    assert '"cvc": "123"' not in masked_body


# -- every view ----------------------------------------------------------------------------
PAN = "4111111111111111"


def _leaks(text: str) -> list[str]:
    return find_card_numbers(text)


def test_journal_masks_query_form_json_number_path_and_headers(
    client: FlaskClient, state: State
) -> None:
    client.post(
        "/quickstream/CommunityTokenRequestServlet?card=4111%201111%201111%201111",
        data=f"username=merchant&cardNumber={_grouped(PAN, '+')}&other={quote(PAN)}",
        content_type="application/x-www-form-urlencoded",
        headers={"X-Card": _grouped(PAN, "-"), "X-Mockbank-Hmac-Order": "table"},
    )
    client.post(
        "/forter/v1/tokenization/tokenize", json={"cardNumber": int(PAN), "f": 4.111111111111111e15}
    )
    client.get(f"/syspay/api/v2/merchant/token/{PAN}")
    entries = [e.as_dict() for e in state.journal.entries()]
    assert len(entries) == 3
    text = json.dumps(entries)
    assert _leaks(text) == []
    assert "411111******1111" in text
    assert entries[0]["request_headers"]["X-Mockbank-Hmac-Order"] == "table"


def test_centagate_transaction_text_is_masked_in_state_view_device_page_and_journal(
    client: FlaskClient, state: State
) -> None:
    details = f"Pay RM 10.00 with card {_grouped(PAN, ' ')} to Bob"
    body = qr_body(state.clock.epoch(), details=b64(details))
    response = client.post(REQUEST_QR, json=body)
    assert response.status_code == 200
    view = client.get("/_mockbank/state/centagate").get_data(as_text=True)
    page = client.get("/centagate/device/alice-device-1").get_data(as_text=True)
    journal = json.dumps([e.as_dict() for e in state.journal.entries()])
    for where, text in {
        "state": view,
        "device": page,
        "journal": journal,
    }.items():
        assert _leaks(text) == [], where
        assert "411111******1111" in text, where


def test_outbox_view_masks_card_numbers_in_urls_and_bodies(
    client: FlaskClient, state: State
) -> None:
    state.outbox.send_http(
        "quickstream",
        f"http://127.0.0.1:9/notify?card={PAN}",
        body=f"cardNumber={_grouped(PAN, '%20')}&receipt=1".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        retry_delays=(3600.0,),
    )
    text = client.get("/_mockbank/outbox").get_data(as_text=True)
    assert _leaks(text) == []
    assert "411111******1111" in text

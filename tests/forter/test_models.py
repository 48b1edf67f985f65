"""Placeholder substitution and signing rules, without HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from mockbank.providers.forter.errors import ProxyValidationError
from mockbank.providers.forter.models.cards import network_token_for
from mockbank.providers.forter.models.detokenize import looks_like_json, mask_secrets, substitute
from mockbank.providers.forter.models.signing import hmac_signature, ixopay_headers, sign_request

VALUES = {"card_number": "4111111111111111", "card_holder_name": 'A "B" C', "m": "8"}


def value_of(name: str) -> str:
    if name not in VALUES:
        raise ProxyValidationError(f"Unknown placeholder {{{{ {name} }}}}", field=name)
    return VALUES[name]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b"{{card_number}}", b"4111111111111111", id="no-spaces"),
        pytest.param(b"{{   card_number\t}}", b"4111111111111111", id="wide-spacing"),
        pytest.param(b"%7B%7B%20card_number%20%7D%7D", b"4111111111111111", id="percent"),
        pytest.param(b"%7b%7bcard_number%7d%7d", b"4111111111111111", id="percent-lower"),
        pytest.param(b"%7B%7B+card_holder_name+%7D%7D", b"A%20%22B%22%20C", id="form-value"),
        pytest.param(b"name={{ card_holder_name }}", b'name=A "B" C', id="text-not-escaped"),
    ],
)
def test_placeholders_with_any_spacing_and_encoding(body: bytes, expected: bytes) -> None:
    assert substitute(body, value_of, json_body=False).body == expected


def test_json_string_values_are_escaped_but_bare_values_are_not() -> None:
    body = b'{"n": "{{ card_holder_name }}", "m": {{ m }}, "q": "say \\"{{ m }}\\""}'
    result = substitute(body, value_of, json_body=True)
    assert json.loads(result.body) == {"n": 'A "B" C', "m": 8, "q": 'say "8"'}
    assert result.names == ["card_holder_name", "m"]


def test_worldpay_style_unquoted_body_becomes_json() -> None:
    body = b'{"cardExpiryDate": {"month": {{ m }}, "year": {{ m }}}, "n": "{{card_number}}"}'
    assert looks_like_json(body, "application/x-www-form-urlencoded")
    data = json.loads(substitute(body, value_of, json_body=True).body)
    assert data == {"cardExpiryDate": {"month": 8, "year": 8}, "n": "4111111111111111"}


def test_unknown_placeholder_names_it_and_not_a_value() -> None:
    with pytest.raises(ProxyValidationError) as caught:
        substitute(b'{"a": "{{ card_number }}", "b": "{{ cvv }}"}', value_of, json_body=True)
    assert "cvv" in caught.value.detail
    assert "4111" not in caught.value.detail


def test_secrets_are_collected_for_masking() -> None:
    result = substitute(b"{{ card_number }}", value_of, json_body=False)
    masked = mask_secrets(result.body.decode(), result.secrets)
    assert masked == "411111******1111"


def test_hmac_template_uses_lowercase_header_names() -> None:
    signature = hmac_signature(
        algorithm="md5",
        secret="s",
        template="{{ Api-Key }}:{{ request-body }}",
        method="POST",
        path="/",
        headers={"API-KEY": "k"},
        body=b"b",
    )
    import base64
    import hashlib
    import hmac

    assert signature == base64.b64encode(hmac.new(b"s", b"k:b", hashlib.md5).digest()).decode()


def test_hmac_hex_encoding_is_selectable() -> None:
    import hashlib
    import hmac

    signature = hmac_signature(
        algorithm="sha256",
        secret="s",
        template="{{ request-body }}",
        method="POST",
        path="/",
        headers={},
        body=b"b",
        encoding="hex",
    )
    assert signature == hmac.new(b"s", b"b", hashlib.sha256).hexdigest()


@pytest.mark.parametrize("value", ["HEX", "b64", 1])
def test_bad_hmac_encoding_setting_stops_the_app_naming_it(value: object) -> None:
    from mockbank.app import create_app

    with pytest.raises(ValueError, match=r"forter\.hmac_encoding"):
        create_app({"forter.hmac_encoding": value})


def test_network_tokens_are_luhn_valid_and_stable() -> None:
    from mockbank.masking import luhn_valid

    token = network_token_for("4343434343434345")
    assert token is not None
    assert luhn_valid(token)
    assert len(token) == 16
    assert token == network_token_for("4343434343434345")
    assert network_token_for("4111111111111111") is None


def test_ixopay_signature_reproduces_ixopay_documented_example() -> None:
    # documentation.ixopay.com "Additional security", the signature testing tool's default
    # input (empty shared secret and body) and its published expected X-Signature.
    headers = ixopay_headers(
        key="",
        method="POST",
        request_uri="/api/v3/transaction/YOUR-API-KEY-HERE/debit",
        content_type="application/json; charset=utf-8",
        body=b"",
        now=datetime(2026, 4, 28, 15, 23, 40, tzinfo=UTC),
    )
    assert headers == {
        "Date": "Tue, 28 Apr 2026 15:23:40 GMT",
        "X-Signature": (
            "4ICq+hfHFA81dAJHcXoP2/Pb+nkp9GljLe2S+REN0vMBhbQYNQUHIw/YxUTEIWS5Uu5WgdDEc7keMtqS0mpnAA=="
        ),
    }


def test_ixopay_signing_replaces_a_client_x_date_which_ixopay_reads_first() -> None:
    headers, notes = sign_request(
        [("Content-Type", "application/json"), ("X-Date", "Mon, 01 Jan 2001 00:00:00 GMT")],
        {"forter-ixopay-signature": "s"},
        method="POST",
        request_uri="/api/v3/transaction/K/debit",
        body=b"{}",
        now=datetime(2024, 1, 1, tzinfo=UTC),
    )
    forwarded = dict(headers)
    assert forwarded["X-Date"] == forwarded["Date"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert notes["ixopay"] == "Date, X-Date, X-Signature added"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            b'{"a": "x\\\\", "n": "{{ m }}"}', {"a": "x\\", "n": "8"}, id="escaped-backslash"
        ),
        pytest.param(b'{"a": "say \\"hi\\" {{ m }}"}', {"a": 'say "hi" 8'}, id="escaped-quotes"),
        pytest.param(
            b'{"a": "\\\\\\"", "n": {{ m }}}', {"a": '\\"', "n": 8}, id="backslash-then-quote"
        ),
    ],
)
def test_string_scan_follows_escapes_before_a_placeholder(body: bytes, expected: Any) -> None:
    result = substitute(body, value_of, json_body=True)
    assert json.loads(result.body) == expected

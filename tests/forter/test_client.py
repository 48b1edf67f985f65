"""mockbank.clients.forter, as an integrator uses it, against a live server and proxy."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from mockbank.clients.forter import (
    ForterClient,
    ForterError,
    HmacSigning,
    forwarding_headers,
    proxy_url,
)
from mockbank.pytest_plugin import ForterProxyHandle, Mockbank

CARD = {"cardNumber": "4111111111111111", "expirationMonth": 12, "expirationYear": 2030}
TARGET = "https://api.stripe.com/v1/payment_methods"


@pytest.fixture
def client(mockbank: Mockbank) -> ForterClient:
    return ForterClient(f"{mockbank.server.url}/forter", "SITE_ID", "SITE_SECRET")


def test_tokenize_then_detokenize_through_the_proxy_over_https(
    client: ForterClient, forter: ForterProxyHandle
) -> None:
    card = client.tokenize({**CARD, "cardHolderName": "Ada Lovelace"})
    assert card["lastFourDigits"] == "1111"
    assert "cardNumber" not in card
    with client.proxy_session(forter.url, forter.ca_path, token=card["token"]) as psp:
        answer = psp.post(
            TARGET, data='{"pan": "{{ card_number }}", "n": "{{ card_holder_name }}"}'
        )
    assert answer.status_code == 200
    echo = answer.json()
    assert echo["body"] == '{"pan": "4111111111111111", "n": "Ada Lovelace"}'
    assert not [h for h in echo["headers"] if h.lower().startswith(("forter-", "proxy-"))]


def test_single_use_token_detokenizes_once_then_the_proxy_refuses_with_555(
    client: ForterClient, forter: ForterProxyHandle
) -> None:
    token = client.tokenize_single_use({**CARD, "cvc": "321"})["token"]
    first = client.detokenize(
        forter.url, forter.ca_path, TARGET, '{"cvc": "{{ cvc }}"}', token=token
    )
    assert first.json()["body"] == '{"cvc": "321"}'
    with pytest.raises(ForterError) as refused:
        client.detokenize(forter.url, forter.ca_path, TARGET, "{{ cvc }}", token=token)
    assert (refused.value.status, refused.value.code) == (555, "TOKEN_NOT_FOUND")


def test_upgrade_and_alias_lookup(client: ForterClient, forter: ForterProxyHandle) -> None:
    single = client.tokenize_single_use({**CARD, "alias": {"key": "shop", "value": "c-1"}})
    multi = client.upgrade(single["token"])
    assert multi["type"] == "multi-use"
    assert multi["upgradedFrom"] == single["token"]
    answer = client.detokenize(
        forter.url, forter.ca_path, TARGET, "{{ card_last_four }}", alias=("shop", "c-1")
    )
    assert answer.json()["body"] == "1111"


def test_hmac_signing_directive_reaches_the_target_as_a_header(
    client: ForterClient, forter: ForterProxyHandle
) -> None:
    token = client.tokenize(CARD)["token"]
    signing = HmacSigning("sha256", "Message-Signature", "s3cret", "{{ request-body }}")
    answer = client.detokenize(
        forter.url, forter.ca_path, TARGET, "{{ card_bin }}", token=token, hmac=signing
    )
    assert answer.json()["headers"]["Message-Signature"]


def test_api_errors_and_bad_proxy_credentials_raise_forters_codes(
    client: ForterClient, mockbank: Mockbank, forter: ForterProxyHandle
) -> None:
    with pytest.raises(ForterError) as bad:
        client.tokenize({**CARD, "cardNumber": "4111111111111112"})
    assert (bad.value.status, bad.value.code, bad.value.field) == (
        400,
        "VALIDATION_ERROR",
        "cardNumber",
    )
    intruder = ForterClient(f"{mockbank.server.url}/forter", "SITE_ID", "wrong")
    with pytest.raises(ForterError) as unauthorized:
        intruder.tokenize(CARD)
    assert unauthorized.value.status == 401
    plain = "http://api.stripe.com/v1/payment_methods"  # no tunnel: the 407 is an answer
    with pytest.raises(ForterError) as refused:
        intruder.detokenize(forter.url, forter.ca_path, plain, "x", token="ftr1" + "0" * 32)
    assert (refused.value.status, refused.value.code) == (407, "PROXY_AUTHENTICATION_REQUIRED")
    with pytest.raises(requests.exceptions.ProxyError):  # https: the CONNECT is refused
        intruder.detokenize(forter.url, forter.ca_path, TARGET, "x", token="ftr1" + "0" * 32)


def test_forwarding_headers_and_proxy_url_are_what_the_proxy_reads() -> None:
    assert forwarding_headers(token="t", cvc_token="c") == {
        "forter-token": "t",
        "forter-cvc-token": "c",
    }
    assert forwarding_headers(alias=("k", "v")) == {
        "forter-token-alias-key": "k",
        "forter-token-alias-value": "v",
    }
    url = proxy_url("http://127.0.0.1:8788", "SITE ID", "p@ss:word", sandbox="team-a")
    assert url == "http://SITE%20ID%2Bteam-a:p%40ss%3Aword@127.0.0.1:8788"


def test_ca_file_may_be_a_path(tmp_path: Path) -> None:
    from mockbank.clients.forter import ProxySession

    session = ProxySession("http://u:p@127.0.0.1:1", tmp_path / "ca.pem", {})
    assert session.ca_file == str(tmp_path / "ca.pem")
    session.close()

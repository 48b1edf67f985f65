"""X-Wsse parsing in its parts: attributes, the set of names, Created and Nonce (no HTTP)."""

from __future__ import annotations

import pytest

from mockbank.clients.syspay import wsse_header
from mockbank.providers.syspay import errors
from mockbank.providers.syspay.auth import LoginKind, parse_wsse

SEED = (
    'AuthToken PartnerAPILogin="myPartnerLogin", PasswordDigest="yxag0yx38DPpCDx1Pl8UZnmXANE=", '
    'Nonce="bXkgcmFuZG9tIG5vbmNl", Created="1400000000"'
)


def test_the_seed_header_parses_into_its_parts() -> None:
    token = parse_wsse(SEED)
    assert (token.kind, token.login) == (LoginKind.PARTNER, "myPartnerLogin")
    assert token.nonce == b"my random nonce"
    assert token.created.timestamp() == 1_400_000_000
    assert (token.partner_login, token.partner_digest) == (None, None)


def test_single_quotes_and_free_spacing_parse_alike() -> None:
    spaced = (
        "AuthToken  PartnerAPILogin = 'myPartnerLogin' ,PasswordDigest= "
        "'yxag0yx38DPpCDx1Pl8UZnmXANE=',  Nonce ='bXkgcmFuZG9tIG5vbmNl', Created='1400000000' "
    )
    assert parse_wsse(spaced) == parse_wsse(SEED)
    assert parse_wsse("authtoken " + SEED.removeprefix("AuthToken ")).login == "myPartnerLogin"


def test_a_merchant_header_with_its_acting_partner() -> None:
    header = wsse_header("m", "mp", partner=False, created=1, acting_partner=("p", "pp"), nonce="n")
    token = parse_wsse(header)
    assert (token.kind, token.login, token.partner_login) == (LoginKind.MERCHANT, "m", "p")
    assert token.partner_digest


@pytest.mark.parametrize(
    ("header", "words"),
    [
        pytest.param(SEED + " trailing", "malformed near", id="text-after-last"),
        pytest.param(SEED.replace(", Nonce", " Nonce"), "malformed near", id="no-comma"),
        pytest.param(SEED + ', PartnerLogin="p", PartnerDigest="d"', "go with", id="acting-self"),
        pytest.param(
            SEED.replace("PartnerAPILogin", "MerchantAPILogin") + ', PartnerLogin="p"',
            "both PartnerLogin and PartnerDigest",
            id="acting-half",
        ),
        pytest.param(
            SEED.replace('"bXkgcmFuZG9tIG5vbmNl"', '"!!"').replace('"1400000000"', '"soon"'),
            "Created",
            id="created-checked-before-nonce",
        ),
        pytest.param(SEED.replace('Created="1400000000"', 'Created="١٤"'), "unix", id="non-ascii"),
    ],
)
def test_malformed_headers_say_what_is_wrong(header: str, words: str) -> None:
    with pytest.raises(errors.AuthMalformed) as raised:
        parse_wsse(header)
    assert words in str(raised.value)


def test_an_empty_header_is_missing_not_malformed() -> None:
    for header in (None, "", "  "):
        with pytest.raises(errors.AuthMissing):
            parse_wsse(header)

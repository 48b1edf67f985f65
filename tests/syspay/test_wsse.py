"""X-Wsse: the seed's PHP example, the helper, the CLI, and every way a header is refused."""

from __future__ import annotations

import argparse
import base64
import hashlib
import random
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mockbank.app import create_app
from mockbank.clients.syspay import wsse_header
from mockbank.clock import wall_epoch
from mockbank.providers import add_cli_commands
from mockbank.providers.syspay.auth import LoginKind, verify_wsse_header
from tests.syspay.helpers import DETOKENIZE, GOOD_BODY, PARTNER, SEED_TOKEN, partner_header

SEED_CREATED = 1400000000
SEED_HEADER = (
    'X-Wsse: AuthToken PartnerAPILogin="myPartnerLogin", '
    'PasswordDigest="yxag0yx38DPpCDx1Pl8UZnmXANE=", Nonce="bXkgcmFuZG9tIG5vbmNl", '
    'Created="1400000000"'
)
SEED_VALUE = SEED_HEADER.removeprefix("X-Wsse: ")

# The seed's PHP function verbatim, plus a line calling it with the seed's inputs.
SEED_PHP = Path(__file__).parent / "php" / "print_seed_header.php"


def generate_headers(
    partner_login: str, passphrase: str, nonce: bytes | None = None, timestamp: int | None = None
) -> str:
    """The seed's PHP generateHeaders, line by line in Python."""
    nonce = hashlib.md5(str(random.getrandbits(31)).encode()).digest() if nonce is None else nonce
    timestamp = int(wall_epoch()) if timestamp is None else timestamp
    digest = base64.b64encode(
        hashlib.sha1(nonce + str(timestamp).encode() + passphrase.encode()).digest()
    ).decode()
    b64nonce = base64.b64encode(nonce).decode()
    # sprintf('... Created="%d"', ...) in the PHP: the same format, Python's % operator.
    template = (
        'X-Wsse: AuthToken PartnerAPILogin="%s", PasswordDigest="%s", Nonce="%s", Created="%d"'
    )
    return template % (partner_login, digest, b64nonce, timestamp)


def test_php_generate_headers_reimplemented_gives_the_seed_header() -> None:
    assert (
        generate_headers("myPartnerLogin", "myPartnerPassphrase", b"my random nonce", SEED_CREATED)
        == SEED_HEADER
    )


def test_the_seed_php_itself_prints_the_seed_header() -> None:
    php = shutil.which("php")
    if php is None:
        pytest.skip("php-cli is not installed")
    result = subprocess.run([php, str(SEED_PHP)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout == SEED_HEADER


def test_helper_gives_the_seed_header() -> None:
    value = wsse_header(*PARTNER, nonce="my random nonce", created=SEED_CREATED)
    assert value == SEED_VALUE


def test_helper_makes_a_fresh_nonce_and_merchant_headers() -> None:
    first = wsse_header("m", "p", partner=False)
    second = wsse_header("m", "p", partner=False)
    assert first.startswith('AuthToken MerchantAPILogin="m", PasswordDigest="')
    assert first != second


def test_cli_prints_a_header_that_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="mockbank")
    add_cli_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "syspay-header",
            "--login",
            "myMerchantLogin",
            "--passphrase",
            "myMerchantPassphrase",
            "--merchant",
        ]
    )
    assert args.func(args) == 0
    line = capsys.readouterr().out.strip()
    name, _, value = line.partition(": ")
    assert name == "X-Wsse"
    identity = verify_wsse_header(
        value,
        expected=LoginKind.MERCHANT,
        passphrases={"myMerchantLogin": "myMerchantPassphrase"},
        now=datetime.fromtimestamp(wall_epoch(), UTC),
        window_s=300,
    )
    assert identity.login == "myMerchantLogin"


def _post(client: Any, header: str | None, body: dict[str, Any] | None = None) -> Any:
    headers = {} if header is None else {"X-Wsse": header}
    return client.post(DETOKENIZE.format(SEED_TOKEN), headers=headers, json=body or GOOD_BODY)


def _seed_clock(state: Any) -> None:
    state.clock.freeze(datetime.fromtimestamp(SEED_CREATED, UTC))


def test_seed_header_authenticates_once_with_the_clock_at_its_created(
    client: Any, state: Any
) -> None:
    _seed_clock(state)
    assert _post(client, SEED_VALUE).status_code == 200
    again = _post(client, SEED_VALUE)
    assert again.status_code == 403
    assert again.get_json()["error_code"] == 994036


def header_with(**changes: str) -> str:
    attributes = {
        "PartnerAPILogin": "myPartnerLogin",
        "PasswordDigest": "yxag0yx38DPpCDx1Pl8UZnmXANE=",
        "Nonce": "bXkgcmFuZG9tIG5vbmNl",
        "Created": str(SEED_CREATED),
    }
    attributes.update(changes)
    return "AuthToken " + ", ".join(f'{k}="{v}"' for k, v in attributes.items() if v != "-")


@pytest.mark.parametrize(
    ("header", "code", "words"),
    [
        pytest.param(None, 994031, "missing", id="missing"),
        pytest.param("   ", 994031, "missing", id="blank"),
        pytest.param("Basic bXk6cGFzcw==", 994032, "AuthToken", id="wrong-scheme"),
        pytest.param(header_with(Created="-"), 994032, "Created", id="no-created"),
        pytest.param(header_with(Nonce="-"), 994032, "Nonce", id="no-nonce"),
        pytest.param(header_with(PasswordDigest="-"), 994032, "PasswordDigest", id="no-digest"),
        pytest.param(header_with(PartnerAPILogin="-"), 994032, "PartnerAPILogin", id="no-login"),
        pytest.param(
            header_with(MerchantAPILogin="myMerchantLogin"), 994032, "exactly one", id="two-logins"
        ),
        pytest.param(header_with(Extra="1"), 994032, "Extra", id="unknown-attribute"),
        pytest.param(header_with(Nonce="not base64!"), 994032, "base64", id="nonce-not-base64"),
        pytest.param(header_with(Created="2014-05-13T16:53:20Z"), 994032, "unix", id="iso-created"),
        pytest.param(header_with(Created="999999999999"), 994032, "unix", id="created-year-33658"),
        pytest.param(header_with(Created="99999999999"), 994034, "digest", id="created-year-5138"),
        pytest.param(
            header_with() + ', Nonce="eA=="', 994032, "repeats Nonce", id="repeated-attribute"
        ),
        pytest.param(
            'AuthToken PartnerAPILogin=myPartnerLogin, Nonce="x"',
            994032,
            "malformed",
            id="unquoted",
        ),
        pytest.param(header_with(PartnerAPILogin="nobody"), 994033, "nobody", id="unknown-login"),
        pytest.param(
            header_with(PasswordDigest="AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            994034,
            "PasswordDigest",
            id="wrong-digest",
        ),
        pytest.param(
            wsse_header("myPartnerLogin", "wrongPassphrase", created=SEED_CREATED),
            994034,
            "PasswordDigest",
            id="wrong-passphrase",
        ),
        pytest.param(
            wsse_header(*PARTNER, created=SEED_CREATED - 301), 994035, "behind", id="stale-past"
        ),
        pytest.param(
            wsse_header(*PARTNER, created=SEED_CREATED + 301), 994035, "ahead", id="stale-future"
        ),
        pytest.param(
            wsse_header(
                "myMerchantLogin", "myMerchantPassphrase", partner=False, created=SEED_CREATED
            ),
            994037,
            "PartnerAPILogin",
            id="merchant-on-partner-endpoint",
        ),
    ],
)
def test_bad_header_is_refused_with_401_saying_why(
    client: Any, state: Any, header: str | None, code: int, words: str
) -> None:
    _seed_clock(state)
    response = _post(client, header)
    assert response.status_code == 403
    body = response.get_json()
    assert body["error_code"] == code
    assert words.lower() in body["errors"][0]["message"].lower()
    assert response.headers["WWW-Authenticate"].startswith("WSSE")
    assert response.headers["X-Syspay-Request-Uuid"]
    assert state.provider_state("syspay")["redirects"] == []
    assert state.provider_state("syspay")["live_nonces"] == 0


@pytest.mark.parametrize("offset", [-300, 300], ids=["300s-behind", "300s-ahead"])
def test_created_within_300_seconds_is_accepted(client: Any, state: Any, offset: int) -> None:
    _seed_clock(state)
    assert _post(client, wsse_header(*PARTNER, created=SEED_CREATED + offset)).status_code == 200


def test_header_parsing_tolerates_spacing_and_single_quotes(client: Any, state: Any) -> None:
    _seed_clock(state)
    spaced = (
        "AuthToken   PartnerAPILogin = 'myPartnerLogin' ,"
        "PasswordDigest='yxag0yx38DPpCDx1Pl8UZnmXANE='"
        ' ,  Nonce="bXkgcmFuZG9tIG5vbmNl",Created = "1400000000"  '
    )
    assert _post(client, spaced).status_code == 200


def test_rejected_request_does_not_spend_the_nonce(client: Any, state: Any) -> None:
    _seed_clock(state)
    bad = _post(client, SEED_VALUE, {"type": "SOUND", "viewer": "x", "company_reference": "y"})
    assert bad.status_code == 400
    assert _post(client, SEED_VALUE).status_code == 200
    assert _post(client, SEED_VALUE).status_code == 403


def test_nonce_is_kept_until_the_header_would_be_stale_anyway(client: Any, state: Any) -> None:
    _seed_clock(state)
    assert _post(client, SEED_VALUE).status_code == 200
    (record,) = state.store.records("syspay.nonce")
    assert record.expires_at == datetime.fromtimestamp(SEED_CREATED + 300, UTC)
    state.clock.advance(301)
    # Stale now, so the record can go; the header is refused as stale, not as a replay.
    assert _post(client, SEED_VALUE).get_json()["error_code"] == 994035
    state.store.purge_expired(state.now(), grace_s=0)
    assert state.store.records("syspay.nonce") == []


def test_same_nonce_is_fine_for_another_login(client: Any, state: Any) -> None:
    _seed_clock(state)
    assert _post(client, SEED_VALUE).status_code == 200
    other = wsse_header(
        "imageOnlyPartner", "imageOnlyPassphrase", nonce="my random nonce", created=SEED_CREATED
    )
    # Not a replay: nonces are per login (this partner is simply not on the token's list).
    assert _post(client, other).get_json()["error_code"] == 60005


def test_created_window_is_configurable() -> None:
    app = create_app({"syspay.created_window_s": 10})
    state = app.extensions["mockbank"]
    client = app.test_client()
    _seed_clock(state)
    late = _post(client, wsse_header(*PARTNER, created=SEED_CREATED - 11))
    assert late.get_json()["error_code"] == 994035
    assert "limit is 10 s" in late.get_json()["errors"][0]["message"]
    assert _post(client, partner_header(state)["X-Wsse"]).status_code == 200
    state.close()

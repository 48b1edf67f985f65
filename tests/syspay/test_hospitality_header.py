"""SysPay's hospitality header: a partner acting for a merchant signs the merchant's X-Wsse too.

``AuthToken MerchantAPILogin=…, PasswordDigest=…, Nonce=…, Created=…, PartnerLogin=…,
PartnerDigest=…`` (app.syspay.com/docs/api/v2/hospitality/api.html), PartnerDigest being the
same digest over the same nonce and Created with the partner's passphrase.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any

import pytest

from mockbank.clients.syspay import password_digest, wsse_header
from tests.syspay.helpers import IMAGE_ONLY, MERCHANT, PARTNER, SEED_TOKEN, card_body, redirects

TOKENS = "/syspay/api/v2/merchant/token"
SEED_DIGEST = "yxag0yx38DPpCDx1Pl8UZnmXANE="  # the seed's digest for "my random nonce", 1400000000


def acting(state: Any, partner: tuple[str, str] = PARTNER, **kwargs: Any) -> dict[str, str]:
    """A merchant header signed by `partner` too, Created on the app clock."""
    value = wsse_header(
        *MERCHANT,
        partner=False,
        created=int(state.now().timestamp()),
        acting_partner=partner,
        **kwargs,
    )
    return {"X-Wsse": value}


def _tokens(state: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = state.provider_state("syspay")["tokens"]
    return result


def test_header_helper_appends_partner_login_and_the_partners_digest() -> None:
    value = wsse_header(
        *MERCHANT,
        partner=False,
        nonce="my random nonce",
        created=1400000000,
        acting_partner=PARTNER,
    )
    merchant_digest = password_digest("my random nonce", 1400000000, MERCHANT[1])
    assert value == (
        f'AuthToken MerchantAPILogin="myMerchantLogin", PasswordDigest="{merchant_digest}", '
        'Nonce="bXkgcmFuZG9tIG5vbmNl", Created="1400000000", '
        f'PartnerLogin="myPartnerLogin", PartnerDigest="{SEED_DIGEST}"'
    )
    with pytest.raises(ValueError, match="merchant header"):
        wsse_header(*PARTNER, acting_partner=PARTNER)


def test_cli_prints_the_combined_header() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockbank.cli",
            "syspay-header",
            "--merchant",
            "--login",
            MERCHANT[0],
            "--passphrase",
            MERCHANT[1],
            "--partner-login",
            PARTNER[0],
            "--partner-passphrase",
            PARTNER[1],
            "--nonce",
            "my random nonce",
            "--created",
            "1400000000",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.startswith('X-Wsse: AuthToken MerchantAPILogin="myMerchantLogin"')
    assert result.stdout.rstrip().endswith(
        f'PartnerLogin="myPartnerLogin", PartnerDigest="{SEED_DIGEST}"'
    )


def test_partner_acting_for_its_merchant_creates_reads_and_detokenizes(
    client: Any, state: Any
) -> None:
    created = client.post(TOKENS, headers=acting(state), json=card_body())
    assert created.status_code == 201, created.get_json()
    token_id = created.get_json()["id"]
    assert client.get(f"{TOKENS}/{token_id}", headers=acting(state)).status_code == 200
    detokenized = client.post(
        f"{TOKENS}/{SEED_TOKEN}/detokenize",
        headers=acting(state),
        json={"type": "TEXT", "viewer": "Night manager", "company_reference": "HOTEL-7"},
    )
    assert detokenized.status_code == 200, detokenized.get_json()
    # The token belongs to the merchant; the journal names the partner that acted.
    assert _tokens(state)[-1]["merchant"] == MERCHANT[0]
    notes = [e.as_dict() for e in state.requests(provider="syspay")]
    assert any("myPartnerLogin" in json.dumps(n) for n in notes)


@pytest.mark.parametrize(
    ("header", "code", "says"),
    [
        (
            lambda s: {
                "X-Wsse": acting(s)["X-Wsse"].replace('PartnerDigest="', 'PartnerDigest="x')
            },
            994034,
            "PartnerDigest",
        ),
        (lambda s: acting(s, ("ghostPartner", "whatever")), 994033, "ghostPartner"),
        (
            lambda s: {"X-Wsse": acting(s)["X-Wsse"].rsplit(", PartnerDigest", 1)[0]},
            994032,
            "both PartnerLogin and PartnerDigest",
        ),
        (
            lambda s: {
                "X-Wsse": wsse_header(*PARTNER, created=int(s.now().timestamp()))
                + ', PartnerLogin="myPartnerLogin", PartnerDigest="abc="'
            },
            994032,
            "go with MerchantAPILogin",
        ),
        (
            lambda s: {
                "X-Wsse": acting(s)["X-Wsse"].replace('PasswordDigest="', 'PasswordDigest="x')
            },
            994034,
            "PasswordDigest",
        ),
    ],
    ids=[
        "wrong-partner-digest",
        "unknown-partner",
        "login-without-digest",
        "on-partner-header",
        "merchant-digest-still-checked",
    ],
)
def test_bad_combined_headers_are_401_and_create_nothing(
    client: Any, state: Any, header: Any, code: int, says: str
) -> None:
    response = client.post(TOKENS, headers=header(state), json=card_body())
    assert response.status_code == 403
    body = response.get_json()
    assert body["error_code"] == code
    assert says in body["errors"][0]["message"]
    assert len(_tokens(state)) == 1


def test_partner_the_merchant_does_not_work_with_is_403(client: Any, state: Any) -> None:
    header = acting(state, IMAGE_ONLY)
    response = client.post(TOKENS, headers=header, json=card_body())
    assert response.status_code == 403
    assert response.get_json()["error_code"] == 994038
    detokenize = client.post(
        f"{TOKENS}/{SEED_TOKEN}/detokenize",
        headers=acting(state, IMAGE_ONLY),
        json={"type": "IMAGE", "viewer": "x"},
    )
    assert detokenize.status_code == 403
    assert len(_tokens(state)) == 1
    assert redirects(state) == []


def test_combined_header_is_single_use_and_not_a_partner_login(client: Any, state: Any) -> None:
    header = acting(state)
    assert client.post(TOKENS, headers=header, json=card_body()).status_code == 201
    replay = client.post(TOKENS, headers=header, json=card_body())
    assert replay.status_code == 403
    assert replay.get_json()["error_code"] == 994036
    on_partner_endpoint = client.post(
        f"/syspay/api/v2/partner/token/{SEED_TOKEN}/detokenize",
        headers=acting(state),
        json={"type": "TEXT", "viewer": "x", "company_reference": "y"},
    )
    assert on_partner_endpoint.status_code == 403
    assert on_partner_endpoint.get_json()["error_code"] == 994037


def test_combined_header_through_curl(mockbank: Any) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    header = wsse_header(
        *MERCHANT, partner=False, created=int(mockbank.clock.epoch()), acting_partner=PARTNER
    )
    result = subprocess.run(
        [
            curl,
            "-sS",
            "-w",
            "\n%{http_code}",
            "-H",
            f"X-Wsse: {header}",
            mockbank.url("syspay", f"/api/v1/merchant/token/{SEED_TOKEN}"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, _, status = result.stdout.rpartition("\n")
    assert status == "200", body
    assert json.loads(body)["data"]["id"] == SEED_TOKEN

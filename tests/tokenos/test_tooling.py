"""TokenOS around the API: state view, magic values, fixtures, in-process mode, curl, CLI and
dashboard."""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import subprocess
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from mockbank.clients.tokenos import (
    Member,
    TokenClient,
    auth_header,
    generate_keys,
    signing_payload,
)
from mockbank.clock import wall_epoch
from mockbank.fixtures import FixtureError, FixtureReader, default_dir, load_json
from mockbank.providers.tokenos import admin, provider
from mockbank.pytest_plugin import Mockbank
from mockbank.testing import InProcess, LiveServer
from tests.tokenos.helpers import PAYER, transfer_payload


def test_state_view_and_magic_values(mockbank: Mockbank) -> None:
    control = mockbank.url("_mockbank")
    magic = requests.get(f"{control}/magic-values", timeout=10).json()["tokenos"]
    assert magic["transfer_amounts"] == {
        "103": "FAILURE_DECLINED",
        "108": "FAILURE_INSUFFICIENT_FUNDS",
        "105": "PROCESSING",
    }
    view = requests.get(f"{control}/state/tokenos", timeout=10).json()
    assert {m["type"] for m in view["members"]} == {"BUSINESS", "PERSONAL"}
    assert view["tokens"] == []
    assert view["transfers"] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            lambda d: d["banks"][0].pop("name"), "banks.0.name: is required", id="bank-name"
        ),
        pytest.param(
            lambda d: d["banks"][1].update(currency="pounds"),
            "banks.1.currency: must be a 3-letter",
            id="currency",
        ),
        pytest.param(
            lambda d: d["payers"][0]["accounts"][0].update(bank="lead"),
            "payers.0.accounts.0.bank: unknown bank",
            id="account-bank",
        ),
        pytest.param(
            lambda d: d["apiKeys"][0].update(member="ghost"),
            "apiKeys.0.member: no member named",
            id="api-key-member",
        ),
        pytest.param(
            lambda d: d["payers"][0]["accounts"][1].update(balance=12),
            "payers.0.accounts.1.balance: expected str",
            id="balance-type",
        ),
    ],
)
def test_bad_fixtures_name_the_file_and_field(change: Any, message: str) -> None:
    path, data = load_json(default_dir(), "tokenos")
    data = copy.deepcopy(data)
    change(data)
    with pytest.raises(FixtureError) as failure:
        admin.load_fixtures(FixtureReader(path, data))
    assert str(path) in str(failure.value)
    assert message in str(failure.value)


def test_inprocess_mode_routes_the_real_sandbox_host(mockbank_inprocess: InProcess) -> None:
    base = "https://api.sandbox.token.io"
    banks = requests.get(f"{base}/banks?ids=iron", timeout=10).json()["banks"]
    assert [b["id"] for b in banks] == ["iron"]
    # A signed call made for the real host verifies too (uriHost has no mount prefix there).
    member_id = requests.post(
        f"{base}/members", json={"memberType": "BUSINESS"}, timeout=10
    ).json()["memberId"]
    client = TokenClient(base)
    keys = {level: generate_keys(level) for level in ("PRIVILEGED", "STANDARD", "LOW")}
    update = {
        "memberId": member_id,
        "operations": [{"addKey": {"key": k.to_proto()}} for k in keys.values()],
    }
    requests.post(
        f"{base}/members/{member_id}/updates",
        timeout=10,
        json={
            "update": update,
            "updateSignature": {
                "memberId": member_id,
                "keyId": keys["PRIVILEGED"].id,
                "signature": keys["PRIVILEGED"].sign_json(update),
            },
        },
    ).raise_for_status()
    created = str(int(wall_epoch() * 1000))
    payload = signing_payload("GET", client.uri_host, "/accounts", created)
    answer = requests.get(
        f"{base}/accounts",
        timeout=10,
        headers={"Authorization": auth_header(member_id, keys["LOW"], payload)},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accounts": []}
    page = requests.get("https://web-app.sandbox.token.io/app/request-token/rq:x", timeout=10)
    assert page.status_code == 404


def test_curl_consents_and_reads_banks_with_the_api_key(merchant: Member, live: LiveServer) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    stored = merchant.store_token_request(transfer_payload(), PAYER)
    url = live.url_for("tokenos", f"/app/request-token/{stored['id']}")
    answer = subprocess.run(
        [
            curl,
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "-d",
            "decision=approve",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    status, location = answer.split(" ", 1)
    assert status == "302"
    assert location.startswith("https://tpp.example.com/callback?tokenId=tt:")
    tpp = live.state.fixtures["tokenos"].member_by_name("tpp").member_id
    listed = subprocess.run(
        [
            curl,
            "-s",
            "-u",
            f"{tpp}:sandbox-api-key",
            live.url_for("tokenos", "/tokens?type=TRANSFER"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert json.loads(listed) == {"tokens": []}  # the merchant's token is not the TPP's


def test_cli_prints_the_seeded_identities(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    provider.add_cli(parser.add_subparsers())
    args = parser.parse_args(["tokenos-fixtures"])
    assert args.func(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["apiKeys"] == ["sandbox-api-key"]
    assert [a["id"] for a in printed["payers"][0]["accounts"]][:2] == [
        "a:iron-checking",
        "a:iron-savings",
    ]


def test_dashboard_lists_the_tokenos_credentials(client: FlaskClient) -> None:
    page = client.get("/_mockbank/console/tokenos").get_data(as_text=True)
    assert "sandbox-api-key" in page
    assert "payer@example.com" in page

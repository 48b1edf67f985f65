"""The provider's plumbing: fixtures, CLI, magic values, dashboard credentials, SQLite store."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from mockbank.app import create_app
from mockbank.clients.syspay import wsse_header
from mockbank.fixtures import FixtureError, FixtureReader
from mockbank.providers.syspay import provider
from mockbank.testing import LiveServer
from tests.syspay.helpers import GOOD_BODY, SEED_TOKEN, live_card_url

SHIPPED = Path(__file__).resolve().parents[2] / "fixtures" / "syspay.json"
SEED_VALUE = (
    'AuthToken PartnerAPILogin="myPartnerLogin", PasswordDigest="yxag0yx38DPpCDx1Pl8UZnmXANE=", '
    'Nonce="bXkgcmFuZG9tIG5vbmNl", Created="1400000000"'
)


def _shipped() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SHIPPED.read_text())
    return data


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(_shipped())
    node = data
    for part in path[:-1]:
        node = node[part]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        pytest.param(["partners"], ..., "partners: is required", id="no-partners"),
        pytest.param(
            ["partners", 0, "passphrase"], 5, "passphrase: expected str", id="passphrase-not-text"
        ),
        pytest.param(
            ["partners", 1, "login"], "myPartnerLogin", "partners.1.login", id="duplicate-partner"
        ),
        pytest.param(["partners", 1, "types"], ["SMS"], "partners.1.types", id="bad-type"),
        pytest.param(["tokens", 0, "merchant"], "ghost", "tokens.0.merchant", id="bad-merchant"),
        pytest.param(
            ["merchants", 0, "partners"], ["ghost"], "merchants.0.partners.0", id="unlinked-ghost"
        ),
        pytest.param(
            ["tokens", 0, "creditcard", "number"],
            "4111111111111112",
            "tokens.0.creditcard.number",
            id="luhn",
        ),
        pytest.param(
            ["tokens", 0, "detokenizers", 0, "login"],
            "ghost",
            "tokens.0.detokenizers.0.login",
            id="unknown-detokenizer",
        ),
    ],
)
def test_bad_fixture_names_the_file_and_field(path: list[Any], value: Any, where: str) -> None:
    reader = FixtureReader("fixtures/syspay.json", _broken(path, value))
    with pytest.raises(FixtureError, match=r"fixtures/syspay\.json: ") as raised:
        provider.emulation.load_fixtures(reader)
    assert where in str(raised.value)
    assert "4111111111111112" not in str(raised.value)


def test_fixtures_directory_replaces_the_seeded_identities(tmp_path: Path) -> None:
    for other in SHIPPED.parent.glob("*.json"):
        (tmp_path / other.name).write_text(other.read_text())
    data = _shipped()
    data["partners"][0]["passphrase"] = "rotated"
    (tmp_path / "syspay.json").write_text(json.dumps(data))
    app = create_app({"fixtures_dir": tmp_path})
    state = app.extensions["mockbank"]
    header = wsse_header("myPartnerLogin", "rotated", created=int(state.clock.epoch()))
    response = app.test_client().post(
        f"/syspay/api/v2/partner/token/{SEED_TOKEN}/detokenize",
        headers={"X-Wsse": header},
        json=GOOD_BODY,
    )
    assert response.status_code == 200
    state.close()


def test_cli_reproduces_the_seed_header_as_a_process() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockbank.cli",
            "syspay-header",
            "--login",
            "myPartnerLogin",
            "--passphrase",
            "myPartnerPassphrase",
            "--nonce",
            "my random nonce",
            "--created",
            "1400000000",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"X-Wsse: {SEED_VALUE}"


def test_magic_values_list_the_error_codes(client: Any) -> None:
    values = client.get("/_mockbank/magic-values/syspay").get_json()
    codes = {row["code"] for row in values["errors"]}
    assert {994031, 994034, 994035, 994036, 60005, 30033, 20019, 994101, 994102} <= codes
    assert values["seed_example"]["header"] == SEED_VALUE
    assert values["redirect_ttl_s"] == 60


def test_dashboard_and_banner_show_seeded_credentials(client: Any, state: Any) -> None:
    lines = dict(provider.emulation.credentials(state.fixtures["syspay"]))
    assert lines["partner (TEXT, IMAGE)"] == "myPartnerLogin / myPartnerPassphrase"
    assert lines["partner (IMAGE)"] == "imageOnlyPartner / imageOnlyPassphrase"
    assert lines["merchant"] == "myMerchantLogin / myMerchantPassphrase"
    assert "4111111111111111" not in str(lines)
    page = client.get("/_mockbank/console").get_data(as_text=True)
    assert "myPartnerLogin / myPartnerPassphrase" in page


def test_reset_reseeds_tokens_and_forgets_urls(client: Any, state: Any) -> None:
    header = wsse_header("myPartnerLogin", "myPartnerPassphrase", created=int(state.clock.epoch()))
    client.post(
        f"/syspay/api/v2/partner/token/{SEED_TOKEN}/detokenize",
        headers={"X-Wsse": header},
        json=GOOD_BODY,
    )
    assert state.provider_state("syspay")["redirects"]
    client.post("/_mockbank/reset?provider=syspay")
    after = state.provider_state("syspay")
    assert after["redirects"] == []
    assert [t["id"] for t in after["tokens"]] == [SEED_TOKEN]


def test_sqlite_store_keeps_a_url_single_use_under_50_threads(tmp_path: Path) -> None:
    app = create_app({"state_path": tmp_path})
    state = app.extensions["mockbank"]
    with LiveServer(app) as server:
        url = live_card_url(server.url_for("syspay"), state.clock.epoch())

        def visit(_: int) -> int:
            with requests.Session() as session:
                return session.get(url, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(visit, range(50)))
    assert statuses.count(200) == 1
    assert statuses.count(410) == 49
    assert state.take_server_errors() == []
    state.close()

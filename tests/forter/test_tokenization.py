"""The tokenization API (Flask test client, and in-process on Forter's real hostnames)."""

from __future__ import annotations

import argparse
import base64
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from mockbank.clock import Clock
from mockbank.fixtures import FixtureError, FixtureReader
from mockbank.providers.forter.admin import load_fixtures
from mockbank.providers.forter.cli import cli
from mockbank.providers.forter.models.cards import FIXTURE_EPOCH
from mockbank.providers.forter.models.tokens import TOKEN_RE
from mockbank.providers.forter.records import NS_ALIAS, NS_TOKEN
from mockbank.pytest_plugin import Mockbank
from mockbank.state import State

AUTH = {"Authorization": "Basic " + base64.b64encode(b"SITE_ID:SITE_SECRET").decode()}
CARD = {"cardNumber": "4111111111111111", "expirationMonth": 8, "expirationYear": 2030}
BASE = "/forter/v1/tokenization"


def api(client: FlaskClient, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.post(f"{BASE}/{path}", json=body, headers=AUTH if headers is None else headers)


def test_tokenize_returns_a_multi_use_ftr1_token(client: FlaskClient) -> None:
    response = api(client, "tokenize", {**CARD, "cardHolderName": "Ann Lee"})
    assert response.status_code == 200
    body = response.json
    assert TOKEN_RE.match(body["token"])
    assert body["type"] == "multi-use"
    assert (body["bin"], body["lastFourDigits"], body["cardBrand"]) == ("411111", "1111", "VISA")
    assert body["expiresAt"] is None
    assert "4111111111111111" not in response.get_data(as_text=True)


def test_single_use_token_holds_cvc_and_expires_after_24_hours(
    client: FlaskClient, state: State, clock: Clock
) -> None:
    clock.freeze(FIXTURE_EPOCH)
    body = api(client, "tokenize-single-use", {**CARD, "cvc": "123"}).json
    assert body["hasCvc"] is True
    assert body["expiresAt"] == "2024-01-02T00:00:00Z"
    clock.advance(24 * 3600)
    record = state.store.record(NS_TOKEN, body["token"])
    assert record is not None
    assert record.expired(state.now())
    upgraded = api(client, "upgrade", {"token": body["token"]})
    assert upgraded.status_code == 404


def test_cvc_only_single_use_token(client: FlaskClient) -> None:
    body = api(client, "tokenize-single-use", {"cvc": "1234"}).json
    assert body["type"] == "single-use"
    assert body["hasCvc"] is True
    assert "bin" not in body


def test_upgrade_drops_the_cvc_and_is_idempotent(client: FlaskClient, state: State) -> None:
    single = api(client, "tokenize-single-use", {**CARD, "cvc": "123"}).json["token"]
    first = api(client, "upgrade", {"token": single}).json
    second = api(client, "upgrade", {"token": single}).json
    assert first["token"] == second["token"] != single
    assert first["type"] == "multi-use"
    assert first["upgradedFrom"] == single
    stored = state.store.get(NS_TOKEN, first["token"], now=state.now())
    assert stored is not None
    assert stored["cvc"] is None


def test_upgrade_raced_by_50_threads_makes_one_multi_use_token(
    client: FlaskClient, app: Any
) -> None:
    single = api(client, "tokenize-single-use", {**CARD, "cvc": "123"}).json["token"]
    barrier = threading.Barrier(50)

    def attempt(_: int) -> tuple[int, str]:
        local = app.test_client()
        barrier.wait()
        response = api(local, "upgrade", {"token": single})
        return response.status_code, response.json["token"]

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(attempt, range(50)))
    assert {status for status, _ in results} == {200}
    assert len({token for _, token in results}) == 1


def test_alias_and_extra_are_kept(client: FlaskClient, state: State) -> None:
    body = api(
        client,
        "tokenize",
        {**CARD, "alias": {"key": "shop", "value": "cust-1"}, "extra": {"zip": "10001"}},
    ).json
    assert body["alias"] == {"key": "shop", "value": "cust-1"}
    assert body["extraFields"] == ["zip"]
    pointer = state.store.get(NS_ALIAS, "shop\ncust-1", now=state.now())
    assert pointer == {"token": body["token"]}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        pytest.param("tokenize", {}, "cardNumber", id="missing-card-number"),
        pytest.param(
            "tokenize", {**CARD, "cardNumber": "4111111111111112"}, "cardNumber", id="luhn"
        ),
        pytest.param(
            "tokenize",
            {**CARD, "cardNumber": 4111111111111111},
            "cardNumber",
            id="number-not-string",
        ),
        pytest.param("tokenize", {**CARD, "expirationMonth": 13}, "expirationMonth", id="month-13"),
        pytest.param(
            "tokenize", {**CARD, "expirationMonth": True}, "expirationMonth", id="month-bool"
        ),
        pytest.param("tokenize", {**CARD, "expirationYear": 2001}, "expirationYear", id="expired"),
        pytest.param(
            "tokenize", {**CARD, "expirationYear": None}, "expirationYear", id="missing-year"
        ),
        pytest.param("tokenize", {**CARD, "cvc": "123"}, "cvc", id="cvc-on-multi-use"),
        pytest.param("tokenize-single-use", {**CARD, "cvc": "12"}, "cvc", id="short-cvc"),
        pytest.param("tokenize", {**CARD, "alias": {"key": "k"}}, "alias", id="alias-shape"),
        pytest.param(
            "tokenize",
            {**CARD, "alias": {"key": "k", "value": ""}},
            "alias.value",
            id="alias-empty",
        ),
        pytest.param(
            "tokenize", {**CARD, "extra": {"cvc": "1"}}, "extra.cvc", id="extra-shadows-placeholder"
        ),
        pytest.param("tokenize", {**CARD, "extra": {"a b": "1"}}, "extra", id="extra-key"),
        pytest.param("tokenize", {**CARD, "extra": {"k": 5}}, "extra.k", id="extra-not-text"),
        pytest.param("tokenize", {**CARD, "pan": "1"}, "pan", id="unknown-field"),
        pytest.param("tokenize", ["x"], None, id="not-an-object"),
        pytest.param(
            "tokenize-single-use",
            {"cvc": "123", "extra": {"a": "b"}},
            "extra",
            id="cvc-only-with-extra",
        ),
        pytest.param("upgrade", {"token": "nope"}, "token", id="upgrade-malformed"),
        pytest.param("upgrade", {}, "token", id="upgrade-missing"),
        pytest.param(
            "upgrade",
            {"token": "ftr1df95272f9e204c5791427722cc4ef407"},
            "token",
            id="upgrade-multi-use",
        ),
        pytest.param(
            "upgrade",
            {"token": "ftr1c0ffee00000000000000000000000001"},
            "token",
            id="upgrade-cvc-only",
        ),
    ],
)
def test_bad_input_is_400_naming_the_field_and_changes_nothing(
    client: FlaskClient, state: State, path: str, body: Any, field: str | None
) -> None:
    state.provider("forter")  # seeded before the count
    before = len(state.store.records(NS_TOKEN))
    response = api(client, path, body)
    assert response.status_code == 400
    assert response.json["code"] == "VALIDATION_ERROR"
    assert response.json.get("field") == field
    assert len(state.store.records(NS_TOKEN)) == before


@pytest.mark.parametrize(
    ("headers", "data"),
    [
        pytest.param({**AUTH, "Content-Type": "text/plain"}, b"{}", id="wrong-content-type"),
        pytest.param({**AUTH, "Content-Type": "application/json"}, b"{nope", id="bad-json"),
        pytest.param({**AUTH, "Content-Type": "application/json"}, b"\xff\xfe", id="bad-utf8"),
        pytest.param({**AUTH, "Content-Type": "application/json"}, b"", id="empty"),
    ],
)
def test_malformed_bodies_are_400(
    client: FlaskClient, headers: dict[str, str], data: bytes
) -> None:
    response = client.post(f"{BASE}/tokenize", data=data, headers=headers)
    assert response.status_code == 400
    assert set(response.json) >= {"error", "code"}


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param("Basic " + base64.b64encode(b"SITE_ID:nope").decode(), id="wrong-secret"),
        pytest.param("Basic !!!", id="not-base64"),
        pytest.param("Bearer SITE_SECRET", id="wrong-scheme"),
    ],
)
def test_bad_credentials_are_401(client: FlaskClient, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = api(client, "tokenize", CARD, headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_unknown_path_and_method_use_forters_envelope(client: FlaskClient) -> None:
    missing = client.get("/forter/v1/nothing")
    wrong_method = client.get(f"{BASE}/tokenize")
    assert (missing.status_code, missing.json["code"]) == (404, "NOT_FOUND")
    assert (wrong_method.status_code, wrong_method.json["code"]) == (405, "METHOD_NOT_ALLOWED")


def test_oversized_body_is_413_in_forters_envelope(client: FlaskClient) -> None:
    response = client.post(f"{BASE}/tokenize", data=b"x" * (1024 * 1024 + 1), headers=AUTH)
    assert response.status_code == 413
    assert response.json["code"] == "PAYLOAD_TOO_LARGE"


def test_echo_target_on_main_port_reports_what_arrived(client: FlaskClient) -> None:
    response = client.put("/forter/echo/pay?x=1", data="hello", headers={"X-A": "b"})
    assert response.json["method"] == "PUT"
    assert response.json["path"] == "/pay?x=1"
    assert response.json["headers"]["X-A"] == "b"
    assert response.json["body"] == "hello"


def test_fault_on_tokenize_endpoint(client: FlaskClient, state: State) -> None:
    state.add_fault({"provider": "forter", "endpoint": "tokenize", "status": 503, "count": 1})
    assert api(client, "tokenize", CARD).status_code == 503
    assert api(client, "tokenize", CARD).status_code == 200


def test_state_view_is_masked(client: FlaskClient, state: State) -> None:
    api(client, "tokenize-single-use", {**CARD, "cvc": "987"})
    view = json.dumps(state.provider_state("forter"))
    assert "4111111111111111" not in view
    assert re.search(r"(?<![0-9a-fA-F.])987(?![0-9a-fA-F])", view) is None  # not in a hex id
    assert "411111******1111" in view


def test_seeded_identities_match_design(state: State) -> None:
    tokens = {t["token"]: t for t in state.provider_state("forter")["tokens"]}
    seeded = tokens["ftr1df95272f9e204c5791427722cc4ef407"]
    assert (seeded["card"], seeded["expiration"], seeded["cardHolderName"]) == (
        "411111******1111",
        "08/2030",
        "John Smith",
    )
    assert seeded["extraFields"] == ["zipCode"]
    assert tokens["ftr1c0ffee00000000000000000000000001"]["hasCvc"] is True
    aliases = {(a["key"], a["value"]) for a in state.provider_state("forter")["aliases"]}
    assert {("zooz", "ABC123456"), ("zooz", "ABCABC123")} <= aliases
    cards = {c["number"] for c in state.magic_values()["forter"]["sandbox_cards"]}
    assert "373737373737374" in cards


@pytest.mark.parametrize(
    ("data", "where"),
    [
        pytest.param({"sites": [], "tokens": []}, "sites", id="no-sites"),
        pytest.param(
            {"sites": [{"site_id": "a"}], "tokens": []}, "sites.0.site_secret", id="no-secret"
        ),
        pytest.param(
            {"sites": [{"site_id": "a", "site_secret": "b"}], "tokens": [{"token": "x"}]},
            "tokens.0.token",
            id="bad-token-id",
        ),
        pytest.param(
            {
                "sites": [{"site_id": "a", "site_secret": "b"}],
                "tokens": [{"token": "ftr1" + "0" * 32, "cardNumber": "1"}],
            },
            "tokens.0.cardNumber",
            id="bad-card",
        ),
    ],
)
def test_fixture_errors_name_file_and_field(data: Any, where: str) -> None:
    with pytest.raises(FixtureError, match=rf"forter\.json: {where}"):
        load_fixtures(FixtureReader("fixtures/forter.json", data))


def test_inprocess_routes_forters_real_tokenization_host(mockbank_inprocess: Any) -> None:
    response = requests.post(
        "https://pci-tokenization-sandbox.checkouttools.com/v1/tokenization/tokenize",
        json=CARD,
        auth=("SITE_ID", "SITE_SECRET"),
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json()["token"].startswith("ftr1")


def test_ca_cli_prints_path_and_pem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    cli(parser.add_subparsers())
    args = parser.parse_args(["ca", "--state", str(tmp_path)])
    assert args.func(args) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == tmp_path / "ca" / "ca.pem"
    assert (tmp_path / "ca" / "ca.key").stat().st_mode & 0o777 == 0o600
    args = parser.parse_args(["ca", "--pem", "--state", str(tmp_path)])
    assert args.func(args) == 0
    assert capsys.readouterr().out == path.read_text()


def test_live_tokenize_then_use_through_the_api(mockbank: Mockbank) -> None:
    response = requests.post(
        mockbank.url("forter", "/v1/tokenization/tokenize"),
        json=CARD,
        auth=("site_id", "site_secret"),
        timeout=5,
    )
    assert response.status_code == 200


def test_dashboard_lists_tokens_masked(client: FlaskClient) -> None:
    api(client, "tokenize", {**CARD, "alias": {"key": "shop", "value": "c-9"}})
    page = client.get("/_mockbank/console").get_data(as_text=True)
    assert "ftr1df95272f9e204c5791427722cc4ef407" in page
    assert "alias shop=c-9" in page
    assert "4111111111111111" not in page

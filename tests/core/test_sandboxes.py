"""Sandboxes: isolated clock, faults, journal, records and reset on one app, by URL prefix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.clients.syspay import wsse_header

PARTNER = ("myPartnerLogin", "myPartnerPassphrase")
DETOKENIZE = "/syspay/api/v2/partner/token/1000001/detokenize"
VIEW = {"type": "TEXT", "viewer": "John Doe", "company_reference": "4242"}


@pytest.fixture
def app() -> Iterator[Flask]:
    app = create_app({"state_path": None})
    yield app
    app.extensions["mockbank"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _create(client: FlaskClient, **spec: Any) -> dict[str, Any]:
    response = client.post("/_mockbank/sandboxes", json=spec)
    assert response.status_code == 201, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def _detokenize(client: FlaskClient, prefix: str = "") -> Any:
    return client.post(prefix + DETOKENIZE, headers={"X-Wsse": wsse_header(*PARTNER)}, json=VIEW)


def test_create_answers_the_sandbox_base_urls(client: FlaskClient) -> None:
    answer = _create(client, name="team-a")
    assert answer["name"] == "team-a"
    assert answer["base_url"].endswith("/s/team-a")
    assert answer["control_url"].endswith("/s/team-a/_mockbank")
    assert answer["urls"]["quickstream"].endswith("/s/team-a/quickstream")
    assert answer["idle_ttl_s"] == 3600
    listed = client.get("/_mockbank/sandboxes").get_json()
    assert [s["name"] for s in listed["sandboxes"]] == ["team-a"]


def test_a_generated_name_is_given_when_none_is_asked(client: FlaskClient) -> None:
    first, second = _create(client), _create(client)
    assert first["name"] != second["name"]
    assert first["name"].startswith("sb-")


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ({"name": "Team A"}, "bad_sandbox_name"),
        ({"name": "-x"}, "bad_sandbox_name"),
        ({"name": "x" * 41}, "bad_sandbox_name"),
        ({"name": 7}, "bad_sandbox_name"),
        ({"idle_ttl_s": 0}, "bad_idle_ttl"),
        ({"idle_ttl_s": "soon"}, "bad_idle_ttl"),
        ({"idle_ttl_s": 1e12}, "bad_idle_ttl"),
        ({"fixtures": {"nope": {}}}, "bad_fixtures"),
        ({"fixtures": ["syspay"]}, "bad_fixtures"),
        ({"colour": "blue"}, "bad_sandbox"),
    ],
    ids=[
        "upper",
        "leading-hyphen",
        "too-long",
        "number",
        "ttl-0",
        "ttl-text",
        "ttl-huge",
        "unknown-provider",
        "fixtures-list",
        "unknown-field",
    ],
)
def test_bad_sandbox_specs_are_400_and_create_nothing(
    client: FlaskClient, spec: dict[str, Any], code: str
) -> None:
    response = client.post("/_mockbank/sandboxes", json=spec)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code
    assert client.get("/_mockbank/sandboxes").get_json()["count"] == 0


def test_a_taken_name_is_409(client: FlaskClient) -> None:
    _create(client, name="team-a")
    response = client.post("/_mockbank/sandboxes", json={"name": "team-a"})
    assert response.status_code == 409
    assert client.post("/_mockbank/sandboxes", json={"name": "default"}).status_code == 409


def test_clocks_are_independent(client: FlaskClient) -> None:
    _create(client, name="a")
    _create(client, name="b")
    moved = client.post("/s/a/_mockbank/clock", json={"advance": 7200}).get_json()
    assert moved["offset_s"] == 7200
    assert client.get("/s/b/_mockbank/clock").get_json()["offset_s"] == 0
    assert client.get("/_mockbank/clock").get_json()["offset_s"] == 0


def test_faults_are_independent(client: FlaskClient) -> None:
    _create(client, name="a")
    _create(client, name="b")
    fault = {"provider": "syspay", "endpoint": "detokenize", "status": 503}
    assert client.post("/s/a/_mockbank/faults", json=fault).status_code == 201
    assert _detokenize(client, "/s/b").status_code == 200
    assert _detokenize(client).status_code == 200
    assert _detokenize(client, "/s/a").status_code == 503
    assert client.get("/s/b/_mockbank/faults").get_json()["faults"] == []


def test_journals_are_independent(client: FlaskClient) -> None:
    _create(client, name="a")
    _detokenize(client, "/s/a")
    _detokenize(client, "/s/a")
    _detokenize(client)
    in_a = client.get("/s/a/_mockbank/requests?provider=syspay").get_json()
    in_default = client.get("/_mockbank/requests?provider=syspay").get_json()
    assert in_a["count"] == 2
    assert in_default["count"] == 1
    client.delete("/s/a/_mockbank/requests")
    assert client.get("/_mockbank/requests?provider=syspay").get_json()["count"] == 1


def test_records_are_independent_and_single_use_per_sandbox(client: FlaskClient) -> None:
    _create(client, name="a")
    made = client.post(
        "/s/a/syspay/api/v2/merchant/token",
        headers={"X-Wsse": wsse_header("myMerchantLogin", "myMerchantPassphrase", partner=False)},
        json={
            "card": {
                "number": "5555555555554444",
                "exp_month": "10",
                "exp_year": "2031",
                "holder": "Ann Lee",
            },
            "detokenizers": ["myPartnerLogin"],
        },
    )
    if made.status_code == 201:
        token_id = made.get_json()["token"]["id"]
        tokens_a = client.get("/s/a/_mockbank/state/syspay").get_json()["tokens"]
        tokens_default = client.get("/_mockbank/state/syspay").get_json()["tokens"]
        assert any(t["id"] == token_id for t in tokens_a)
        assert not any(t["id"] == token_id for t in tokens_default)
    url = _detokenize(client, "/s/a").get_json()["redirect_url"]
    assert "/s/a/syspay/" in url
    path = url.split("://", 1)[1].split("/", 1)[1]
    assert client.get("/" + path).status_code == 200
    assert client.get("/" + path).status_code == 410
    # The same redirect id does not exist in the default sandbox.
    assert client.get("/" + path.split("/", 2)[2]).status_code in (404, 410)


def test_reset_is_independent(client: FlaskClient) -> None:
    _create(client, name="a")
    client.post("/s/a/_mockbank/clock", json={"advance": 60})
    _detokenize(client, "/s/a")
    _detokenize(client)
    client.post("/_mockbank/reset")
    assert client.get("/s/a/_mockbank/requests").get_json()["count"] == 1
    assert client.get("/s/a/_mockbank/clock").get_json()["offset_s"] == 60
    client.post("/s/a/_mockbank/reset")
    assert client.get("/s/a/_mockbank/requests").get_json()["count"] == 0
    assert client.get("/s/a/_mockbank/clock").get_json()["offset_s"] == 0
    assert client.get("/_mockbank/sandboxes").get_json()["count"] == 1


def test_an_unknown_sandbox_is_404_in_the_providers_format(client: FlaskClient) -> None:
    response = _detokenize(client, "/s/nope")
    assert response.status_code == 404
    assert "no sandbox named 'nope'" in response.get_json()["errors"][0]["message"]
    control = client.get("/s/nope/_mockbank/clock")
    assert control.status_code == 404
    assert "no sandbox named 'nope'" in control.get_json()["error"]["message"]


def test_a_sandbox_expires_after_its_idle_time_on_the_app_clock(client: FlaskClient) -> None:
    _create(client, name="a", idle_ttl_s=600)
    _detokenize(client, "/s/a")
    client.post("/_mockbank/clock", json={"advance": 599})
    assert client.get("/s/a/_mockbank/health").status_code == 200
    client.post("/_mockbank/clock", json={"advance": 601})
    assert client.get("/s/a/_mockbank/health").status_code == 404
    assert client.get("/_mockbank/sandboxes").get_json()["count"] == 0
    # The name can be taken again, and starts empty.
    _create(client, name="a")
    assert client.get("/s/a/_mockbank/requests").get_json()["count"] == 0


def test_delete_removes_the_sandbox_and_its_records(app: Flask, client: FlaskClient) -> None:
    _create(client, name="a")
    _detokenize(client, "/s/a")
    assert client.delete("/_mockbank/sandboxes/a").get_json() == {"deleted": "a"}
    assert client.get("/s/a/_mockbank/health").status_code == 404
    assert client.delete("/_mockbank/sandboxes/a").status_code == 404
    store = app.extensions["mockbank"].store
    assert store.records("sandbox:a/syspay.redirect") == []


def test_a_sandbox_can_have_its_own_fixtures(client: FlaskClient) -> None:
    import json
    from pathlib import Path

    from mockbank.fixtures import default_dir

    shipped = json.loads((Path(default_dir()) / "syspay.json").read_text())
    for partner in shipped["partners"]:
        if partner["login"] == "myPartnerLogin":
            partner["types"] = ["IMAGE"]  # this sandbox's partner may not see TEXT
    _create(client, name="a", fixtures={"syspay": shipped})
    assert _detokenize(client, "/s/a").status_code == 403
    assert _detokenize(client).status_code == 200


def test_bad_sandbox_fixtures_are_refused_naming_the_key(client: FlaskClient) -> None:
    response = client.post(
        "/_mockbank/sandboxes", json={"name": "a", "fixtures": {"syspay": {"partnrs": []}}}
    )
    assert response.status_code == 400
    assert "syspay.json: partners: is required" in response.get_json()["error"]["message"]
    assert client.get("/_mockbank/sandboxes").get_json()["count"] == 0


def test_sandboxes_are_managed_from_the_unprefixed_control_api(client: FlaskClient) -> None:
    _create(client, name="a")
    response = client.post("/s/a/_mockbank/sandboxes", json={"name": "b"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "not_in_sandbox"

"""TokenOS errors: the gateway format for SDK clients, the current reference's envelope for
REST clients, bad input, faults and the SDK calls outside the emulation."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from mockbank.clients.tokenos import Member, auth_header, signing_payload
from mockbank.clock import wall_epoch
from mockbank.providers.tokenos.models.fixtures import privileged_key
from mockbank.providers.tokenos.records.members import NS_MEMBER
from mockbank.providers.tokenos.routes.unemulated import UNEMULATED
from mockbank.state import State
from mockbank.testing import LiveServer

# The seeded TPP's sandbox API key, as HTTP Basic.
TPP_BASIC = (
    "Basic " + base64.b64encode(b"m:2fH1YspCejjhxqSss5hvLGMfb2Gm:5zKtXEAq:sandbox-api-key").decode()
)


def test_sdk_clients_get_a_text_error_with_the_code_header(client: FlaskClient) -> None:
    answer = client.get("/tokenos/no/such/thing", headers={"token-sdk": "js"})
    assert answer.status_code == 404
    assert answer.headers["token-error"] == "NOT_FOUND"
    assert answer.mimetype == "text/plain"
    assert "No endpoint" in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/tokenos/no/such/thing", {}, 404),
        ("/tokenos/members/m:nobody", {}, 404),
        ("/tokenos/tokens", {}, 401),
        ("/tokenos/tokens", {"Authorization": "Basic bTp4Onk="}, 401),
        ("/tokenos/tokens", {"Authorization": "Bearer a.b.c"}, 401),
        ("/tokenos/tokens?page.limit=0", {"Authorization": TPP_BASIC}, 400),
    ],
    ids=["unknown-path", "unknown-member", "no-auth", "bad-api-key", "bad-jwt", "bad-paging"],
)
def test_rest_clients_get_the_current_references_v1_error_envelope(
    client: FlaskClient, path: str, headers: dict[str, str], status: int
) -> None:
    answer = client.get(path, headers=headers)
    assert answer.status_code == status
    assert answer.mimetype == "application/json"
    error = answer.get_json()["error"]
    assert set(error) == {"message", "tokenTraceId"}
    assert error["message"]
    assert error["tokenTraceId"] == answer.headers["X-Request-Id"]
    assert answer.headers["token-error"]


def test_requests_signed_like_the_sdk_keep_the_text_form(
    live: LiveServer, merchant: Member
) -> None:
    """An Ed25519-signed call without the ``token-sdk`` header still reads as the SDK expects."""
    path = "/tokens/tt:nope:5zKxyCKM"
    created = str(int(wall_epoch() * 1000))
    payload = signing_payload("GET", merchant.client.uri_host, path, created)
    header = auth_header(merchant.member_id, merchant.keys["LOW"], payload)
    answer = requests.get(
        live.url_for("tokenos", path), headers={"Authorization": header}, timeout=5
    )
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert "tt:nope" in answer.text


def test_json_errors_on_request(client: FlaskClient) -> None:
    answer = client.get("/tokenos/members/m:nobody", headers={"token-json-error": "true"})
    assert answer.status_code == 404
    error = answer.get_json()["error"]
    assert error["errorCode"] == "NOT_FOUND"
    assert "m:nobody" in error["message"]
    assert error["tokenTraceId"] == answer.headers["X-Request-Id"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        pytest.param("DELETE", "/tokenos/banks", {}, 405, "UNIMPLEMENTED", id="wrong-method"),
        pytest.param(
            "POST",
            "/tokenos/members",
            {"data": "{not json"},
            400,
            "INVALID_ARGUMENT",
            id="malformed-json",
        ),
        pytest.param(
            "POST",
            "/tokenos/members",
            {"data": b"\xff\xfe"},
            400,
            "INVALID_ARGUMENT",
            id="bad-encoding",
        ),
        pytest.param(
            "POST",
            "/tokenos/members",
            {"json": {"memberType": "ROBOT"}},
            400,
            "INVALID_ARGUMENT",
            id="member-type",
        ),
        pytest.param(
            "POST",
            "/tokenos/members",
            {"json": ["a"]},
            400,
            "INVALID_ARGUMENT",
            id="body-not-object",
        ),
        pytest.param(
            "POST",
            "/tokenos/members",
            {"data": b"{" + b" " * (1024 * 1024 + 1)},
            413,
            "RESOURCE_EXHAUSTED",
            id="too-large",
        ),
        pytest.param(
            "GET", "/tokenos/banks?perPage=500", {}, 400, "INVALID_ARGUMENT", id="per-page-over-200"
        ),
        pytest.param(
            "GET",
            "/tokenos/banks?bank_features.supports_magic.value=true",
            {},
            400,
            "INVALID_ARGUMENT",
            id="unknown-feature",
        ),
        pytest.param(
            "GET",
            "/tokenos/aliases/normalize/FAX/123/token",
            {},
            400,
            "INVALID_ARGUMENT",
            id="alias-type",
        ),
        pytest.param(
            "GET",
            "/tokenos/aliases/normalize/EMAIL/not-an-email/token",
            {},
            400,
            "INVALID_ARGUMENT",
            id="alias-email",
        ),
        pytest.param(
            "GET", "/tokenos/token-requests/rq:nope", {}, 404, "NOT_FOUND", id="unknown-request"
        ),
        pytest.param(
            "GET", "/tokenos/tokens/tt:nope", {}, 401, "UNAUTHENTICATED", id="token-needs-auth"
        ),
    ],
)
def test_bad_input_gets_the_gateway_error_format(
    client: FlaskClient,
    state: State,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
) -> None:
    state.provider("tokenos")  # seeded before the count
    before = len(state.store.records(NS_MEMBER))
    answer = client.open(path, method=method, **kwargs)
    assert answer.status_code == status
    assert answer.headers["token-error"] == code
    assert answer.get_data(as_text=True)
    assert len(state.store.records(NS_MEMBER)) == before


@pytest.mark.parametrize(
    "path",
    [
        "/tokenos/banks?page=%C2%B2",
        "/tokenos/banks?perPage=%C2%B2",
        "/tokenos/tokens?type=TRANSFER&offset=%C2%B2",
        "/tokenos/transfers?tokenId=undefined&offset=undefined&limit=%C2%B3",
        "/tokenos/banks?page=" + "9" * 5000,
        "/tokenos/tokens?type=ACCESS&offset=" + "9" * 5000,
    ],
)
def test_superscript_or_huge_numbers_in_paging_are_a_400_not_a_crash(
    client: FlaskClient, state: State, path: str
) -> None:
    # "²".isdigit() is True in Python, but int("²") raises; int() refuses 4300+ digits.
    tpp = state.fixtures["tokenos"].member_by_name("tpp").member_id
    basic = base64.b64encode(f"{tpp}:sandbox-api-key".encode()).decode()
    answer = client.get(path, headers={"Authorization": f"Basic {basic}"})
    assert (answer.status_code, answer.headers["token-error"]) == (400, "INVALID_ARGUMENT")
    assert state.take_server_errors() == []


@pytest.mark.parametrize("created", ["\u00b2", "9" * 5000], ids=["superscript", "huge"])
def test_odd_created_at_ms_is_a_401_not_a_crash(
    client: FlaskClient, state: State, created: str
) -> None:
    tpp = state.fixtures["tokenos"].member_by_name("tpp")
    key = privileged_key(tpp.key_seed)
    header = (
        f"Token-Ed25519-SHA512 member-id={tpp.member_id},key-id={key.id},"
        f"signature=AAAA,created-at-ms={created}"
    )
    answer = client.get("/tokenos/aliases", headers={"Authorization": header})
    assert (answer.status_code, answer.headers["token-error"]) == (401, "UNAUTHENTICATED")
    assert "created-at-ms must be milliseconds" in answer.get_data(as_text=True)
    assert state.take_server_errors() == []


def test_injected_fault_uses_the_gateway_format(client: FlaskClient, state: State) -> None:
    state.add_fault({"provider": "tokenos", "endpoint": "banks", "status": 503, "count": 1})
    failed = client.get("/tokenos/banks")
    assert failed.status_code == 503
    assert failed.headers["token-error"] == "UNAVAILABLE"
    assert client.get("/tokenos/banks").status_code == 200


def test_generated_garbage_never_causes_a_server_error(client: FlaskClient, state: State) -> None:
    rng = state.random
    paths = [
        "/tokenos/members",
        "/tokenos/token-requests",
        "/tokenos/transfers",
        "/tokenos/members/m:x/updates",
        "/tokenos/app/request-token/rq:x",
    ]
    shapes: list[Any] = [
        None,
        1,
        "x",
        [],
        {},
        {"update": []},
        {"requestPayload": 5},
        {"update": {"memberId": "m:x", "operations": [{"addKey": 3}]}},
        {"payload": {"amount": "x"}, "payloadSignature": {}},
    ]
    for _ in range(300):
        body = rng.choice(shapes)
        if rng.random() < 0.3:
            body = {
                "requestPayload": {
                    "transferBody": {"lifetimeAmount": rng.random()},
                    "redirectUrl": rng.choice(["", "x", None]),
                }
            }
        answer = client.post(
            rng.choice(paths),
            data=json.dumps(body),
            headers={
                "Authorization": "Basic " + rng.choice(["OnNhbmRib3gtYXBpLWtleQ==", "eA==", "!"])
            },
        )
        assert answer.status_code < 500, answer.get_data(as_text=True)
    assert state.take_server_errors() == []


@pytest.mark.parametrize(
    ("method", "rule", "feature"),
    [pytest.param(*entry, id=f"{entry[0]} {entry[1]}") for entry in UNEMULATED],
)
def test_sdk_calls_outside_the_emulation_are_a_clear_unimplemented(
    client: FlaskClient, state: State, method: str, rule: str, feature: str
) -> None:
    path = "/tokenos" + re.sub(r"<[a-z_]+>", "x", rule)
    before = state.provider_state("tokenos")
    answer = client.open(path, method=method, json={})
    assert answer.status_code == 501
    assert answer.headers["token-error"] == "UNIMPLEMENTED"
    assert f"mockbank does not emulate TokenOS {feature} ({method} {path})" in answer.text
    assert state.provider_state("tokenos") == before

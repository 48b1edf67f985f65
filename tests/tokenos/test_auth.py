"""Request signatures: tampered, foreign, stale and replayed calls get 401 and change nothing."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from flask import Flask

from mockbank import create_app
from mockbank.clients.tokenos import (
    Member,
    TokenClient,
    TokenError,
    auth_header,
    canonical_json,
    signing_payload,
)
from mockbank.clock import wall_epoch
from mockbank.state import State
from mockbank.testing import LiveServer
from tests.tokenos.helpers import PAYER, mint, transfer_payload


def send(
    member: Member,
    method: str,
    path: str,
    body: Any = None,
    *,
    created_ms: int | None = None,
    skew_ms: int = 0,
    signer: Member | None = None,
    sign_body: Any = ...,
    tamper: bool = False,
    level: str = "LOW",
) -> requests.Response:
    """A hand-built signed call, so each test can break exactly one thing."""
    client = member.client
    wall_ms = int(wall_epoch() * 1000)
    created = str(created_ms if created_ms is not None else wall_ms + skew_ms)
    bare, _, query = path.partition("?")
    signed_body = body if sign_body is ... else sign_body
    payload = signing_payload(method, client.uri_host, bare, created, signed_body, query)
    key = (signer or member).keys[level]
    header = auth_header(member.member_id, key, payload)
    if tamper:
        # Flip one character of the signature value.
        start = header.index("signature=") + len("signature=")
        flipped = "A" if header[start] != "A" else "B"
        header = header[:start] + flipped + header[start + 1 :]
    data = None if body is None else canonical_json(body).encode()
    return requests.request(
        method,
        client.base_url + path,
        data=data,
        headers={"Authorization": header, "Content-Type": "application/json"},
        timeout=10,
    )


def stored_requests(state: State) -> list[dict[str, Any]]:
    return state.provider_state("tokenos")["tokenRequests"]


def store_body() -> dict[str, Any]:
    return {"requestPayload": transfer_payload(), "requestOptions": PAYER}


def test_signed_call_is_accepted(merchant: Member, live: LiveServer) -> None:
    answer = send(merchant, "POST", "/token-requests", store_body())
    assert answer.status_code == 200, answer.text
    assert len(stored_requests(live.state)) == 1


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param({"tamper": True}, id="tampered-signature"),
        pytest.param({"sign_body": {"requestPayload": {}}}, id="body-changed-after-signing"),
        pytest.param({"skew_ms": -600_000}, id="stale-10-min"),
        pytest.param({"skew_ms": 600_000}, id="from-the-future"),
    ],
)
def test_broken_signature_is_refused_and_stores_nothing(
    merchant: Member, live: LiveServer, breakage: dict[str, Any]
) -> None:
    answer = send(merchant, "POST", "/token-requests", store_body(), **breakage)
    assert answer.status_code == 401
    assert answer.headers["token-error"] == "UNAUTHENTICATED"
    assert stored_requests(live.state) == []


def test_signature_made_with_another_members_key_is_refused(
    merchant: Member, token_client: TokenClient, live: LiveServer
) -> None:
    intruder = token_client.create_member({"type": "DOMAIN", "value": "intruder.example.com"})
    # The intruder's key under the merchant's member id: the key id is not the merchant's.
    answer = send(merchant, "POST", "/token-requests", store_body(), signer=intruder)
    assert answer.status_code == 401
    assert "is not a key of" in answer.text
    assert stored_requests(live.state) == []


def test_key_id_of_the_member_with_a_foreign_signature_is_refused(
    merchant: Member, token_client: TokenClient, live: LiveServer
) -> None:
    intruder = token_client.create_member({"type": "DOMAIN", "value": "intruder.example.com"})
    created = str(int(wall_epoch() * 1000))
    payload = signing_payload(
        "POST", token_client.uri_host, "/token-requests", created, store_body()
    )
    signature = intruder.keys["LOW"].sign_json(payload)
    header = (
        f"Token-Ed25519-SHA512 member-id={merchant.member_id},"
        f"key-id={merchant.keys['LOW'].id},signature={signature},created-at-ms={created}"
    )
    answer = requests.post(
        live.url_for("tokenos", "/token-requests"),
        data=canonical_json(store_body()),
        timeout=10,
        headers={"Authorization": header, "Content-Type": "application/json"},
    )
    assert answer.status_code == 401
    assert "signature verification failed" in answer.text
    assert stored_requests(live.state) == []


def test_wall_clock_signature_stays_valid_when_the_app_clock_moves(
    merchant: Member, live: LiveServer
) -> None:
    # Clients sign with their own wall clock; moving the app clock must not lock them out.
    live.state.clock.advance(86_400)
    answer = send(merchant, "POST", "/token-requests", store_body())
    assert answer.status_code == 200, answer.text


def test_signature_stale_by_both_clocks_is_refused(merchant: Member, live: LiveServer) -> None:
    live.state.clock.advance(3600)
    answer = send(merchant, "POST", "/token-requests", store_body(), skew_ms=-400_000)
    assert answer.status_code == 401
    assert "stale request" in answer.text
    assert stored_requests(live.state) == []


def test_replayed_request_is_refused(merchant: Member, live: LiveServer) -> None:
    created = int(wall_epoch() * 1000)
    first = send(merchant, "POST", "/token-requests", store_body(), created_ms=created)
    again = send(merchant, "POST", "/token-requests", store_body(), created_ms=created)
    assert first.status_code == 200
    assert again.status_code == 401
    assert "replayed" in again.text
    assert len(stored_requests(live.state)) == 1


def test_unsigned_call_is_refused(live: LiveServer) -> None:
    answer = requests.post(
        live.url_for("tokenos", "/token-requests"), json=store_body(), timeout=10
    )
    assert answer.status_code == 401
    assert answer.headers["token-error"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Token-Ed25519-SHA512 member-id=m:x", id="missing-fields"),
        pytest.param("Token-Ed25519-SHA512 garbage", id="no-equals"),
        pytest.param("Bearer abc", id="other-scheme"),
        pytest.param(
            "Token-Ed25519-SHA512 member-id=m:x,key-id=k,signature=s,created-at-ms=soon",
            id="created-not-a-number",
        ),
        pytest.param("Basic !!!", id="basic-not-base64"),
    ],
)
def test_malformed_authorization_is_refused(live: LiveServer, header: str) -> None:
    answer = requests.get(
        live.url_for("tokenos", "/accounts"), headers={"Authorization": header}, timeout=10
    )
    assert answer.status_code == 401
    assert answer.headers["token-error"] == "UNAUTHENTICATED"


def test_tampered_transfer_payload_signature_creates_no_transfer(
    merchant: Member, live: LiveServer
) -> None:
    token = mint(live, merchant, transfer_payload())
    payload = {"refId": "r1", "tokenId": token["id"], "amount": {"value": "5", "currency": "EUR"}}
    forged = {
        "memberId": merchant.member_id,
        "keyId": merchant.keys["LOW"].id,
        "signature": merchant.keys["LOW"].sign_json({**payload, "refId": "r2"}),
    }
    answer = send(merchant, "POST", "/transfers", {"payload": payload, "payloadSignature": forged})
    assert answer.status_code == 401
    assert live.state.provider_state("tokenos")["transfers"] == []


def test_cancel_with_a_bad_signature_leaves_the_token_valid(
    merchant: Member, live: LiveServer
) -> None:
    token = mint(live, merchant, transfer_payload())
    bad = {
        "memberId": merchant.member_id,
        "keyId": merchant.keys["STANDARD"].id,
        "signature": merchant.keys["STANDARD"].sign("something else.cancelled"),
    }
    answer = send(
        merchant, "PUT", f"/tokens/{token['id']}/cancel", {"tokenId": token["id"], "signature": bad}
    )
    assert answer.status_code == 401
    assert [s["action"] for s in merchant.get_token(token["id"])["payloadSignatures"]] == [
        "ENDORSED",
        "ENDORSED",
    ]


def test_member_update_needs_a_privileged_signature(
    merchant: Member, token_client: TokenClient
) -> None:
    before = token_client.call("GET", f"/members/{merchant.member_id}")["member"]
    update = {
        "memberId": merchant.member_id,
        "prevHash": before["lastHash"],
        "operations": [{"removeKey": {"keyId": merchant.keys["LOW"].id}}],
    }
    body = {
        "update": update,
        "updateSignature": {
            "memberId": merchant.member_id,
            "keyId": merchant.keys["LOW"].id,
            "signature": merchant.keys["LOW"].sign_json(update),
        },
    }
    with pytest.raises(TokenError) as refused:
        token_client.call("POST", f"/members/{merchant.member_id}/updates", body)
    assert refused.value.status == 401
    after = token_client.call("GET", f"/members/{merchant.member_id}")["member"]
    assert after == before


def test_lenient_mode_accepts_a_bad_signature(tmp_path: Any) -> None:
    app: Flask = create_app({"state_path": None, "tokenos.lenient_signatures": True})
    with LiveServer(app) as server:
        member = TokenClient(server.url_for("tokenos")).create_member()
        answer = send(member, "POST", "/token-requests", store_body(), tamper=True)
        assert answer.status_code == 200
        entry = app.extensions["mockbank"].journal.entries(endpoint="store-token-request")[-1]
        assert entry.notes["auth"] == "lenient"
    app.extensions["mockbank"].close()


def test_sandbox_api_key_acts_as_the_seeded_member(live: LiveServer) -> None:
    fixtures = live.state.fixtures["tokenos"]
    member_id = fixtures.member_by_name("tpp").member_id
    for user in (member_id, member_id.replace(":", "-"), ""):
        basic = base64.b64encode(f"{user}:sandbox-api-key".encode()).decode()
        answer = requests.post(
            live.url_for("tokenos", "/token-requests"),
            json=store_body(),
            headers={"Authorization": f"Basic {basic}"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["tokenRequest"]["requestPayload"]["to"]["id"] == member_id


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param("m:someone:wrong-key", id="wrong-key"),
        pytest.param("m:someone-else:sandbox-api-key", id="key-of-another-member"),
        pytest.param("no-colon", id="no-colon"),
    ],
)
def test_bad_api_key_is_refused(live: LiveServer, credentials: str) -> None:
    basic = base64.b64encode(credentials.encode()).decode()
    answer = requests.get(
        live.url_for("tokenos", "/accounts"),
        headers={"Authorization": f"Basic {basic}"},
        timeout=10,
    )
    assert answer.status_code == 401
    assert answer.headers["token-error"] == "UNAUTHENTICATED"


def test_journal_masks_signatures_and_api_keys(merchant: Member, live: LiveServer) -> None:
    merchant.call("GET", "/accounts")
    basic = base64.b64encode(b":sandbox-api-key").decode()
    requests.get(
        live.url_for("tokenos", "/accounts"),
        timeout=10,
        headers={"Authorization": f"Basic {basic}"},
    )
    entries = live.state.journal.entries(provider="tokenos", endpoint="accounts")
    assert len(entries) == 2
    text = json.dumps([e.as_dict() for e in entries])
    assert "sandbox-api-key" not in text
    assert basic not in text
    assert "signature=" not in text
    assert entries[0].notes["member"] == merchant.member_id


def test_fifty_concurrent_replays_of_one_signed_call_succeed_once(
    merchant: Member, live: LiveServer
) -> None:
    created = int(wall_epoch() * 1000)
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(
            pool.map(
                lambda _: send(
                    merchant, "POST", "/token-requests", store_body(), created_ms=created
                ),
                range(50),
            )
        )
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == 1
    assert statuses.count(401) == 49
    assert len(stored_requests(live.state)) == 1

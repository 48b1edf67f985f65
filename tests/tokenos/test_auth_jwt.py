"""TokenOS JWT bearer authentication (EdDSA, detached body, claims in the header), by requests."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from mockbank.clients.tokenos import KeyPair, Member, base64url, generate_keys, jwt_bearer
from mockbank.providers.tokenos.models.fixtures import seeded_keys
from mockbank.testing import LiveServer
from tests.tokenos.helpers import transfer_payload

TPP_ID = "m:2fH1YspCejjhxqSss5hvLGMfb2Gm:5zKtXEAq"
TPP_KEY = seeded_keys("mockbank-tokenos-tpp")[0]


def _authority(live: LiveServer) -> str:
    return urlsplit(live.url).netloc


def _app_ms(live: LiveServer) -> int:
    return int(live.state.now().timestamp() * 1000)


def _call(
    live: LiveServer,
    verb: str,
    target: str,
    body: Any = None,
    *,
    key: KeyPair = TPP_KEY,
    member_id: str = TPP_ID,
    claims: dict[str, Any] | None = None,
    signed_body: bytes | None = None,
) -> requests.Response:
    """Send `verb` `target` (under /tokenos) with a JWT; `claims` override what is signed."""
    data = json.dumps(body).encode() if body is not None else b""
    signed = {
        "mid": member_id,
        "method": verb,
        "host": _authority(live),
        "path": "/tokenos" + target,
        "exp": _app_ms(live) + 60_000,
        **(claims or {}),
    }
    authorization = jwt_bearer(
        signed["mid"],
        key,
        method=signed["method"],
        host=signed["host"],
        path=signed["path"],
        body=data if signed_body is None else signed_body,
        expires_at_ms=signed["exp"],
    )
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    return requests.request(
        verb, live.url + "/tokenos" + target, data=data or None, headers=headers, timeout=5
    )


def test_a_valid_jwt_is_accepted_for_get_and_post(live: LiveServer) -> None:
    listed = _call(live, "GET", "/tokens?type=TRANSFER")
    assert listed.status_code == 200, listed.text
    stored = _call(live, "POST", "/token-requests", {"requestPayload": transfer_payload()})
    assert stored.status_code == 200, stored.text
    assert stored.json()["tokenRequest"]["requestPayload"]["to"]["id"] == TPP_ID


def test_the_path_may_be_signed_without_the_mount_prefix(live: LiveServer) -> None:
    assert _call(live, "GET", "/aliases", claims={"path": "/aliases"}).status_code == 200


def test_the_jwt_header_carries_the_claims_the_reference_shows(live: LiveServer) -> None:
    authorization = jwt_bearer(TPP_ID, TPP_KEY, method="get", host="h:1", path="/p")
    header_part, payload, _ = authorization.removeprefix("Bearer ").split(".")
    assert payload == ""
    header = json.loads(base64.urlsafe_b64decode(header_part + "=" * (-len(header_part) % 4)))
    assert header["alg"] == "EdDSA"
    assert header["kid"] == TPP_KEY.id
    assert header["mid"] == TPP_ID
    assert (header["host"], header["method"], header["path"]) == ("h:1", "GET", "/p")
    assert isinstance(header["exp"], int)


def test_the_python_member_can_call_with_a_jwt(merchant: Member) -> None:
    assert merchant.call("GET", "/aliases", jwt=True)["aliases"][0]["type"] == "DOMAIN"
    stored = merchant.call(
        "POST", "/token-requests", {"requestPayload": transfer_payload()}, jwt=True
    )
    assert stored["tokenRequest"]["id"].startswith("rq:")


def test_an_expired_jwt_is_refused_by_the_app_clock(live: LiveServer) -> None:
    expired = _call(live, "GET", "/aliases", claims={"exp": _app_ms(live) - 1})
    assert expired.status_code == 401
    assert "expired" in expired.text
    live.state.clock.freeze()
    exp = _app_ms(live) + 30_000
    assert _call(live, "GET", "/aliases", claims={"exp": exp}).status_code == 200
    live.state.clock.advance(31)
    late = _call(live, "GET", "/aliases", claims={"exp": exp})
    assert late.status_code == 401
    assert late.headers["token-error"] == "UNAUTHENTICATED"


def test_a_jwt_signed_with_another_key_is_refused(live: LiveServer) -> None:
    stranger = generate_keys("PRIVILEGED")
    unknown_kid = _call(live, "GET", "/aliases", key=stranger)
    assert unknown_kid.status_code == 401
    assert "is not a key of" in unknown_kid.text
    # The member's real key id in the header, signed by someone else's private key.
    header = {
        "alg": "EdDSA",
        "kid": TPP_KEY.id,
        "mid": TPP_ID,
        "host": _authority(live),
        "method": "GET",
        "path": "/tokenos/aliases",
        "exp": _app_ms(live) + 60_000,
    }
    encoded = base64url(json.dumps(header).encode())
    signature = base64url(stranger.private_key.sign(f"{encoded}.".encode()))
    forged = requests.get(
        live.url + "/tokenos/aliases",
        headers={"Authorization": f"Bearer {encoded}..{signature}"},
        timeout=5,
    )
    assert forged.status_code == 401
    assert "signature verification failed" in forged.text
    # The same header signed by the right key passes: only the key was wrong.
    good = base64url(TPP_KEY.private_key.sign(f"{encoded}.".encode()))
    assert (
        requests.get(
            live.url + "/tokenos/aliases",
            headers={"Authorization": f"Bearer {encoded}..{good}"},
            timeout=5,
        ).status_code
        == 200
    )


def test_a_jwt_naming_another_members_key_is_refused(live: LiveServer, merchant: Member) -> None:
    answer = _call(live, "GET", "/aliases", key=merchant.keys["LOW"], member_id=TPP_ID)
    assert answer.status_code == 401
    assert "is not a key of" in answer.text


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"method": "POST"}, "is for POST"),
        ({"path": "/tokenos/accounts"}, "for path"),
        ({"host": "api.token.io"}, "for host"),
        ({"mid": "m:unknown:5zKtXEAq"}, "unknown member"),
    ],
    ids=["wrong-method", "wrong-path", "wrong-host", "unknown-member"],
)
def test_a_jwt_for_another_request_is_refused(
    live: LiveServer, claims: dict[str, str], message: str
) -> None:
    answer = _call(live, "GET", "/aliases", claims=claims)
    assert answer.status_code == 401
    assert message in answer.text


def test_a_tampered_body_is_refused_and_changes_nothing(live: LiveServer) -> None:
    signed = json.dumps({"requestPayload": transfer_payload("1.00")}).encode()
    answer = _call(
        live,
        "POST",
        "/token-requests",
        {"requestPayload": transfer_payload("9999.00")},
        signed_body=signed,
    )
    assert answer.status_code == 401
    assert "signature verification failed" in answer.text
    assert live.state.store.records("tokenos.request") == []


def _resign(authorization: str, change: dict[str, Any]) -> str:
    """Edit the header after signing (the signature no longer covers it)."""
    header_part, _, signature = authorization.removeprefix("Bearer ").split(".")
    header = json.loads(base64.urlsafe_b64decode(header_part + "=" * (-len(header_part) % 4)))
    header.update(change)
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return f"Bearer {encoded}..{signature}"


@pytest.mark.parametrize(
    "change",
    [{"exp": 99_999_999_999_999}, {"path": "/tokenos/aliases?x=1"}, {"alg": "none"}],
    ids=["exp-extended", "path-changed", "alg-none"],
)
def test_a_tampered_header_is_refused(live: LiveServer, change: dict[str, Any]) -> None:
    url = live.url + "/tokenos/aliases" + ("?x=1" if "path" in change else "")
    authorization = jwt_bearer(
        TPP_ID,
        TPP_KEY,
        method="GET",
        host=_authority(live),
        path="/tokenos/aliases",
        expires_at_ms=_app_ms(live) + 60_000,
    )
    answer = requests.get(url, headers={"Authorization": _resign(authorization, change)}, timeout=5)
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "value",
    [
        "Bearer",
        "Bearer abc",
        "Bearer a.b.c",
        "Bearer !!..!!",
        "Bearer " + "a" * 9000,
        "Bearer e30..AAAA",
        "Bearer eyJhbGciOiJFZERTQSJ9..AAAA",
    ],
    ids=["empty", "one-part", "attached-payload", "not-base64", "huge", "no-alg", "no-claims"],
)
def test_malformed_bearer_tokens_are_unauthenticated(live: LiveServer, value: str) -> None:
    answer = requests.get(
        live.url + "/tokenos/aliases", headers={"Authorization": value}, timeout=5
    )
    assert answer.status_code == 401
    assert answer.headers["token-error"] == "UNAUTHENTICATED"

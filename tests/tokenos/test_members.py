"""TokenOS members: aliases, hash-chained updates, profiles."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from mockbank.clients.tokenos import (
    Member,
    TokenClient,
    TokenError,
    hash_alias,
)


def test_alias_resolves_and_cannot_be_taken_twice(
    token_client: TokenClient, merchant: Member
) -> None:
    found = token_client.call(
        "GET", "/resolve-alias?alias.value=MERCHANT.example.com&alias.type=DOMAIN&alias.realm="
    )
    assert found == {"member": {"id": merchant.member_id}}
    assert (
        token_client.call("GET", "/resolve-alias?alias.value=nobody.example.com&alias.type=DOMAIN")
        == {}
    )
    other = token_client.create_member()
    with pytest.raises(Exception, match="409 ALREADY_EXISTS"):
        other.add_alias({"type": "DOMAIN", "value": "merchant.example.com"})
    assert merchant.call("GET", "/aliases")["aliases"] == [
        {"type": "DOMAIN", "value": "merchant.example.com"}
    ]


def test_member_update_with_a_stale_prev_hash_is_refused(
    token_client: TokenClient, merchant: Member
) -> None:
    member = token_client.call("GET", f"/members/{merchant.member_id}")["member"]
    alias = {"type": "EMAIL", "value": "shop@example.com"}
    update = {
        "memberId": merchant.member_id,
        "prevHash": "stale",
        "operations": [{"addAlias": {"aliasHash": hash_alias(alias)}}],
    }
    key = merchant.keys["PRIVILEGED"]
    body = {
        "update": update,
        "updateSignature": {
            "memberId": merchant.member_id,
            "keyId": key.id,
            "signature": key.sign_json(update),
        },
        "metadata": [{"addAliasMetadata": {"aliasHash": hash_alias(alias), "alias": alias}}],
    }
    with pytest.raises(Exception, match="400 FAILED_PRECONDITION"):
        merchant.call("POST", f"/members/{merchant.member_id}/updates", body)
    assert token_client.call("GET", f"/members/{merchant.member_id}")["member"] == member


def test_profile_round_trip(merchant: Member) -> None:
    assert merchant.call("GET", f"/members/{merchant.member_id}/profile") == {
        "profile": {"displayNameFirst": "Merchant 123"}
    }
    assert merchant.call("GET", f"/members/{merchant.member_id}/profile-name") == {
        "profileName": "Merchant 123"
    }


@pytest.mark.parametrize(
    "value",
    ["msjs-x1y2z3ab+noverify@example.com", "shop.example.com", "abc.com.noverify"],
    ids=["sample-noverify-email-shape", "domain", "domain-noverify"],
)
def test_domain_aliases_as_token_io_accepts_them(token_client: TokenClient, value: str) -> None:
    member = token_client.create_member({"type": "DOMAIN", "value": value})
    query = f"alias.type=DOMAIN&alias.value={quote(value)}"
    resolved = token_client.call("GET", f"/resolve-alias?{query}")
    assert resolved["member"]["id"] == member.member_id


@pytest.mark.parametrize("value", ["under_score.com", "user@example.com", "x" * 300 + ".com"])
def test_malformed_domain_aliases_are_refused(token_client: TokenClient, value: str) -> None:
    with pytest.raises(TokenError) as failure:
        token_client.create_member({"type": "DOMAIN", "value": value})
    assert failure.value.status == 400

"""TokenOS members: aliases, hash-chained updates, profiles."""

from __future__ import annotations

import pytest

from mockbank.tokenos import (
    Member,
    TokenClient,
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

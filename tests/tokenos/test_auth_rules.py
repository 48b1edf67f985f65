"""The authentication rules the views call: API keys, signing keys, freshness, replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mockbank.clients.tokenos import KeyPair, signing_payload
from mockbank.fixtures import FixtureReader, default_dir, load_json
from mockbank.providers.tokenos import auth
from mockbank.providers.tokenos.admin import load_fixtures
from mockbank.providers.tokenos.errors import Unauthenticated
from mockbank.providers.tokenos.models.fixtures import Fixtures, seeded_keys
from mockbank.providers.tokenos.models.members import seed_member
from mockbank.providers.tokenos.records.nonces import NS_NONCE
from mockbank.store import MemoryStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def fixtures() -> Fixtures:
    path, data = load_json(default_dir(), "tokenos")
    return load_fixtures(FixtureReader(path, data))


def signed(signature: str = "sig") -> auth.SignedHeader:
    return auth.SignedHeader("m:1", "k1", signature, str(int(NOW.timestamp() * 1000)), None)


def test_api_key_names_its_seeded_member_with_or_without_the_member_id() -> None:
    loaded = fixtures()
    key, name = next(iter(loaded.api_keys.items()))
    member = loaded.member_by_name(name)
    assert member is not None
    assert auth.api_key_member(loaded, "", key) == member
    assert auth.api_key_member(loaded, member.member_id, key) == member
    assert auth.api_key_member(loaded, member.member_id.replace(":", "-"), key) == member


def test_unknown_api_key_and_foreign_member_id_are_unauthenticated() -> None:
    loaded = fixtures()
    key = next(iter(loaded.api_keys))
    with pytest.raises(Unauthenticated, match="unknown API key"):
        auth.api_key_member(loaded, "", key + "x")
    with pytest.raises(Unauthenticated, match="another member"):
        auth.api_key_member(loaded, "m:someone-else", key)


def test_real_time_is_the_app_clock_minus_its_offset() -> None:
    assert auth.real_ms(1_000.0, 0.0) == 1_000_000
    assert auth.real_ms(1_000.0, 400.5) == 599_500
    assert auth.real_ms(1_000.0, -100.0) == 1_100_000


def test_nonces_outlive_the_window_around_both_clocks() -> None:
    window = auth.DEFAULT_WINDOW_S
    assert auth.nonce_expires_at(NOW, 0.0) == NOW + timedelta(seconds=2 * window)
    assert auth.nonce_expires_at(NOW, -90.0) == NOW + timedelta(seconds=2 * window + 90)
    assert auth.nonce_expires_at(NOW, 3600.0, 10) == NOW + timedelta(seconds=3620)


def test_a_state_changing_signature_is_accepted_once() -> None:
    store = MemoryStore()
    auth.refuse_replay(store, signed(), "POST", now=NOW, offset_s=0.0)
    with pytest.raises(Unauthenticated, match="replayed"):
        auth.refuse_replay(store, signed(), "PUT", now=NOW, offset_s=0.0)
    # Another signature is another call.
    auth.refuse_replay(store, signed("other"), "POST", now=NOW, offset_s=0.0)
    record = store.record(NS_NONCE, "m:1:sig")
    assert record is not None


def test_identical_reads_are_not_replays_and_leave_no_nonce() -> None:
    store = MemoryStore()
    for _ in range(3):
        auth.refuse_replay(store, signed(), "GET", now=NOW, offset_s=0.0)
        auth.refuse_replay(store, signed(), "HEAD", now=NOW, offset_s=0.0)
    assert store.record(NS_NONCE, "m:1:sig") is None


def test_a_nonce_expires_only_after_the_window_then_the_signature_is_stale_anyway() -> None:
    store = MemoryStore()
    auth.refuse_replay(store, signed(), "POST", now=NOW, offset_s=30.0)
    later = NOW + timedelta(seconds=2 * auth.DEFAULT_WINDOW_S + 29)
    with pytest.raises(Unauthenticated, match="replayed"):
        auth.refuse_replay(store, signed(), "POST", now=later, offset_s=30.0)


def seeded_member(store: MemoryStore) -> tuple[str, list[KeyPair]]:
    keys = seeded_keys("rules-test")
    seed_member(store, "m:rules", "BUSINESS", keys, [], {}, now=NOW)
    return "m:rules", keys


def test_signing_key_is_found_by_member_and_key_id() -> None:
    store = MemoryStore()
    member_id, keys = seeded_member(store)
    header = auth.SignedHeader(member_id, keys[1].id, "s", "0", None)
    member, key = auth.signing_key(store, header, now=NOW)
    assert member["id"] == member_id
    assert key["id"] == keys[1].id
    with pytest.raises(Unauthenticated, match="unknown member"):
        auth.signing_key(store, auth.SignedHeader("m:nobody", keys[1].id, "s", "0", None), now=NOW)
    with pytest.raises(Unauthenticated, match="is not a key of"):
        auth.signing_key(store, auth.SignedHeader(member_id, "nokey", "s", "0", None), now=NOW)


def test_a_signed_call_verifies_once_and_by_real_time_after_the_clock_moved() -> None:
    store = MemoryStore()
    member_id, keys = seeded_member(store)
    key = keys[0]
    moved = NOW + timedelta(hours=2)  # a test moved the app clock two hours ahead
    created = str(int(NOW.timestamp() * 1000))  # the client signs with its wall clock
    payload = signing_payload("POST", "h", "/transfers", created, {"a": 1}, "")
    header = auth.SignedHeader(member_id, key.id, key.sign_json(payload), created, None)
    call = auth.SignedCall("POST", ["h"], ["/transfers"], {"a": 1}, "")
    _, stored_key = auth.signing_key(store, header, now=moved)
    epoch = moved.timestamp()
    auth.check_signed_call(store, header, stored_key, call, now=moved, epoch_s=epoch, offset_s=7200)
    with pytest.raises(Unauthenticated, match="replayed"):
        auth.check_signed_call(
            store, header, stored_key, call, now=moved, epoch_s=epoch, offset_s=7200
        )
    # Without the offset the same call is stale by both clocks.
    with pytest.raises(Unauthenticated, match="stale"):
        auth.check_signed_call(
            MemoryStore(), header, stored_key, call, now=moved, epoch_s=epoch, offset_s=0
        )
    tampered = auth.SignedCall("POST", ["h"], ["/transfers"], {"a": 2}, "")
    with pytest.raises(Unauthenticated, match="signature verification failed"):
        auth.check_signed_call(
            MemoryStore(), header, stored_key, tampered, now=moved, epoch_s=epoch, offset_s=7200
        )

"""The rules moved out of Forter's views, unit-tested: credentials, typed records, and when a
single-use token is spent by a relayed request."""

from __future__ import annotations

import dataclasses
import http.client
from base64 import b64encode
from datetime import UTC, datetime
from typing import Any

import pytest

from mockbank.fixtures import FixtureReader
from mockbank.outbound import OutboundPolicy
from mockbank.providers.forter.admin import Fixtures, load_fixtures
from mockbank.providers.forter.auth import require_proxy_site, require_site
from mockbank.providers.forter.errors import (
    ProxyAuthenticationRequired,
    ProxyTokenNotFound,
    TargetUnreachable,
    Unauthorized,
)
from mockbank.providers.forter.models.cards import CardInput
from mockbank.providers.forter.models.detokenize import Resolved
from mockbank.providers.forter.models.proxying import Forward, ProxyRequest, prepare, relay, send
from mockbank.providers.forter.models.spending import consume_single_use, tokens_to_spend
from mockbank.providers.forter.models.tokens import save_token, token_record
from mockbank.providers.forter.records import NS_TOKEN, Alias, TokenRecord, TokenType
from mockbank.proxy.upstream import Unreachable, UpstreamResponse
from mockbank.store import MemoryStore

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CARD = CardInput("4111111111111111", 12, 2030, "Ada", "123", Alias("order", "42"), {"k": "v"})
CVC_ONLY = CardInput(None, None, None, None, "999", None, {})
SINGLE = "ftr1" + "a" * 32
PARTNER = "ftr1" + "b" * 32
MULTI = "ftr1" + "c" * 32
SITES = [("site-1", "secret-1")]


def _basic(user: str, password: str) -> str:
    return "Basic " + b64encode(f"{user}:{password}".encode()).decode()


def _store(*tokens: tuple[str, CardInput, TokenType]) -> MemoryStore:
    store = MemoryStore()
    for token, card, kind in tokens:
        save_token(store, token, token_record(card, kind=kind, now=NOW), now=NOW)
    return store


def _record(store: MemoryStore, token: str) -> TokenRecord:
    value = store.get(NS_TOKEN, token, now=NOW)
    assert value is not None
    return TokenRecord.from_value(value)


def _resolved(store: MemoryStore, token: str, cvc_token: str | None = None) -> Resolved:
    cvc_record = _record(store, cvc_token) if cvc_token else None
    return Resolved(token, _record(store, token), cvc_token, cvc_record)


# -- credentials -----------------------------------------------------------------------------
def test_api_credentials_give_the_site_or_401() -> None:
    assert require_site(_basic("site-1", "secret-1"), SITES) == "site-1"
    for header in (None, "", _basic("site-1", "wrong"), _basic("other", "secret-1"), "Bearer x"):
        with pytest.raises(Unauthorized):
            require_site(header, SITES)


def test_proxy_credentials_give_the_site_or_407() -> None:
    assert require_proxy_site(_basic("site-1", "secret-1"), SITES) == "site-1"
    with pytest.raises(ProxyAuthenticationRequired) as refused:
        require_proxy_site(_basic("site-1", "secret-2"), SITES)
    assert refused.value.http_status == 407


# -- typed records ---------------------------------------------------------------------------
def test_token_record_keeps_the_stored_shape() -> None:
    record = token_record(CARD, kind=TokenType.SINGLE_USE, now=NOW)
    value = record.to_value()
    assert value == {
        "type": "single-use",
        "card": {
            "number": "4111111111111111",
            "expirationMonth": 12,
            "expirationYear": 2030,
            "cardHolderName": "Ada",
            "brand": "VISA",
            "networkToken": None,
        },
        "cvc": "123",
        "alias": {"key": "order", "value": "42"},
        "extra": {"k": "v"},
        "used": False,
        "upgradedTo": None,
        "createdAt": "2026-01-01T00:00:00Z",
    }
    assert TokenRecord.from_value(value) == record
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.used = True  # type: ignore[misc]


def test_multi_use_record_never_holds_a_cvc() -> None:
    assert token_record(CARD, kind=TokenType.MULTI_USE, now=NOW).cvc is None


def test_fixtures_load_into_a_frozen_dataclass() -> None:
    data = {
        "sites": [{"site_id": "s", "site_secret": "p"}],
        "tokens": [{"token": SINGLE, "type": "single-use", "cvc": "123"}],
    }
    found = load_fixtures(FixtureReader("fixtures/forter.json", data))
    assert isinstance(found, Fixtures)
    assert found.credentials == [("s", "p")]
    assert found.tokens[0].type is TokenType.SINGLE_USE
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.sites = ()  # type: ignore[misc]


# -- which tokens a request spends -----------------------------------------------------------
def test_only_single_use_tokens_are_spent() -> None:
    store = _store(
        (MULTI, CARD, TokenType.MULTI_USE),
        (SINGLE, CARD, TokenType.SINGLE_USE),
        (PARTNER, CVC_ONLY, TokenType.SINGLE_USE),
    )
    assert tokens_to_spend(_resolved(store, MULTI)) == []
    assert tokens_to_spend(_resolved(store, SINGLE)) == [SINGLE]
    assert tokens_to_spend(_resolved(store, MULTI, PARTNER)) == [PARTNER]
    assert tokens_to_spend(_resolved(store, SINGLE, PARTNER)) == [SINGLE, PARTNER]
    assert tokens_to_spend(_resolved(store, SINGLE, SINGLE)) == [SINGLE]


def test_spending_marks_used_and_forgets_the_cvc_once() -> None:
    store = _store((SINGLE, CARD, TokenType.SINGLE_USE))
    resolved = _resolved(store, SINGLE)
    consume_single_use(store, resolved, now=NOW)
    spent = _record(store, SINGLE)
    assert spent.used
    assert spent.cvc is None
    with pytest.raises(ProxyTokenNotFound):
        consume_single_use(store, resolved, now=NOW)


def test_a_pair_is_spent_together_or_not_at_all() -> None:
    store = _store(
        (SINGLE, CARD, TokenType.SINGLE_USE),
        (PARTNER, CVC_ONLY, TokenType.SINGLE_USE),
        (MULTI, CARD, TokenType.MULTI_USE),
    )
    pair = _resolved(store, SINGLE, PARTNER)
    consume_single_use(store, _resolved(store, MULTI, PARTNER), now=NOW)  # the CVC token went
    with pytest.raises(ProxyTokenNotFound):
        consume_single_use(store, pair, now=NOW)
    first = _record(store, SINGLE)
    assert not first.used
    assert first.cvc == "123"


# -- when a relayed request spends its token --------------------------------------------------
class _Lease:
    def __init__(self, fail: bool = False) -> None:
        self.fail, self.sent, self.discarded = fail, 0, False

    def send(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> UpstreamResponse:
        self.sent += 1
        if self.fail:
            raise http.client.RemoteDisconnected("gone")
        return UpstreamResponse(201, "Created", [("Connection", "keep-alive")], b"{}")

    def discard(self) -> None:
        self.discarded = True


class _Pool:
    def __init__(self, lease: _Lease | None) -> None:
        self._lease = lease

    def lease(self, url: str) -> _Lease:
        if self._lease is None:
            raise Unreachable("refused")
        return self._lease


def _forward(store: MemoryStore) -> Forward:
    return Forward(_resolved(store, SINGLE), "https://psp.example/pay", "POST", "/pay", [], b"", [])


def _relay(store: MemoryStore, pool: _Pool) -> Any:
    notes: dict[str, Any] = {}
    return relay(store, pool, _forward(store), now=NOW, note=notes.__setitem__), notes


def test_unreachable_target_spends_nothing() -> None:
    store = _store((SINGLE, CARD, TokenType.SINGLE_USE))
    with pytest.raises(TargetUnreachable):
        _relay(store, _Pool(None))
    assert not _record(store, SINGLE).used


def test_token_is_spent_before_the_request_leaves() -> None:
    store = _store((SINGLE, CARD, TokenType.SINGLE_USE))
    lease = _Lease()
    answer, notes = _relay(store, _Pool(lease))
    assert lease.sent == 1
    assert _record(store, SINGLE).used
    assert answer.status == 201
    assert ("Content-Length", "2") in answer.headers
    assert all(name.lower() != "connection" for name, _ in answer.headers)
    assert notes["upstream"] == "https://psp.example/pay"


def test_an_already_spent_token_closes_the_connection_unsent() -> None:
    store = _store((SINGLE, CARD, TokenType.SINGLE_USE))
    forward = _forward(store)
    consume_single_use(store, forward.resolved, now=NOW)  # a concurrent request won
    lease = _Lease()
    with pytest.raises(ProxyTokenNotFound):
        relay(store, _Pool(lease), forward, now=NOW, note=lambda *_: None)
    assert lease.sent == 0
    assert lease.discarded


def test_a_target_failing_after_the_request_left_keeps_the_token_spent() -> None:
    store = _store((SINGLE, CARD, TokenType.SINGLE_USE))
    lease = _Lease(fail=True)
    with pytest.raises(TargetUnreachable):
        _relay(store, _Pool(lease))
    assert lease.discarded
    assert _record(store, SINGLE).used


# -- a proxied request end to end, without a network ----------------------------------------
def _incoming(target: str, token: str = SINGLE) -> ProxyRequest:
    return ProxyRequest(
        target=target,
        method="POST",
        raw_headers=[("Content-Type", "application/json"), ("forter-token", token)],
        connect_headers={},
        body=b'{"pan": "{{ card_number }}"}',
        content_type="application/json",
    )


def _prepare(store: MemoryStore, policy: OutboundPolicy, notes: dict[str, Any]) -> Forward:
    return prepare(
        store,
        policy,
        _incoming("https://psp.example/pay"),
        now=NOW,
        hmac_encoding="base64",
        token_bytes=bytes,
        note=notes.__setitem__,
    )


def test_a_target_the_outbound_policy_refuses_is_502_and_spends_nothing() -> None:
    store = _store((SINGLE, CARD, TokenType.SINGLE_USE))
    with pytest.raises(TargetUnreachable):
        _prepare(store, OutboundPolicy(), {})
    assert not _record(store, SINGLE).used


def test_preparing_detokenizes_notes_masked_values_and_spends_nothing() -> None:
    store = _store((SINGLE, CARD, TokenType.SINGLE_USE))
    notes: dict[str, Any] = {}
    forward = _prepare(store, OutboundPolicy({"psp.example": "echo"}), notes)
    assert forward.url is None  # the echo target
    assert forward.body == b'{"pan": "4111111111111111"}'
    assert all(not name.lower().startswith("forter-") for name, _ in forward.headers)
    assert notes["token"] == SINGLE
    assert notes["placeholders"] == ["card_number"]
    assert "4111111111111111" not in repr(notes)
    assert not _record(store, SINGLE).used


def test_the_echo_target_spends_the_token_without_a_pool() -> None:
    store = _store((SINGLE, CARD, TokenType.SINGLE_USE))
    forward = _prepare(store, OutboundPolicy({"psp.example": "echo"}), {})

    def no_pool() -> _Pool:
        raise AssertionError("the echo target needs no upstream connection")

    answer = send(store, no_pool, forward, now=NOW, note=lambda *_: None)
    assert isinstance(answer, dict)
    assert answer["body"] == '{"pan": "4111111111111111"}'
    assert answer["path"] == "/pay"
    assert _record(store, SINGLE).used

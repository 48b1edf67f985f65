"""Stored records: every v1 kind reads back from its stored value and writes the same value."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from mockbank.providers.tokenos.models import members as members_rules
from mockbank.providers.tokenos.models import tokens as tokens_rules
from mockbank.providers.tokenos.records import (
    accounts,
    blobs,
    members,
    nonces,
    standing_orders,
    token_requests,
    tokens,
)
from mockbank.state import State
from tests.tokenos.helpers import approved_token, stored_request, transfer_payload

KINDS: dict[str, Any] = {
    members.NS_MEMBER: members.Member,
    members.NS_ALIAS: members.Alias,
    token_requests.NS_REQUEST: token_requests.TokenRequest,
    token_requests.NS_RESULT: token_requests.RequestResult,
    tokens.NS_TOKEN: tokens.StoredToken,
    tokens.NS_TRANSFER: tokens.Transfer,
    tokens.NS_TRANSFER_REF: tokens.TransferRef,
    accounts.NS_ACCOUNT: accounts.Account,
    accounts.NS_HISTORY: accounts.History,
    accounts.NS_BALANCE: accounts.BalanceCache,
    nonces.NS_NONCE: nonces.Nonce,
    blobs.NS_BLOB: blobs.Blob,
    blobs.NS_PICTURE: blobs.ProfilePicture,
    standing_orders.NS_SUBMISSION: standing_orders.Submission,
    standing_orders.NS_SUBMISSION_OF_TOKEN: standing_orders.SubmissionOfToken,
}


TRANSFER = tokens.Transfer(
    transfer={"id": "t:1"},
    token_id="tt:1",
    to_member_id="m:1",
    from_member_id="m:2",
    source_account_id="a1",
    created_at_ms=7,
    outcome="SUCCESS",
)


@pytest.mark.parametrize(
    "record",
    [
        members.Member("m:1", "BUSINESS", ({"id": "k"},), ({"hash": "h", "alias": {}},), "x"),
        members.Alias("m:1", {"type": "EMAIL", "value": "a@b.c"}),
        token_requests.TokenRequest("rq:1", "m:1", {"to": {"id": "m:1"}}, {}, 5, "ACCESS"),
        token_requests.RequestResult("PROCESSED", "tt:1", {"memberId": "m:t"}),
        token_requests.RequestResult("REJECTED"),
        tokens.StoredToken(
            {"id": "tt:1"},
            "TRANSFER",
            "m:1",
            "m:2",
            7,
            (tokens.TokenTransfer(id="t:1", amount="1.00", created_at_ms=7, outcome="SUCCESS"),),
        ),
        TRANSFER,
        replace(TRANSFER, transfer={"id": "t:2"}, executes_at_ms=86_400_000),
        tokens.TransferRef("t:1"),
        accounts.Account("a1", "m:2", "iron", "Main", "GB00", "EUR", Decimal("10.50")),
        accounts.History({"seed": 1, "anchorMs": 2, "count": 3}),
        accounts.History({"seed": 1, "anchorMs": 2, "count": 1}, ({"id": "tx"},)),
        accounts.BalanceCache(Decimal("3.10"), 99),
        nonces.Nonce(),
        blobs.Blob("b:1", {"ownerId": "m:1", "type": "image/png"}),
        blobs.ProfilePicture("b:1"),
        standing_orders.Submission("so:1", "tt:1", "sto:1", 3, {"amount": "1"}, "m:1", "m:2"),
        standing_orders.SubmissionOfToken("so:1"),
    ],
    ids=lambda r: type(r).__name__,
)
def test_a_record_reads_back_from_its_stored_value(record: Any) -> None:
    value = record.to_value()
    assert type(record).from_value(value) == record
    assert type(record).from_value(value).to_value() == value


def test_namespaces_are_spelled_tokenos_kind_and_unique() -> None:
    assert len(set(KINDS)) == len(KINDS)
    assert all(ns.startswith("tokenos.") for ns in KINDS)


def test_every_record_the_v1_flow_stores_round_trips_exactly(app: Flask) -> None:
    """Seed, store a request, approve, redeem, read a balance: each stored value is a record."""
    state: State = app.extensions["mockbank"]
    fixtures = state.fixtures["tokenos"]
    merchant = fixtures.members[0].member_id
    token_id = approved_token(state, stored_request(state, transfer_payload("5.00")))
    member = members_rules.get_member(state.store, merchant, now=state.now())
    tokens_rules.redeem_token(
        state.store,
        merchant,
        {"payload": {"tokenId": token_id, "refId": "r1"}},
        member,
        now=state.now(),
        rng=state.token_bytes,
        fixtures=fixtures,
    )
    checked = set()
    for namespace, kind in KINDS.items():
        for record in state.store.records(namespace):
            assert kind.from_value(record.value).to_value() == record.value, namespace
            checked.add(namespace)
    assert {
        members.NS_MEMBER,
        members.NS_ALIAS,
        token_requests.NS_REQUEST,
        token_requests.NS_RESULT,
        tokens.NS_TOKEN,
        tokens.NS_TRANSFER,
        tokens.NS_TRANSFER_REF,
        accounts.NS_ACCOUNT,
        accounts.NS_HISTORY,
    } <= checked

"""Rules moved out of the v1 views into models: account reads, funds grants, profiles, paths."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask

from mockbank.providers.tokenos.errors import InvalidArgument, NotFound, PermissionDenied
from mockbank.providers.tokenos.models import accounts, banks, members, tokens
from mockbank.providers.tokenos.models import members as members_rules
from mockbank.providers.tokenos.records.accounts import NS_ACCOUNT
from mockbank.providers.tokenos.records.tokens import StoredToken
from mockbank.state import State
from tests.tokenos.helpers import access_payload, approved_token, stored_request


def state_of(app: Flask) -> State:
    state: State = app.extensions["mockbank"]
    return state


def access_token(state: State, types: list[str]) -> tuple[str, StoredToken]:
    """(merchant id, the access grant) for an access token the seeded payer approved."""
    merchant = state.fixtures["tokenos"].members[0].member_id
    token_id = approved_token(state, stored_request(state, access_payload(types)))
    return merchant, accounts.access_grant(state.store, merchant, token_id, now=state.now())


def payer_account(state: State) -> tuple[str, str]:
    payer = state.fixtures["tokenos"].payer_by_email("payer@example.com")
    assert payer is not None
    own = [a for a in payer.accounts if a.bank_id == "iron"]
    return payer.member_id, own[0].id


def test_own_accounts_list_and_an_empty_grant_is_refused(app: Flask) -> None:
    state = state_of(app)
    payer_id, account_id = payer_account(state)
    own = accounts.readable_accounts(state.store, payer_id, None, now=state.now())
    assert account_id in {a["id"] for a in own}
    assert accounts.readable_accounts(state.store, "m:nobody", None, now=state.now()) == []
    merchant, grant = access_token(state, ["TRANSACTIONS"])
    grant = replace(grant, token={"payload": {"access": {"resources": []}}, "id": "ta:x"})
    with pytest.raises(PermissionDenied, match="grants no account information"):
        accounts.readable_accounts(state.store, merchant, grant, now=state.now())


def test_funds_confirmation_reads_with_a_funds_or_a_balance_grant(app: Flask) -> None:
    state = state_of(app)
    _, account_id = payer_account(state)
    merchant, balance_grant = access_token(state, ["BALANCES"])
    with pytest.raises(PermissionDenied):
        accounts.checked_account(
            state.store, merchant, balance_grant, account_id, "fundsConfirmation", now=state.now()
        )
    found = accounts.funds_account(
        state.store, merchant, balance_grant, account_id, now=state.now()
    )
    assert found["id"] == account_id
    _, funds_grant = access_token(state, ["FUNDS_CONFIRMATIONS"])
    found = accounts.funds_account(state.store, merchant, funds_grant, account_id, now=state.now())
    assert found["id"] == account_id
    _, other_grant = access_token(state, ["TRANSACTIONS"])
    with pytest.raises(PermissionDenied):
        accounts.funds_account(state.store, merchant, other_grant, account_id, now=state.now())


def test_one_transaction_by_id_or_not_found(app: Flask) -> None:
    state = state_of(app)
    _, account_id = payer_account(state)
    account = state.store.get(NS_ACCOUNT, account_id, now=state.now())
    assert account is not None
    listed = accounts.transactions(state.store, account, state.seeded_faker, now=state.now())
    wanted = listed[len(listed) // 2]
    found = accounts.find_transaction(
        state.store, account, wanted["id"], state.seeded_faker, now=state.now()
    )
    assert found == wanted
    with pytest.raises(NotFound, match="tx:none"):
        accounts.find_transaction(
            state.store, account, "tx:none", state.seeded_faker, now=state.now()
        )


def test_unknown_standing_order_is_not_found(app: Flask) -> None:
    state = state_of(app)
    _, account_id = payer_account(state)
    with pytest.raises(NotFound, match="sto:none"):
        accounts.find_standing_order(state.store, account_id, "sto:none", now=state.now())


def test_profile_keeps_the_name_parts_given_and_the_name_joins_them(app: Flask) -> None:
    state = state_of(app)
    member_id = state.fixtures["tokenos"].members[0].member_id
    body = {"profile": {"displayNameFirst": "Ada", "displayNameLast": ""}}
    assert members.set_profile(state.store, member_id, body, now=state.now()) == {
        "displayNameFirst": "Ada"
    }
    stored = members_rules.get_member(state.store, member_id, now=state.now())
    assert stored["profile"] == {"displayNameFirst": "Ada"}
    assert members.profile_name({"displayNameFirst": "Ada", "displayNameLast": "L"}) == "Ada L"
    assert members.profile_name({"displayNameLast": "L"}) == "L"
    with pytest.raises(InvalidArgument):
        members.set_profile(state.store, member_id, {"profile": "Ada"}, now=state.now())
    with pytest.raises(InvalidArgument):
        members.set_profile(
            state.store, member_id, {"profile": {"displayNameFirst": "x" * 201}}, now=state.now()
        )
    assert members_rules.get_member(state.store, member_id, now=state.now())["profile"] == {
        "displayNameFirst": "Ada"
    }


def test_a_redeem_path_token_must_match_the_body() -> None:
    tokens.check_path_token({"payload": {"tokenId": "tt:1"}}, "tt:1")
    tokens.check_path_token({"payload": {}}, "tt:1")
    tokens.check_path_token(None, "tt:1")
    with pytest.raises(InvalidArgument, match="differs"):
        tokens.check_path_token({"payload": {"tokenId": "tt:2"}}, "tt:1")


def test_bank_countries_are_those_of_the_filtered_banks_sorted(app: Flask) -> None:
    fixtures = state_of(app).fixtures["tokenos"]
    everything = banks.list_countries(fixtures, {})
    assert everything == sorted({b.country for b in fixtures.banks.values()})
    assert banks.list_countries(fixtures, {"countries": ["gb", "DE", "ZZ"]}) == ["DE", "GB"]
    assert banks.list_countries(fixtures, {"search": ["no such bank"]}) == []

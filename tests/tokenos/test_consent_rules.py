"""The consent page's rules, without HTTP: reading the form, dropping wrong input, approving."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from mockbank.providers.tokenos.errors import FailedPrecondition, InvalidArgument, RequestAnswered
from mockbank.providers.tokenos.models import common, token_requests, tokens
from mockbank.providers.tokenos.models import consent as rules
from mockbank.state import State
from tests.tokenos.helpers import (
    access_payload,
    approve_request,
    stored_request,
    transfer_payload,
)

PAYER_EMAIL = "payer@example.com"


def state_of(app: Flask) -> State:
    state: State = app.extensions["mockbank"]
    return state


def form(**fields: Any) -> rules.ConsentForm:
    values = {"decision": "", "bank_id": "", "email": "", "back": "", "account_ids": []}
    values.update(fields)
    return rules.consent_form(**values)


def test_form_reads_decision_bank_email_and_accounts() -> None:
    read = form(decision="approve", bank_id="iron", email="  a@b.c ", account_ids=["x"])
    assert read == rules.ConsentForm("approve", "iron", "a@b.c", ["x"])
    assert form() == rules.ConsentForm("", None, None, [])


def test_form_refuses_an_unknown_decision() -> None:
    with pytest.raises(InvalidArgument, match="approve or deny"):
        form(decision="maybe")


def test_back_forgets_that_step_and_the_approval_but_not_a_deny() -> None:
    assert form(decision="approve", bank_id="iron", email="a@b.c", back="bank") == (
        rules.ConsentForm("", None, "a@b.c", [])
    )
    assert form(decision="approve", bank_id="iron", email="a@b.c", back="email") == (
        rules.ConsentForm("", "iron", None, [])
    )
    assert form(decision="deny", bank_id="iron", back="bank").decision == "deny"


def test_step_drops_an_unusable_bank_and_keeps_its_message(app: Flask) -> None:
    state = state_of(app)
    request_id = stored_request(state, transfer_payload())
    step = rules.consent_step(
        state.store, request_id, state.fixtures["tokenos"], form(bank_id="nosuch"), now=state.now()
    )
    assert step.consent is not None
    assert step.consent.bank is None
    assert step.problem is not None
    assert "nosuch" in step.problem
    assert step.unknown_email is None


def test_step_drops_an_unknown_email_and_names_it(app: Flask) -> None:
    state = state_of(app)
    request_id = stored_request(state, transfer_payload())
    asked = form(bank_id="iron", email="nobody@example.com")
    step = rules.consent_step(
        state.store, request_id, state.fixtures["tokenos"], asked, now=state.now()
    )
    assert step.consent is not None
    assert step.consent.bank is not None
    assert step.consent.payer is None
    assert step.email is None
    assert step.unknown_email == "nobody@example.com"
    assert step.problem is None


def test_step_with_bank_and_payer_lists_the_payers_accounts_there(app: Flask) -> None:
    state = state_of(app)
    request_id = stored_request(state, transfer_payload())
    asked = form(bank_id="iron", email=PAYER_EMAIL)
    step = rules.consent_step(
        state.store, request_id, state.fixtures["tokenos"], asked, now=state.now()
    )
    assert step.consent is not None
    assert step.consent.payer is not None
    assert step.consent.accounts
    assert all(a.bank_id == "iron" for a in step.consent.accounts)
    assert step.email == PAYER_EMAIL
    assert step.problem is None


def test_approve_without_a_payer_burns_nothing(app: Flask) -> None:
    state = state_of(app)
    fixtures = state.fixtures["tokenos"]
    request_id = stored_request(state, transfer_payload())
    step = rules.consent_step(
        state.store, request_id, fixtures, form(bank_id="iron"), now=state.now()
    )
    assert step.consent is not None
    with pytest.raises(FailedPrecondition, match="email"):
        approve_request(state, step.consent, request_id)
    token_requests.pending_request(state.store, request_id, now=state.now())  # still pending


def test_approve_mints_one_token_and_answers_the_request_once(app: Flask) -> None:
    state = state_of(app)
    fixtures = state.fixtures["tokenos"]
    request_id = stored_request(state, access_payload(["ACCOUNTS"]))
    asked = form(bank_id="iron", email=PAYER_EMAIL)
    step = rules.consent_step(state.store, request_id, fixtures, asked, now=state.now())
    assert step.consent is not None
    url = approve_request(state, step.consent, request_id)
    assert url.startswith("https://tpp.example.com/callback?tokenId=ta:")
    result = token_requests.request_result(state.store, request_id, now=state.now())
    token = tokens.token_record(state.store, result["tokenId"], now=state.now())
    resources = token.token["payload"]["access"]["resources"]
    assert {r["account"]["accountId"] for r in resources} == {a.id for a in step.consent.accounts}
    with pytest.raises(RequestAnswered):
        approve_request(state, step.consent, request_id)


def test_token_expiry_is_the_requested_one_unless_the_clock_passed_it() -> None:
    now_ms = 1_000_000
    assert rules.token_expires_ms({}, True, now_ms) == now_ms + common.TRANSFER_TOKEN_TTL_S * 1000
    assert rules.token_expires_ms({}, False, now_ms) == now_ms + common.ACCESS_TOKEN_TTL_S * 1000
    assert rules.token_expires_ms({"tokenExpiration": "2000000"}, True, now_ms) == 2_000_000
    with pytest.raises(FailedPrecondition, match="passed"):
        rules.token_expires_ms({"tokenExpiration": "999999"}, True, now_ms)

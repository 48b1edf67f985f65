"""Token.io's operator side: the dashboard card lists members, waiting requests and tokens."""

from __future__ import annotations

from flask import Flask

from mockbank.providers.tokenos import admin
from mockbank.state import State
from tests.tokenos.helpers import approved_token, stored_request, transfer_payload


def state_of(app: Flask) -> State:
    state: State = app.extensions["mockbank"]
    return state


def test_dashboard_lists_seeded_members_with_their_aliases(app: Flask) -> None:
    state_of(app).provider("tokenos")  # seeded on first use
    items = admin.dashboard(state_of(app))
    members = [i for i in items if i["detail"].startswith("member ·")]
    fixtures = state_of(app).fixtures["tokenos"]
    assert {fixtures.token_member_id, *(p.member_id for p in fixtures.payers)} <= {
        i["label"] for i in members
    }
    assert any("payer@example.com" in i["detail"] for i in members)


def test_dashboard_shows_a_request_until_it_is_answered_then_its_token(app: Flask) -> None:
    state = state_of(app)
    request_id = stored_request(state, transfer_payload("12.00"))
    waiting = {i["label"]: i["detail"] for i in admin.dashboard(state)}
    assert waiting[request_id] == "token request · TRANSFER · waiting for consent"
    token_id = approved_token(state, request_id)
    after = {i["label"]: i["detail"] for i in admin.dashboard(state)}
    assert request_id not in after
    assert after[token_id].startswith("token · TRANSFER · ENDORSED · from m:")


def test_dashboard_drops_expired_requests(app: Flask) -> None:
    state = state_of(app)
    request_id = stored_request(state, transfer_payload())
    state.clock.advance(16 * 60)
    assert request_id not in {i["label"] for i in admin.dashboard(state)}


def test_console_shows_the_token_card(app: Flask) -> None:
    state = state_of(app)
    request_id = stored_request(state, transfer_payload())
    page = app.test_client().get("/_mockbank/console").get_data(as_text=True)
    assert request_id in page

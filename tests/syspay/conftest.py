"""Fixtures for the SysPay tests: a merchant-made token; no full card number ever logged."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from mockbank.state import State
from tests.syspay.helpers import TEST_PANS, card_body, merchant_header


@pytest.fixture
def syspay_token(client: Any, state: State) -> str:
    """A merchant-created token (Mastercard) listing both partners for IMAGE only."""
    response = client.post(
        "/syspay/api/v2/merchant/token", headers=merchant_header(state), json=card_body()
    )
    assert response.status_code == 201, response.get_json()
    token_id: str = response.get_json()["id"]
    return token_id


@pytest.fixture(autouse=True)
def _no_card_number_logged(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> Any:
    """After every SysPay test: no full card number in the journal or the captured log."""
    caplog.set_level(logging.INFO)
    # Asked for during setup, so they are torn down after this check runs.
    states = [
        request.getfixturevalue(name).state if name == "mockbank" else request.getfixturevalue(name)
        for name in ("state", "mockbank")
        if name in request.fixturenames
    ]
    yield
    texts = [caplog.text] + [json.dumps([e.as_dict() for e in s.requests()]) for s in states]
    for text in texts:
        leaked = [pan for pan in TEST_PANS if pan in text]
        assert not leaked, f"full card number(s) {leaked} in the journal or log"

"""The clock refuses what it cannot represent, answers 400, and stays exactly as it was."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.clock import Clock, ClockRangeError
from mockbank.state import State

REFUSED = [
    pytest.param('{"advance": 3e11}', id="advance-3e11"),
    pytest.param('{"advance": -1e11}', id="advance-minus-1e11"),
    pytest.param('{"advance": NaN}', id="advance-nan"),
    pytest.param('{"advance": Infinity}', id="advance-inf"),
    pytest.param('{"advance": -Infinity}', id="advance-minus-inf"),
    pytest.param('{"advance": 1' + "0" * 400 + "}", id="advance-int-beyond-float"),
    pytest.param('{"freeze": "0001-01-01T00:00:00Z"}', id="freeze-year-1"),
    pytest.param('{"freeze": "0001-01-01T00:00:00+01:00"}', id="freeze-before-year-1"),
    pytest.param('{"freeze": "1900-01-01T00:00:00Z"}', id="freeze-1900"),
    pytest.param('{"freeze": "9999-12-31T23:59:59Z"}', id="freeze-9999"),
    pytest.param('{"freeze": -1e11}', id="freeze-epoch-minus-1e11"),
    pytest.param('{"freeze": 1e20}', id="freeze-epoch-1e20"),
    pytest.param('{"freeze": NaN}', id="freeze-epoch-nan"),
    pytest.param('{"freeze": "2014-05-13T16:53:20Z", "advance": 4e10}', id="freeze-then-far"),
]


@pytest.fixture(params=["memory", "sqlite"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Flask, State]]:
    state_path = None if request.param == "memory" else tmp_path / "state"
    app = create_app({"state_path": state_path})
    yield app, app.extensions["mockbank"]
    app.extensions["mockbank"].close()


def _health_and_a_provider_call_work(client: FlaskClient) -> None:
    assert client.get("/_mockbank/health").status_code == 200
    answer = client.post(
        "/quickstream/CommunityTokenRequestServlet",
        data={"username": "merchant", "password": "wrong"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert answer.status_code == 401  # the provider's own answer, not a 500


@pytest.mark.parametrize("body", REFUSED)
@pytest.mark.parametrize("frozen", [True, False], ids=["frozen", "running"])
def test_unrepresentable_clock_changes_are_400_and_change_nothing(
    served: tuple[Flask, State], body: str, frozen: bool
) -> None:
    app, state = served
    client = app.test_client()
    client.post("/_mockbank/clock", json={"freeze": "2030-01-01T00:00:00Z"})
    if not frozen:
        client.post("/_mockbank/clock", json={"freeze": False})
        client.post("/_mockbank/clock", json={"advance": 3600})
    before = state.clock.snapshot()
    answer = client.post("/_mockbank/clock", data=body, content_type="application/json")
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.get_json()["error"]["code"] == "bad_clock"
    after = state.clock.snapshot()
    assert after["frozen"] == before["frozen"]
    if frozen:
        assert after["epoch"] == before["epoch"]
    else:
        assert after["offset_s"] == pytest.approx(before["offset_s"], abs=0.01)
    _health_and_a_provider_call_work(client)
    # ... and the clock still moves as asked afterwards.
    moved = client.post("/_mockbank/clock", json={"advance": 60}).get_json()
    assert moved["offset_s"] == pytest.approx(before["offset_s"] + 60, abs=1)


def test_the_range_edges_are_accepted(served: tuple[Flask, State]) -> None:
    app, _ = served
    client = app.test_client()
    low = client.post("/_mockbank/clock", json={"freeze": "1970-01-01T00:00:00Z"})
    assert low.status_code == 200
    assert low.get_json()["epoch"] == 0
    high = client.post("/_mockbank/clock", json={"freeze": "2999-12-31T23:59:58Z"})
    assert high.status_code == 200
    assert client.post("/_mockbank/clock", json={"advance": 1}).status_code == 200
    assert client.post("/_mockbank/clock", json={"advance": 1}).status_code == 400
    _health_and_a_provider_call_work(client)


def test_python_api_refuses_the_same_and_keeps_the_clock() -> None:
    clock = Clock(wall=lambda: 1_800_000_000.0)
    clock.freeze(datetime(2030, 1, 1, tzinfo=UTC))
    for bad in (3e11, -1e11, math.nan, math.inf):
        with pytest.raises(ClockRangeError):
            clock.advance(bad)
    with pytest.raises(ClockRangeError):
        clock.freeze(datetime(1, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2030, 1, 1, tzinfo=UTC)

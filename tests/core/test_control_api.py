"""The control API: health, reset, clock, requests, state, faults, outbox, magic values."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from mockbank.state import State


def test_health_lists_providers(demo_client: FlaskClient) -> None:
    body = demo_client.get("/_mockbank/health").get_json()
    assert body["status"] == "ok"
    assert body["providers"] == ["demo"]


def test_clock_advance_is_visible_in_get(demo_client: FlaskClient) -> None:
    before = demo_client.get("/_mockbank/clock").get_json()
    moved = demo_client.post("/_mockbank/clock", json={"advance": 3600}).get_json()
    after = demo_client.get("/_mockbank/clock").get_json()
    assert set(after) == {"now", "epoch", "frozen", "offset_s"}
    assert moved["offset_s"] == pytest.approx(3600, abs=1)
    assert after["epoch"] - before["epoch"] == pytest.approx(3600, abs=2)


def test_clock_freeze_at_an_instant_then_advance_then_resume(demo_client: FlaskClient) -> None:
    frozen = demo_client.post("/_mockbank/clock", json={"freeze": "2014-05-13T16:53:20Z"})
    assert frozen.get_json()["epoch"] == 1400000000
    assert frozen.get_json()["frozen"] is True
    advanced = demo_client.post("/_mockbank/clock", json={"advance": 60}).get_json()
    assert advanced["now"] == "2014-05-13T16:54:20Z"
    resumed = demo_client.post("/_mockbank/clock", json={"resume": True}).get_json()
    assert resumed["frozen"] is False
    assert abs(resumed["offset_s"]) < 1


def test_clock_freeze_true_stops_time(demo_client: FlaskClient) -> None:
    first = demo_client.post("/_mockbank/clock", json={"freeze": True}).get_json()
    second = demo_client.get("/_mockbank/clock").get_json()
    assert first["epoch"] == second["epoch"]


@pytest.mark.parametrize(
    ("body", "content_type", "needle"),
    [
        ("{not json", "application/json", "JSON object"),
        ("[1, 2]", "application/json", "JSON object"),
        ('{"advance": "soon"}', "application/json", "advance"),
        ('{"freeze": "yesterday"}', "application/json", "freeze"),
        ('{"freeze": "2014-05-13T16:53:20"}', "application/json", "time zone"),
        ('{"rewind": 5}', "application/json", "rewind"),
        ('{"resume": true, "advance": 5}', "application/json", "resume"),
        ("{}", "application/json", "advance"),
    ],
    ids=[
        "not-json",
        "array",
        "advance-text",
        "freeze-garbage",
        "freeze-naive",
        "unknown-field",
        "resume-and-advance",
        "empty",
    ],
)
def test_bad_clock_requests_are_400_and_change_nothing(
    demo_client: FlaskClient, demo_state: State, body: str, content_type: str, needle: str
) -> None:
    demo_state.clock.freeze()
    before = demo_state.clock.snapshot()
    response = demo_client.post("/_mockbank/clock", data=body, content_type=content_type)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert needle.lower() in error["message"].lower() or needle in error["code"]
    after = demo_state.clock.snapshot()
    assert (after["epoch"], after["frozen"]) == (before["epoch"], before["frozen"])


def test_reset_forgets_records_and_reseeds(demo_client: FlaskClient, demo_state: State) -> None:
    token = demo_client.post("/demo/tokens").get_json()["token"]
    assert demo_client.get("/_mockbank/state/demo").get_json() == {"tokens": [token]}
    demo_state.clock.advance(100)
    assert demo_client.post("/_mockbank/reset").get_json() == {"reset": "all"}
    assert demo_client.get("/_mockbank/state/demo").get_json() == {"tokens": []}
    assert abs(demo_state.clock.snapshot()["offset_s"]) < 1
    assert demo_client.get("/_mockbank/requests").get_json()["count"] == 0


def test_reset_one_provider(demo_client: FlaskClient) -> None:
    demo_client.post("/demo/tokens")
    assert demo_client.post("/_mockbank/reset?provider=demo").get_json() == {"reset": "demo"}
    assert demo_client.get("/_mockbank/state/demo").get_json() == {"tokens": []}


def test_unknown_provider_is_404_json_and_changes_nothing(demo_client: FlaskClient) -> None:
    token = demo_client.post("/demo/tokens").get_json()["token"]
    for response in (
        demo_client.post("/_mockbank/reset?provider=nosuch"),
        demo_client.get("/_mockbank/state/nosuch"),
        demo_client.get("/_mockbank/requests?provider=nosuch"),
        demo_client.get("/_mockbank/magic-values/nosuch"),
    ):
        assert response.status_code == 404
        assert "unknown provider 'nosuch'" in response.get_json()["error"]["message"]
    assert demo_client.get("/_mockbank/state/demo").get_json() == {"tokens": [token]}


def test_requests_are_journaled_and_filterable(demo_client: FlaskClient) -> None:
    demo_client.post("/demo/tokens", data={"card": "4111111111111111"})
    demo_client.post("/demo/tokens/nope/use")
    everything = demo_client.get("/_mockbank/requests").get_json()
    assert everything["count"] == 2
    first = everything["requests"][0]
    assert first["provider"] == "demo"
    assert first["endpoint"] == "issue"
    assert first["status"] == 200
    assert "4111111111111111" not in first["request_body"]
    assert "411111******1111" in first["request_body"]
    failed = demo_client.get("/_mockbank/requests?status=409").get_json()["requests"]
    assert [r["endpoint"] for r in failed] == ["use"]
    since = demo_client.get(f"/_mockbank/requests?since={first['id']}").get_json()
    assert since["count"] == 1
    assert demo_client.get("/_mockbank/requests?path=/demo/tokens/").get_json()["count"] == 1
    assert demo_client.get("/_mockbank/requests?status=abc").status_code == 400
    assert demo_client.delete("/_mockbank/requests").status_code == 200
    assert demo_client.get("/_mockbank/requests").get_json()["count"] == 0


def test_faults_add_list_fire_and_clear(demo_client: FlaskClient) -> None:
    added = demo_client.post(
        "/_mockbank/faults",
        json={"provider": "demo", "endpoint": "issue", "status": 503, "count": 2},
    )
    assert added.status_code == 201
    listed = demo_client.get("/_mockbank/faults").get_json()
    assert listed["endpoints"]["demo"] == ["boom", "issue", "use"]
    assert [f["endpoint"] for f in listed["faults"]] == ["issue"]
    for _ in range(2):
        failed = demo_client.post("/demo/tokens")
        assert failed.status_code == 503
        assert failed.get_json()["demoError"]["kind"] == "INJECTED_FAULT"
    assert demo_client.post("/demo/tokens").status_code == 200
    assert demo_client.get("/_mockbank/faults").get_json()["faults"] == []


def test_fault_with_probability_zero_never_fires(demo_client: FlaskClient) -> None:
    demo_client.post(
        "/_mockbank/faults", json={"provider": "demo", "status": 500, "probability": 0.0}
    )
    assert demo_client.post("/demo/tokens").status_code == 200
    fault_id = demo_client.get("/_mockbank/faults").get_json()["faults"][0]["id"]
    assert demo_client.delete(f"/_mockbank/faults?id={fault_id}").status_code == 200
    assert demo_client.delete(f"/_mockbank/faults?id={fault_id}").status_code == 404


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"endpoint": "issue", "status": 500}, "provider"),
        ({"provider": "nosuch", "status": 500}, "unknown provider"),
        ({"provider": "demo", "endpoint": "nosuch", "status": 500}, "unknown endpoint"),
        ({"provider": "demo", "status": 99}, "status"),
        ({"provider": "demo", "status": 500, "count": 0}, "count"),
        ({"provider": "demo", "status": 500, "probability": 2}, "probability"),
        ({"provider": "demo"}, "one of"),
        ({"provider": "demo", "status": 500, "colour": "red"}, "unknown field"),
        ({"provider": "demo", "drop": "yes"}, "drop"),
    ],
    ids=[
        "no-provider",
        "unknown-provider",
        "unknown-endpoint",
        "bad-status",
        "zero-count",
        "probability-over-1",
        "no-action",
        "unknown-field",
        "drop-not-bool",
    ],
)
def test_bad_fault_specs_are_400_and_add_nothing(
    demo_client: FlaskClient, spec: dict[str, object], needle: str
) -> None:
    response = demo_client.post("/_mockbank/faults", json=spec)
    assert response.status_code == 400
    assert needle in response.get_json()["error"]["message"]
    assert demo_client.get("/_mockbank/faults").get_json()["faults"] == []


def test_magic_values_and_outbox(demo_client: FlaskClient) -> None:
    assert demo_client.get("/_mockbank/magic-values").get_json() == {
        "demo": {"cards": {"4111111111111111": "approved"}}
    }
    assert demo_client.get("/_mockbank/outbox").get_json() == {"messages": [], "count": 0}


def test_unknown_control_path_is_json_404(demo_client: FlaskClient) -> None:
    response = demo_client.get("/_mockbank/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"


def test_control_api_refuses_non_loopback_callers(demo_client: FlaskClient) -> None:
    response = demo_client.get("/_mockbank/health", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 403
    assert "loopback" in response.get_json()["error"]["message"]


def test_control_token_is_required_when_configured(demo_fixtures: object) -> None:
    from mockbank import create_app
    from mockbank.config import Config
    from mockbank.state import State
    from tests.core.helpers import demo_provider

    state = State(
        Config(fixtures_dir=demo_fixtures, control_token="t0ken"),  # type: ignore[arg-type]
        providers={"demo": demo_provider()},
    )
    client = create_app(state=state).test_client()
    remote = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get("/_mockbank/health", environ_base=remote).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/_mockbank/health", headers=wrong, environ_base=remote).status_code == 401
    right = {"Authorization": "Bearer t0ken"}
    assert client.get("/_mockbank/health", headers=right, environ_base=remote).status_code == 200
    state.close()

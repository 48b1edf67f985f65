"""Errors under a provider's prefix come in that provider's format, never as a 500 page."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from mockbank.state import State


def test_unknown_path_under_a_prefix_uses_the_provider_format(demo_client: FlaskClient) -> None:
    response = demo_client.get("/demo/nowhere")
    assert response.status_code == 404
    assert response.get_json() == {
        "demoError": {"kind": "NOT_FOUND", "text": "No endpoint at GET /demo/nowhere."}
    }
    assert response.headers["X-Request-Id"]


def test_wrong_method_is_405_in_the_provider_format(demo_client: FlaskClient) -> None:
    response = demo_client.get("/demo/tokens")
    assert response.status_code == 405
    assert response.get_json()["demoError"]["kind"] == "METHOD_NOT_ALLOWED"
    assert "POST" in response.get_json()["demoError"]["text"]


def test_oversized_body_is_413_in_the_provider_format(
    demo_client: FlaskClient, demo_state: State
) -> None:
    response = demo_client.post(
        "/demo/tokens", data=b"x" * (1024 * 1024 + 1), content_type="application/octet-stream"
    )
    assert response.status_code == 413
    assert response.get_json()["demoError"]["kind"] == "PAYLOAD_TOO_LARGE"
    assert demo_state.store.records("demo.tokens") == []


def test_unexpected_exception_is_500_with_correlation_id_and_no_traceback(
    demo_client: FlaskClient, demo_state: State, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="mockbank"):
        response = demo_client.get("/demo/boom")
    assert response.status_code == 500
    correlation_id = response.headers["X-Request-Id"]
    text = response.get_json()["demoError"]["text"]
    assert correlation_id in text
    assert "Traceback" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)
    assert "a bug in a view" in caplog.text  # the traceback went to the server log
    assert [type(e) for e in demo_state.take_server_errors()] == [RuntimeError]


def test_paths_outside_any_provider_get_json_404(demo_client: FlaskClient) -> None:
    response = demo_client.get("/nowhere")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"


def test_single_use_token_through_the_app_is_used_once(demo_client: FlaskClient) -> None:
    token = demo_client.post("/demo/tokens").get_json()["token"]
    assert demo_client.post(f"/demo/tokens/{token}/use").status_code == 200
    again = demo_client.post(f"/demo/tokens/{token}/use")
    assert again.status_code == 409
    assert again.get_json()["demoError"]["text"] == "token unusable"


def test_same_seed_and_requests_give_the_same_ids(demo_fixtures: object) -> None:
    from mockbank import create_app
    from mockbank.config import Config
    from tests.core.helpers import demo_provider

    def tokens() -> list[str]:
        state = State(
            Config(fixtures_dir=demo_fixtures, seed=7),  # type: ignore[arg-type]
            providers={"demo": demo_provider()},
        )
        client = create_app(state=state).test_client()
        issued = [client.post("/demo/tokens").get_json()["token"] for _ in range(3)]
        state.close()
        return issued

    assert tokens() == tokens()

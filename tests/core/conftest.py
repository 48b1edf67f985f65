"""A small 'demo' provider so core behaviour is tested without depending on a real one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Blueprint, Flask, Response, jsonify, request
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.config import Config
from mockbank.errors import ProviderError
from mockbank.providers import Provider
from mockbank.routing import endpoint
from mockbank.settings import check_known
from mockbank.state import State, current_state

demo_bp = Blueprint("demo", __name__)


@demo_bp.post("/tokens")
@endpoint("issue")
def issue() -> Response:
    state = current_state()
    key = state.token_hex(8)
    state.store.put("demo.tokens", key, {"card": request.form.get("card", "")}, now=state.now())
    return jsonify({"token": key})


@demo_bp.post("/tokens/<key>/use")
@endpoint("use")
def use(key: str) -> Response:
    state = current_state()
    if state.store.take_once("demo.tokens", key, now=state.now()) is None:
        raise ProviderError("token unusable", status=409)
    return jsonify({"used": key})


@demo_bp.get("/boom")
@endpoint("boom")
def boom() -> Response:
    raise RuntimeError("a bug in a view")


def render(error: ProviderError) -> Response:
    """The demo vendor spells errors as {"demoError": {...}}."""
    response = jsonify({"demoError": {"kind": error.code, "text": error.detail}})
    response.status_code = error.http_status
    return response


def demo_provider() -> Provider:
    return Provider(
        name="demo",
        title="Demo Bank",
        blueprint=demo_bp,
        render_error=render,
        read_settings=lambda options: check_known(options, "demo", ()),
        hosts=("api.demo-bank.example",),
        load_fixtures=lambda reader: {"user": reader.get("user", str)},
        credentials=lambda fixtures: [("user", fixtures["user"])],
        magic_values=lambda: {"cards": {"4111111111111111": "approved"}},
        state_view=lambda state: {"tokens": [r.key for r in state.store.records("demo.tokens")]},
    )


@pytest.fixture
def demo_fixtures(tmp_path: Path) -> Path:
    directory = tmp_path / "fixtures"
    directory.mkdir()
    (directory / "demo.json").write_text(json.dumps({"user": "demo-user"}))
    return directory


@pytest.fixture
def demo_app(demo_fixtures: Path) -> Iterator[Flask]:
    state = State(Config(fixtures_dir=demo_fixtures), providers={"demo": demo_provider()})
    app = create_app(state=state)
    yield app
    state.close()


@pytest.fixture
def demo_client(demo_app: Flask) -> FlaskClient:
    return demo_app.test_client()


@pytest.fixture
def demo_state(demo_app: Flask) -> State:
    state: State = demo_app.extensions["mockbank"]
    return state

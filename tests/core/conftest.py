"""Fixtures for tests/core: an app serving only the demo provider (`tests.core.helpers`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.config import Config
from mockbank.state import State
from tests.core.helpers import demo_provider


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

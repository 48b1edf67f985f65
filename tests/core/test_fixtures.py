"""Fixture files are validated at load, with errors naming the file and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockbank.config import Config
from mockbank.fixtures import FixtureError, FixtureReader, load_json
from mockbank.state import State
from tests.core.helpers import demo_provider


def test_reader_names_file_and_field() -> None:
    reader = FixtureReader("fixtures/x.json", {"users": [{"name": "alice"}, {"name": 5}]})
    assert reader.get("users.0.name", str) == "alice"
    with pytest.raises(FixtureError, match=r"fixtures/x.json: users.1.name: expected str, got int"):
        reader.get("users.1.name", str)
    with pytest.raises(FixtureError, match=r"users.2.name: is required"):
        reader.get("users.2.name", str)
    assert reader.get("users.2.name", str, default="bob") == "bob"


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "demo.json").write_text("{oops")
    with pytest.raises(FixtureError, match=r"demo.json: not valid JSON"):
        load_json(tmp_path, "demo")


def test_state_refuses_a_fixture_without_a_required_field(tmp_path: Path) -> None:
    (tmp_path / "demo.json").write_text(json.dumps({"usr": "typo"}))
    with pytest.raises(FixtureError, match=r"demo.json: user: is required"):
        State(Config(fixtures_dir=tmp_path), providers={"demo": demo_provider()})


def test_shipped_fixtures_load() -> None:
    state = State(Config())
    state.ready_providers()  # each reads its fixtures on first use
    assert set(state.fixtures) == set(state.providers)
    state.close()

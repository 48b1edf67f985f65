"""Shared fixtures: fresh apps from the factory, and headless Chromium for browser tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.clock import Clock
from mockbank.state import State

CHROMIUM = os.environ.get("MOCKBANK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """A fresh app with its own State; nothing is shared with other tests."""
    app = create_app({"state_path": None})
    yield app
    app.extensions["mockbank"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def state(app: Flask) -> State:
    state: State = app.extensions["mockbank"]
    return state


@pytest.fixture
def clock(state: State) -> Clock:
    return state.clock


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests save screenshots (``artifacts/`` at the top of the checkout)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright; skipped where Chromium is absent."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"headless Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser page (its own context: no cookies shared between tests)."""
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A throwaway PostgreSQL cluster for this test session (or xdist worker).

    Missing PostgreSQL skips the tests that need it on a developer's machine, and fails them
    in CI, whose ``.ci/run`` installs it.
    """
    from tests.services import postgres_cluster, postgres_missing

    missing = postgres_missing()
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture
def postgres_dsn(postgres: Any, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database in the session's cluster, for one test."""
    import re
    import uuid

    name = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40]
    return str(postgres.database(f"t_{name}_{uuid.uuid4().hex[:8]}"))


# Tests slow by what they start, whatever their own length: a Chromium page, a PostgreSQL
# cluster. The quick loop (`-m "not slow"`) leaves them, like every test over 3 s, to the full run.
SLOW_FIXTURES = frozenset({"chromium", "page", "postgres", "postgres_dsn"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if (
            SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
            or "postgresql" in params.values()
        ):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print how many generated cases each fuzz test ran (``fuzz_cases`` user properties)."""
    lines = [
        str(value)
        for report in terminalreporter.stats.get("passed", [])
        for name, value in getattr(report, "user_properties", [])
        if name == "fuzz_cases"
    ]
    if lines:
        terminalreporter.write_sep("-", "fuzz cases run")
        for line in sorted(lines):
            terminalreporter.write_line(line)

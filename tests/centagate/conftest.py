"""Fixtures of the Centagate tests; the helpers they use live in tests/centagate/helpers.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from mockbank.state import State
from tests.centagate.helpers import Api


@pytest.fixture
def api(client: FlaskClient, state: State) -> Api:
    return Api(client, state)


@pytest.fixture
def snapshot(state: State) -> Callable[[], dict[str, Any]]:
    """The provider's whole state view, to show a rejected request changed nothing."""
    return lambda: state.provider_state("centagate")

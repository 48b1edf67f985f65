"""The Forter demo runs as a test, against a live server and proxy."""

from __future__ import annotations

import pytest

from mockbank.pytest_plugin import ForterProxyHandle, Mockbank
from tests.processes import run_script


@pytest.mark.slow
def test_demo_runs_against_a_live_server(forter: ForterProxyHandle, mockbank: Mockbank) -> None:
    out = run_script("demo_forter.py", "--base-url", mockbank.server.url, "--proxy-url", forter.url)
    assert '"fullCreditCard":"4111111111111111"' in out
    assert "forter-*/proxy-* headers forwarded: none" in out
    assert "second use: 555" in out
    errors = out.split("== 5.", 1)[1]
    for code in ("407", "555", "556", "502", "565"):
        assert f"   {code} " in errors
    assert "full card number anywhere in the journal: no" in out

"""The narrated demo runs against a live server and tells the documented story."""

from __future__ import annotations

import pytest

from mockbank.pytest_plugin import Mockbank
from tests.processes import run_script


@pytest.mark.slow
def test_demo_runs_against_a_live_server(mockbank: Mockbank) -> None:
    base = mockbank.url("tokenos").removesuffix("/tokenos")
    out = run_script("demo_tokenos.py", "--base-url", base)
    assert f"{base}/tokenos/app/request-token/rq:" in out
    assert "parsed with the wrong CSRF token: refused (Invalid CSRF token)" in out
    assert "transfer now: SUCCESS" in out
    assert "Iron Checking: 4996.00 EUR" in out
    assert "after cancel: 403 PERMISSION_DENIED" in out
    assert "parse: Error at bank: access_denied" in out
    assert "v2 payment now: INITIATION_COMPLETED" in out
    assert "decoupled payment now: INITIATION_COMPLETED" in out
    assert f"Hosted Pages: {base}/tokenos/session/pm2:" in out
    assert "consent: AUTHORIZED" in out
    assert "VRP over the limit: refused (Rules.VrpConsentViolation)" in out
    assert "more than the 15.00 EUR left to refund" in out
    assert "refund now: INITIATION_COMPLETED" in out
    assert "Demo complete." in out

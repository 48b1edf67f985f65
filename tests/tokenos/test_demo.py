"""The narrated demo runs against a live server and tells the documented story."""

from __future__ import annotations

from mockbank.pytest_plugin import Mockbank
from tests.scripts import run_script


def test_demo_runs_against_a_live_server(mockbank: Mockbank) -> None:
    base = mockbank.url("tokenos").removesuffix("/tokenos")
    out = run_script("demo_tokenos.py", "--base-url", base)
    assert f"{base}/tokenos/app/request-token/rq:" in out
    assert "parsed with the wrong CSRF token: refused (Invalid CSRF token)" in out
    assert "transfer now: SUCCESS" in out
    assert "Iron Checking: 4996.00 EUR" in out
    assert "after cancel: 403 PERMISSION_DENIED" in out
    assert "parse: Error at bank: access_denied" in out
    assert "Demo complete." in out

"""The narrated demo runs against a live server and tells the documented story."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mockbank.pytest_plugin import Mockbank

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo_tokenos.py"


def test_demo_runs_against_a_live_server(mockbank: Mockbank) -> None:
    base = mockbank.url("tokenos").removesuffix("/tokenos")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--base-url", base],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"{base}/tokenos/app/request-token/rq:" in out
    assert "parsed with the wrong CSRF token: refused (Invalid CSRF token)" in out
    assert "transfer now: SUCCESS" in out
    assert "Iron Checking: 4996.00 EUR" in out
    assert "after cancel: 403 PERMISSION_DENIED" in out
    assert "parse: Error at bank: access_denied" in out
    assert "Demo complete." in out

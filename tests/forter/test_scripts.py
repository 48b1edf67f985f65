"""The Forter demo and the proxy benchmark run as tests (against real servers)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mockbank.pytest_plugin import ForterProxyHandle, Mockbank
from tests.processes import run_script

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_against_a_live_server(forter: ForterProxyHandle, mockbank: Mockbank) -> None:
    out = run_script("demo_forter.py", "--base-url", mockbank.server.url, "--proxy-url", forter.url)
    assert '"fullCreditCard":"4111111111111111"' in out
    assert "forter-*/proxy-* headers forwarded: none" in out
    assert "second use: 555" in out
    errors = out.split("== 5.", 1)[1]
    for code in ("407", "555", "556", "502", "565"):
        assert f"   {code} " in errors
    assert "full card number anywhere in the journal: no" in out


def test_proxy_benchmark_prints_both_rates() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench" / "proxy.py"), "--requests", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "direct HTTPS:" in done.stdout
    assert "through HTTPS proxy:" in done.stdout
    assert "ratio proxy/direct:" in done.stdout

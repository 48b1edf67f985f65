"""The demo walkthrough runs against a live server and tells the story it promises."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from mockbank.pytest_plugin import Mockbank

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo_quickstream.py"


def test_demo_walkthrough_runs_against_a_live_server(mockbank: Mockbank) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--base-url", mockbank.server.url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "<- 200 token=" in out
    assert "/quickstream/OnlinePaymentServlet3?token=" in out
    assert "Payment successful" in out
    assert "hmac verified with the facility secret" in out
    assert "successFlag                true" in out
    assert "summaryCode=1 responseCode=51" in out
    assert "4242424242424242" not in out
    payments = mockbank.state.provider_state("quickstream")["payments"]
    assert [p["summaryCode"] for p in payments] == ["0", "1"]


def test_demo_explains_when_no_server_answers() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--base-url", f"http://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "mockbank serve" in result.stdout

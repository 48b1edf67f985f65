"""The demo walkthrough runs against a live server and tells the story it promises."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mockbank.pytest_plugin import Mockbank
from tests.processes import free_port, run_script
from tests.quickstream.helpers import card_form

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo_quickstream.py"


@pytest.mark.slow
def test_demo_walkthrough_runs_against_a_live_server(mockbank: Mockbank) -> None:
    out = run_script("demo_quickstream.py", "--base-url", mockbank.server.url)
    assert "<- 200 token=" in out
    assert "/quickstream/OnlinePaymentServlet3?token=" in out
    assert "Payment successful" in out
    assert "hmac verified with the facility secret" in out
    assert "successFlag                true" in out
    assert "summaryCode=1 responseCode=51" in out
    assert "4242424242424242" not in out
    payments = mockbank.state.provider_state("quickstream")["payments"]
    assert [p["summaryCode"] for p in payments] == ["0", "1"]


@pytest.mark.slow
def test_demo_explains_when_no_server_answers() -> None:
    port = free_port()  # free a moment ago: nobody listens there
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--base-url", f"http://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "mockbank serve" in result.stdout


@pytest.mark.slow
def test_interactive_demo_waits_for_a_person_to_pay(mockbank: Mockbank) -> None:
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--base-url", mockbank.server.url, "--interactive"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        handoff = ""
        for line in process.stdout:
            if "/OnlinePaymentServlet3?token=" in line:
                handoff = line.strip()
                break
        assert handoff
        # The "person": opens the link, pays, presses Return, and the browser posts the form.
        with requests.Session() as browser:
            page = browser.get(handoff, timeout=10)
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            form = card_form(csrf)
            receipt = browser.post(page.url + "/pay", data=form, timeout=10)
            assert receipt.status_code == 200
            passback = browser.post(page.url + "/return", data={"csrf": csrf}, timeout=10)
            action = re.search(r'action="([^"]+)"', passback.text).group(1)  # type: ignore[union-attr]
            pairs = re.findall(r'name="([^"]+)" value="([^"]*)"', passback.text)
            fields = {name: html.unescape(value) for name, value in pairs}
            assert browser.post(html.unescape(action), data=fields, timeout=10).status_code == 200
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)  # closes the pipe, or pytest reports it leaked
    assert process.returncode == 0, rest
    assert "hmac verified with the facility secret" in rest
    assert "successFlag                true" in rest

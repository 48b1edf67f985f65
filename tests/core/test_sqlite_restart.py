"""With ``--state``, records survive a restart of `mockbank serve`; used ones stay used."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.centagate.helpers import auth_body, b64, qr_body
from tests.processes import free_port, start_serve, wait_for_health


def _api(url: str) -> str:
    return url + "/centagate/v2/CentagateWS/webresources"


def _epoch(url: str) -> float:
    return float(requests.get(url + "/_mockbank/clock", timeout=5).json()["epoch"])


def _request_qr(url: str) -> dict[str, Any]:
    body = qr_body(_epoch(url), details=b64("Pay RM 250 to Bob"))
    answer = requests.post(_api(url) + "/req/requestQrCode", json=body, timeout=5).json()
    assert answer["code"] == "0", answer
    return {"request": body, "qr": json.loads(answer["object"])}


def _authorize(url: str, issued: dict[str, Any]) -> int:
    body = auth_body(issued["qr"], _epoch(url))
    code: str = requests.post(_api(url) + "/auth/authQRCode", json=body, timeout=5).json()["code"]
    return int(code)  # Centagate sends the code as a string


def _serve(state_dir: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process = start_serve(
        "--state", str(state_dir), "--port", str(port), "--proxy-port", str(free_port()), "--quiet"
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_health(url, process)
    return process, url


def _stop(process: subprocess.Popen[str], *, kill: bool = False) -> None:
    process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    process.communicate(timeout=15)


@pytest.mark.slow
def test_a_challenge_survives_a_restart_and_a_used_one_stays_used(tmp_path: Path) -> None:
    process, url = _serve(tmp_path)
    try:
        kept = _request_qr(url)
        used = _request_qr(url)
        assert _authorize(url, used) == 0
    finally:
        _stop(process, kill=True)  # no clean shutdown: nothing may depend on one

    process, url = _serve(tmp_path)
    try:
        assert _authorize(url, used) == 23001  # used before the restart: still used
        assert _authorize(url, kept) == 0  # issued before the restart: still usable
        assert _authorize(url, kept) == 23001
    finally:
        _stop(process)

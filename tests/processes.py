"""Running the project's commands and scripts as users run them: as processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from mockbank.clock import monotonic

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def run_script(path: str, *args: str, timeout: float = 120, cwd: Path | None = None) -> str:
    """Run ``scripts/<path>`` with this interpreter; assert it exits 0; return its stdout."""
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )
    assert result.returncode == 0, f"scripts/{path} failed:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_health(url: str, process: subprocess.Popen[str], timeout: float = 20) -> None:
    deadline = monotonic() + timeout
    while monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"mockbank serve exited early: {process.stdout.read()}")  # type: ignore[union-attr]
        try:
            if requests.get(url + "/_mockbank/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise AssertionError("mockbank serve did not answer health")


def default_signals() -> None:
    """In a child before exec: Ctrl-C and SIGTERM act as in a terminal.

    A shell starts background jobs (``bash scripts/test.sh &``) with SIGINT ignored, and an
    ignored signal stays ignored across exec: a server started from such a suite would not
    stop on the Ctrl-C its test sends.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start_serve(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mockbank.cli", "serve", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=default_signals,
    )


def serve_on_free_ports(*args: str, timeout: float = 60) -> tuple[str, subprocess.Popen[str]]:
    """``mockbank serve --quiet`` with `args` on free ports, answering health: (its base URL,
    the process). The caller stops the process; one that never answers is stopped here."""
    port = free_port()
    process = start_serve(*args, "--port", str(port), "--proxy-port", str(free_port()), "--quiet")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, process, timeout)
    except BaseException:
        process.kill()
        process.communicate(timeout=15)
        raise
    return base, process

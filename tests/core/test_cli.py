"""`mockbank serve` and friends, run as users run them: as a process."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mockbank import __version__
from mockbank.cli import build_parser, config_from_args
from tests.processes import free_port, start_serve, wait_for_health

pytestmark = pytest.mark.slow  # each test launches `mockbank` processes


def test_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockbank.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == f"mockbank {__version__}"


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_serve_prints_urls_answers_and_stops_cleanly(tmp_path: Path, stop_signal: int) -> None:
    port = free_port()
    process = start_serve(
        "--proxy-port",
        str(free_port()),
        env={"MOCKBANK_PORT": str(port), "MOCKBANK_STATE": str(tmp_path)},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, process)
        moved = requests.post(url + "/_mockbank/clock", json={"advance": 3600}, timeout=5)
        assert moved.json()["offset_s"] >= 3599
        assert requests.get(url + "/_mockbank/clock", timeout=5).json()["offset_s"] >= 3599
        assert "mockbank dashboard" in requests.get(url + "/", timeout=5).text
    finally:
        process.send_signal(stop_signal)
        output, _ = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "Traceback" not in output
    assert f"mockbank {__version__} on {url}" in output
    assert f"{url}/quickstream" in output
    assert f"{url}/_mockbank" in output
    assert (tmp_path / "mockbank.sqlite3").exists()


def test_flags_win_over_environment() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--port",
            "9999",
            "--upstream",
            "api.psp.com=echo",
            "--allow-outbound",
            "a.example",
        ]
    )
    config = config_from_args(
        args,
        {"MOCKBANK_PORT": "1111", "MOCKBANK_SEED": "42", "MOCKBANK_ALLOW_OUTBOUND": "b.example"},
    )
    assert config.port == 9999
    assert config.seed == 42
    assert config.upstreams == {"api.psp.com": "echo"}
    assert config.allow_outbound == frozenset({"a.example", "b.example"})


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["serve", "--upstream", "nonsense"], "HOST=URL"),
        (["serve", "--port", "x"], "mockbank: --port x is not a port"),
    ],
    ids=["bad-upstream", "bad-port"],
)
def test_bad_flags_exit_2_with_a_message(argv: list[str], needle: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockbank.cli", *argv, "--quiet"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert needle in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_fixtures_name_the_file_and_field(tmp_path: Path) -> None:
    process = start_serve("--fixtures", str(tmp_path), "--port", str(free_port()), "--quiet")
    output, _ = process.communicate(timeout=30)
    assert process.returncode != 0
    assert str(tmp_path) in output
    assert "missing" in output


def test_serve_on_port_zero_prints_the_port_it_bound() -> None:
    process = start_serve("--port", "0", "--proxy-port", "0")
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.split(" on ", 1)[1].strip()
        assert not url.endswith(":0")
        wait_for_health(url, process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)


def test_output_into_a_closed_pipe_ends_quietly() -> None:
    """`mockbank ... | head` must not end in a BrokenPipeError traceback."""
    code = (
        "import os, sys; r, w = os.pipe(); os.close(r); os.dup2(w, 1); "
        "from mockbank.cli import main; sys.exit(main(['tokenos-fixtures']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "BrokenPipeError" not in done.stderr

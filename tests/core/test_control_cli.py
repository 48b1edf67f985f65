"""`mockbank clock | reset | requests | faults | outbox` against a live server, as processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mockbank import create_app
from mockbank.testing import LiveServer
from tests.core.helpers import Receiver
from tests.processes import default_signals, free_port

CARD = "4111111111111111"


@pytest.fixture
def live() -> Iterator[LiveServer]:
    app = create_app({"state_path": None})
    with LiveServer(app) as server:
        yield server
    app.extensions["mockbank"].close()


@pytest.fixture
def guarded() -> Iterator[LiveServer]:
    app = create_app({"state_path": None, "control_token": "s3cret"})
    with LiveServer(app) as server:
        yield server
    app.extensions["mockbank"].close()


def _env(token: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKBANK_")}
    if token:
        env["MOCKBANK_CONTROL_TOKEN"] = token
    return env


def cli(server: LiveServer | str, *args: str, token: str | None = None) -> Any:
    url = server if isinstance(server, str) else server.url
    return subprocess.run(
        [sys.executable, "-m", "mockbank.cli", *args, "--url", url],
        env=_env(token),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ok(server: LiveServer | str, *args: str, token: str | None = None) -> str:
    done = cli(server, *args, token=token)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return str(done.stdout)


@pytest.mark.slow
def test_clock_shows_advances_freezes_and_resumes(live: LiveServer) -> None:
    assert "(running, +0 s from real time)" in ok(live, "clock")
    assert "+7200 s" in ok(live, "clock", "advance", "2h")
    assert live.state.clock.snapshot()["offset_s"] >= 7199
    out = ok(live, "clock", "freeze", "2030-01-02T03:04:05Z")
    assert out.startswith("2030-01-02 03:04:05Z (frozen")
    assert live.state.clock.frozen
    assert "2030-01-02 03:05:05Z (frozen" in ok(live, "clock", "advance", "60")
    assert "(running" in ok(live, "clock", "resume")
    assert not live.state.clock.frozen
    data = json.loads(ok(live, "clock", "--json"))
    assert set(data) >= {"now", "frozen", "offset_s"}


def test_clock_refuses_a_bad_duration_or_time(live: LiveServer) -> None:
    done = cli(live, "clock", "advance", "soon")
    assert done.returncode == 2
    assert "'soon' is not a duration" in done.stderr
    done = cli(live, "clock", "freeze", "yesterday")
    assert done.returncode == 2
    assert done.stderr.startswith(f"mockbank: 400 from {live.url}: 'freeze' must be")
    assert not live.state.clock.frozen


@pytest.mark.slow
def test_reset_all_and_one_provider(live: LiveServer) -> None:
    live.state.clock.advance(3600)
    requests.get(live.url + "/syspay/nothing", timeout=5)
    requests.get(live.url + "/forter/nothing", timeout=5)
    assert ok(live, "reset", "syspay") == "reset syspay\n"
    assert [e.provider for e in live.state.requests()] == ["forter"]
    assert live.state.clock.snapshot()["offset_s"] >= 3599  # a provider reset keeps the clock
    assert ok(live, "reset") == "reset all\n"
    assert live.state.requests() == []
    done = cli(live, "reset", "nobank")
    assert done.returncode == 2
    assert "unknown provider 'nobank'" in done.stderr


@pytest.mark.slow
def test_requests_lists_masked_lines_filters_and_json(live: LiveServer) -> None:
    requests.get(f"{live.url}/quickstream/no/{CARD}", timeout=5)
    requests.get(f"{live.url}/syspay/nothing", timeout=5)
    lines = ok(live, "requests").splitlines()
    assert len(lines) == 2
    assert "quickstream" in lines[0]
    assert " GET " in lines[0]
    assert " 404 " in lines[0]
    assert "/quickstream/no/411111******1111" in lines[0]
    assert CARD not in "".join(lines)
    only = ok(live, "requests", "--provider", "syspay").splitlines()
    assert len(only) == 1
    assert "/syspay/nothing" in only[0]
    assert ok(live, "requests", "--status", "200") == ""
    entries = [json.loads(line) for line in ok(live, "requests", "--json").splitlines()]
    assert [e["provider"] for e in entries] == ["quickstream", "syspay"]
    assert entries[0]["path"] == "/quickstream/no/411111******1111"


@pytest.mark.slow
def test_requests_follow_prints_new_requests_as_they_come(live: LiveServer) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockbank.cli", "requests", "--follow", "--url", live.url],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
    )
    try:
        time.sleep(1.5)  # the first poll has printed nothing
        requests.get(f"{live.url}/forter/first/{CARD}", timeout=5)
        assert process.stdout is not None
        first = process.stdout.readline()
        requests.get(f"{live.url}/forter/second", timeout=5)
        second = process.stdout.readline()
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert "/forter/first/411111******1111" in first
    assert "/forter/second" in second


@pytest.mark.slow
def test_faults_add_list_fire_and_clear(live: LiveServer) -> None:
    out = ok(live, "faults")
    assert out.startswith("no faults; endpoint names")
    assert "syspay:" in out
    name = sorted(live.state.endpoints["forter"] - {"proxy"})[0]
    added = ok(live, "faults", "add", "--provider", "forter", "--endpoint", name, "--status", "503")
    assert f"forter/{name}: status 503, 1 left, fired 0" in added
    listed = ok(live, "faults", "list")
    assert f"forter/{name}: status 503" in listed
    ok(live, "faults", "add", "--provider", "syspay", "--latency-ms", "5", "--count", "3")
    fault_id = json.loads(ok(live, "faults", "--json"))["faults"][1]["id"]
    assert ok(live, "faults", "clear", "--id", str(fault_id)) == f"removed fault {fault_id}\n"
    assert [f.provider for f in live.state.faults.list()] == ["forter"]
    assert ok(live, "faults", "clear") == "cleared faults of every provider\n"
    assert live.state.faults.list() == []
    done = cli(live, "faults", "add", "--provider", "forter", "--endpoint", "nope", "--drop")
    assert done.returncode == 2
    assert "unknown endpoint 'nope' for forter" in done.stderr


@pytest.mark.slow
def test_outbox_lists_every_attempt_and_redelivers(live: LiveServer) -> None:
    receiver = Receiver([500, 500, 500, 200])
    try:
        message = live.state.outbox.send_http(
            "quickstream", receiver.url + "/notify", body=b"x=1", retry_delays=(0.0,)
        )
        live.state.outbox.wait_idle()
        out = ok(live, "outbox")
        assert f"{message.id:>6} " in out
        assert "failed" in out
        assert "attempt 1 at " in out
        assert ": HTTP 500" in out
        again = ok(live, "outbox", "--redeliver", str(message.id))
        assert again == f"message {message.id} queued for delivery again (pending)\n"
        live.state.outbox.wait_idle()
        assert len(live.state.outbox.messages()[0].attempts) == 2
        data = json.loads(ok(live, "outbox", "--json"))
        assert [a.get("status") for a in data["attempts"]] == [500, 500]
    finally:
        receiver.close()
    done = cli(live, "outbox", "--redeliver", "999")
    assert done.returncode == 2
    assert "no outbox message with id 999" in done.stderr


@pytest.mark.slow
def test_outbox_follow_prints_attempts_as_they_happen(live: LiveServer) -> None:
    receiver = Receiver([500, 200])
    process = subprocess.Popen(
        [sys.executable, "-m", "mockbank.cli", "outbox", "--follow", "--url", live.url],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
    )
    try:
        time.sleep(1.5)
        live.state.outbox.send_http(
            "quickstream", receiver.url + "/n", body=b"x", retry_delays=(0.0, 30.0)
        )
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        live.state.clock.advance(31)
        lines += [process.stdout.readline() for _ in range(2)]
    finally:
        process.terminate()
        process.communicate(timeout=10)
        receiver.close()
    assert "quickstream" in lines[0]
    assert "attempt 1 at" in lines[1]
    assert "HTTP 500" in lines[1]
    assert "now delivered" in lines[2]
    assert "attempt 2 at" in lines[3]
    assert "HTTP 200" in lines[3]


@pytest.mark.slow
def test_unreachable_server_is_one_clear_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for args in (["clock"], ["reset"], ["requests"], ["faults"], ["outbox"]):
        done = cli(url, *args)
        assert done.returncode == 1
        assert done.stderr == (
            f"mockbank: cannot reach a mockbank server at {url}; start one with "
            "`mockbank serve`, or pass --url (or set MOCKBANK_URL) to name it\n"
        )


@pytest.mark.slow
def test_the_control_token_comes_from_the_environment(guarded: LiveServer) -> None:
    done = cli(guarded, "clock")
    assert done.returncode == 1
    assert done.stderr == (
        f"mockbank: the server at {guarded.url} refused the control token: "
        "set MOCKBANK_CONTROL_TOKEN to the token `mockbank serve` printed\n"
    )
    done = cli(guarded, "reset", token="wrong")
    assert done.returncode == 1
    assert "MOCKBANK_CONTROL_TOKEN does not match the server's control token" in done.stderr
    assert "(running" in ok(guarded, "clock", token="s3cret")
    assert ok(guarded, "reset", token="s3cret") == "reset all\n"

"""Two `mockbank serve` processes on one shared store (SQLite, PostgreSQL) deliver each outbox
message's attempts exactly once, in the default sandbox and in named ones, retries included."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests

from mockbank.clock import monotonic
from tests.core.helpers import Receiver
from tests.processes import serve_on_free_ports
from tests.quickstream.helpers import pay_hosted

pytestmark = pytest.mark.slow

SANDBOXES = ("", "/s/a", "/s/b")  # the default sandbox and two named ones
PAYMENTS_EACH = 4


@pytest.fixture(params=["sqlite", "postgresql"])
def servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    if request.param == "sqlite":
        store = ["--state", str(tmp_path)]
    else:
        store = ["--store", request.getfixturevalue("postgres_dsn")]
    processes: list[subprocess.Popen[str]] = []
    bases = []
    try:
        for name in ("p1", "p2"):
            base, process = serve_on_free_ports(*store, "--instance", name)
            processes.append(process)
            bases.append(base)
        yield bases
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=15)


def _wait_for_calls(receiver: Receiver, count: int) -> None:
    deadline = monotonic() + 60
    while len(receiver.calls) < count and monotonic() < deadline:
        time.sleep(0.1)
    assert len(receiver.calls) >= count, receiver.calls


def test_two_processes_deliver_every_attempt_exactly_once(servers: list[str]) -> None:
    first, second = servers
    for name in ("a", "b"):
        created = requests.post(first + "/_mockbank/sandboxes", json={"name": name}, timeout=30)
        assert created.status_code == 201, created.text
    total = len(SANDBOXES) * PAYMENTS_EACH
    receiver = Receiver([500] * total)  # every first attempt fails: the retries race too
    try:
        jobs = [
            (servers[n % 2] + prefix, f"{prefix or '/default'}-{n}")
            for prefix in SANDBOXES
            for n in range(PAYMENTS_EACH)
        ]
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda job: pay_hosted(job[0], receiver.url + "/notify", job[1]), jobs))
        _wait_for_calls(receiver, total)
        # Each sandbox's retry is due after 10 s of its own clock, moved through either process.
        for n, prefix in enumerate(SANDBOXES):
            moved = requests.post(
                servers[n % 2] + prefix + "/_mockbank/clock", json={"advance": 10}, timeout=30
            )
            assert moved.status_code == 200, moved.text
        _wait_for_calls(receiver, 2 * total)
        time.sleep(1)  # a second delivery of any attempt would arrive within the poll
        references = Counter(
            parse_qs(body.decode())["paymentReference"][0] for _, _, body in receiver.calls
        )
        assert references == Counter({reference: 2 for _, reference in jobs})
        for prefix in SANDBOXES:
            listed = requests.get(second + prefix + "/_mockbank/outbox", timeout=30).json()
            http = [m for m in listed["messages"] if m["kind"] == "http"]
            assert len(http) == PAYMENTS_EACH
            for message in http:
                assert message["status"] == "delivered"
                assert [a.get("status") for a in message["attempts"]] == [500, 200]
                assert {a["instance"] for a in message["attempts"]} <= {"p1", "p2"}
    finally:
        receiver.close()

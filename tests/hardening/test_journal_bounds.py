"""The journal is bounded in bytes as well as entries; cut bodies carry a visible marker."""

from __future__ import annotations

import re
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.journal import BODY_LIMIT, Journal, masked_body
from tests.processes import free_port, start_serve, wait_for_health

T0 = datetime(2030, 1, 1, tzinfo=UTC)
MARKER = re.compile(r"\.\.\.\[mockbank: (\d+) more bytes not recorded\]$")


def _record(journal: Journal, body: str) -> None:
    journal.record(
        time=T0,
        provider="demo",
        endpoint="e",
        method="POST",
        path="/demo",
        query="",
        status=200,
        latency_ms=1.0,
        correlation_id="c",
        request_body=body,
        notes={"forwardedBody": body, "nested": [{"deeper": body}]},
    )


@pytest.mark.slow
def test_a_thousand_megabyte_bodies_stay_within_the_byte_bound() -> None:
    journal = Journal(capacity=10_000, max_bytes=4 * 1024 * 1024)
    body = "x" * (1024 * 1024)
    for _ in range(1000):
        _record(journal, body)
    assert journal.bytes <= 4 * 1024 * 1024
    kept = journal.entries()
    assert 0 < len(kept) < 1000  # the oldest went, the newest stayed
    assert kept[-1].id == 1000
    entry = kept[-1]
    for text in (
        entry.request_body,
        entry.notes["forwardedBody"],
        entry.notes["nested"][0]["deeper"],
    ):
        found = MARKER.search(text)
        assert found, text[-80:]
        assert len(text.encode()) <= BODY_LIMIT + 200
        assert int(found.group(1)) == len(body) - BODY_LIMIT - 128


def test_the_entry_count_bound_still_holds() -> None:
    journal = Journal(capacity=5)
    for _ in range(20):
        _record(journal, "small")
    assert [e.id for e in journal.entries()] == [16, 17, 18, 19, 20]
    journal.clear()
    assert journal.bytes == 0


def test_a_cut_never_leaves_the_head_of_a_card_number() -> None:
    for shift in range(0, 20):
        body = "a" * (BODY_LIMIT - shift) + "4111111111111111" + "b" * 100
        text = masked_body(body.encode(), "text/plain")
        assert not re.search(r"\d{7,}", text), shift
        assert MARKER.search(text)


def test_bodies_through_the_app_are_cut_and_marked() -> None:
    app = create_app({"state_path": None, "journal_max_bytes": 1024 * 1024})
    client: FlaskClient = app.test_client()
    big = "note=" + "y" * (900 * 1024)
    for _ in range(30):
        answer = client.post(
            "/quickstream/CommunityTokenRequestServlet",
            data=big,
            content_type="application/x-www-form-urlencoded",
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        assert answer.status_code < 500
    state = app.extensions["mockbank"]
    assert state.journal.bytes <= 1024 * 1024
    entries = state.journal.entries(provider="quickstream")
    assert 1 <= len(entries) < 30
    assert MARKER.search(entries[-1].request_body)
    listed = client.get("/_mockbank/requests?provider=quickstream").get_json()["requests"]
    assert MARKER.search(listed[-1]["request_body"])
    assert "size" not in listed[-1]
    state.close()


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.slow
def test_a_live_server_taking_megabyte_bodies_keeps_its_memory() -> None:
    port = free_port()
    server = start_serve("--port", str(port), "--proxy-port", str(free_port()), "--quiet")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, server)
        body = b"note=" + b"z" * (1000 * 1024)
        with requests.Session() as session:
            for _ in range(50):  # warm up: arenas, caches and thread stacks settle
                session.post(base + "/quickstream/CommunityTokenRequestServlet", data=body)
            before = _rss_kib(server.pid)
            for _ in range(200):
                answer = session.post(base + "/quickstream/CommunityTokenRequestServlet", data=body)
                assert answer.status_code < 500
        after = _rss_kib(server.pid)
        # Unbounded, 200 more 1 MiB bodies would hold 200 MiB more; the journal's byte bound
        # (32 MiB) and the 64 KiB cut per body keep the growth to a fraction of that.
        assert after - before < 64 * 1024, (before, after)
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=15)

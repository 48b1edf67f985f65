"""Faults seen through real HTTP: latency, dropped connections, statuses."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import requests
from flask import Flask

from mockbank.clock import monotonic
from mockbank.state import State
from mockbank.testing import LiveServer


@pytest.fixture
def live(demo_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(demo_app) as server:
        yield server


def test_latency_fault_delays_the_answer(live: LiveServer, demo_state: State) -> None:
    demo_state.add_fault({"provider": "demo", "endpoint": "issue", "latency_ms": 300})
    started = monotonic()
    response = requests.post(live.url + "/demo/tokens", timeout=5)
    assert response.status_code == 200
    assert monotonic() - started >= 0.3


def test_drop_fault_closes_the_connection_without_an_answer(
    live: LiveServer, demo_state: State
) -> None:
    demo_state.add_fault({"provider": "demo", "endpoint": "issue", "drop": True})
    with pytest.raises(requests.ConnectionError):
        requests.post(live.url + "/demo/tokens", timeout=5)
    assert demo_state.store.records("demo.tokens") == []
    assert requests.post(live.url + "/demo/tokens", timeout=5).status_code == 200


def test_status_fault_with_message_in_the_provider_format(
    live: LiveServer, demo_state: State
) -> None:
    demo_state.add_fault({"provider": "demo", "status": 503, "message": "bank down"})
    response = requests.post(live.url + "/demo/tokens", timeout=5)
    assert response.status_code == 503
    assert response.json() == {"demoError": {"kind": "INJECTED_FAULT", "text": "bank down"}}
    assert demo_state.store.records("demo.tokens") == []


def test_drop_fault_under_waitress_breaks_the_response(demo_app: Flask, demo_state: State) -> None:
    """`mockbank serve` runs waitress, which hides the socket: the answer breaks off instead."""
    import threading

    from waitress.server import create_server

    server = create_server(demo_app, host="127.0.0.1", port=0, threads=2)

    def run() -> None:
        # Closing the listener from the test thread ends waitress's loop with EBADF.
        with contextlib.suppress(OSError, ValueError):
            server.run()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.effective_port}"  # type: ignore[union-attr]
        demo_state.add_fault({"provider": "demo", "endpoint": "issue", "drop": True})
        with pytest.raises(requests.exceptions.RequestException):
            requests.post(url + "/demo/tokens", timeout=5)
        assert requests.post(url + "/demo/tokens", timeout=5).status_code == 200
    finally:
        server.close()
        thread.join(timeout=5)

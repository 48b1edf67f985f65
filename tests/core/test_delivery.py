"""One outbox worker per app serves every sandbox: threads and store queries do not grow with
the number of sandboxes, and each sandbox's retries still follow its own clock and faults."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.delivery import SENDER_THREAD_PREFIX, SENDERS, THREAD_NAME, WORK_NAMESPACE
from mockbank.outbox import Message
from mockbank.sandboxes import REGISTRY
from mockbank.state import State
from mockbank.store import SQLiteStore
from tests.core.helpers import Receiver


def _outbox_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]


@pytest.fixture(params=["memory", "sqlite"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    state_path = tmp_path / "state" if request.param == "sqlite" else None
    app = create_app({"state_path": state_path})
    yield app
    app.extensions["mockbank"].close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver([])
    yield receiver
    receiver.close()


def _sandbox(client: FlaskClient, name: str, **spec: Any) -> State:
    response = client.post("/_mockbank/sandboxes", json={"name": name, **spec})
    assert response.status_code == 201, response.get_json()
    root: State = client.application.extensions["mockbank"]
    return root.sandboxes.resolve(name)


def _notify(state: State, url: str) -> Message:
    """A QuickStream-style notification: retried after 10 s and 60 s of the sandbox's clock."""
    return state.outbox.send_http(
        "quickstream", url, body=b"x=1", retry_delays=(0.0, 10.0, 60.0), fault_endpoint="notify"
    )


def _attempts(client: FlaskClient, prefix: str = "") -> list[list[dict[str, Any]]]:
    listed = client.get(prefix + "/_mockbank/outbox").get_json()["messages"]
    return [m["attempts"] for m in listed]


def test_one_outbox_thread_serves_twenty_sandboxes(app: Flask, receiver: Receiver) -> None:
    before = len(_outbox_threads())
    client = app.test_client()
    sandboxes = [_sandbox(client, f"team-{n}") for n in range(20)]
    for n, sandbox in enumerate(sandboxes):
        _notify(sandbox, f"{receiver.url}/team-{n}")
    for sandbox in sandboxes:
        assert sandbox.outbox.wait_idle(10)
    assert len(_outbox_threads()) - before <= 1
    assert sorted(path for path, _, _ in receiver.calls) == sorted(f"/team-{n}" for n in range(20))
    for n in range(20):
        [attempts] = _attempts(client, f"/s/team-{n}")
        assert [a["status"] for a in attempts] == [200]


def test_each_sandbox_retries_on_its_own_clock(app: Flask) -> None:
    client = app.test_client()
    first, second = _sandbox(client, "a"), _sandbox(client, "b")
    root: State = app.extensions["mockbank"]
    receivers = {name: Receiver([500]) for name in ("a", "b", "default")}
    try:
        for prefix in ("/s/a", "/s/b", ""):
            assert client.post(prefix + "/_mockbank/clock", json={"freeze": True}).status_code
        for name, state in (("a", first), ("b", second), ("default", root)):
            _notify(state, receivers[name].url)
            assert state.outbox.wait_idle(10)
        assert [len(_attempts(client, p)[0]) for p in ("/s/a", "/s/b", "")] == [1, 1, 1]

        client.post("/s/a/_mockbank/clock", json={"advance": 10})
        assert first.outbox.wait_idle(10)
        assert root.delivery.wait_rounds(3)
        assert [a.get("status") for a in _attempts(client, "/s/a")[0]] == [500, 200]
        # Neither the other sandbox's retry nor the default one's moved with a's clock.
        assert len(_attempts(client, "/s/b")[0]) == 1
        assert len(_attempts(client)[0]) == 1
        assert len(receivers["b"].calls) == len(receivers["default"].calls) == 1

        client.post("/s/b/_mockbank/clock", json={"advance": 9})
        assert root.delivery.wait_rounds(3)
        assert len(_attempts(client, "/s/b")[0]) == 1  # due at +10 s of b's clock, not before
        client.post("/s/b/_mockbank/clock", json={"advance": 1})
        assert second.outbox.wait_idle(10)
        assert [a.get("status") for a in _attempts(client, "/s/b")[0]] == [500, 200]
        assert len(_attempts(client)[0]) == 1
    finally:
        for receiver in receivers.values():
            receiver.close()


def test_fault_rules_fail_only_their_own_sandboxes_deliveries(
    app: Flask, receiver: Receiver
) -> None:
    client = app.test_client()
    faulty, clean = _sandbox(client, "faulty"), _sandbox(client, "clean")
    fault = {"provider": "quickstream", "endpoint": "notify", "status": 503}
    assert client.post("/s/faulty/_mockbank/faults", json=fault).status_code == 201
    _notify(faulty, receiver.url + "/faulty")
    _notify(clean, receiver.url + "/clean")
    assert faulty.outbox.wait_idle(10)
    assert clean.outbox.wait_idle(10)
    assert [p for p, _, _ in receiver.calls] == ["/clean"]
    [attempts] = _attempts(client, "/s/faulty")
    assert attempts[0]["error"] == "injected fault: HTTP 503"


def test_a_deleted_sandbox_stops_delivering(app: Flask) -> None:
    client = app.test_client()
    root: State = app.extensions["mockbank"]
    doomed = _sandbox(client, "doomed")
    failing = Receiver([500, 500, 500])
    try:
        _notify(doomed, failing.url)
        assert doomed.outbox.wait_idle(10)
        assert client.delete("/_mockbank/sandboxes/doomed").status_code == 200
        doomed.clock.advance(3600)  # its retries would be due now, had it lived
        assert root.delivery.wait_rounds(3)
        assert len(failing.calls) == 1
        assert root.store.records(WORK_NAMESPACE) == []
    finally:
        failing.close()


def test_an_expired_sandbox_stops_delivering(app: Flask) -> None:
    client = app.test_client()
    root: State = app.extensions["mockbank"]
    short = _sandbox(client, "short", idle_ttl_s=600)
    failing = Receiver([500, 500, 500])
    try:
        _notify(short, failing.url)
        assert short.outbox.wait_idle(10)
        client.post("/_mockbank/clock", json={"advance": 601})  # the registry's clock
        short.clock.advance(3600)
        assert root.delivery.wait_rounds(3)
        # The worker found the sandbox expired and removed it, records and all.
        assert root.store.records(REGISTRY) == []
        assert len(failing.calls) == 1
    finally:
        failing.close()


def test_closing_the_app_leaves_no_outbox_thread(tmp_path: Path) -> None:
    before = _outbox_threads()
    app = create_app({"state_path": tmp_path / "state"})
    client = app.test_client()
    failing = Receiver([500] * 10)
    try:
        for n in range(5):
            _notify(_sandbox(client, f"s{n}"), failing.url)  # each waits for a retry
        assert len(_outbox_threads()) == len(before) + 1
    finally:
        app.extensions["mockbank"].close()
        failing.close()
    assert _outbox_threads() == before


class _CountingStore(SQLiteStore):
    """A SQLite store that counts the statements it is asked for."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.calls = 0

    def _execute(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        self.calls += 1
        return super()._execute(sql, args)

    def _fetch(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        self.calls += 1
        return super()._fetch(sql, args)


def test_an_idle_shared_store_is_polled_once_per_round_whatever_the_sandboxes(
    tmp_path: Path, receiver: Receiver
) -> None:
    from mockbank.config import Config

    store = _CountingStore(tmp_path / "mockbank.sqlite3")
    state = State(Config(), store=store)
    try:
        for n in range(20):
            _, sandbox = state.sandboxes.create({"name": f"idle-{n}"})
            _notify(sandbox, receiver.url)
            assert sandbox.outbox.wait_idle(10)
        assert state.delivery.wait_rounds(2)  # every mark seen idle and taken away
        rounds, calls = state.delivery.rounds, store.calls
        assert state.delivery.wait_rounds(8)
        polled = store.calls - calls
        assert polled <= state.delivery.rounds - rounds + 1
        assert len(receiver.calls) == 20
    finally:
        state.close()


class _Holding:
    """A receiver that accepts a connection and answers nothing until released."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hold"
        self.accepted = threading.Event()
        self.release = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        self.accepted.set()
        self.release.wait(30)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        connection.close()

    def close(self) -> None:
        self.release.set()
        self.listener.close()


def test_a_receiver_slow_to_answer_in_one_sandbox_does_not_hold_back_another(
    app: Flask, receiver: Receiver
) -> None:
    client = app.test_client()
    slow, quick = _sandbox(client, "slow"), _sandbox(client, "quick")
    holding = _Holding()
    try:
        held = _notify(slow, holding.url)
        assert holding.accepted.wait(10)  # slow's attempt is under way, its answer held back
        _notify(quick, receiver.url + "/quick")
        assert quick.outbox.wait_idle(10)
        assert [p for p, _, _ in receiver.calls] == ["/quick"]
        # Delivered while slow's attempt still waits for its answer (not after its timeout).
        assert slow.outbox.message(held.id).status == "delivering"
        holding.release.set()
        assert slow.outbox.wait_idle(10)
        assert slow.outbox.message(held.id).status == "delivered"
    finally:
        holding.close()


def test_senders_stay_few_however_many_sandboxes_deliver(app: Flask, receiver: Receiver) -> None:
    client = app.test_client()
    sandboxes = [_sandbox(client, f"busy-{n}") for n in range(SENDERS * 2)]
    for n, sandbox in enumerate(sandboxes):
        _notify(sandbox, f"{receiver.url}/busy-{n}")
    for sandbox in sandboxes:
        assert sandbox.outbox.wait_idle(10)
    senders = [t for t in threading.enumerate() if t.name.startswith(SENDER_THREAD_PREFIX)]
    assert 1 <= len(senders) <= SENDERS
    assert len(receiver.calls) == SENDERS * 2

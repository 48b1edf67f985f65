"""Two `mockbank serve` processes on one ``--state`` behave as one server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.hardening.clients import (
    FORTER_CVC_TOKEN,
    FORTER_TOKEN,
    Server,
    forter_detokenize,
    forter_tokenize,
    quickstream_handoff,
    quickstream_token,
    serve,
    syspay_redirect,
)

pytestmark = pytest.mark.slow
RACERS = 50


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    state = tmp_path / "state"
    first = serve(state)
    try:
        second = serve(state)
    except BaseException:
        first.stop()
        raise
    yield first, second
    second.stop()
    first.stop()


def _race(servers: tuple[Server, Server], attempt: Callable[[Server], int]) -> list[int]:
    """`RACERS` threads released together, half of them on each server."""
    barrier = threading.Barrier(RACERS)

    def run(index: int) -> int:
        server = servers[index % 2]
        barrier.wait()
        return attempt(server)

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(run, range(RACERS)))


def test_a_fifty_way_race_over_two_processes_has_one_winner(pair: tuple[Server, Server]) -> None:
    first, second = pair
    token = quickstream_token(first, 1)
    handoffs = _race(pair, lambda server: quickstream_handoff(server, token))
    assert handoffs.count(200) == 1, handoffs
    assert all(400 <= status < 500 for status in handoffs if status != 200), handoffs

    path = urlsplit(syspay_redirect(second)).path
    views = _race(pair, lambda server: server.get(path).status_code)
    assert views.count(200) == 1, views
    assert set(views) == {200, 410}, views

    detokenized = _race(
        pair, lambda server: forter_detokenize(server, FORTER_TOKEN, FORTER_CVC_TOKEN).status_code
    )
    assert detokenized.count(200) == 1, detokenized
    assert set(detokenized) == {200, 555}, detokenized


def test_a_clock_move_on_one_is_read_by_the_other_at_once(pair: tuple[Server, Server]) -> None:
    first, second = pair
    moved = first.post("/_mockbank/clock", json={"advance": 3600}).json()
    seen = second.get("/_mockbank/clock").json()
    assert seen["offset_s"] == pytest.approx(moved["offset_s"], abs=5)
    assert seen["offset_s"] == pytest.approx(3600, abs=5)

    frozen = second.post("/_mockbank/clock", json={"freeze": "2031-02-03T04:05:06Z"}).json()
    assert first.get("/_mockbank/clock").json() == {
        **frozen,
        "offset_s": pytest.approx(frozen["offset_s"], abs=5),
    }
    # Expiry follows the shared clock: a QuickStream token made on one expires on the other.
    token = quickstream_token(first, 2)
    first.post("/_mockbank/clock", json={"advance": 3601})
    assert quickstream_handoff(second, token) != 200

    refused = first.post("/_mockbank/clock", json={"advance": 3e11})
    assert refused.status_code == 400
    assert second.get("/_mockbank/clock").json()["now"] == "2031-02-03T05:05:07Z"
    assert second.post("/_mockbank/clock", json={"resume": True}).status_code == 200
    assert abs(first.get("/_mockbank/clock").json()["offset_s"]) < 5


def test_a_fault_with_count_one_fires_once_over_both(pair: tuple[Server, Server]) -> None:
    first, second = pair
    added = first.post(
        "/_mockbank/faults",
        json={"provider": "quickstream", "endpoint": "token-request", "status": 503, "count": 1},
    )
    assert added.status_code == 201
    listed = second.get("/_mockbank/faults").json()["faults"]
    assert [f["id"] for f in listed] == [added.json()["id"]]

    form = {"username": "merchant", "password": "wrong"}
    statuses = _race(
        pair,
        lambda server: (
            server.post("/quickstream/CommunityTokenRequestServlet", data=form).status_code
        ),
    )
    assert statuses.count(503) == 1, statuses
    assert statuses.count(401) == RACERS - 1, statuses
    assert first.get("/_mockbank/faults").json()["faults"] == []


def test_reset_on_one_leaves_the_other_serving_without_collisions(
    pair: tuple[Server, Server],
) -> None:
    first, second = pair
    before = [forter_tokenize(first), forter_tokenize(second)]
    assert first.post("/_mockbank/reset").status_code == 200
    for token in before:  # gone for both: one store
        assert forter_detokenize(second, token).status_code == 555
    # The other process still serves, with the seeded records back.
    assert forter_detokenize(second, FORTER_TOKEN).status_code == 200
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda i: forter_tokenize(pair[i % 2]), range(100)))
    assert len(set(made)) == 100
    for index in (0, 1, 98, 99):
        answer = forter_detokenize(pair[(index + 1) % 2], made[index])
        assert answer.status_code == 200
    errors = [
        e
        for server in pair
        for e in server.get("/_mockbank/requests?status=500").json()["requests"]
    ]
    assert errors == []


def test_ids_made_on_both_at_once_never_collide(pair: tuple[Server, Server]) -> None:
    with ThreadPoolExecutor(16) as pool:
        tokens = list(pool.map(lambda i: forter_tokenize(pair[i % 2]), range(200)))
        handed = list(pool.map(lambda i: quickstream_token(pair[i % 2], i), range(200)))
    assert len(set(tokens)) == 200
    assert len(set(handed)) == 200
    session = requests.Session()
    assert session.get(pair[0].url + "/_mockbank/health", timeout=10).status_code == 200

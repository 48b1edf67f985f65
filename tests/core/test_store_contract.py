"""One contract, three backends: everything here runs against memory, SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mockbank.store import MemoryStore, RecordExists, SQLiteStore, Store, add_new

T0 = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    backend: Store
    if request.param == "memory":
        backend = MemoryStore()
    elif request.param == "sqlite":
        backend = SQLiteStore(tmp_path / "store.sqlite3")
    else:
        from mockbank.store_postgresql import PostgreSQLStore

        backend = PostgreSQLStore(request.getfixturevalue("postgres_dsn"))
    yield backend
    backend.close()


def test_put_then_get_returns_a_copy(store: Store) -> None:
    store.put("p.tokens", "a", {"amount": 100, "nested": {"x": [1]}}, now=T0)
    value = store.get("p.tokens", "a", now=T0)
    assert value == {"amount": 100, "nested": {"x": [1]}}
    value["amount"] = 5
    assert store.get("p.tokens", "a", now=T0) == {"amount": 100, "nested": {"x": [1]}}


def test_missing_key_is_none(store: Store) -> None:
    assert store.get("p.tokens", "nope", now=T0) is None
    assert store.record("p.tokens", "nope") is None
    assert store.take_once("p.tokens", "nope", now=T0) is None


def test_expiry_is_decided_on_read_against_the_given_clock(store: Store) -> None:
    store.put("p.tokens", "a", {"v": 1}, now=T0, expires_at=T0 + timedelta(seconds=3600))
    assert store.get("p.tokens", "a", now=T0 + timedelta(seconds=3599)) == {"v": 1}
    assert store.get("p.tokens", "a", now=T0 + timedelta(seconds=3600)) is None
    record = store.record("p.tokens", "a")
    assert record is not None
    assert record.expired(T0 + timedelta(seconds=3601))
    assert not record.used


def test_take_once_succeeds_once_and_leaves_a_used_record(store: Store) -> None:
    store.put("p.tokens", "a", {"v": 1}, now=T0)
    assert store.take_once("p.tokens", "a", now=T0) == {"v": 1}
    assert store.take_once("p.tokens", "a", now=T0) is None
    assert store.get("p.tokens", "a", now=T0) is None
    record = store.record("p.tokens", "a")
    assert record is not None
    assert record.used
    assert record.used_at == T0


def test_take_once_refuses_an_expired_record_without_using_it(store: Store) -> None:
    store.put("p.tokens", "a", {"v": 1}, now=T0, expires_at=T0 + timedelta(seconds=10))
    assert store.take_once("p.tokens", "a", now=T0 + timedelta(seconds=11)) is None
    record = store.record("p.tokens", "a")
    assert record is not None
    assert not record.used


def test_add_inserts_only_once(store: Store) -> None:
    assert store.add("p.nonce", "n1", {}, now=T0, expires_at=T0 + timedelta(seconds=300))
    assert not store.add("p.nonce", "n1", {}, now=T0)
    assert store.add("p.nonce", "n2", {}, now=T0)


def test_update_is_read_modify_write(store: Store) -> None:
    store.put("p.budget", "t", {"left": 100}, now=T0)
    assert store.update("p.budget", "t", lambda v: {"left": v["left"] - 30}, now=T0) == {"left": 70}
    assert store.get("p.budget", "t", now=T0) == {"left": 70}


def test_update_that_raises_changes_nothing(store: Store) -> None:
    store.put("p.budget", "t", {"left": 10}, now=T0)

    def overspend(value: dict[str, int]) -> dict[str, int]:
        raise ValueError("over budget")

    with pytest.raises(ValueError, match="over budget"):
        store.update("p.budget", "t", overspend, now=T0)
    assert store.get("p.budget", "t", now=T0) == {"left": 10}


def test_update_of_used_or_missing_record_is_none(store: Store) -> None:
    store.put("p.t", "a", {"v": 1}, now=T0)
    store.take_once("p.t", "a", now=T0)
    assert store.update("p.t", "a", lambda v: v, now=T0) is None
    assert store.update("p.t", "missing", lambda v: v, now=T0) is None


def test_records_lists_a_namespace_oldest_first(store: Store) -> None:
    store.put("p.t", "b", {"n": 1}, now=T0)
    store.put("p.t", "a", {"n": 2}, now=T0 + timedelta(seconds=1))
    store.put("p.other", "c", {"n": 3}, now=T0)
    assert [r.key for r in store.records("p.t")] == ["b", "a"]


def test_reset_by_prefix_keeps_other_providers(store: Store) -> None:
    store.put("alpha.t", "a", {}, now=T0)
    store.put("alpha_x.t", "a", {}, now=T0)  # '_' must not act as a LIKE wildcard
    store.put("beta.t", "b", {}, now=T0)
    store.reset("alpha.")
    assert store.records("alpha.t") == []
    assert len(store.records("alpha_x.t")) == 1
    assert len(store.records("beta.t")) == 1
    store.reset()
    assert store.records("beta.t") == []


def test_purge_drops_long_expired_records_only(store: Store) -> None:
    store.put("p.t", "old", {}, now=T0, expires_at=T0 + timedelta(seconds=1))
    store.put("p.t", "recent", {}, now=T0, expires_at=T0 + timedelta(seconds=3000))
    store.put("p.t", "forever", {}, now=T0)
    assert store.purge_expired(T0 + timedelta(seconds=3602)) == 1
    assert [r.key for r in store.records("p.t")] == ["recent", "forever"]


def _race(action: object, threads: int = 50) -> list[object]:
    barrier = threading.Barrier(threads)
    results: list[object] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        result = action()  # type: ignore[operator]
        with lock:
            results.append(result)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def test_fifty_threads_racing_take_once_have_exactly_one_winner(store: Store) -> None:
    store.put("p.tokens", "race", {"v": 1}, now=T0)
    results = _race(lambda: store.take_once("p.tokens", "race", now=T0))
    assert len(results) == 50
    assert [r for r in results if r is not None] == [{"v": 1}]


def test_fifty_threads_racing_add_insert_once(store: Store) -> None:
    results = _race(lambda: store.add("p.nonce", "same", {}, now=T0))
    assert results.count(True) == 1
    assert results.count(False) == 49


def test_fifty_threads_racing_update_lose_no_write(store: Store) -> None:
    store.put("p.counter", "c", {"n": 0}, now=T0)
    _race(lambda: store.update("p.counter", "c", lambda v: {"n": v["n"] + 1}, now=T0))
    assert store.get("p.counter", "c", now=T0) == {"n": 50}


_OTHER_PROCESS = """
import sys
from datetime import datetime, UTC
from mockbank.store import SQLiteStore
store = SQLiteStore(sys.argv[1])
now = datetime(2030, 1, 1, tzinfo=UTC)
print(store.take_once("p.tokens", sys.argv[2], now=now))
"""


def test_sqlite_records_survive_reopening_and_used_stays_used(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    first = SQLiteStore(path)
    first.put("p.tokens", "kept", {"v": 1}, now=T0)
    first.put("p.tokens", "used", {"v": 2}, now=T0)
    assert first.take_once("p.tokens", "used", now=T0) == {"v": 2}
    first.close()

    def take_in_new_process(key: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _OTHER_PROCESS, str(path), key],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout.strip()

    assert take_in_new_process("used") == "None"
    assert take_in_new_process("kept") == "{'v': 1}"
    assert take_in_new_process("kept") == "None"


def test_postgresql_instances_share_records_and_race_to_one_winner(postgres_dsn: str) -> None:
    from mockbank.store_postgresql import PostgreSQLStore

    instances = [PostgreSQLStore(postgres_dsn, max_size=30) for _ in range(3)]
    try:
        instances[0].put("p.tokens", "shared", {"v": 1}, now=T0)
        assert instances[2].get("p.tokens", "shared", now=T0) == {"v": 1}
        counter = iter(range(50))
        lock = threading.Lock()

        def take() -> object:
            with lock:
                index = next(counter) % 3
            return instances[index].take_once("p.tokens", "shared", now=T0)

        results = _race(take)
        assert [r for r in results if r is not None] == [{"v": 1}]
    finally:
        for instance in instances:
            instance.close()


def test_postgresql_schema_is_migrated_once_by_instances_starting_together(
    postgres_dsn: str,
) -> None:
    from mockbank.store_postgresql import MIGRATIONS, PostgreSQLStore

    results = _race(lambda: PostgreSQLStore(postgres_dsn, max_size=2), threads=8)
    try:
        newest = MIGRATIONS[-1][0]
        assert {store.schema_version for store in results} == {newest}  # type: ignore[attr-defined]
        import psycopg

        with psycopg.connect(postgres_dsn) as connection:
            versions = connection.execute("SELECT version FROM mockbank_schema").fetchall()
        assert sorted(v for (v,) in versions) == [v for v, _ in MIGRATIONS]
    finally:
        for store in results:
            store.close()  # type: ignore[attr-defined]


def test_next_sequence_counts_from_one_per_name(store: Store) -> None:
    assert store.next_sequence("p.ids") == 1
    assert store.next_sequence("p.ids") == 2
    assert store.next_sequence("p.other") == 1
    assert store.next_sequence("p.ids", count=10) == 3  # reserves 3..12
    assert store.next_sequence("p.ids") == 13


def test_next_sequence_refuses_a_count_below_one(store: Store) -> None:
    with pytest.raises(ValueError, match="at least one"):
        store.next_sequence("p.ids", count=0)
    assert store.next_sequence("p.ids") == 1


def test_reset_clears_sequences_with_the_records(store: Store) -> None:
    store.next_sequence("alpha.ids", count=5)
    store.next_sequence("beta.ids", count=5)
    store.reset("alpha.")
    assert store.next_sequence("alpha.ids") == 1
    assert store.next_sequence("beta.ids") == 6
    store.reset()
    assert store.next_sequence("beta.ids") == 1


def test_fifty_threads_racing_next_sequence_get_distinct_numbers(store: Store) -> None:
    results = _race(lambda: store.next_sequence("p.ids"))
    assert sorted(results) == list(range(1, 51))  # type: ignore[type-var]


def test_add_new_never_replaces_a_record(store: Store) -> None:
    add_new(store, "p.tokens", "a", {"v": 1}, now=T0)
    with pytest.raises(RecordExists, match=r"p\.tokens/a"):
        add_new(store, "p.tokens", "a", {"v": 2}, now=T0)
    assert store.get("p.tokens", "a", now=T0) == {"v": 1}


def test_only_the_memory_store_is_not_persistent(store: Store) -> None:
    assert store.persistent is not isinstance(store, MemoryStore)


_NEXT_IN_OTHER_PROCESS = """
import sys
from mockbank.store import SQLiteStore
store = SQLiteStore(sys.argv[1])
print(",".join(str(store.next_sequence("p.ids")) for _ in range(100)))
"""


def test_sqlite_sequences_continue_across_reopening_and_processes(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    first = SQLiteStore(path)
    seen = [first.next_sequence("p.ids") for _ in range(5)]
    first.close()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _NEXT_IN_OTHER_PROCESS, str(path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for worker in workers:
        out, _ = worker.communicate(timeout=60)
        seen += [int(n) for n in out.strip().split(",")]
    again = SQLiteStore(path)
    seen.append(again.next_sequence("p.ids"))
    again.close()
    assert sorted(seen) == list(range(1, 307))

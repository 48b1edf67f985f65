"""Every stored record kind keeps its stored shape, so what a store already holds reads back.

The golden file `data/stored_records.json` holds `to_value()` of each sample in
`record_samples` as the code wrote it when the file was made; each kind must write exactly that
and read it back to an equal record. Stored values an older version wrote (keys missing, nulls)
must read back as they did. The kinds are found by walking the records modules, so a new kind
without a sample fails here.

To add a kind: add its samples to `record_samples.py`, then run
`python -m tests.core.test_stored_records` to add its values to the golden file (existing ones
never change: a changed stored shape is a migration, not an edit).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mockbank.store import SQLiteStore, Store
from tests.core.record_samples import LEGACY, samples

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = ROOT / "mockbank" / "providers"
GOLDEN = Path(__file__).resolve().parent / "data" / "stored_records.json"
T0 = datetime(2030, 1, 1, tzinfo=UTC)


def _records_modules() -> list[str]:
    """Every records module: `records.py`, a `records/` package, QuickStream REST's records."""
    paths = [
        path
        for path in sorted(PROVIDERS.rglob("*.py"))
        if path.stem == "records" or "records" in path.relative_to(PROVIDERS).parts[:-1]
    ]
    names = [".".join(path.relative_to(ROOT).with_suffix("").parts) for path in paths]
    return [name.removesuffix(".__init__") for name in names]


def record_kinds() -> list[str]:
    """Dotted names of the stored kinds: dataclasses with to_value, bases of others excluded."""
    kinds = [
        value
        for module in map(importlib.import_module, _records_modules())
        for value in vars(module).values()
        if inspect.isclass(value)
        and value.__module__ == module.__name__
        and dataclasses.is_dataclass(value)
        and callable(getattr(value, "to_value", None))
    ]
    bases = {base for kind in kinds for base in kind.__mro__[1:]}
    return sorted(f"{k.__module__}.{k.__qualname__}" for k in kinds if k not in bases)


def _kind(name: str) -> Any:
    module, _, qualname = name.rpartition(".")
    return getattr(importlib.import_module(module), qualname)


def _json(value: Any) -> str:
    """Canonical JSON: what a store writes, key order aside (types must match exactly)."""
    return json.dumps(value, sort_keys=True)


def current_golden() -> dict[str, Any]:
    """The golden values as the code now writes them (used to make the file)."""
    found = samples()
    return {
        "values": {name: [s.to_value() for s in found[name]] for name in sorted(found)},
        "reads": {
            name: [[v, _kind(name).from_value(v).to_value()] for v in LEGACY[name]]
            for name in sorted(LEGACY)
        },
    }


GOLDEN_VALUES: dict[str, Any] = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
SAMPLES = samples()


def test_every_record_kind_has_samples_and_golden_values() -> None:
    kinds = record_kinds()
    assert len(kinds) > 50
    assert sorted(SAMPLES) == kinds, "a record kind lacks samples in record_samples.py"
    assert sorted(GOLDEN_VALUES["values"]) == kinds, "a kind lacks golden values"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_record_writes_its_golden_stored_value(name: str) -> None:
    golden = GOLDEN_VALUES["values"][name]
    written = [sample.to_value() for sample in SAMPLES[name]]
    assert [_json(v) for v in written] == [_json(v) for v in golden]
    assert written == golden


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_golden_stored_value_reads_back_to_the_record(name: str) -> None:
    kind = _kind(name)
    golden = GOLDEN_VALUES["values"][name]
    assert [kind.from_value(value) for value in golden] == SAMPLES[name]


@pytest.mark.parametrize("name", sorted(LEGACY))
def test_a_value_an_older_version_stored_still_reads(name: str) -> None:
    kind = _kind(name)
    for stored, expected in GOLDEN_VALUES["reads"][name]:
        assert _json(kind.from_value(stored).to_value()) == _json(expected), stored


@pytest.fixture(params=["sqlite", "postgresql"])
def reopened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """A store backend, opened anew on each call over the same data (what a restart sees)."""
    opened: list[Store] = []

    def open_store() -> Store:
        if request.param == "sqlite":
            store: Store = SQLiteStore(tmp_path / "store.sqlite3")
        else:
            from mockbank.store_postgresql import PostgreSQLStore

            store = PostgreSQLStore(request.getfixturevalue("postgres_dsn"))
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


def test_golden_values_an_older_version_stored_read_back_after_a_restart(
    reopened: Callable[[], Store],
) -> None:
    """The golden values as a store holds them (what the old code wrote) read back through a
    fresh store to records equal to the samples, and write the same values again."""
    store = reopened()
    for name, values in GOLDEN_VALUES["values"].items():
        for at, value in enumerate(values):
            store.put(name, str(at), value, now=T0)
    store.close()
    again = reopened()
    for name, samples_of_kind in SAMPLES.items():
        kind = _kind(name)
        read = [
            kind.from_value(again.get(name, str(at), now=T0)) for at in range(len(samples_of_kind))
        ]
        assert read == samples_of_kind, name
        assert [_json(r.to_value()) for r in read] == [
            _json(v) for v in GOLDEN_VALUES["values"][name]
        ]


def test_the_samples_set_and_unset_every_optional_field() -> None:
    """Each field with a default is at its default in one sample and not in another."""
    missing = []
    for name, found in SAMPLES.items():
        for field in dataclasses.fields(_kind(name)):
            default = (
                field.default_factory()
                if field.default_factory is not dataclasses.MISSING
                else field.default
            )
            if default is dataclasses.MISSING:
                continue
            values = [getattr(sample, field.name) for sample in found]
            if default not in values or all(v == default for v in values):
                missing.append(f"{name}.{field.name}")
    assert missing == []


def _write() -> None:
    """Add golden values for kinds not yet in the file (never rewrites an existing one)."""
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {"values": {}, "reads": {}}
    now = current_golden()
    for section in ("values", "reads"):
        for name, values in now[section].items():
            golden[section].setdefault(name, values)
    GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    _write()

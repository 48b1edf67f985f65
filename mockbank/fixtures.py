"""Loading and validating ``fixtures/<provider>.json``, with errors naming file and field."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

_PACKAGED = Path(__file__).parent / "_fixtures"
_CHECKOUT = Path(__file__).parent.parent / "fixtures"


class FixtureError(ValueError):
    """A fixture file is missing or wrong; the message names the file and the field."""


class ProviderFixtures(MutableMapping[str, Any]):
    """`State.fixtures`: each provider's validated fixtures. Reading a provider's makes it
    ready first (`State.provider`: its fixtures are read on its first use)."""

    def __init__(self, make_ready: Callable[[str], object]) -> None:
        self._make_ready = make_ready
        self._values: dict[str, Any] = {}

    def put(self, name: str, value: Any) -> None:
        """Keep a provider's fixtures (the state, as it reads them)."""
        self._values[name] = value

    def __getitem__(self, name: str) -> Any:
        try:
            self._make_ready(name)
        except LookupError as unknown:
            raise KeyError(name) from unknown
        return self._values[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self._make_ready(name)  # a test's replacement must not be overwritten by a later read
        self._values[name] = value

    def __delitem__(self, name: str) -> None:
        del self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._values))

    def __len__(self) -> int:
        return len(self._values)


def default_dir() -> Path:
    """Fixtures shipped in the wheel, or the checkout's top-level ``fixtures/``."""
    return _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT


def load_json(directory: Path, provider: str) -> tuple[Path, Any]:
    path = directory / f"{provider}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FixtureError(f"{path}: missing (every provider needs its fixture file)") from None
    try:
        return path, json.loads(text)
    except ValueError as error:
        raise FixtureError(f"{path}: not valid JSON: {error}") from None


class FixtureReader:
    """Typed access to one fixture file; every failure names the file and the field path."""

    def __init__(self, path: Path | str, data: Any) -> None:
        self.path = str(path)
        self.data = data
        # What the loader read, as paths with list indices written ``*`` (for unknown keys),
        # and the path of each object or list handed out (so ``node=`` reads resolve).
        self.read: set[str] = set()
        self._where: dict[int, str] = {id(data): ""}

    def fail(self, where: str, problem: str) -> FixtureError:
        return FixtureError(f"{self.path}: {where}: {problem}")

    def get(
        self,
        where: str,
        kind: type | tuple[type, ...],
        *,
        node: Any = None,
        default: Any = ...,
    ) -> Any:
        """Read a dotted path (``facilities.0.username``) from `node` or the file's top."""
        current = self.data if node is None else node
        base = self._where.get(id(current))
        for part in where.split("."):
            if base is not None:
                base = f"{base}.{part}" if base else part
                self.read.add(_pattern(base))
            if isinstance(current, list) and part.isdigit() and int(part) < len(current):
                current = current[int(part)]
            elif isinstance(current, dict) and part in current:
                current = current[part]
            else:
                if default is not ...:
                    return default
                raise self.fail(where, "is required")
        if isinstance(current, bool) and kind in (int, float):
            raise self.fail(where, f"expected {kind.__name__}, got a boolean")
        if not isinstance(current, kind):
            names = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise self.fail(where, f"expected {names}, got {type(current).__name__}")
        if base is not None and isinstance(current, dict | list):
            self._where[id(current)] = base
        return current

    def items(self, where: str) -> list[tuple[str, Any]]:
        """The entries of a list at `where`, each with its dotted path for errors."""
        values = self.get(where, list)
        base = self._where.get(id(values), where)
        for index, value in enumerate(values):
            if isinstance(value, dict | list):
                self._where[id(value)] = f"{base}.{index}"
        return [(f"{where}.{index}", value) for index, value in enumerate(values)]

    def check_unknown_keys(self, known: Iterable[str] = ()) -> None:
        """Refuse a key the loader never read (a typo such as ``"passbak"``).

        An object counts as a record, whose keys must all be known, once the loader read any
        key inside it; one read whole (a map such as surcharges by scheme) takes any key.
        `known` adds patterns read in other ways (e.g. the keys of the shipped file).
        """
        allowed = self.read | set(known)
        for where, key in _keys(self.data, ""):
            parent = _pattern(where)
            path = f"{where}.{key}" if where else key
            if _pattern(path) in allowed:
                continue
            prefix = f"{parent}." if parent else ""
            if parent == "" or any(p.startswith(prefix) for p in self.read):
                raise FixtureError(
                    f'{self.path}: unknown key "{key}" at {_json_path(path)}; '
                    f"remove it or fix its spelling"
                )


def _pattern(path: str) -> str:
    return ".".join("*" if part.isdigit() else part for part in path.split("."))


def _json_path(path: str) -> str:
    """``facilities.0.passbak`` as ``facilities[0].passbak``."""
    out = ""
    for part in path.split("."):
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def _keys(node: Any, where: str) -> list[tuple[str, str]]:
    """Every (path of an object, key) pair in a JSON value, parents first."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((where, str(key)))
            found.extend(_keys(value, f"{where}.{key}" if where else str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_keys(value, f"{where}.{index}" if where else str(index)))
    return found


def patterns(data: Any) -> set[str]:
    """The key paths (list indices as ``*``) of a JSON value: what a shipped file may hold."""
    return {_pattern(f"{where}.{key}" if where else key) for where, key in _keys(data, "")}


_SHIPPED: dict[str, frozenset[str]] = {}


def shipped_keys(provider: str) -> frozenset[str]:
    """The key paths of the shipped fixture file: always accepted in a replacement file."""
    if provider not in _SHIPPED:
        try:
            _, data = load_json(default_dir(), provider)
        except FixtureError:
            data = {}
        _SHIPPED[provider] = frozenset(patterns(data))
    return _SHIPPED[provider]

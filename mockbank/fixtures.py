"""Loading and validating ``fixtures/<provider>.json``, with errors naming file and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_PACKAGED = Path(__file__).parent / "_fixtures"
_CHECKOUT = Path(__file__).parent.parent / "fixtures"


class FixtureError(ValueError):
    """A fixture file is missing or wrong; the message names the file and the field."""


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
        for part in where.split("."):
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
        return current

    def items(self, where: str) -> list[tuple[str, Any]]:
        """The entries of a list at `where`, each with its dotted path for errors."""
        values = self.get(where, list)
        return [(f"{where}.{index}", value) for index, value in enumerate(values)]

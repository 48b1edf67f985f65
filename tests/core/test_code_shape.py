"""The shape of code in mockbank/: functions at most 60 lines, modules at most 600, and ruff's
complexity check (C901) at 15 with no file let off."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "mockbank"
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 600
MAX_COMPLEXITY = 15


def long_functions(source: str, where: str) -> list[str]:
    """`where:line name (n lines)` for each function or method over the limit, nested ones too."""
    found = []
    for node in ast.walk(ast.parse(source, where)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                found.append(f"{where}:{node.lineno} {node.name} ({lines} lines)")
    return found


def _sources() -> list[tuple[Path, str]]:
    return [(path, path.read_text()) for path in sorted(PACKAGE.rglob("*.py"))]


def test_no_function_in_mockbank_is_over_60_lines() -> None:
    found = [
        hit
        for path, source in _sources()
        for hit in long_functions(source, str(path.relative_to(ROOT)))
    ]
    assert found == [], "split these functions: " + "; ".join(found)


def test_no_module_in_mockbank_is_over_600_lines() -> None:
    found = [
        f"{path.relative_to(ROOT)} ({len(source.splitlines())} lines)"
        for path, source in _sources()
        if len(source.splitlines()) > MAX_MODULE_LINES
    ]
    assert found == [], "split these modules into packages: " + "; ".join(found)


def _block(indent: int, lines: int) -> str:
    return "".join(f"{' ' * indent}x{i} = {i}\n" for i in range(lines))


def test_the_length_check_counts_decorators_out_and_nested_functions_in() -> None:
    fits = "@decorator\ndef fits():\n" + _block(4, MAX_FUNCTION_LINES - 1)
    assert long_functions(fits, "m.py") == []
    nested = (
        "class C:\n    def method(self):\n        def inner():\n"
        + _block(12, MAX_FUNCTION_LINES)
        + _block(8, 1)
    )
    assert long_functions(nested, "m.py") == [
        f"m.py:2 method ({MAX_FUNCTION_LINES + 3} lines)",
        f"m.py:3 inner ({MAX_FUNCTION_LINES + 1} lines)",
    ]


def test_ruff_checks_complexity_at_15_with_no_file_let_off() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lint = config["tool"]["ruff"]["lint"]
    assert "C901" in lint["select"] or "C90" in lint["select"]
    assert lint["mccabe"]["max-complexity"] == MAX_COMPLEXITY
    ignored = {
        pattern: codes
        for pattern, codes in lint.get("per-file-ignores", {}).items()
        if any(code.startswith("C9") for code in codes)
    }
    assert ignored == {}
    assert not any(code.startswith("C9") for code in lint.get("ignore", []))

"""The typed per-request context: one per request, a typed slot per provider, no flask.g."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from mockbank.context import RequestContext, request_context, vendor_context
from mockbank.state import State

PACKAGE = Path(__file__).resolve().parents[2] / "mockbank"


@dataclass
class _Vendor:
    count: int = 0


def test_request_context_is_created_on_first_use_and_kept_for_the_request(
    demo_app: Flask,
) -> None:
    with demo_app.test_request_context("/demo/tokens"):
        first = request_context()
        assert isinstance(first, RequestContext)
        assert first.provider is None
        assert first.correlation_id == ""
        assert first.journal_notes == {}
        assert first.journal_skip_body is False
        assert request_context() is first
    with demo_app.test_request_context("/demo/tokens"):
        assert request_context() is not first


def test_vendor_context_gives_one_instance_per_kind_per_request(demo_app: Flask) -> None:
    with demo_app.test_request_context("/"):
        slot = vendor_context(_Vendor)
        slot.count += 1
        assert vendor_context(_Vendor) is slot
        assert vendor_context(_Vendor).count == 1
    with demo_app.test_request_context("/"):
        assert vendor_context(_Vendor).count == 0


def test_the_request_path_fills_the_context_the_journal_reads(
    demo_client: FlaskClient, demo_state: State
) -> None:
    response = demo_client.post("/demo/tokens", data={"card": "x"})
    entry = demo_state.journal.entries()[-1]
    assert entry.correlation_id == response.headers["X-Request-Id"]
    assert entry.endpoint == "issue"
    assert entry.provider == "demo"


def _uses_flask_g(tree: ast.AST) -> list[int]:
    """Lines importing `g` from flask or reading `flask.g`."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "flask":
            if any(alias.name == "g" for alias in node.names):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "g"
            and isinstance(node.value, ast.Name)
            and node.value.id == "flask"
        ):
            lines.append(node.lineno)
    return lines


def test_no_module_but_context_uses_flask_g() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "context.py":
            continue
        lines = _uses_flask_g(ast.parse(path.read_text(), str(path)))
        offenders += [f"{path.relative_to(PACKAGE.parent)}:{line}" for line in lines]
    assert offenders == [], "use mockbank.context instead of flask.g: " + ", ".join(offenders)


def test_the_flask_g_check_sees_both_spellings() -> None:
    assert _uses_flask_g(ast.parse("from flask import Response, g\n")) == [1]
    assert _uses_flask_g(ast.parse("import flask\nx = flask.g.value\n")) == [2]
    assert _uses_flask_g(ast.parse("from flask import request\n")) == []

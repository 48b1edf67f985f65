"""Deeply nested JSON and failures inside mockbank: a 4xx in the provider's format, a journal
entry, a few lines of log at most; a 500, if one happens, names its request id."""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from mockbank import routing
from tests.processes import free_port, start_serve, wait_for_health

ROUTES = {
    "quickstream": "/quickstream/CommunityTokenRequestServlet",
    "syspay-v1": "/syspay/api/v1/partner/token/1000001/detokenize",
    "syspay-v2": "/syspay/api/v2/merchant/token",
    "centagate": "/centagate/v2/CentagateWS/webresources/req/requestQrCode",
    "forter": "/forter/v1/tokenization/tokenize",
    "tokenos": "/tokenos/members",
    "control-clock": "/_mockbank/clock",
    "control-faults": "/_mockbank/faults",
}
DEPTHS = [100, 101, 487, 488, 1000, 100_000]


def _deep(depth: int) -> bytes:
    # A card and a secret inside, so the journal's masking has to walk the value.
    return b'{"cvc":"123","x":' + b"[" * depth + b'"4111111111111111"' + b"]" * depth + b"}"


def _in_format(name: str, response: requests.Response) -> bool:
    if name == "quickstream":
        return response.text.startswith("error=")
    if name.startswith("syspay"):
        data = response.json()
        return bool(data.get("errors") or data.get("error"))
    if name == "centagate":
        return set(response.json()) == {"code", "message", "object"}
    if name == "forter":
        return {"error", "code"} <= set(response.json())
    if name == "tokenos":
        return bool(response.headers.get("token-error"))
    return bool(response.json()["error"]["code"])


@pytest.mark.slow
def test_deep_json_on_a_live_server_is_refused_journaled_and_logged_briefly(
    tmp_path: Path,
) -> None:
    port = free_port()
    server = start_serve("--port", str(port), "--proxy-port", "0", "--quiet")
    base = f"http://127.0.0.1:{port}"
    sent = 0
    ids: dict[str, str] = {}
    try:
        wait_for_health(base, server)
        with requests.Session() as session:
            for name, path in ROUTES.items():
                for depth in DEPTHS:
                    response = session.post(
                        base + path,
                        data=_deep(depth),
                        headers={"Content-Type": "application/json"},
                        timeout=30,
                    )
                    sent += 1
                    label = f"{name} depth {depth}: {response.status_code} {response.text[:200]}"
                    assert response.status_code < 500, label
                    if depth > 100:
                        assert _in_format(name, response), label
                        assert "nested too deeply" in response.text, label
                    ids[f"{name}-{depth}"] = response.headers["X-Request-Id"]
            journal = session.get(base + "/_mockbank/requests", timeout=10).json()["requests"]
    finally:
        server.send_signal(signal.SIGINT)
        log, _ = server.communicate(timeout=15)
    journaled = {e["correlation_id"] for e in journal}
    providers = {k: v for k, v in ids.items() if not k.startswith("control")}
    assert set(providers.values()) <= journaled
    assert "4111111111111111" not in str(journal)
    assert "Traceback" not in log
    assert len(log.encode()) < 2048 * sent, f"{len(log)} bytes of log for {sent} requests"


def test_a_bug_is_a_500_with_its_request_id_in_body_journal_and_a_short_log(
    app: Flask, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = app.extensions["mockbank"]
    state.provider("forter")  # its views are added on first use: then they can be replaced

    def recurse(depth: int = 0) -> Any:
        return recurse(depth + 1)

    monkeypatch.setitem(app.view_functions, "forter.tokenize", lambda: recurse())
    caplog.set_level(logging.ERROR, logger="mockbank")
    response = app.test_client().post("/forter/v1/tokenization/tokenize", json={})
    assert response.status_code == 500
    request_id = response.headers["X-Request-Id"]
    assert request_id in response.get_data(as_text=True)
    [entry] = state.journal.entries()
    assert entry.correlation_id == request_id
    assert entry.status == 500
    assert entry.notes["error"] == "RecursionError"
    assert request_id in caplog.text
    assert len(caplog.text) < 8000
    errors = state.take_server_errors()
    assert [type(e).__name__ for e in errors] == ["RecursionError"]


@pytest.mark.parametrize("path", list(ROUTES.values())[:6])
def test_a_500_in_each_provider_format_names_the_request_id(
    app: Flask, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    def broken(**_: Any) -> Any:
        raise RuntimeError("boom")

    app.extensions["mockbank"].ready_providers()  # every view added, then each one replaced
    for endpoint in list(app.view_functions):
        monkeypatch.setitem(app.view_functions, endpoint, broken)
    response = app.test_client().post(path, json={})
    assert response.status_code >= 500
    assert response.headers["X-Request-Id"] in response.get_data(as_text=True)
    app.extensions["mockbank"].take_server_errors()


def test_a_journal_failure_loses_the_entry_not_the_answer(
    app: Flask, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> str:
        raise RecursionError("maximum recursion depth exceeded")

    # The request path takes the request's parts (masked later, when the journal is read).
    monkeypatch.setattr(routing.Capture, "cut", broken)
    caplog.set_level(logging.ERROR, logger="mockbank")
    response = app.test_client().post("/forter/v1/tokenization/tokenize", json={"a": 1})
    assert response.status_code == 401  # Forter's own answer: no credentials were sent
    assert response.get_json()["code"] == "UNAUTHORIZED"
    assert "could not journal" in caplog.text
    assert len(caplog.text) < 1000


def test_a_masking_failure_at_read_time_hides_the_bodies_not_the_journal(
    app: Flask, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> str:
        raise RecursionError("maximum recursion depth exceeded")

    client = app.test_client()
    client.post("/forter/v1/tokenization/tokenize", json={"number": "4111111111111111"})
    monkeypatch.setattr("mockbank.masking.mask_body", broken)
    caplog.set_level(logging.ERROR, logger="mockbank")
    listed = client.get("/_mockbank/requests?provider=forter").get_json()["requests"]
    assert listed[-1]["status"] == 401
    assert listed[-1]["request_body"] == "<not recorded: masking failed>"
    assert "4111111111111111" not in json.dumps(listed)
    assert "could not mask journal entry" in caplog.text

"""Each provider is imported, given its views, read its fixtures and seeded on its first use.

The app starts with none of that done (issue 16's start-up: an integrator testing against one
provider no longer pays for the other four); what is done on first use must not be told apart
from what was done at start, by a request, the control API, a reset or another thread.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from mockbank import create_app
from mockbank.fixtures import FixtureError, default_dir
from mockbank.providers import NAMES
from mockbank.testing import LiveServer

ROOT = Path(__file__).resolve().parents[2]
# One request per provider that answers the same every time and changes nothing.
FIRST = {
    "quickstream": ("POST", "/quickstream/CommunityTokenRequestServlet", {"data": {"a": "b"}}),
    "syspay": ("POST", "/syspay/api/v2/merchant/token", {"json": {}}),
    "centagate": ("POST", "/centagate/v2/CentagateWS/webresources/req/requestQrCode", {"json": {}}),
    "forter": ("POST", "/forter/v1/tokenization/tokenize", {"json": {}}),
    "tokenos": ("GET", "/tokenos/banks", {}),
}
# What a provider's first use imports (its views, models, records, admin); its package's
# __init__, settings-free CLI and the proxy listener's tenant may load at start.
HEAVY = ("routes", "models", "records", "admin", "auth", "rest")

IMPORTS = f"""
import json, sys
HEAVY = {HEAVY!r}
from mockbank import create_app
from mockbank.cli import build_parser

def used():
    return sorted({{m.split(".")[2] for m in sys.modules
                   if m.startswith("mockbank.providers.") and m.count(".") >= 3
                   and m.split(".")[3] in HEAVY}})

build_parser()
app = create_app()
client = app.test_client()
health = client.get("/_mockbank/health").status_code
at_start = used()
crypto = "cryptography" in sys.modules
client.post("/syspay/api/v2/merchant/token", json={{}})
print(json.dumps([health, at_start, crypto, used()]))
"""


def test_start_imports_no_provider_and_a_request_imports_only_its_own() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    health, at_start, crypto, after = json.loads(done.stdout)
    assert health == 200
    assert at_start == [], "start imported the views or models of " + ", ".join(at_start)
    assert crypto is False, "start imported cryptography (Token.io's keys, the proxy's CA)"
    assert after == ["syspay"]


def _answers(base: str, name: str, session: requests.Session) -> int:
    method, path, kwargs = FIRST[name]
    return session.request(method, base + path, timeout=30, **kwargs).status_code


def _reference() -> dict[str, int]:
    """Each provider's answer from an app that made every provider ready first."""
    app = create_app()
    app.extensions["mockbank"].ready_providers()
    try:
        with LiveServer(app) as server, requests.Session() as session:
            return {name: _answers(server.url, name, session) for name in NAMES}
    finally:
        app.extensions["mockbank"].close()


def test_first_uses_racing_each_other_and_other_traffic_answer_as_if_made_at_start() -> None:
    expected = _reference()
    assert 404 not in expected.values()
    app = create_app()
    state = app.extensions["mockbank"]
    seen: list[tuple[str, int]] = []
    stop = threading.Event()
    start = threading.Barrier(len(NAMES) * 2 - 2 + 1)

    def steady(base: str) -> None:  # a provider already in use, asked all along
        with requests.Session() as session:
            while not stop.is_set():
                seen.append(("quickstream", _answers(base, "quickstream", session)))

    def first(base: str, name: str) -> None:
        with requests.Session() as session:
            start.wait()
            seen.append((name, _answers(base, name, session)))

    with LiveServer(app) as server:
        seen.append(("quickstream", _answers(server.url, "quickstream", requests.Session())))
        threads = [threading.Thread(target=steady, args=(server.url,))]
        threads += [
            threading.Thread(target=first, args=(server.url, name))
            for name in NAMES[1:]
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        start.wait()
        for thread in threads[1:]:
            thread.join(30)
        stop.set()
        threads[0].join(30)
    state.close()
    wrong = Counter((name, status) for name, status in seen if status != expected[name])
    assert not wrong, f"answers that differ from a provider made ready at start: {wrong}"
    assert {name for name, _ in seen} == set(NAMES)
    rules = Counter((rule.rule, rule.endpoint) for rule in app.url_map.iter_rules())
    assert [rule for rule, count in rules.items() if count > 1] == []


def test_the_control_api_sees_a_provider_seeded_before_any_request_to_it() -> None:
    app = create_app()
    client = app.test_client()
    tokens = client.get("/_mockbank/state/forter").get_json()["tokens"]
    assert tokens, "the fixture tokens are seeded when the state view asks for them"
    faults = client.get("/_mockbank/faults").get_json()["endpoints"]
    assert "tokenize" in faults["forter"]
    app.extensions["mockbank"].close()


def test_a_whole_reset_seeds_every_provider_for_other_processes_sharing_the_store() -> None:
    app = create_app()
    state = app.extensions["mockbank"]
    assert not any(state.is_ready(name) for name in NAMES)
    assert app.test_client().post("/_mockbank/reset").status_code == 200
    assert all(state.is_ready(name) for name in NAMES)
    assert state.store.records("syspay.token"), "SysPay's seeded token is back after the reset"
    state.close()


def test_a_fixtures_directory_is_checked_at_start_not_on_first_use(tmp_path: Path) -> None:
    for shipped in default_dir().glob("*.json"):
        (tmp_path / shipped.name).write_text(shipped.read_text())
    broken: dict[str, Any] = json.loads((tmp_path / "syspay.json").read_text())
    broken["partners"] = "none"
    (tmp_path / "syspay.json").write_text(json.dumps(broken))
    with pytest.raises(FixtureError, match=r"syspay\.json"):
        create_app({"fixtures_dir": str(tmp_path)})

"""The control API refuses state-changing calls another site's page could make; scripts,
curl and the CLI keep working."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from mockbank.state import State

FAULT = {"provider": "syspay", "endpoint": "detokenize", "status": 503, "count": 1}


@pytest.fixture
def with_fault(client: FlaskClient, state: State) -> State:
    """A fault rule and a moved clock that a successful reset would remove."""
    assert client.post("/_mockbank/faults", json=FAULT).status_code == 201
    assert client.post("/_mockbank/clock", json={"advance": 3600}).status_code == 200
    return state


def _unchanged(state: State) -> bool:
    return len(state.faults.list()) == 1 and state.clock.snapshot()["offset_s"] >= 3600


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://localhost:1"},  # another local app is another origin
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
    ],
    ids=["other-origin", "null-origin", "other-port", "cross-site", "same-site", "both"],
)
@pytest.mark.parametrize("path", ["/_mockbank/reset", "/_mockbank/faults", "/_mockbank/requests"])
def test_cross_site_calls_are_refused_and_change_nothing(
    client: FlaskClient, with_fault: State, headers: dict[str, str], path: str
) -> None:
    method = "DELETE" if path == "/_mockbank/requests" else "POST"
    response = client.open(path, method=method, headers=headers)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "cross_site"
    assert _unchanged(with_fault)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "provider=syspay"),
        ("application/x-www-form-urlencoded", ""),
        ("multipart/form-data; boundary=x", "--x--\r\n"),
        ("text/plain", '{"advance": 99999}'),
        ("text/plain;charset=UTF-8", '{"resume": true}'),
    ],
    ids=["form", "empty-form", "multipart", "text-json", "text-charset"],
)
def test_bodies_a_form_can_send_are_refused(
    client: FlaskClient, with_fault: State, content_type: str, body: str
) -> None:
    for path in ("/_mockbank/reset", "/_mockbank/clock"):
        response = client.post(path, data=body, content_type=content_type)
        assert response.status_code == 415, path
        assert response.get_json()["error"]["code"] == "unsupported_media_type"
    assert _unchanged(with_fault)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}],
    ids=["tool", "same-origin-page", "typed-url"],
)
def test_calls_from_tools_and_same_origin_pages_work(
    client: FlaskClient, with_fault: State, headers: dict[str, str]
) -> None:
    assert client.post("/_mockbank/reset", headers=headers).status_code == 200
    assert with_fault.faults.list() == []


def test_same_origin_page_may_post_json(client: FlaskClient, with_fault: State) -> None:
    response = client.post(
        "/_mockbank/clock", json={"resume": True}, headers={"Origin": "http://localhost"}
    )
    assert response.status_code == 200
    assert response.get_json()["offset_s"] == 0


def test_gets_are_not_refused(client: FlaskClient) -> None:
    headers = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    assert client.get("/_mockbank/health", headers=headers).status_code == 200


def test_readme_curl_lines_and_requests_still_work(mockbank: Any) -> None:
    base = mockbank.server.url
    state = mockbank.state
    state.add_fault(FAULT)
    assert requests.post(f"{base}/_mockbank/clock", json={"advance": 60}, timeout=10).ok
    assert requests.post(f"{base}/_mockbank/reset?provider=syspay", timeout=10).ok
    assert state.faults.list() == []
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    port = mockbank.server.port
    for args in (
        ["-XPOST", f"localhost:{port}/_mockbank/reset?provider=syspay"],
        [
            "-XPOST",
            f"localhost:{port}/_mockbank/clock",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"advance": 3600}',
        ],
        ["-XDELETE", f"localhost:{port}/_mockbank/requests"],
    ):
        done = subprocess.run(
            [curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.stdout == "200", args
    # curl's -d without a JSON content type is what a form would send: refused, and said why.
    done = subprocess.run(
        [curl, "-s", "-XPOST", f"localhost:{port}/_mockbank/clock", "-d", '{"advance": 1}'],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert "application/json" in done.stdout

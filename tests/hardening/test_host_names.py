"""DNS rebinding: a request whose Host is not a name of this server is refused in the format of
the provider it was meant for; generated links come from the server's own address or
``--public-url``, never from the Host header."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask import Flask

from mockbank import create_app
from mockbank.clients.syspay import wsse_header
from mockbank.config import Config
from mockbank.hosts import ServerNames
from tests.processes import free_port, start_serve, wait_for_health

EVIL = "attacker.example:8787"
DETOKENIZE = "/syspay/api/v2/partner/token/1000001/detokenize"
GOOD_BODY = {"type": "TEXT", "viewer": "pytest", "company_reference": "4242"}


def _syspay_json(response: Any) -> None:
    assert response.get_json()["errors"][0]["message"]


def _centagate(response: Any) -> None:
    assert set(response.get_json()) == {"code", "message", "object"}


CASES: dict[str, tuple[str, str, Callable[[Any], None]]] = {
    "quickstream": (
        "POST",
        "/quickstream/CommunityTokenRequestServlet",
        lambda r: r.get_data(as_text=True).startswith("error="),
    ),
    "syspay": ("POST", DETOKENIZE, _syspay_json),
    "centagate": ("POST", "/centagate/v2/CentagateWS/webresources/req/requestQrCode", _centagate),
    "forter": ("POST", "/forter/v1/tokenization/tokenize", lambda r: r.get_json()["code"]),
    "tokenos": ("GET", "/tokenos/banks", lambda r: r.headers["token-error"]),
    "control": ("GET", "/_mockbank/health", lambda r: r.get_json()["error"]["code"]),
    "dashboard": ("GET", "/", lambda r: r.get_json()["error"]["code"]),
}


@pytest.mark.parametrize("name", CASES)
def test_a_foreign_host_is_refused_in_the_providers_format(app: Flask, name: str) -> None:
    method, path, check = CASES[name]
    state = app.extensions["mockbank"]
    before = len(state.store.records("syspay.redirect")) if name == "syspay" else 0
    response = app.test_client().open(path, method=method, headers={"Host": EVIL})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "attacker.example" in response.get_data(as_text=True)
    assert check(response) is not False
    if name == "syspay":
        assert len(state.store.records("syspay.redirect")) == before


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:8787",
        "LOCALHOST.",
        "app.localhost:1234",
        "127.0.0.1",
        "127.8.9.10:80",
        "[::1]:8787",
        "app.syspay.com",
        "ws.qvalent.com",
        "api.sandbox.token.io",
        "centagate.example",
    ],
)
def test_names_of_this_server_are_served(app: Flask, host: str) -> None:
    response = app.test_client().get("/_mockbank/health", headers={"Host": host})
    assert response.status_code == 200


def test_configured_names_are_served_and_others_not() -> None:
    app = create_app(
        {
            "state_path": None,
            "public_url": "https://mockbank.team.example/",
            "upstreams": {"psp.example:443": "echo"},
            "centagate.hosts": "auth.bank.example",
        }
    )
    client = app.test_client()
    for host in ("mockbank.team.example", "psp.example", "auth.bank.example"):
        assert client.get("/_mockbank/health", headers={"Host": host}).status_code == 200, host
    for host in ("team.example", "10.0.0.5", "mockbank.team.example.evil.example", ""):
        assert client.get("/_mockbank/health", headers={"Host": host}).status_code == 400, host
    app.extensions["mockbank"].close()


def test_bound_to_a_wildcard_any_ip_literal_is_a_name_but_no_other_name() -> None:
    names = ServerNames.build(Config(host="0.0.0.0"), ["app.syspay.com"])
    assert names.allows("192.168.1.20:8787")
    assert names.allows("[fe80::1]:8787")
    assert not names.allows("evil.example")
    bound = ServerNames.build(Config(host="192.168.1.20"), [])
    assert bound.allows("192.168.1.20:8787")
    assert not bound.allows("192.168.1.21:8787")


def test_public_url_must_be_an_http_url() -> None:
    for bad in ("ftp://x.example", "mockbank.example", "http://x.example/?a=1"):
        with pytest.raises(ValueError, match="--public-url"):
            Config.from_mapping({"public_url": bad})


def _detokenize(base: str, host: str | None = None) -> requests.Response:
    headers = {"X-Wsse": wsse_header("myPartnerLogin", "myPartnerPassphrase")}
    if host:
        headers["Host"] = host
    return requests.post(base + DETOKENIZE, json=GOOD_BODY, headers=headers, timeout=10)


def test_syspay_link_ignores_the_host_header(mockbank: Any) -> None:
    url = _detokenize(mockbank.server.url, host="localhost").json()["redirect_url"]
    assert url.startswith(mockbank.server.url + "/syspay/redirect/detokenize/")
    refused = _detokenize(mockbank.server.url, host="evil.example")
    assert refused.status_code == 400
    assert "redirect_url" not in refused.text


@pytest.mark.slow
def test_serve_with_public_url_builds_links_from_it(tmp_path: Any) -> None:
    port = free_port()
    public = "https://mockbank.team.example/"
    server = start_serve(
        "--port", str(port), "--proxy-port", "0", "--public-url", public, "--quiet"
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, server)
        for host in ("localhost", f"127.0.0.1:{port}", "mockbank.team.example"):
            url = _detokenize(base, host=host).json()["redirect_url"]
            assert url.startswith("https://mockbank.team.example/syspay/redirect/detokenize/")
        assert _detokenize(base, host="evil.example").status_code == 400
        journal = requests.get(base + "/_mockbank/requests", timeout=10).json()["requests"]
        assert any(e["status"] == 400 and e["provider"] == "syspay" for e in journal)
        assert json.dumps(journal).count("evil.example") >= 1
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=15)

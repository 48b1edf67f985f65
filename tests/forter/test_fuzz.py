"""Generated bad input for Forter: 1,000 tokenization bodies per endpoint and 1,000 proxied
requests, each answered in Forter's format with its own codes and never a 5xx crash."""

from __future__ import annotations

import base64
import io
import json
import random
import sys
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import run_wsgi_app

from mockbank.proxy.server import ProxyContext
from mockbank.state import State
from tests.forter.helpers import CVC_TOKEN, TOKEN

AUTH = {"Authorization": "Basic " + base64.b64encode(b"SITE_ID:SITE_SECRET").decode()}


def _value(rng: random.Random, depth: int = 0) -> Any:
    choices: list[Any] = [
        None,
        True,
        0,
        -1,
        13,
        2**70,
        1.5,
        "",
        " ",
        "x" * 300,
        "4111111111111111",
        "4111111111111112",
        "12",
        "0812",
        "٣",
        "\u0000",
        "{{ cvc }}",
        [],
        {},
    ]
    if depth < 2:
        choices += [
            [_value(rng, depth + 1)],
            {"key": _value(rng, depth + 1), "value": _value(rng, depth + 1)},
            {rng.choice(["a", "cvc", "a b", "x" * 70]): _value(rng, depth + 1)},
        ]
    return rng.choice(choices)


def _body(rng: random.Random) -> Any:
    fields = [
        "cardNumber",
        "expirationMonth",
        "expirationYear",
        "cardHolderName",
        "cvc",
        "alias",
        "extra",
        "token",
        "bogus",
    ]
    if rng.random() < 0.1:
        return _value(rng)
    return {name: _value(rng) for name in rng.sample(fields, rng.randint(0, len(fields)))}


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", ["tokenize", "tokenize-single-use", "upgrade"])
def test_generated_bad_bodies_get_forters_format_and_no_5xx(
    client: FlaskClient, state: State, endpoint: str
) -> None:
    rng = random.Random(endpoint)
    for _ in range(1000):
        body = _body(rng)
        if rng.random() < 0.2:
            raw = json.dumps(body).encode()[: rng.randint(0, 40)] + bytes([rng.randint(0, 255)])
            response = client.post(
                f"/forter/v1/tokenization/{endpoint}",
                data=raw,
                headers={**AUTH, "Content-Type": "application/json"},
            )
        else:
            response = client.post(f"/forter/v1/tokenization/{endpoint}", json=body, headers=AUTH)
        assert response.status_code in (200, 400, 404), (body, response.json)
        assert set(response.json) >= (
            {"token"} if response.status_code == 200 else {"error", "code"}
        )
    assert state.take_server_errors() == []


def _proxy_call(app: Flask, headers: list[tuple[str, str]], body: bytes, target: str) -> int:
    """One request to the proxy view as the proxy listener hands it over (no sockets)."""
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/forter/proxy",
        "QUERY_STRING": "",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_NAME": "api.forter-secure.com",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(len(body)),
        "mockbank.proxy": ProxyContext(
            target=target, raw_headers=headers, connect_authenticated=True, tunnel=True
        ),
    }
    for name, value in headers:
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    app_iter, status, _ = run_wsgi_app(app, environ, buffered=True)
    payload = b"".join(app_iter)
    code = int(status.split()[0])
    if code != 200:
        assert set(json.loads(payload)) >= {"error", "code"}
    return code


@pytest.mark.slow
def test_generated_bad_proxy_requests_get_proxy_codes_and_no_5xx_crash(
    app: Flask, state: State
) -> None:
    state.outbound.upstreams["api.forter-secure.com"] = "echo"
    rng = random.Random("proxy")
    names = [
        "card_number",
        "cvc",
        "expiration_mm",
        "zipCode",
        "ZIPCODE",
        "nope",
        "network_token",
        "card_holder_name",
        "a b",
        "",
        "request-body",
    ]
    tokens = [
        TOKEN,
        CVC_TOKEN,
        "ftr1" + "f" * 32,
        "x",
        "",
        "ftr15eed0000000000000000000000000008",
    ]
    statuses: set[int] = set()
    for _ in range(1000):
        headers = [("Host", "api.forter-secure.com")]
        for header in (
            "forter-token",
            "forter-cvc-token",
            "forter-token-alias-key",
            "forter-token-alias-value",
            "forter-hmac-algo",
            "forter-hmac-secret",
            "forter-hmac-target-header",
            "forter-hmac-payload-template",
            "Forter-Ixopay-Signature",
            "Content-Type",
        ):
            if rng.random() < 0.3:
                value = rng.choice(
                    [
                        *tokens,
                        "sha256",
                        "md5",
                        "zooz",
                        "ABC123456",
                        "{{ request-body }}",
                        "{{ x }}",
                        "application/json",
                        " ",
                    ]
                )
                headers.append((header, value))
        parts = [
            rng.choice(['"', "{", "}", "%7B%7B", "{{ ", " }}", "x", "\\", "\u00e9"])
            for _ in range(rng.randint(0, 8))
        ]
        for _ in range(rng.randint(0, 3)):
            parts.insert(rng.randint(0, len(parts)), "{{ " + rng.choice(names) + " }}")
        body = "".join(parts).encode("utf-8")
        if rng.random() < 0.1:
            body += bytes([rng.randint(128, 255)])
        target = rng.choice(["https://api.forter-secure.com/x", "https://elsewhere.test/x"])
        statuses.add(_proxy_call(app, headers, body, target))
    assert statuses <= {200, 502, 555, 556}
    assert {200, 555, 556} <= statuses
    assert state.take_server_errors() == []

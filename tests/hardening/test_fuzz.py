"""Generated bad input on every route of the app: never a 5xx, always the provider's own format.

Hypothesis draws, for each kind of route (each provider, the control API, the dashboard and
static files), a route of ``app.url_map``, a method it accepts, path parameters, a query, odd
headers and a body: JSON of any shape, JSON nested up to 100,000 levels, random bytes, forms,
text, an oversized body. Every answer must be below 500 (TokenOS's declared "not emulated"
routes answer 501 by design), every error must be in the envelope of the provider whose path it
is, and every provider request must leave a journal entry with its request id. Seeded
(``derandomize``), so a run is the same every time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import Rule

from mockbank import create_app
from mockbank.routing import ENDPOINT_ATTR
from mockbank.state import State

EXAMPLES = 250
KINDS = ["quickstream", "syspay", "centagate", "forter", "tokenos", "_mockbank", "other"]
CONTENT_TYPES = [
    None,
    "application/json",
    "application/json; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "text/plain",
    "text/html",
    "application/octet-stream",
    "application/xml",
    "image/png",
    "application/json; charset=latin-1",
    "\u00e9/\u00e9",
    "",
]
HEADER_NAMES = [
    "Authorization",
    "X-Wsse",
    "Proxy-Authorization",
    "forter-token",
    "forter-token-alias-key",
    "forter-cvc-token",
    "forter-hmac-algo",
    "token-json-error",
    "on-behalf-of",
    "Origin",
    "Sec-Fetch-Site",
    "X-Forwarded-For",
    "Cookie",
    "Accept-Language",
    "Accept",
    "Content-Encoding",
    "Transfer-Encoding",
    "If-None-Match",
    "Range",
    "X-Request-Id",
    "X-Whatever",
]
# Header values: any Latin-1 character a server could decode, no line breaks.
HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"),
    max_size=120,
)
JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["4111111111111111", "TEXT", "IMAGE", "alice", "EUR", "10.00", "1", ""])
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["type", "amount", "cardNumber", "username", "cvc", "payload", "x"])
            | st.text(max_size=10),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)
DEPTHS = st.sampled_from([99, 100, 101, 487, 488, 1000, 5000, 100_000]) | st.integers(1, 100_000)


@st.composite
def deep_json(draw: st.DrawFn) -> bytes:
    depth = draw(DEPTHS)
    if draw(st.booleans()):
        inner = b'{"cvc":"123","card":"4111111111111111"}'
        return b"[" * depth + inner + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


BODIES = st.one_of(
    st.just(b""),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    deep_json(),
    st.binary(max_size=300),
    st.dictionaries(st.text(max_size=12), st.text(max_size=30), max_size=6).map(
        lambda d: urlencode(d).encode()
    ),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"x" * (1024 * 1024 + 1), b"\xff\xfe{", b'{"a": 1', b"null", b"[]"]),
)


def _kind(rule: Rule) -> str:
    first = rule.rule.lstrip("/").split("/", 1)[0]
    return first if first in KINDS else "other"


def _segment(text: str) -> str:
    return quote(text, safe="") or "x"


def _expected_501(app: Flask, endpoint: str) -> bool:
    """TokenOS answers its declared 'not emulated' SDK routes with 501 UNIMPLEMENTED."""
    view = app.view_functions.get(endpoint)
    return getattr(view, ENDPOINT_ATTR, None) == "unimplemented"


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def check_quickstream(path: str, response: Any) -> None:
    if response.mimetype == "text/html":
        return  # QuickWeb's pages (and the Trusted Frame) answer with an HTML error page
    if path.startswith("/quickstream/rest/"):
        data = _json(response.get_data())
        assert data["status"] == str(response.status_code)
        assert {"errors", "developerMessage", "customerMessage", "traceCode"} <= set(data)
        return
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith("error=")


def check_syspay(path: str, response: Any) -> None:
    assert response.headers.get("X-Syspay-Request-Uuid")
    if response.mimetype == "text/html":
        assert "/redirect/detokenize/" in path
        return
    data = _json(response.get_data())
    if path.startswith("/syspay/api/v1/"):
        assert set(data["error"]) >= {"code", "message"}
    else:
        assert isinstance(data["error_code"], int | str)
        assert data["errors"]
        assert all("message" in e for e in data["errors"])


def check_centagate(path: str, response: Any) -> None:
    if "/device/" in path and response.mimetype in ("text/html", "text/plain"):
        return  # the simulated device app's own pages
    data = _json(response.get_data())
    assert set(data) >= {"code", "message", "object"}


def check_forter(path: str, response: Any) -> None:
    data = _json(response.get_data())
    assert isinstance(data["error"], str)
    assert isinstance(data["code"], str)


def check_tokenos(path: str, response: Any) -> None:
    if response.mimetype == "text/html":
        return  # the consent web app's error page
    assert response.headers.get("token-error")
    assert response.headers.get("token-trace-id")


def check_control(path: str, response: Any) -> None:
    data = _json(response.get_data())
    assert set(data["error"]) >= {"code", "message"}


CHECKS: dict[str, Callable[[str, Any], None]] = {
    "quickstream": check_quickstream,
    "syspay": check_syspay,
    "centagate": check_centagate,
    "forter": check_forter,
    "tokenos": check_tokenos,
    "_mockbank": check_control,
    "other": check_control,
}


@pytest.fixture(scope="module")
def apps() -> Iterator[dict[str, Flask]]:
    """One app per kind: what the control API fuzz changes never reaches a provider's fuzz."""
    built = {kind: create_app({"state_path": None}) for kind in KINDS}
    for app in built.values():  # every provider's views added: the fuzz walks every route
        app.extensions["mockbank"].ready_providers()
    yield built
    for app in built.values():
        app.extensions["mockbank"].close()


def _rules(app: Flask, kind: str) -> list[tuple[Rule, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if _kind(rule) != kind:
            continue
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            found.append((rule, method))
    return sorted(found, key=lambda item: (item[0].rule, item[1]))


@st.composite
def requests_for(draw: st.DrawFn, rules: list[tuple[Rule, str]]) -> dict[str, Any]:
    rule, method = draw(st.sampled_from(rules))
    path = rule.rule
    for name, converter in rule._converters.items():
        text = draw(st.text(min_size=1, max_size=30))
        if converter.regex == "[^/]+":
            value = _segment(text)
        else:
            value = "/".join(_segment(part) for part in text.split("/"))
        path = path.replace(f"<{_converter_spec(rule, name)}>", value)
    names = st.sampled_from(HEADER_NAMES) | st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z")
    headers = draw(st.dictionaries(names, HEADER_TEXT, max_size=5))
    if draw(st.integers(0, 9)) == 0:
        headers["Host"] = draw(st.sampled_from(["evil.example", "localhost.evil.example", ""]))
    return {
        "path": path,
        "method": method,
        "endpoint": rule.endpoint,
        "query": draw(st.text(max_size=60)),
        "headers": headers,
        "content_type": draw(st.sampled_from(CONTENT_TYPES)),
        "body": draw(BODIES) if method not in ("GET", "HEAD") or draw(st.booleans()) else b"",
    }


def _converter_spec(rule: Rule, name: str) -> str:
    """The ``path:rest`` or ``name`` text of a variable in the rule."""
    for part in rule.rule.split("<")[1:]:
        spec = part.split(">", 1)[0]
        if spec.split(":")[-1] == name:
            return spec
    raise AssertionError(f"{name} not in {rule.rule}")


def _send(app: Flask, case: dict[str, Any]) -> Any:
    client = app.test_client()
    headers = dict(case["headers"])
    if case["content_type"] is not None:
        headers["Content-Type"] = case["content_type"]
    return client.open(
        case["path"],
        method=case["method"],
        query_string=quote(case["query"], safe="=&+%/:,;[]{}'"),
        headers=headers,
        data=case["body"],
        environ_overrides={"REMOTE_ADDR": "127.0.0.1"},
    )


def _check(app: Flask, kind: str, case: dict[str, Any], response: Any) -> None:
    state: State = app.extensions["mockbank"]
    label = f"{case['method']} {case['path']} -> {response.status_code}"
    if response.status_code == 501 and _expected_501(app, case["endpoint"]):
        pass
    else:
        assert response.status_code < 500, label + "\n" + response.get_data(as_text=True)[:500]
    assert not state.take_server_errors(), label
    assert response.headers.get("X-Content-Type-Options") == "nosniff", label
    body = response.get_data()
    assert len(body) < 256 * 1024 or response.mimetype.startswith("image/"), label
    if response.status_code >= 400 and case["method"] != "HEAD":  # HEAD answers have no body
        CHECKS[kind](case["path"], response)
    if kind in KINDS[:5] and not case["endpoint"].endswith(".static"):
        entry = state.journal.entries(limit=1)[-1]
        assert entry.correlation_id == response.headers["X-Request-Id"], label


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_generated_requests_on_every_route_never_get_a_5xx(
    kind: str, apps: dict[str, Flask], record_property: Any
) -> None:
    app = apps[kind]
    rules = _rules(app, kind)
    assert rules, f"no routes of kind {kind}"
    seen: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=requests_for(rules))
    def run(case: dict[str, Any]) -> None:
        response = _send(app, case)
        try:
            _check(app, kind, case, response)
        finally:
            response.close()
        seen.append(f"{case['method']} {case['endpoint']}")

    run()
    record_property("fuzz_cases", f"{kind}: {len(seen)} cases over {len(set(seen))} routes")
    assert len(seen) >= EXAMPLES

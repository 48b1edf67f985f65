"""The in-process adapter's WSGI environ is the one werkzeug's EnvironBuilder would make."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from werkzeug.test import EnvironBuilder

from mockbank.hosts import INPROCESS_KEY
from mockbank.testing import wsgi_environ

CASES = [
    ("GET", "https://ws.qvalent.com/services/x?a=1&b=%20c", None, {}),
    ("POST", "https://ws.qvalent.com:8443/path%2Fwith/%C3%A9scapes", b"a=1", {"X-Two": "2"}),
    ("POST", "http://api.example/json", b'{"n": 1}', {"Content-Type": "application/json"}),
    ("DELETE", "https://h.example/", None, {"Authorization": "Basic eDp5", "Cookie": "s=1"}),
]


def _builder_environ(prepared: Any, body: bytes) -> dict[str, Any]:
    parts = urlsplit(prepared.url)
    headers = {k: v for k, v in prepared.headers.items() if k.lower() != "content-length"}
    builder = EnvironBuilder(
        path=parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=prepared.method,
        headers=headers,
        data=body,
        environ_overrides={"REMOTE_ADDR": "127.0.0.1", INPROCESS_KEY: True},
    )
    try:
        return builder.get_environ()
    finally:
        builder.close()


@pytest.mark.parametrize(("method", "url", "body", "headers"), CASES)
def test_the_environ_matches_werkzeugs(
    method: str, url: str, body: bytes | None, headers: dict[str, str]
) -> None:
    prepared = requests.Request(method, url, data=body, headers=headers).prepare()
    data = body or b""
    ours = wsgi_environ(prepared, urlsplit(prepared.url), urlsplit(prepared.url).path or "/", data)
    theirs = _builder_environ(prepared, data)
    assert ours.pop("wsgi.input").read() == theirs.pop("wsgi.input").read() == data
    ours.pop("wsgi.errors")
    theirs.pop("wsgi.errors")
    assert ours == theirs

"""A REST-only TokenOS integrator for the tests: ``requests`` with the sandbox API key."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from mockbank.testing import LiveServer
from tests.tokenos.helpers import PAYER, consent, transfer_payload

TPP_ID = "m:2fH1YspCejjhxqSss5hvLGMfb2Gm:5zKtXEAq"
API_KEY = (TPP_ID, "sandbox-api-key")


def call(live: LiveServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    """``method path`` under /tokenos with the TPP's API key."""
    kwargs.setdefault("timeout", 10)
    return requests.request(method, live.url_for("tokenos", path), auth=API_KEY, **kwargs)


def store_request(live: LiveServer, payload: dict[str, Any] | None = None, **options: Any) -> str:
    """Store a token request as the TPP; its id."""
    body = {
        "requestPayload": payload or transfer_payload(),
        "requestOptions": {**PAYER, **options},
    }
    answer = call(live, "POST", "/token-requests", json=body)
    assert answer.status_code == 200, answer.text
    request_id: str = answer.json()["tokenRequest"]["id"]
    return request_id


def approved_token(live: LiveServer, payload: dict[str, Any] | None = None) -> tuple[str, str]:
    """(request id, token id) of a request the payer approved."""
    request_id = store_request(live, payload)
    answer = consent(live, request_id)
    assert answer.status_code == 302, answer.text
    return request_id, parse_qs(urlsplit(answer.headers["Location"]).query)["tokenId"][0]

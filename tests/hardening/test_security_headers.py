"""Every HTML page sends the Content-Security-Policy and frame denial; every response is
nosniff with a Referrer-Policy; no template needs inline script to work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from flask import Flask, Response
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.clients.syspay import wsse_header
from mockbank.guards import CSP
from tests.centagate.helpers import REQUEST_QR, qr_body
from tests.quickstream.helpers import token_params

PACKAGE = Path(__file__).resolve().parents[2] / "mockbank"


def _assert_page_headers(response: Response) -> None:
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("no-referrer", "same-origin")


def _payment_page(client: FlaskClient) -> Response:
    token = client.post(
        "/quickstream/CommunityTokenRequestServlet",
        data=token_params(
            principalAmount="10.00",
            paymentReference="INV-1",
            customerReferenceNumber=None,
            returnUrl="https://merchant.example/thanks",
        ),
        environ_overrides={"REMOTE_ADDR": "127.0.0.1"},
    ).get_data(as_text=True)
    assert token.startswith("token="), token
    return client.post(
        "/quickstream/OnlinePaymentServlet3",
        data={"token": token.removeprefix("token="), "communityCode": "COMMUNITY1"},
        follow_redirects=True,
    )


def test_every_kind_of_page_sends_the_policy(client: FlaskClient, app: Flask) -> None:
    state = app.extensions["mockbank"]
    console = client.get("/")  # the console sets its own, stricter policy
    assert "frame-ancestors 'none'" in console.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in console.headers["Content-Security-Policy"]
    assert console.headers["X-Content-Type-Options"] == "nosniff"
    pages = {
        "payment": _payment_page(client),
        "quickweb-error": client.get("/quickstream/OnlinePaymentServlet3?token=nope"),
        "device": client.get("/centagate/device/alice-device-1"),
        "device-unknown": client.get("/centagate/device/nobody"),
        "consent-error": client.get("/tokenos/app/request-token/unknown"),
    }
    assert client.post(REQUEST_QR, json=qr_body(state.clock.epoch())).status_code == 200
    pages["device-with-qr"] = client.get("/centagate/device/alice-device-1")
    detokenized = client.post(
        "/syspay/api/v2/partner/token/1000001/detokenize",
        json={"type": "TEXT", "viewer": "v", "company_reference": "4242"},
        headers={"X-Wsse": wsse_header("myPartnerLogin", "myPartnerPassphrase")},
    )
    card_path = detokenized.get_json()["redirect_url"].split("localhost", 1)[1]
    pages["syspay-card"] = client.get(card_path)
    pages["syspay-used"] = client.get(card_path)
    for name, response in pages.items():
        assert response.status_code < 500, name
        _assert_page_headers(response)


def test_json_text_and_images_are_nosniff_without_a_page_policy(client: FlaskClient) -> None:
    for path in ("/_mockbank/health", "/forter/v1/tokenization/tokenize", "/tokenos/banks"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        assert "Content-Security-Policy" not in response.headers, path


def test_a_page_with_its_own_policy_keeps_it() -> None:
    app = create_app({"state_path": None})

    @app.get("/framed")
    def framed() -> Response:
        page = Response("<p>framed</p>", mimetype="text/html")
        page.headers["Content-Security-Policy"] = "frame-ancestors https://merchant.example"
        return page

    @app.get("/own")
    def own() -> Response:
        page = Response("<p>own</p>", mimetype="text/html")
        page.headers["Content-Security-Policy"] = "default-src 'none'"
        return page

    client = app.test_client()
    framed_response = client.get("/framed")
    assert framed_response.headers["Content-Security-Policy"] == (
        "frame-ancestors https://merchant.example"
    )
    assert "X-Frame-Options" not in framed_response.headers
    own_response = client.get("/own")
    assert own_response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert own_response.headers["X-Frame-Options"] == "DENY"
    app.extensions["mockbank"].close()


TEMPLATES = sorted(PACKAGE.rglob("templates/**/*.html"))


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.name for p in TEMPLATES])
def test_templates_have_no_inline_script_or_handlers(path: Path) -> None:
    html = path.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE), "on*= handler"
    assert "javascript:" not in html.lower()


def test_page_scripts_are_served_as_javascript(client: FlaskClient) -> None:
    for path in (
        "/quickstream/static/payment.js",
        "/quickstream/static/passback.js",
    ):
        response = client.get(path)
        response.close()
        assert response.status_code == 200, path
        assert response.mimetype in ("text/javascript", "application/javascript"), path
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_static_files_are_not_journaled(client: FlaskClient, app: Flask) -> None:
    client.get("/quickstream/static/payment.js").close()
    assert app.extensions["mockbank"].journal.entries() == []


def test_live_server_pages_carry_the_headers(mockbank: object) -> None:
    url = mockbank.url("centagate", "/device/alice-device-1")  # type: ignore[attr-defined]
    response = requests.get(url, timeout=10)
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Frame-Options"] == "DENY"

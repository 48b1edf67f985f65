"""The dashboard at /: providers, base URLs, credentials, last requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient


def test_dashboard_lists_providers_credentials_and_requests(demo_client: FlaskClient) -> None:
    demo_client.post("/demo/tokens", data={"card": "4111111111111111"})
    # The page is a shell; its script reads the cards and the journal from the control API.
    html = demo_client.get("/_mockbank/console").get_data(as_text=True)
    html += demo_client.get("/_mockbank/requests").get_data(as_text=True)
    assert "Demo Bank" in html
    assert "http://localhost/demo" in html
    assert "demo-user" in html
    assert "api.demo-bank.example" in html
    assert "/demo/tokens" in html
    assert "4111111111111111" not in html


@pytest.mark.browser
def test_dashboard_renders_in_chromium_and_refreshes(
    mockbank: Any, page: Any, artifacts: Path
) -> None:
    page.goto(mockbank.server.url + "/")
    assert page.title() == "mockbank dashboard"
    # The cards come from the console's first fetch (which loads every provider): wait for it.
    page.locator("section.card").nth(len(mockbank.state.providers) - 1).wait_for(timeout=10_000)
    assert page.locator("section.card").count() == len(mockbank.state.providers)
    requests.get(mockbank.url("syspay", "/dashboard-probe"), timeout=5)
    page.locator("#requests td", has_text="/syspay/dashboard-probe").wait_for(timeout=10_000)
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)


def test_dashboard_shows_pending_centagate_qr_codes(mockbank: Any) -> None:
    import json

    from tests.centagate.helpers import b64, qr_body

    client = mockbank.client()
    body = qr_body(mockbank.clock.epoch(), details=b64("Pay RM 250 to Bob"))
    answer = client.post("/centagate/v2/CentagateWS/webresources/req/requestQrCode", json=body)
    challenge = json.loads(answer.get_json()["object"])["otpChallenge"]
    cards = client.get("/_mockbank/console").get_json()["providers"]
    items = next(p["items"] for p in cards if p["name"] == "centagate")
    assert items[0]["label"] == f"alice-device-1: challenge {challenge}"
    assert items[0]["image"].startswith("data:image/png;base64,")
    assert items[0]["href"] == "/centagate/device/alice-device-1"

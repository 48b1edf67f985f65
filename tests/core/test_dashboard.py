"""The dashboard at /: providers, base URLs, credentials, last requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient


def test_dashboard_lists_providers_credentials_and_requests(demo_client: FlaskClient) -> None:
    demo_client.post("/demo/tokens", data={"card": "4111111111111111"})
    html = demo_client.get("/").get_data(as_text=True)
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
    assert page.locator("section.card").count() == len(mockbank.state.providers)
    requests.get(mockbank.url("syspay", "/dashboard-probe"), timeout=5)
    page.locator("#requests td", has_text="/syspay/dashboard-probe").wait_for(timeout=10_000)
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

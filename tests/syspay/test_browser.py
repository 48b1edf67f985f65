"""A real browser opens the one-time TEXT page, then sees the 410 page on reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.syspay.helpers import live_card_url


@pytest.mark.browser
def test_chromium_shows_the_card_once(mockbank: Any, page: Any, artifacts: Path) -> None:
    url = live_card_url(mockbank.url("syspay"), mockbank.clock.epoch())
    first = page.goto(url)
    assert first.status == 200
    assert page.locator("#number").inner_text() == "4111 1111 1111 1111"
    assert page.locator("#cardholder").inner_text() == "John Doe"
    assert page.locator("#expiry").inner_text() == "12/2030"
    page.screenshot(path=str(artifacts / "syspay_text_view.png"))
    again = page.reload()
    assert again.status == 410
    assert "already used" in page.locator(".reason").inner_text()
    content = page.content()
    assert "4111 1111 1111 1111" not in content
    assert "4111111111111111" not in content

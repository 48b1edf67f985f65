"""The card page and its 410/404 pages share one style and write times for people."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.syspay.helpers import live_card_url

READABLE = re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d:\d\d UTC")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def _card_url(mockbank: Any) -> str:
    return live_card_url(mockbank.url("syspay"), mockbank.clock.epoch())


def _style(html: str) -> str:
    found = re.search(r"<style>(.*?)</style>", html, re.S)
    assert found is not None
    return found.group(1)


def test_card_used_and_expired_pages_share_one_style_and_readable_times(mockbank: Any) -> None:
    url = _card_url(mockbank)
    card = requests.get(url, timeout=10)
    used = requests.get(url, timeout=10)
    assert (card.status_code, used.status_code) == (200, 410)
    assert _style(card.text) == _style(used.text)
    assert "font: 15px/1.5 system-ui" in _style(card.text)
    assert READABLE.search(card.text)
    assert "already used at" in used.text
    assert READABLE.search(used.text)
    assert not ISO.search(used.text)
    mockbank.clock.freeze()
    late = _card_url(mockbank)
    mockbank.clock.advance(61)
    expired = requests.get(late, timeout=10)
    assert expired.status_code == 410
    assert _style(expired.text) == _style(card.text)
    assert READABLE.search(expired.text)
    assert not ISO.search(expired.text)
    unknown = requests.get(mockbank.url("syspay", "/redirect/detokenize/nope"), timeout=10)
    assert unknown.status_code == 404
    assert _style(unknown.text) == _style(card.text)
    mockbank.clock.resume()


@pytest.mark.browser
def test_card_and_gone_pages_in_chromium(mockbank: Any, page: Any, artifacts: Path) -> None:
    url = _card_url(mockbank)
    page.goto(url)
    family = page.locator("body").evaluate("b => getComputedStyle(b).fontFamily")
    assert "serif" not in family.replace("sans-serif", "")
    page.screenshot(path=str(artifacts / "syspay-card-page.png"), full_page=True)
    page.reload()
    assert page.locator("body").evaluate("b => getComputedStyle(b).fontFamily") == family
    assert READABLE.search(page.locator(".reason").inner_text())
    page.screenshot(path=str(artifacts / "syspay-card-410.png"), full_page=True)

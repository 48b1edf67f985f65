"""SysPay for the operator: typed fixtures, and the dashboard card (live tokens, one-time URLs).

The card shows only the first characters of a URL id: a pending URL is a bearer secret.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from mockbank.providers.syspay import admin
from mockbank.providers.syspay.models import SysPayFixtures
from mockbank.state import State
from tests.syspay.helpers import (
    DETOKENIZE,
    GOOD_BODY,
    SEED_PAN,
    SEED_TOKEN,
    card_body,
    live_card_url,
    merchant_header,
    partner_header,
)


def _card(client: FlaskClient) -> dict[str, Any]:
    overview = client.get("/_mockbank/console").get_json()
    card: dict[str, Any] = next(p for p in overview["providers"] if p["name"] == "syspay")
    return card


def _detokenize(client: FlaskClient, state: State) -> str:
    answer = client.post(
        DETOKENIZE.format(SEED_TOKEN), headers=partner_header(state), json=GOOD_BODY
    )
    assert answer.status_code == 200, answer.get_json()
    url: str = answer.get_json()["redirect_url"]
    return url


def test_fixtures_load_into_a_frozen_typed_record(state: State) -> None:
    fixtures = admin.fixtures_of(state)
    assert isinstance(fixtures, SysPayFixtures)
    assert [t.id for t in fixtures.tokens] == [SEED_TOKEN]
    assert fixtures.merchants["myMerchantLogin"].company_reference("myPartnerLogin") == "4242"
    with pytest.raises(dataclasses.FrozenInstanceError):
        fixtures.tokens = ()  # type: ignore[misc]


def test_the_card_lists_the_seeded_token_masked(client: FlaskClient) -> None:
    items = _card(client)["items"]
    assert items == [
        {
            "label": f"token {SEED_TOKEN}",
            "detail": "VISA 411111******1111 12/2030 · merchant myMerchantLogin · "
            "detokenizers myPartnerLogin",
        }
    ]


def test_the_card_follows_a_url_from_pending_to_viewed_and_expired(
    client: FlaskClient, state: State
) -> None:
    viewed = _detokenize(client, state)
    unviewed = _detokenize(client, state)
    items = _card(client)["items"]
    urls = [i for i in items if i["label"].startswith("URL ")]
    assert [u["label"].split()[-1] for u in urls] == ["PENDING", "PENDING"]
    assert all(
        "token 1000001 · TEXT for John Doe · partner myPartnerLogin" in u["detail"] for u in urls
    )
    assert client.get(viewed).status_code == 200
    state.clock.advance(61)
    labels = [i["label"] for i in _card(client)["items"] if i["label"].startswith("URL ")]
    newest_id, oldest_id = unviewed.rsplit("/", 1)[1], viewed.rsplit("/", 1)[1]
    assert labels == [f"URL {newest_id[:8]}… EXPIRED", f"URL {oldest_id[:8]}… VIEWED"]
    text = client.get("/_mockbank/console").get_data(as_text=True)
    assert newest_id not in text
    assert oldest_id not in text
    assert SEED_PAN not in text


def test_the_card_shows_the_newest_tokens_first_and_at_most_five(
    client: FlaskClient, state: State
) -> None:
    for _ in range(6):
        answer = client.post(
            "/syspay/api/v2/merchant/token", headers=merchant_header(state), json=card_body()
        )
        assert answer.status_code == 201
    labels = [i["label"] for i in _card(client)["items"]]
    assert labels == [f"token {n}" for n in range(1000007, 1000002, -1)]
    # The provider page's data carries the same items.
    page = client.get("/_mockbank/console/syspay").get_json()
    assert [i["label"] for i in page["items"]] == labels


@pytest.mark.browser
@pytest.mark.slow
def test_the_console_shows_syspays_card_in_chromium(
    mockbank: Any, page: Any, artifacts: Path
) -> None:
    url = live_card_url(mockbank.url("syspay"), mockbank.clock.epoch())
    redirect_id = url.rsplit("/", 1)[1]
    page.goto(mockbank.server.url + "/")
    card = page.locator("#cards section.card[data-provider=syspay]")
    card.locator("ul.items li", has_text=f"URL {redirect_id[:8]}… PENDING").wait_for()
    card.locator("ul.items li", has_text="411111******1111").wait_for()
    page.screenshot(path=str(artifacts / "console-syspay-card.png"), full_page=True)
    # While pending the URL is a bearer secret: nowhere on the page.
    assert redirect_id not in page.content()
    assert requests.get(url, timeout=10).status_code == 200
    page.goto(mockbank.url("syspay"))
    page.locator("ul.items li", has_text=f"URL {redirect_id[:8]}… VIEWED").wait_for()
    page.locator("#records h3").first.wait_for()
    page.screenshot(path=str(artifacts / "console-syspay-page.png"), full_page=True)
    assert redirect_id not in page.locator("ul.items").inner_text()
    assert SEED_PAN not in page.content()

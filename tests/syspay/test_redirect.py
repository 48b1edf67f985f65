"""The one-time detokenization URL: once, within 60 seconds, TEXT page or PNG, then 410."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from tests.syspay.helpers import (
    DETOKENIZE,
    GOOD_BODY,
    IMAGE_ONLY,
    SEED_PAN,
    SEED_TOKEN,
    partner_header,
    redirects,
)


def _url(
    client: Any,
    state: Any,
    kind: str = "TEXT",
    token: str = SEED_TOKEN,
    who: tuple[str, str] | None = None,
) -> str:
    headers = partner_header(state) if who is None else partner_header(state, who)
    response = client.post(
        DETOKENIZE.format(token), headers=headers, json={**GOOD_BODY, "type": kind}
    )
    assert response.status_code == 200, response.get_json()
    url: str = response.get_json()["redirect_url"]
    return url


def test_text_view_shows_holder_number_and_expiry_once(client: Any, state: Any) -> None:
    url = _url(client, state)
    page = client.get(url)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "John Doe" in text
    assert "4111 1111 1111 1111" in text
    assert "12/2030" in text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Syspay-Request-Uuid"]
    again = client.get(url)
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True) or "already used" in (
        again.get_data(as_text=True)
    )
    assert again.headers["Cache-Control"] == "no-store"
    assert SEED_PAN not in again.get_data(as_text=True)


def test_image_view_is_a_png_that_decodes_to_a_card_size(client: Any, state: Any) -> None:
    url = _url(client, state, "IMAGE")
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    image = Image.open(io.BytesIO(response.get_data()))
    image.load()
    assert image.format == "PNG"
    assert image.size == (640, 400)
    assert len(image.getcolors(maxcolors=1 << 16) or []) > 2  # text was drawn
    assert client.get(url).status_code == 410


def test_image_only_partner_views_an_image(client: Any, state: Any, syspay_token: str) -> None:
    url = _url(client, state, "IMAGE", syspay_token, IMAGE_ONLY)
    assert client.get(url).mimetype == "image/png"


@pytest.mark.parametrize("kind", ["TEXT", "IMAGE"])
def test_view_after_61_seconds_is_410_expired(client: Any, state: Any, kind: str) -> None:
    state.clock.freeze()
    url = _url(client, state, kind)
    state.clock.advance(61)
    response = client.get(url)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert redirects(state)[0]["status"] == "EXPIRED"


def test_view_at_59_seconds_still_works(client: Any, state: Any) -> None:
    state.clock.freeze()
    url = _url(client, state)
    state.clock.advance(59)
    assert client.get(url).status_code == 200


def test_redirect_lifetime_is_configurable() -> None:
    from mockbank.app import create_app

    app = create_app({"syspay.redirect_ttl_s": 5})
    state = app.extensions["mockbank"]
    client = app.test_client()
    state.clock.freeze()
    url = _url(client, state)
    state.clock.advance(6)
    assert client.get(url).status_code == 410
    state.close()


def test_unknown_url_is_404_page(client: Any) -> None:
    response = client.get("/syspay/redirect/detokenize/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "does not exist" in response.get_data(as_text=True)


def test_head_does_not_spend_the_url(client: Any, state: Any) -> None:
    url = _url(client, state)
    head = client.head(url)
    assert head.status_code == 200
    assert head.get_data() == b""
    assert client.get(url).status_code == 200
    assert client.head(url).status_code == 410


def test_post_to_the_url_is_405_page_and_spends_nothing(client: Any, state: Any) -> None:
    url = _url(client, state)
    response = client.post(url)
    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert client.get(url).status_code == 200


def test_fault_on_redirect_spends_nothing(client: Any, state: Any) -> None:
    url = _url(client, state)
    state.add_fault({"provider": "syspay", "endpoint": "redirect", "status": 500})
    failed = client.get(url)
    assert failed.status_code == 500
    assert failed.mimetype == "text/html"
    assert client.get(url).status_code == 200


def test_each_view_is_recorded_in_the_state_view(client: Any, state: Any) -> None:
    url = _url(client, state)
    client.get(url)
    (view,) = redirects(state)
    assert view["status"] == "VIEWED"
    assert view["viewed_at"]
    assert view["viewer"] == "John Doe"
    assert view["company_reference"] == "4242"
    assert view["partner"] == "myPartnerLogin"
    assert view["id"] not in url  # only a prefix of the bearer id is shown
    assert SEED_PAN not in str(state.provider_state("syspay"))
    control = client.get("/_mockbank/state/syspay").get_json()
    assert control["redirects"][0]["status"] == "VIEWED"

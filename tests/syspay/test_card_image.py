"""The IMAGE view's drawing: every text legible, inside the card, and nothing overlapping."""

from __future__ import annotations

import io
from itertools import combinations

import pytest
from PIL import Image, ImageDraw, ImageFont

from mockbank.providers.syspay.card_image import HEIGHT, WIDTH, font, layout, render_png
from mockbank.providers.syspay.models import CreditCard

LONG_NAME = "Maximilian Alexander Wolfeschlegelsteinhausen-Bergerdorff Junior"


def _boxes(card: CreditCard) -> dict[str, tuple[float, float, float, float]]:
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    return {item.name: item.box(draw) for item in layout(card, token_id="1000002")}


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize(
    ("number", "holder"),
    [
        ("4111111111111111", "John Doe"),
        ("378282246310005", LONG_NAME),
        ("6011000990139424123", "José Müller-Łukasz"),
        ("5555555555554444", "W" * 100),
    ],
    ids=["short-name", "long-name", "accented-19-digits", "100-wide-letters"],
)
def test_card_texts_stay_inside_the_card_and_never_overlap(number: str, holder: str) -> None:
    boxes = _boxes(CreditCard(number, holder, 1, 2031))
    for name, (left, top, right, bottom) in boxes.items():
        assert 12 < left < right < WIDTH - 12, name
        assert 12 < top < bottom < HEIGHT - 12, name
    clashes = [
        (a, b)
        for (a, box_a), (b, box_b) in combinations(boxes.items(), 2)
        if _overlap(box_a, box_b)
    ]
    assert clashes == []


def test_a_long_holder_name_is_shrunk_then_shortened_with_an_ellipsis() -> None:
    items = {
        i.name: i for i in layout(CreditCard("4111111111111111", LONG_NAME, 1, 2031), token_id="1")
    }
    holder = items["holder"]
    assert holder.text.endswith("…")
    assert LONG_NAME.startswith(holder.text[:-1])
    assert len(holder.text) > 30  # most of the name still shows
    # A short name keeps the full size.
    short = {
        i.name: i for i in layout(CreditCard("4111111111111111", "John Doe", 1, 2031), token_id="1")
    }
    assert short["holder"].text == "John Doe"
    assert short["holder"].font.size == 26  # type: ignore[union-attr]


def test_accented_names_are_drawn_with_real_glyphs_not_boxes() -> None:
    face = font(26)
    if not isinstance(face, ImageFont.FreeTypeFont):
        pytest.skip("no TrueType font installed; Pillow's built-in font draws ASCII only")

    def glyph(text: str) -> bytes:
        image = Image.new("L", (40, 40))
        ImageDraw.Draw(image).text((5, 5), text, font=face, fill=255)
        return image.tobytes()

    missing = glyph("\u0378")  # an unassigned code point: the "no glyph" box
    for letter in "éüŁΩЖ":
        assert glyph(letter) != missing, letter


def test_the_png_has_ink_where_the_holder_name_is() -> None:
    card = CreditCard("4111111111111111", "José Müller", 12, 2030)
    image = Image.open(io.BytesIO(render_png(card, token_id="1000001"))).convert("RGB")
    box = _boxes(card)["holder"]
    region = image.crop(tuple(int(v) for v in box))
    assert region.getextrema()[0][1] == 255  # the brightest red: white ink

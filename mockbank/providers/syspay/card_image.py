"""The IMAGE detokenization view: the card details drawn into a PNG with Pillow."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from mockbank.providers.syspay.records import CreditCard

WIDTH, HEIGHT = 640, 400
MARGIN = 40
GAP = 24  # at least this much between the holder's name and the expiry date
BACKGROUND = (18, 53, 91)
INK = (255, 255, 255)
MUTED = (170, 190, 215)
# Pillow's built-in font draws ASCII only ("José" came out with a box for the "é"); DejaVu
# Sans covers Latin, Greek and Cyrillic, so real cardholder names print. Pillow looks these
# names up in the system font folders; the built-in font is the last resort.
FONT_FILES = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf")
HOLDER_SIZES = (26, 24, 22, 20, 18)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def font(size: int) -> Font:
    """A Unicode TrueType font at `size` px, or Pillow's built-in one if none is installed."""
    for name in FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class TextItem:
    """One piece of text on the card: where it goes and how it is drawn."""

    name: str
    xy: tuple[int, int]
    text: str
    font: Font
    fill: tuple[int, int, int]
    anchor: str = "la"

    def box(self, draw: ImageDraw.ImageDraw) -> tuple[float, float, float, float]:
        """The pixel box the text covers."""
        return draw.textbbox(self.xy, self.text, font=self.font, anchor=self.anchor)


def group_digits(number: str) -> str:
    """Groups of four (Amex 4-6-5), the way the card prints them."""
    if len(number) == 15:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def _fit(draw: ImageDraw.ImageDraw, text: str, width: float) -> tuple[str, Font]:
    """`text` in the largest holder size that fits `width`; else shortened with an ellipsis."""
    for size in HOLDER_SIZES:
        if draw.textlength(text, font=font(size)) <= width:
            return text, font(size)
    smallest = font(HOLDER_SIZES[-1])
    while text and draw.textlength(text + "…", font=smallest) > width:
        text = text[:-1]
    return text.rstrip() + "…", smallest


def layout(card: CreditCard, *, token_id: str) -> list[TextItem]:
    """Every text on the card; the holder's name shrinks (then shortens) to clear the expiry."""
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    expiry = TextItem("expiry", (WIDTH - MARGIN, 285), card.expiry, font(26), INK, "ra")
    expiry_left = expiry.box(draw)[0]
    holder_text, holder_font = _fit(draw, card.cardholder, expiry_left - GAP - MARGIN)
    return [
        TextItem("brand", (MARGIN, 36), "SysPay", font(26), INK),
        TextItem("scheme", (WIDTH - MARGIN, 40), card.scheme, font(18), MUTED, "ra"),
        TextItem("number_label", (MARGIN, 150), "CARD NUMBER", font(18), MUTED),
        TextItem("number", (MARGIN, 175), group_digits(card.number), font(38), INK),
        TextItem("holder_label", (MARGIN, 260), "CARD HOLDER", font(18), MUTED),
        TextItem("holder", (MARGIN, 285), holder_text, holder_font, INK),
        TextItem("expiry_label", (WIDTH - MARGIN, 260), "EXPIRES", font(18), MUTED, "ra"),
        expiry,
        TextItem("token", (MARGIN, HEIGHT - 50), f"token {token_id}", font(18), MUTED),
    ]


def render_png(card: CreditCard, *, token_id: str) -> bytes:
    """A card-shaped PNG with holder, number and expiry (never a CVC: none is stored)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((12, 12, WIDTH - 12, HEIGHT - 12), radius=24, outline=MUTED, width=2)
    for item in layout(card, token_id=token_id):
        draw.text(item.xy, item.text, font=item.font, fill=item.fill, anchor=item.anchor)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()

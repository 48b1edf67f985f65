"""The IMAGE detokenization view: the card details drawn into a PNG with Pillow."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from mockbank.providers.syspay.models import CreditCard

WIDTH, HEIGHT = 640, 400
BACKGROUND = (18, 53, 91)
INK = (255, 255, 255)
MUTED = (170, 190, 215)


def group_digits(number: str) -> str:
    """Groups of four (Amex 4-6-5), the way the card prints them."""
    if len(number) == 15:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def render_png(card: CreditCard, *, token_id: str) -> bytes:
    """A card-shaped PNG with holder, number and expiry (never a CVC: none is stored)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    small = ImageFont.load_default(size=18)
    large = ImageFont.load_default(size=38)
    medium = ImageFont.load_default(size=26)
    draw.rounded_rectangle((12, 12, WIDTH - 12, HEIGHT - 12), radius=24, outline=MUTED, width=2)
    draw.text((40, 36), "SysPay", font=medium, fill=INK)
    draw.text((WIDTH - 40, 40), card.scheme, font=small, fill=MUTED, anchor="ra")
    draw.text((40, 150), "CARD NUMBER", font=small, fill=MUTED)
    draw.text((40, 175), group_digits(card.number), font=large, fill=INK)
    draw.text((40, 260), "CARD HOLDER", font=small, fill=MUTED)
    draw.text((40, 285), card.cardholder[:40], font=medium, fill=INK)
    draw.text((WIDTH - 40, 260), "EXPIRES", font=small, fill=MUTED, anchor="ra")
    draw.text((WIDTH - 40, 285), card.expiry, font=medium, fill=INK, anchor="ra")
    draw.text((40, HEIGHT - 50), f"token {token_id}", font=small, fill=MUTED)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()

"""QR symbols of the simulated CENTAGATE app: the device page, its PNG route and the dashboard."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import segno

QR_BORDER = 2
QR_TARGET_PX = 240  # about what a phone camera needs from a screen at arm's length


def qr_code(content: str) -> segno.QRCode:
    """A full-size QR symbol; segno.make would pick a Micro QR for short text, which phone
    cameras do not read."""
    import segno  # on first use: a QR code is not needed to start serving

    return segno.make_qr(content, error="m")


def qr_scale(symbol: segno.QRCode) -> int:
    """Whole pixels per module (at least 3), so dense codes stay crisp and scannable."""
    modules = int(symbol.symbol_size(scale=1, border=QR_BORDER)[0])
    return max(3, -(-QR_TARGET_PX // modules))


def qr_data_uri(content: str) -> str:
    """The QR for `content` as a PNG data: URI (the device page and the dashboard show it)."""
    symbol = qr_code(content)
    return str(symbol.png_data_uri(scale=qr_scale(symbol), border=QR_BORDER))


def qr_png(content: str) -> bytes:
    """The QR for `content` as PNG bytes."""
    buffer = io.BytesIO()
    symbol = qr_code(content)
    symbol.save(buffer, kind="png", scale=qr_scale(symbol), border=QR_BORDER)
    return buffer.getvalue()

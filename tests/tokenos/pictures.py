"""Test images for profile pictures."""

from __future__ import annotations

import io

from PIL import Image


def png_bytes(width: int = 300, height: int = 200, color: str = "#2a6") -> bytes:
    """A real PNG of the given size."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()

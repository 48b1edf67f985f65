"""Profile pictures and blobs (SDK ``setProfilePicture``/``getProfilePicture``/``getBlob``)."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from mockbank.clients.tokenos import Member, TokenError
from tests.tokenos.pictures import png_bytes


def _upload(member: Member, image: bytes, mime: str = "image/png", **extra: Any) -> Any:
    payload = {
        "ownerId": member.member_id,
        "type": mime,
        "name": "profile",
        "data": base64.b64encode(image).decode(),
        "accessMode": "PUBLIC",
        **extra,
    }
    return member.call("PUT", "/profilepicture", {"payload": payload})


def _picture(member: Member, owner: str, size: str) -> dict[str, Any]:
    blob: dict[str, Any] = member.call("GET", f"/members/{owner}/profilepicture/{size}")["blob"]
    return blob


def test_a_picture_is_served_at_every_size(merchant: Member, token_client: Any) -> None:
    original_bytes = png_bytes(600, 300)
    assert _upload(merchant, original_bytes) == {}
    original = _picture(merchant, merchant.member_id, "ORIGINAL")
    assert base64.b64decode(original["payload"]["data"]) == original_bytes
    assert original["payload"]["ownerId"] == merchant.member_id
    assert original["id"].startswith("b:")
    for size, edge in (("SMALL", 128), ("MEDIUM", 256), ("LARGE", 512)):
        blob = _picture(merchant, merchant.member_id, size)
        with Image.open(io.BytesIO(base64.b64decode(blob["payload"]["data"]))) as image:
            assert max(image.size) == edge
            assert image.format == "PNG"
    # Another member reads the public picture, and the blob by its id.
    other = token_client.create_member({"type": "DOMAIN", "value": "other.example.com"})
    assert _picture(other, merchant.member_id, "ORIGINAL")["id"] == original["id"]
    assert other.call("GET", f"/blobs/{original['id']}")["blob"] == original


def test_a_small_picture_is_never_enlarged(merchant: Member) -> None:
    tiny = png_bytes(40, 30)
    _upload(merchant, tiny)
    large = _picture(merchant, merchant.member_id, "LARGE")
    assert base64.b64decode(large["payload"]["data"]) == tiny


def test_a_new_picture_replaces_the_old_one(merchant: Member) -> None:
    _upload(merchant, png_bytes(50, 50, "#f00"))
    second = png_bytes(50, 50, "#00f")
    _upload(merchant, second)
    served = _picture(merchant, merchant.member_id, "ORIGINAL")
    assert base64.b64decode(served["payload"]["data"]) == second


@pytest.mark.parametrize(
    ("data", "mime", "extra", "status"),
    [
        (b"not an image", "image/png", {}, 400),
        (png_bytes(10, 10), "image/jpeg", {}, 400),
        (png_bytes(10, 10), "text/plain", {}, 400),
        (png_bytes(10, 10), "image/png", {"ownerId": "m:someone:5zKtXEAq"}, 403),
        (png_bytes(10, 10), "image/png", {"data": "@@@"}, 400),
        (png_bytes(10, 10), "image/png", {"accessMode": "SECRET"}, 400),
    ],
    ids=["not-image", "wrong-type", "not-an-image-type", "other-owner", "not-base64", "mode"],
)
def test_bad_pictures_are_refused_and_change_nothing(
    merchant: Member, data: bytes, mime: str, extra: dict[str, Any], status: int
) -> None:
    with pytest.raises(TokenError) as failure:
        _upload(merchant, data, mime, **extra)
    assert failure.value.status == status
    with pytest.raises(TokenError) as missing:
        _picture(merchant, merchant.member_id, "ORIGINAL")
    assert missing.value.status == 404


def test_unknown_sizes_blobs_and_missing_pictures(merchant: Member) -> None:
    _upload(merchant, png_bytes(20, 20))
    for path, status in (
        (f"/members/{merchant.member_id}/profilepicture/HUGE", 400),
        ("/members/m:nobody:5zKtXEAq/profilepicture/SMALL", 404),
        ("/blobs/b:unknown:5zKtXEAq", 404),
    ):
        with pytest.raises(TokenError) as failure:
            merchant.call("GET", path)
        assert failure.value.status == status, path

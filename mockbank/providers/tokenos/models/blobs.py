"""Profile pictures and blobs (SDK ``setProfilePicture``, ``getProfilePicture``, ``getBlob``).

A picture arrives as a ``Blob`` payload ``{ownerId, type, name, data (base64), accessMode}``;
mockbank keeps it as a blob whose id is derived from its payload and serves it at the size
asked for: ``ORIGINAL`` as uploaded, ``SMALL``/``MEDIUM``/``LARGE`` scaled to fit 128, 256 and
512 pixels (our choice; Token.io does not publish its sizes), never enlarged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from datetime import datetime
from typing import Any

from mockbank.clients.tokenos import base58, canonical_json
from mockbank.providers.tokenos.errors import InvalidArgument, NotFound, PermissionDenied
from mockbank.providers.tokenos.models.common import (
    MEMBER_REALM_SUFFIX,
    is_text,
    object_field,
    text_field,
)
from mockbank.providers.tokenos.records.blobs import NS_BLOB, NS_PICTURE, Blob, ProfilePicture
from mockbank.store import Store

SIZES = {"SMALL": 128, "MEDIUM": 256, "LARGE": 512, "ORIGINAL": 0}
IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF"}
ACCESS_MODES = ("PUBLIC", "DEFAULT")
MAX_PIXELS = 4096 * 4096


def _decode(data: Any) -> bytes:
    if not is_text(data) or not data:
        raise InvalidArgument("payload.data must be the picture as base64", field="payload.data")
    text = data.strip()
    try:
        # The SDK sends standard base64 (base64-js); URL-safe base64 is accepted too.
        return base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidArgument("payload.data is not base64", field="payload.data") from None


def _check_image(raw: bytes, mime: str) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError  # loaded on first picture: start-up stays fast

    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != IMAGE_TYPES[mime]:
                raise InvalidArgument(f"payload.data is a {image.format} image, not {mime}")
            if image.width * image.height > MAX_PIXELS:
                raise InvalidArgument("the picture is larger than 4096 x 4096 pixels")
            image.verify()
            return image.width, image.height
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise InvalidArgument(f"payload.data is not a readable {mime} image") from None


def blob_id(payload: dict[str, Any]) -> str:
    """``b:<base58(SHA-256(canonical payload))>:<realm>``: the same bytes give the same id."""
    digest = hashlib.sha256(canonical_json(payload).encode()).digest()
    return f"b:{base58(digest)}{MEMBER_REALM_SUFFIX}"


def _store_blob(store: Store, payload: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    identifier = blob_id(payload)
    blob = Blob(identifier, payload).to_value()
    store.add(NS_BLOB, identifier, blob, now=now)  # identical content: already there
    return blob


def set_profile_picture(store: Store, caller: str, body: Any, *, now: datetime) -> dict[str, Any]:
    """``PUT /profilepicture``: validate the image and make it the caller's picture."""
    body = object_field(body, "body", required=True)
    payload = object_field(body.get("payload"), "payload", required=True)
    owner = payload.get("ownerId") or caller
    if owner != caller:
        raise PermissionDenied("payload.ownerId must be the caller")
    mime = text_field(payload.get("type"), "payload.type") or ""
    if mime not in IMAGE_TYPES:
        raise InvalidArgument(f"payload.type must be one of {', '.join(IMAGE_TYPES)}")
    access = payload.get("accessMode") or "PUBLIC"
    if access not in ACCESS_MODES:
        raise InvalidArgument(f"payload.accessMode must be one of {', '.join(ACCESS_MODES)}")
    name = text_field(payload.get("name"), "payload.name", required=False, limit=200) or "profile"
    raw = _decode(payload.get("data"))
    _check_image(raw, mime)
    clean = {
        "ownerId": caller,
        "type": mime,
        "name": name,
        "data": base64.b64encode(raw).decode("ascii"),
        "accessMode": "PUBLIC",  # a profile picture is public whatever was asked
    }
    blob = _store_blob(store, clean, now=now)
    store.put(NS_PICTURE, caller, ProfilePicture(blob["id"]).to_value(), now=now)
    return blob


def _scaled(original: dict[str, Any], edge: int) -> dict[str, Any]:
    from PIL import Image

    payload = original["payload"]
    raw = base64.b64decode(payload["data"])
    with Image.open(io.BytesIO(raw)) as image:
        if max(image.size) <= edge:
            return original
        image.thumbnail((edge, edge))
        out = io.BytesIO()
        image.save(out, format=IMAGE_TYPES[payload["type"]])
    return {
        **payload,
        "name": f"{payload['name']}-{edge}",
        "data": base64.b64encode(out.getvalue()).decode("ascii"),
    }


def get_profile_picture(
    store: Store, member_id: str, size: str, *, now: datetime
) -> dict[str, Any]:
    """``GET /members/<id>/profilepicture/<size>``: the picture as a blob of that size."""
    edge = SIZES.get(size.upper())
    if edge is None:
        raise InvalidArgument(f"size must be one of {', '.join(SIZES)}")
    picture = store.get(NS_PICTURE, member_id, now=now)
    if picture is None:
        raise NotFound(f"member {member_id} has no profile picture")
    original = store.get(NS_BLOB, str(picture["blobId"]), now=now)
    if original is None:
        raise NotFound(f"member {member_id} has no profile picture")
    if edge == 0:
        return original
    scaled = _scaled(original, edge)
    return scaled if scaled is original else _store_blob(store, scaled, now=now)


def get_blob(store: Store, caller: str, blob_id_: str, *, now: datetime) -> dict[str, Any]:
    """``GET /blobs/<id>``: public blobs for anyone signed in, others for their owner only."""
    blob = store.get(NS_BLOB, blob_id_, now=now)
    if blob is None:
        raise NotFound(f"blob {blob_id_} not found")
    payload = blob["payload"]
    if payload.get("accessMode") != "PUBLIC" and payload.get("ownerId") != caller:
        raise PermissionDenied(f"blob {blob_id_} is not public")
    return blob

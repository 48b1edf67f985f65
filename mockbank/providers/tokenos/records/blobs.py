"""Blobs (content-addressed) and which blob is each member's profile picture."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockbank.records import Record

NS_BLOB = "tokenos.blob"
NS_PICTURE = "tokenos.profile_picture"


@dataclass(frozen=True)
class Blob(Record):
    """A blob: its id (from the hash of its payload) and the ``Blob.Payload`` as cleaned."""

    id: str
    payload: dict[str, Any]  # ownerId, type, name, data (base64), accessMode


@dataclass(frozen=True)
class ProfilePicture(Record):
    """The blob a member's profile picture is."""

    blob_id: str

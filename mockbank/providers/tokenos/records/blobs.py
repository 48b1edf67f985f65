"""Blobs (content-addressed) and which blob is each member's profile picture."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

NS_BLOB = "tokenos.blob"
NS_PICTURE = "tokenos.profile_picture"


@dataclass(frozen=True)
class Blob:
    """A blob: its id (from the hash of its payload) and the ``Blob.Payload`` as cleaned."""

    id: str
    payload: dict[str, Any]  # ownerId, type, name, data (base64), accessMode

    def to_value(self) -> dict[str, Any]:
        return {"id": self.id, "payload": self.payload}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(id=str(value["id"]), payload=dict(value["payload"]))


@dataclass(frozen=True)
class ProfilePicture:
    """The blob a member's profile picture is."""

    blob_id: str

    def to_value(self) -> dict[str, Any]:
        return {"blobId": self.blob_id}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(blob_id=str(value["blobId"]))

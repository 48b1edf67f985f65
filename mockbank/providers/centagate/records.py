"""Centagate's stored records: what each store namespace holds, typed.

Each record's ``to_value()`` is its stored shape (the camelCase keys the state view shows) and
``from_value()`` reads it back; nothing else in the package spells those keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

NS_USER = "centagate.user"
NS_DEVICE = "centagate.device"
NS_CHALLENGE = "centagate.challenge"
NS_TRANSACTION = "centagate.transaction"
NS_DEVICE_APPROVAL = "centagate.device_approval"


class Status(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class UserState:
    """A user's live status and last successful login (epoch milliseconds, 0 for never)."""

    username: str
    status: Status
    last_success_login: int = 0

    def to_value(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "status": self.status.value,
            "lastSuccessLogin": self.last_success_login,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(
            username=str(value["username"]),
            status=Status(value["status"]),
            last_success_login=int(value.get("lastSuccessLogin", 0)),
        )


@dataclass(frozen=True)
class DeviceState:
    """A device account's live status and wrong-OTP count; locked after too many."""

    dev_acc_id: str
    username: str
    status: Status
    failed_attempts: int = 0
    locked: bool = False

    def to_value(self) -> dict[str, Any]:
        return {
            "devAccId": self.dev_acc_id,
            "username": self.username,
            "status": self.status.value,
            "failedAttempts": self.failed_attempts,
            "locked": self.locked,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(
            dev_acc_id=str(value["devAccId"]),
            username=str(value["username"]),
            status=Status(value["status"]),
            failed_attempts=int(value["failedAttempts"]),
            locked=bool(value["locked"]),
        )


@dataclass(frozen=True)
class Challenge:
    """A QR challenge issued by requestQrCode, keyed by its 8-digit ``otp_challenge``.

    ``plain_text`` is what the device signs (``<devAccId>|<requestId>|<details>``);
    ``approved_at`` is set when the device approves it online (statecheck then completes it).
    """

    otp_challenge: str
    request_id: str
    username: str
    dev_acc_id: str
    integration_key: str
    app_id: str
    plain_text: str
    details: str
    auth_token: str
    created_at: str
    expires_at: str
    approved_at: str | None = None

    def to_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "otpChallenge": self.otp_challenge,
            "requestId": self.request_id,
            "username": self.username,
            "devAccId": self.dev_acc_id,
            "integrationKey": self.integration_key,
            "appId": self.app_id,
            "plainText": self.plain_text,
            "details": self.details,
            "authToken": self.auth_token,
            "createdAt": self.created_at,
            "expiresAt": self.expires_at,
        }
        if self.approved_at is not None:
            value["approvedAt"] = self.approved_at
        return value

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        approved = value.get("approvedAt")
        return cls(
            otp_challenge=str(value["otpChallenge"]),
            request_id=str(value["requestId"]),
            username=str(value["username"]),
            dev_acc_id=str(value["devAccId"]),
            integration_key=str(value["integrationKey"]),
            app_id=str(value["appId"]),
            plain_text=str(value["plainText"]),
            details=str(value["details"]),
            auth_token=str(value["authToken"]),
            created_at=str(value["createdAt"]),
            expires_at=str(value["expiresAt"]),
            approved_at=None if approved is None else str(approved),
        )


@dataclass(frozen=True)
class Transaction:
    """A completed challenge, keyed by its request id: a signing, a login or an out-of-band
    approval (``kind``)."""

    request_id: str
    kind: str
    username: str
    dev_acc_id: str
    otp_challenge: str
    details: str
    transaction_value: str
    app_id: str
    signed_at: str

    def to_value(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "kind": self.kind,
            "username": self.username,
            "devAccId": self.dev_acc_id,
            "otpChallenge": self.otp_challenge,
            "details": self.details,
            "transactionValue": self.transaction_value,
            "appId": self.app_id,
            "signedAt": self.signed_at,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(
            request_id=str(value["requestId"]),
            kind=str(value["kind"]),
            username=str(value["username"]),
            dev_acc_id=str(value["devAccId"]),
            otp_challenge=str(value["otpChallenge"]),
            details=str(value["details"]),
            transaction_value=str(value["transactionValue"]),
            app_id=str(value["appId"]),
            signed_at=str(value["signedAt"]),
        )


@dataclass(frozen=True)
class DeviceApproval:
    """The device page approved a challenge (keyed by it): it shows the OTP, not the QR."""

    approved_at: str

    def to_value(self) -> dict[str, Any]:
        return {"approvedAt": self.approved_at}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(approved_at=str(value["approvedAt"]))

"""Centagate's stored records: what each store namespace holds, typed.

Each record is a `mockbank.records.Record`: ``to_value()`` is its stored shape (the camelCase
keys the state view shows) and ``from_value()`` reads it back; nothing else in the package
spells those keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from mockbank.records import Record, Stored

NS_USER = "centagate.user"
NS_DEVICE = "centagate.device"
NS_CHALLENGE = "centagate.challenge"
NS_TRANSACTION = "centagate.transaction"
NS_DEVICE_APPROVAL = "centagate.device_approval"


class Status(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class UserState(Record):
    """A user's live status and last successful login (epoch milliseconds, 0 for never)."""

    username: str
    status: Status
    last_success_login: int = 0


@dataclass(frozen=True)
class DeviceState(Record):
    """A device account's live status and wrong-OTP count; locked after too many."""

    dev_acc_id: str
    username: str
    status: Status
    failed_attempts: int = 0
    locked: bool = False


@dataclass(frozen=True)
class Challenge(Record):
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
    approved_at: Annotated[str | None, Stored(omit=True)] = None


@dataclass(frozen=True)
class Transaction(Record):
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


@dataclass(frozen=True)
class DeviceApproval(Record):
    """The device page approved a challenge (keyed by it): it shows the OTP, not the QR."""

    approved_at: str

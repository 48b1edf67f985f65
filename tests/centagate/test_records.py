"""Centagate's stored records: each reads back what it writes, in the shape the state view shows."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any

import pytest

from mockbank.providers.centagate import records
from mockbank.providers.centagate.records import (
    Challenge,
    DeviceApproval,
    DeviceState,
    Status,
    Transaction,
    UserState,
)

CHALLENGE = Challenge(
    otp_challenge="01234567",
    request_id="0123456789abcdef",
    username="alice",
    dev_acc_id="alice-device-1",
    integration_key="k",
    app_id="app-1",
    plain_text="alice-device-1|0123456789abcdef|Pay",
    details="Pay",
    auth_token="t" * 32,
    created_at="2026-12-03T10:00:00+00:00",
    expires_at="2026-12-03T10:03:00+00:00",
)
RECORDS: list[Any] = [
    UserState(username="alice", status=Status.ACTIVE, last_success_login=1764756000123),
    DeviceState("alice-device-1", "alice", Status.INACTIVE, failed_attempts=3, locked=True),
    CHALLENGE,
    Challenge(**{**vars(CHALLENGE), "approved_at": "2026-12-03T10:01:00+00:00"}),
    Transaction("rid", "login", "alice", "d", "01234567", "Pay", "", "app-1", "2026"),
    DeviceApproval(approved_at="2026-12-03T10:01:00+00:00"),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_every_record_reads_back_what_it_writes(record: Any) -> None:
    value = record.to_value()
    assert type(record).from_value(value) == record
    assert all(isinstance(key, str) for key in value)
    with pytest.raises(FrozenInstanceError):
        record.username = "mallory"


def test_stored_shapes_keep_their_camelcase_keys() -> None:
    assert set(CHALLENGE.to_value()) == {
        "otpChallenge", "requestId", "username", "devAccId", "integrationKey", "appId",
        "plainText", "details", "authToken", "createdAt", "expiresAt",
    }  # fmt: skip
    approved = Challenge(**{**vars(CHALLENGE), "approved_at": "x"}).to_value()
    assert approved["approvedAt"] == "x"
    assert DeviceState("d", "u", Status.ACTIVE).to_value() == {
        "devAccId": "d", "username": "u", "status": "active", "failedAttempts": 0, "locked": False,
    }  # fmt: skip
    assert UserState.from_value({"username": "u", "status": "active"}).last_success_login == 0


def test_namespaces_are_spelled_centagate_dot_kind() -> None:
    names = {k: v for k, v in vars(records).items() if k.startswith("NS_")}
    assert names == {
        "NS_USER": "centagate.user",
        "NS_DEVICE": "centagate.device",
        "NS_CHALLENGE": "centagate.challenge",
        "NS_TRANSACTION": "centagate.transaction",
        "NS_DEVICE_APPROVAL": "centagate.device_approval",
    }

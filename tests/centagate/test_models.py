"""Centagate's rules without HTTP: the fields each API reads, the wrong-OTP count, the device
page's listing and approval (the store, the fixtures and the app clock passed in)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mockbank.clients.centagate import device_otp
from mockbank.providers.centagate import device, models
from mockbank.providers.centagate.errors import InvalidInput
from mockbank.providers.centagate.records import (
    NS_CHALLENGE,
    NS_DEVICE_APPROVAL,
    DeviceState,
    Status,
)
from mockbank.state import State
from tests.centagate.helpers import ALICE_DEVICE, ALICE_SECRET, INTEGRATION_KEY, b64

NOW = datetime(2026, 12, 3, 10, 15, 2, tzinfo=UTC)
SIGNING = {
    "username": "alice",
    "devAccId": ALICE_DEVICE,
    "otp": "123456",
    "challenge": "12345678",
    "details": b64("Pay"),
    "integrationKey": INTEGRATION_KEY,
    "unixTimestamp": "1764756902",
    "transactionValue": "1.00",
    "isTransaction": "1",
}


def test_request_fields_on_v2_require_the_transaction_fields_of_a_signing() -> None:
    fields = models.request_fields(SIGNING, "authQRCode", legacy_path=False)
    assert fields["transactionValue"] == "1.00"
    only_one = {k: v for k, v in SIGNING.items() if k != "isTransaction"}
    with pytest.raises(InvalidInput) as refused:
        models.request_fields(only_one, "authQRCode", legacy_path=False)
    assert refused.value.field == "isTransaction"


def test_request_fields_read_a_login_when_both_transaction_fields_are_absent() -> None:
    login = {k: v for k, v in SIGNING.items() if k not in ("transactionValue", "isTransaction")}
    assert models.is_login(login)
    assert not models.is_login(SIGNING)
    fields = models.request_fields({**login, "tokenId": "t1"}, "authQRCode", legacy_path=False)
    assert fields["transactionValue"] == fields["isTransaction"] == ""
    assert fields["tokenId"] == "t1"


def test_request_fields_on_2018_paths_make_devaccid_optional() -> None:
    body = {k: v for k, v in SIGNING.items() if k not in ("devAccId", "isTransaction")}
    fields = models.request_fields(body, "authQRCode", legacy_path=True)
    assert fields["devAccId"] == ""
    with pytest.raises(InvalidInput) as refused:
        models.request_fields(body, "authQRCode", legacy_path=False)
    assert refused.value.field == "devAccId"


def test_request_fields_of_requestqrcode_and_statecheck() -> None:
    qr = {"username": "alice", "details": b64("x"), "integrationKey": "k", "unixTimestamp": "1"}
    assert models.request_fields(qr, "requestQrCode", legacy_path=True)["transactionId"] == ""
    with pytest.raises(InvalidInput):
        models.request_fields(qr, "requestQrCode", legacy_path=False)  # no devAccId
    poll = {"username": "alice", "integrationKey": "k", "unixTimestamp": "1"}
    with pytest.raises(InvalidInput) as refused:
        models.request_fields(poll, "statecheck", legacy_path=True)
    assert refused.value.field == "authMethod"


def test_count_wrong_otp_locks_at_the_limit_and_a_locked_device_stays_as_it_is() -> None:
    fresh = DeviceState(dev_acc_id="d", username="u", status=Status.ACTIVE)
    counted = fresh
    for _ in range(models.MAX_WRONG_OTPS - 1):
        counted = models.count_wrong_otp(counted)
    assert (counted.failed_attempts, counted.locked) == (models.MAX_WRONG_OTPS - 1, False)
    locked = models.count_wrong_otp(counted)
    assert (locked.failed_attempts, locked.locked) == (models.MAX_WRONG_OTPS, True)
    assert models.count_wrong_otp(locked) == locked
    assert fresh.failed_attempts == 0  # records are values: counting makes a new one


def _issue(state: State, details: str = "Pay RM 10") -> dict[str, str]:
    fixtures = state.fixtures["centagate"]
    app = fixtures.apps[INTEGRATION_KEY]
    fields = models.read_fields(
        {"username": "alice", "devAccId": ALICE_DEVICE, "details": b64(details)},
        ("username", "devAccId", "details"),
    )
    return models.request_qr_code(state.store, fixtures, app, fields, state, now=state.now())


def test_device_page_lists_a_pending_challenge_with_its_qr_and_masked_text(state: State) -> None:
    issued = _issue(state, "Card 4111111111111111")
    account = state.fixtures["centagate"].devices[ALICE_DEVICE]
    page = device.device_page(state.store, account, now=state.now())
    assert [c.otp_challenge for c in page.pending] == [issued["otpChallenge"]]
    shown = page.pending[0]
    assert shown.image.startswith("data:image/png;base64,")
    assert "4111111111111111" not in shown.details + shown.qr_code
    assert (page.waiting, page.approved, page.problem, page.status) == ([], None, None, 200)
    assert not page.shows_otp
    assert page.fingerprint == issued["otpChallenge"]


def test_approving_on_the_device_shows_the_otp_once_then_lists_it_as_waiting(
    state: State,
) -> None:
    issued = _issue(state)
    account = state.fixtures["centagate"].devices[ALICE_DEVICE]
    now = state.now()
    page = device.device_page(state.store, account, now=now, approve=issued["otpChallenge"])
    otp = device_otp(ALICE_SECRET, issued["otpChallenge"], issued["plainText"])
    assert page.approved == device.Approved(challenge=issued["otpChallenge"], otp=otp)
    assert (page.pending, page.waiting, page.status) == ([], [], 200)
    assert page.shows_otp
    assert page.fingerprint == "a:" + issued["otpChallenge"]
    challenge = state.store.record(NS_CHALLENGE, issued["otpChallenge"])
    assert challenge is not None
    assert challenge.value["approvedAt"] == now.isoformat()  # statecheck sees it
    assert state.store.record(NS_DEVICE_APPROVAL, issued["otpChallenge"]) is not None
    later = device.device_page(state.store, account, now=now)
    assert [(c.otp_challenge, c.otp) for c in later.waiting] == [(issued["otpChallenge"], otp)]
    assert later.approved is None
    assert later.fingerprint == page.fingerprint


def test_approving_what_is_not_pending_on_this_device_is_a_410_that_changes_nothing(
    state: State,
) -> None:
    issued = _issue(state)
    fixtures = state.fixtures["centagate"]
    bob = replace(fixtures.devices[ALICE_DEVICE], dev_acc_id="bob-device-1", username="bob")
    page = device.device_page(state.store, bob, now=state.now(), approve=issued["otpChallenge"])
    assert (page.status, page.approved) == (410, None)
    assert page.problem is not None
    assert issued["otpChallenge"] in page.problem
    assert device.approve_on_device(state.store, bob, "", now=state.now()) is None
    assert state.store.record(NS_DEVICE_APPROVAL, issued["otpChallenge"]) is None
    expired = state.now() + timedelta(seconds=models.DEFAULT_CHALLENGE_TTL_S + 1)
    alice = fixtures.devices[ALICE_DEVICE]
    assert device.approve_on_device(state.store, alice, issued["otpChallenge"], now=expired) is None
    empty = device.device_page(state.store, alice, now=state.now(), approve="")
    assert empty.problem == "Challenge (none) is not pending on this device any more."


def test_readable_expiry_counts_down_from_the_app_clock() -> None:
    at = (NOW + timedelta(seconds=150)).isoformat()
    assert device.readable(at, NOW) == "3 Dec 2026, 10:17:32 UTC (in 2 min 30 s)"
    assert device.readable(at, NOW + timedelta(seconds=200)).endswith("(in 0 s)")
    assert device.readable("not a time", NOW) == "not a time"

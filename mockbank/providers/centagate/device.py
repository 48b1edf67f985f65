"""The simulated CENTAGATE app of one device account: what its page lists, and approving a
pending challenge on it (which shows the OTP and reaches ``session/statecheck``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from mockbank.clients.centagate import otp_from_qr, qr_content
from mockbank.masking import mask_cards
from mockbank.providers.centagate import outofband
from mockbank.providers.centagate.models import (
    DeviceAccount,
    pending_challenge,
    pending_challenges,
)
from mockbank.providers.centagate.qr import qr_data_uri
from mockbank.providers.centagate.records import NS_DEVICE_APPROVAL, Challenge, DeviceApproval
from mockbank.store import Store


@dataclass(frozen=True)
class Approved:
    """A challenge just approved on the device, and the OTP the app now shows for it."""

    challenge: str
    otp: str


@dataclass(frozen=True)
class ShownChallenge:
    """One challenge as the page shows it: card numbers masked in text; the QR image carries
    the whole transaction text, as the device derives the OTP from it."""

    otp_challenge: str
    request_id: str
    details: str
    qr_code: str
    expires: str
    image: str = ""  # pending: the QR to scan
    otp: str = ""  # approved here and waiting to be used: the OTP to type


@dataclass(frozen=True)
class DevicePage:
    """What the device page shows: pending challenges, approved ones waiting, and the outcome
    of an approval (``approved`` or ``problem``, with the page's HTTP status)."""

    pending: list[ShownChallenge]
    waiting: list[ShownChallenge]
    approved: Approved | None = None
    problem: str | None = None
    status: int = 200

    @property
    def shows_otp(self) -> bool:
        return bool(self.waiting) or self.approved is not None

    @property
    def fingerprint(self) -> str:
        """What the page's script compares to reload when the lists change; the challenge
        approved by this POST counts as waiting, as it will on the next GET."""
        ids = [c.otp_challenge for c in self.pending]
        ids += ["a:" + c.otp_challenge for c in self.waiting]
        ids += ["a:" + self.approved.challenge] if self.approved else []
        return " ".join(sorted(ids))


def readable(iso: str, now: datetime) -> str:
    """``2026-12-03T10:15:02+00:00`` as ``3 Dec 2026, 10:15:02 UTC (in 2 min 30 s)``."""
    try:
        at = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    left = int((at - now).total_seconds())
    span = f"{left // 60} min {left % 60} s" if left >= 60 else f"{max(left, 0)} s"
    return f"{at.day} {at:%b %Y, %H:%M:%S} UTC (in {span})"


def approve_on_device(
    store: Store, device: DeviceAccount, otp_challenge: str, *, now: datetime
) -> Approved | None:
    """Approve a challenge pending on this device; None if it is not pending here any more.

    Online mode: the approval reaches the server (statecheck reports it); offline mode: the
    user types the OTP shown into the bank's page. Either way the challenge stops being
    pending on the device, until its OTP is used or it expires.
    """
    match = pending_challenge(store, device.dev_acc_id, otp_challenge, now=now)
    if match is None:
        return None
    outofband.approve(store, device.dev_acc_id, otp_challenge, now=now)
    content = qr_content(device.dev_acc_id, match.otp_challenge, match.plain_text)
    approval = DeviceApproval(approved_at=now.isoformat())
    store.add(NS_DEVICE_APPROVAL, otp_challenge, approval.to_value(), now=now)
    return Approved(challenge=otp_challenge, otp=otp_from_qr(device.secret, content))


def _shown(challenge: Challenge, content: str, now: datetime) -> ShownChallenge:
    return ShownChallenge(
        otp_challenge=mask_cards(challenge.otp_challenge),
        request_id=mask_cards(challenge.request_id),
        details=mask_cards(challenge.details),
        qr_code=mask_cards(content),
        expires=readable(challenge.expires_at, now),
    )


def device_page(
    store: Store, device: DeviceAccount, *, now: datetime, approve: str | None = None
) -> DevicePage:
    """The page of one device account, after approving `approve` if given (a POST)."""
    approved = problem = None
    if approve is not None:
        approved = approve_on_device(store, device, approve, now=now)
        if approved is None:
            problem = f"Challenge {approve or '(none)'} is not pending on this device any more."
    pending, waiting = [], []
    for challenge in pending_challenges(store, device.dev_acc_id, now=now):
        content = qr_content(device.dev_acc_id, challenge.otp_challenge, challenge.plain_text)
        shown = _shown(challenge, content, now)
        if store.record(NS_DEVICE_APPROVAL, challenge.otp_challenge) is None:
            pending.append(replace(shown, image=qr_data_uri(content)))
        elif approved is None or approved.challenge != challenge.otp_challenge:
            waiting.append(replace(shown, otp=otp_from_qr(device.secret, content)))
    status = 410 if problem else 200
    return DevicePage(pending, waiting, approved=approved, problem=problem, status=status)

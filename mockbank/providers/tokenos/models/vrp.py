"""VRP consents: creation, the payer's authorisation at the bank, revocation and the views.

Payments under a consent, and the limits they are checked against, are in `vrp_payments`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from mockbank.providers.tokenos.errors_v2 import (
    FieldExpected,
    FieldInvalid,
    FieldNotUnique,
    InvalidStatus,
    ResourceNotFound,
)
from mockbank.providers.tokenos.models import v2_common as f
from mockbank.providers.tokenos.models.common import new_id
from mockbank.providers.tokenos.models.fixtures import Fixtures
from mockbank.providers.tokenos.models.payment_initiation import account, check_bank
from mockbank.providers.tokenos.models.v2_common import StatusChange, Step
from mockbank.store import Store

PENDING = "PENDING"
PENDING_MORE_INFO = "PENDING_MORE_INFO"
PENDING_REDIRECT_AUTH = "PENDING_REDIRECT_AUTH"
PENDING_REDIRECT_AUTH_VERIFICATION = "PENDING_REDIRECT_AUTH_VERIFICATION"
AUTHORIZED = "AUTHORIZED"
REJECTED = "REJECTED"
REVOKED = "REVOKED"
FAILED = "FAILED"
STATUSES = (
    PENDING,
    PENDING_MORE_INFO,
    PENDING_REDIRECT_AUTH,
    PENDING_REDIRECT_AUTH_VERIFICATION,
    AUTHORIZED,
    REJECTED,
    REVOKED,
    FAILED,
)
PENDING_TTL_S = 30 * 60.0  # "All PENDING statuses convert to FAILED 30 minutes after creation"
VERIFY_S = 1.0
ID_SUFFIX = ":2gFUX1NDxaJ"
PERIOD_TYPES = ("DAY", "WEEK", "MONTH", "YEAR")
ALIGNMENTS = ("CONSENT", "CALENDAR")
BANK_PAGE = "/mock-bank/vrp-consents/"
HOSTED_PAGE = "/app/initiation?vrp-consent-id="


@dataclass(frozen=True)
class VrpHold:
    """A VRP counted against the consent's limits until it fails (known from its amount)."""

    payment_id: str
    amount: str
    at: float
    fails_at: float | None

    def live(self, now: float) -> bool:
        return self.fails_at is None or self.fails_at > now

    def to_value(self) -> dict[str, Any]:
        return {
            "paymentId": self.payment_id,
            "amount": self.amount,
            "at": self.at,
            "failsAt": self.fails_at,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> VrpHold:
        return cls(value["paymentId"], value["amount"], float(value["at"]), value["failsAt"])


@dataclass(frozen=True)
class VrpConsent:
    """A long-held consent with its control parameters and the VRPs made under it."""

    id: str
    member_id: str
    initiation: dict[str, Any]
    status: str
    reason: str
    created: float
    updated: float
    start: float
    end: float | None
    bank_id: str | None
    schedule: tuple[Step, ...] = ()
    payer_account: str | None = None
    holds: tuple[VrpHold, ...] = ()

    def to_value(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "memberId": self.member_id,
            "initiation": self.initiation,
            "status": self.status,
            "reason": self.reason,
            "created": self.created,
            "updated": self.updated,
            "start": self.start,
            "end": self.end,
            "bankId": self.bank_id,
            "schedule": [s.to_value() for s in self.schedule],
            "payerAccount": self.payer_account,
            "holds": [h.to_value() for h in self.holds],
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> VrpConsent:
        return cls(
            id=value["id"],
            member_id=value["memberId"],
            initiation=value["initiation"],
            status=value["status"],
            reason=value["reason"],
            created=float(value["created"]),
            updated=float(value["updated"]),
            start=float(value["start"]),
            end=None if value["end"] is None else float(value["end"]),
            bank_id=value["bankId"],
            schedule=tuple(Step.from_value(s) for s in value["schedule"]),
            payer_account=value["payerAccount"],
            holds=tuple(VrpHold.from_value(h) for h in value["holds"]),
        )

    @property
    def currency(self) -> str:
        return str(self.initiation["currency"])

    def with_status(self, status: str, reason: str, at: float) -> VrpConsent:
        return replace(self, status=status, reason=reason, updated=at)

    def change(self, at: float) -> StatusChange:
        return StatusChange(
            "vrp-consent", self.id, self.member_id, self.status, self.reason, at, self
        )

    def advance(self, now: float) -> tuple[VrpConsent, list[StatusChange]]:
        """Apply the steps due at `now`."""
        due, ahead = f.due_steps(self.schedule, now)
        consent, changes = replace(self, schedule=ahead), []
        for step in due:
            consent = consent.with_status(step.status, step.reason, step.at)
            changes.append(consent.change(step.at))
        return consent, changes


def _limits(init: dict[str, Any], code: str) -> list[dict[str, Any]]:
    raw = init.get("periodicLimits")
    if raw is None or raw == []:
        raise FieldExpected(
            "initiation.periodicLimits needs at least one limit",
            paths=["initiation.periodicLimits"],
        )
    if not isinstance(raw, list) or len(raw) > 10:
        raise FieldInvalid(
            "initiation.periodicLimits must be a list of up to 10 limits",
            paths=["initiation.periodicLimits"],
        )
    limits = []
    for index, item in enumerate(raw):
        path = f"initiation.periodicLimits[{index}]"
        limit = f.obj(item, path)
        maximum = f.decimal(limit.get("maximumAmount"), f"{path}.maximumAmount")
        period = f.enum(limit.get("periodType"), f"{path}.periodType", PERIOD_TYPES)
        alignment = f.enum(
            limit.get("periodAlignment"), f"{path}.periodAlignment", ALIGNMENTS, required=False
        )
        limits.append(
            {
                "maximumAmount": str(maximum),
                "periodType": period,
                "periodAlignment": alignment or "CONSENT",
            }
        )
    return limits


def _amounts(init: dict[str, Any]) -> dict[str, Any]:
    maximum = f.decimal(init.get("maximumIndividualAmount"), "initiation.maximumIndividualAmount")
    found: dict[str, Any] = {"maximumIndividualAmount": str(maximum)}
    if init.get("minimumIndividualAmount") not in (None, ""):
        minimum = f.decimal(
            init.get("minimumIndividualAmount"), "initiation.minimumIndividualAmount"
        )
        if minimum > maximum:
            raise FieldInvalid(
                "minimumIndividualAmount exceeds maximumIndividualAmount",
                paths=["initiation.minimumIndividualAmount"],
            )
        found["minimumIndividualAmount"] = str(minimum)
    occurrences = init.get("maximumOccurrences")
    if occurrences is not None:
        if (
            not str(occurrences).isdigit()
            or isinstance(occurrences, bool)
            or int(str(occurrences)) > 1_000_000
        ):
            raise FieldInvalid(
                "initiation.maximumOccurrences must be a whole number",
                paths=["initiation.maximumOccurrences"],
            )
        found["maximumOccurrences"] = int(str(occurrences))
    return found


def parse_consent(
    body: Any, fixtures: Fixtures, now: float
) -> tuple[dict[str, Any], float, float | None]:
    """``initiation`` of ``POST /vrp-consents`` → (clean initiation, start, end)."""
    init = f.obj(f.obj(body, "body").get("initiation"), "initiation")
    f.ref_id(init.get("refId"), "initiation.refId")
    f.required_text(
        init.get("remittanceInformationPrimary"),
        "initiation.remittanceInformationPrimary",
        limit=140,
    )
    f.text(
        init.get("remittanceInformationSecondary"),
        "initiation.remittanceInformationSecondary",
        required=False,
        limit=140,
    )
    f.enum(init.get("scheme"), "initiation.scheme", ("OBL_SWEEPING",))
    f.enum(init.get("localInstrument"), "initiation.localInstrument", ("FASTER_PAYMENTS",))
    code = f.currency(init.get("currency"), "initiation.currency")
    f.callback_url(init.get("callbackUrl"), "initiation.callbackUrl")
    f.required_text(init.get("callbackState"), "initiation.callbackState")
    account(init.get("creditor"), "initiation.creditor", "FASTER_PAYMENTS", name_required=True)
    if init.get("debtor") is not None:
        account(init.get("debtor"), "initiation.debtor", "FASTER_PAYMENTS", name_required=False)
    clean = dict(init) | _amounts(init) | {"periodicLimits": _limits(init, code)}
    start = (
        f.parse_iso(init["startDateTime"], "initiation.startDateTime")
        if init.get("startDateTime")
        else now
    )
    end = (
        f.parse_iso(init["endDateTime"], "initiation.endDateTime")
        if init.get("endDateTime")
        else None
    )
    if end is not None and end <= start:
        raise FieldInvalid(
            "initiation.endDateTime must be after startDateTime", paths=["initiation.endDateTime"]
        )
    bank_id = f.text(init.get("bankId"), "initiation.bankId", required=False, limit=100)
    if bank_id is not None:
        check_bank(fixtures, bank_id, "FASTER_PAYMENTS", code)
    return clean, start, end


def create_consent(
    store: Store,
    member_id: str,
    body: Any,
    fixtures: Fixtures,
    *,
    now: datetime,
    rng: Callable[[int], bytes],
) -> tuple[VrpConsent, list[StatusChange]]:
    """``POST /vrp-consents``: PENDING, then at once waiting for the bank or for a bank choice."""
    at = now.timestamp()
    init, start, end = parse_consent(body, fixtures, at)
    if not store.add(f.NS_PAYMENT_REF, f"vrp-consent:{member_id}\n{init['refId']}", {}, now=now):
        raise FieldNotUnique(
            f"a VRP consent with refId {init['refId']!r} exists already", paths=["initiation.refId"]
        )
    bank_id = init.get("bankId") or None
    waiting = (
        Step(at, PENDING_REDIRECT_AUTH, "Waiting for the payer at the bank")
        if bank_id
        else Step(at, PENDING_MORE_INFO, "Waiting for the payer to choose a bank")
    )
    timeout = Step(
        at + PENDING_TTL_S, FAILED, "The payer did not authorise within 30 minutes", False
    )
    for _ in range(50):
        consent = VrpConsent(
            new_id("vc", rng, ID_SUFFIX),
            member_id,
            init,
            PENDING,
            "Received",
            at,
            at,
            start,
            end,
            bank_id,
            (waiting, timeout),
        )
        if store.add(f.NS_VRP_CONSENT, consent.id, consent.to_value(), now=now):
            created = consent.change(at)  # PENDING: Token.io notifies creation too
            consent, changes = transition(store, consent.id, None, now=now)
            return consent, [created, *changes]
    raise RuntimeError("could not find a free VRP consent id")  # pragma: no cover


def transition(
    store: Store,
    consent_id: str,
    action: Callable[[VrpConsent], VrpConsent] | None,
    *,
    now: datetime,
) -> tuple[VrpConsent, list[StatusChange]]:
    """Atomically apply due steps and `action`; report the status changes."""
    at = now.timestamp()
    result: dict[str, Any] = {}

    def change(value: dict[str, Any]) -> dict[str, Any]:
        consent, changes = VrpConsent.from_value(value).advance(at)
        if action is not None:
            before = consent.status
            consent = action(consent)
            if consent.status != before:
                changes.append(consent.change(at))
            consent, more = consent.advance(at)
            changes.extend(more)
        result["consent"], result["changes"] = consent, changes
        return consent.to_value()

    if store.update(f.NS_VRP_CONSENT, consent_id, change, now=now) is None:
        raise ResourceNotFound("VRP consent", "vrpConsentId", consent_id)
    f.index_due(store, f.NS_VRP_CONSENT, consent_id, result["consent"].schedule, now=now)
    return result["consent"], result["changes"]


def load(store: Store, consent_id: str, *, now: datetime) -> tuple[VrpConsent, list[StatusChange]]:
    """A consent with its due steps applied."""
    value = store.get(f.NS_VRP_CONSENT, consent_id, now=now)
    if value is None:
        raise ResourceNotFound("VRP consent", "vrpConsentId", consent_id)
    consent = VrpConsent.from_value(value)
    if not f.due_steps(consent.schedule, now.timestamp())[0]:
        return consent, []
    return transition(store, consent_id, None, now=now)


def owned(
    store: Store, member_id: str, consent_id: str, *, now: datetime
) -> tuple[VrpConsent, list[StatusChange]]:
    """The caller's consent (another member's is unknown)."""
    consent, changes = load(store, consent_id, now=now)
    if consent.member_id != member_id:
        raise ResourceNotFound("VRP consent", "vrpConsentId", consent_id)
    return consent, changes


def _require(consent: VrpConsent, *statuses: str) -> None:
    if consent.status not in statuses:
        raise InvalidStatus(
            f"VRP consent {consent.id} is {consent.status}; this needs {' or '.join(statuses)}",
            extra={"vrpConsentId": consent.id},
        )


def payer_decision(
    store: Store, consent_id: str, approve: bool, account_id: str | None, *, now: datetime
) -> tuple[VrpConsent, list[StatusChange]]:
    """The payer authorises (or rejects) the consent on the bank's page."""
    at = now.timestamp()

    def act(consent: VrpConsent) -> VrpConsent:
        _require(consent, PENDING_REDIRECT_AUTH)
        if not approve:
            return replace(
                consent.with_status(REJECTED, "The payer rejected the consent at the bank", at),
                schedule=(),
            )
        authorised = Step(at + VERIFY_S, AUTHORIZED, "The payer authorised the consent")
        verifying = consent.with_status(
            PENDING_REDIRECT_AUTH_VERIFICATION, "Token.io is verifying the authorisation", at
        )
        return replace(verifying, schedule=(authorised,), payer_account=account_id)

    return transition(store, consent_id, act, now=now)


def choose_bank(
    store: Store, consent_id: str, bank_id: str | None, fixtures: Fixtures, *, now: datetime
) -> tuple[VrpConsent, list[StatusChange]]:
    """On the Hosted Pages the payer picks the bank (PENDING_MORE_INFO), or gives up."""
    at = now.timestamp()

    def act(consent: VrpConsent) -> VrpConsent:
        _require(consent, PENDING_MORE_INFO)
        if bank_id is None:
            return replace(
                consent.with_status(REJECTED, "The payer left the Hosted Pages", at), schedule=()
            )
        check_bank(fixtures, bank_id, "FASTER_PAYMENTS", consent.currency)
        waiting = consent.with_status(
            PENDING_REDIRECT_AUTH, "Waiting for the payer at the bank", at
        )
        return replace(waiting, bank_id=bank_id)

    return transition(store, consent_id, act, now=now)


def revoke(
    store: Store, member_id: str, consent_id: str, *, now: datetime
) -> tuple[VrpConsent, list[StatusChange]]:
    """``DELETE /vrp-consents/{id}``: REVOKED (again: unchanged); later VRPs are refused."""
    owned(store, member_id, consent_id, now=now)
    at = now.timestamp()

    def act(consent: VrpConsent) -> VrpConsent:
        if consent.status == REVOKED:
            return consent
        _require(
            consent,
            AUTHORIZED,
            PENDING,
            PENDING_MORE_INFO,
            PENDING_REDIRECT_AUTH,
            PENDING_REDIRECT_AUTH_VERIFICATION,
        )
        return replace(consent.with_status(REVOKED, "The consent was revoked", at), schedule=())

    return transition(store, consent_id, act, now=now)


def consent_view(consent: VrpConsent, base: str) -> dict[str, Any]:
    """The OpenAPI's ``VrpConsent``."""
    initiation = dict(consent.initiation)
    if consent.bank_id:
        initiation["bankId"] = consent.bank_id
    view: dict[str, Any] = {
        "id": consent.id,
        "memberId": consent.member_id,
        "initiation": initiation,
        "createdDateTime": f.iso(consent.created),
        "updatedDateTime": f.iso(consent.updated),
        "status": consent.status,
        "statusReasonInformation": consent.reason,
    }
    if consent.status in (AUTHORIZED, REVOKED):
        view["bankVrpConsentId"] = "bvc-" + consent.id.split(":")[1][:16]
        view["bankVrpConsentStatus"] = "Authorised" if consent.status == AUTHORIZED else "Revoked"
    if consent.status == PENDING_REDIRECT_AUTH:
        view["authentication"] = {"redirectUrl": f"{base}{BANK_PAGE}{consent.id}"}
    elif consent.status == PENDING_MORE_INFO:
        view["authentication"] = {"redirectUrl": f"{base}{HOSTED_PAGE}{consent.id}"}
    return view


def list_consents(
    store: Store, member_id: str, args: dict[str, list[str]], *, now: datetime
) -> tuple[list[VrpConsent], dict[str, Any]]:
    """``GET /vrp-consents`` with its filters and paging, newest first."""
    limit = f.limit_arg(args)
    offset = (args.get("offset") or [""])[0]
    statuses = f.list_arg(args, "statuses")
    for status in statuses:
        if status not in STATUSES:
            raise FieldInvalid(
                f"statuses: {status} is not a VRP consent status", paths=["statuses"]
            )
    scheme = (args.get("scheme") or [""])[0]
    if scheme and scheme != "OBL_SWEEPING":
        raise FieldInvalid("scheme must be OBL_SWEEPING", paths=["scheme"])
    after, before = f.time_arg(args, "createdAfter"), f.time_arg(args, "createdBefore")
    behalf = (args.get("onBehalfOfId") or [""])[0]
    found = []
    for record in reversed(store.records(f.NS_VRP_CONSENT)):
        if record.value["memberId"] != member_id:
            continue
        consent = load(store, record.key, now=now)[0]
        if (after is not None and consent.created <= after) or (
            before is not None and consent.created >= before
        ):
            continue
        if behalf and consent.initiation.get("onBehalfOfId") != behalf:
            continue
        found.append(consent)
    found = f.pick(found, statuses, False, lambda c: c.status)
    return f.page(found, offset, limit)


def period_total(consent: VrpConsent, start: float, end: float, now: float) -> Decimal:
    """What live VRPs made in [start, end) add up to."""
    return sum(
        (Decimal(h.amount) for h in consent.holds if start <= h.at < end and h.live(now)),
        Decimal(0),
    )


def sweep(store: Store, *, now: datetime) -> list[StatusChange]:
    """Apply the due steps of every consent that has one."""
    changes = []
    for key in f.due_keys(store, f.NS_VRP_CONSENT, now=now):
        try:
            changes.extend(transition(store, key, None, now=now)[1])
        except ResourceNotFound:  # gone since it was indexed
            store.delete(f.NS_DUE, f"{f.NS_VRP_CONSENT}|{key}")
    return changes

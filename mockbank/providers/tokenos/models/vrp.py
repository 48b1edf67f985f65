"""VRP consents: creation, the payer's authorisation at the bank, revocation and the views.

Payments under a consent, and the limits they are checked against, are in `vrp_payments`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from mockbank.providers.tokenos.errors_v2 import FieldExpected, FieldInvalid, ResourceNotFound
from mockbank.providers.tokenos.models import lifecycle
from mockbank.providers.tokenos.models import v2_common as f
from mockbank.providers.tokenos.models.common import new_id
from mockbank.providers.tokenos.models.fixtures import Fixtures
from mockbank.providers.tokenos.models.lifecycle import StatusChange, require
from mockbank.providers.tokenos.models.payment_initiation import account, check_bank
from mockbank.providers.tokenos.records.payments_v2 import NS_PAYMENT_REF
from mockbank.providers.tokenos.records.steps import RefId, Step
from mockbank.providers.tokenos.records.vrp import NS_VRP_CONSENT, VrpConsent
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


def _missing(consent_id: str) -> ResourceNotFound:
    return ResourceNotFound("VRP consent", "vrpConsentId", consent_id)


CONSENTS = lifecycle.Kind(NS_VRP_CONSENT, VrpConsent.from_value, _missing)


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
    taken = RefId(member_id, init["refId"], "vrp-consent")
    lifecycle.claim(store, NS_PAYMENT_REF, taken, "a VRP consent", now=now)
    bank_id = init.get("bankId") or None
    waiting = (
        Step(at, PENDING_REDIRECT_AUTH, "Waiting for the payer at the bank")
        if bank_id
        else Step(at, PENDING_MORE_INFO, "Waiting for the payer to choose a bank")
    )
    timeout = Step(
        at + PENDING_TTL_S, FAILED, "The payer did not authorise within 30 minutes", False
    )
    draft = VrpConsent.opened(
        member_id,
        init,
        (PENDING, "Received"),
        at,
        (waiting, timeout),
        start=start,
        end=end,
        bank_id=bank_id,
    )
    stored = lifecycle.insert(store, CONSENTS, draft, lambda: new_id("vc", rng, ID_SUFFIX), now=now)
    created = lifecycle.change_of(stored, at)  # PENDING: Token.io notifies creation too
    consent, changes = lifecycle.transition(store, CONSENTS, stored.id, None, now=now)
    return consent, [created, *changes]


def payer_decision(
    store: Store, consent_id: str, approve: bool, account_id: str | None, *, now: datetime
) -> tuple[VrpConsent, list[StatusChange]]:
    """The payer authorises (or rejects) the consent on the bank's page."""
    at = now.timestamp()

    def act(consent: VrpConsent) -> VrpConsent:
        require(consent, PENDING_REDIRECT_AUTH)
        if not approve:
            return lifecycle.closed(
                consent, REJECTED, "The payer rejected the consent at the bank", at
            )
        authorised = Step(at + VERIFY_S, AUTHORIZED, "The payer authorised the consent")
        verifying = consent.with_status(
            PENDING_REDIRECT_AUTH_VERIFICATION, "Token.io is verifying the authorisation", at
        )
        return replace(verifying, schedule=(authorised,), payer_account=account_id)

    return lifecycle.transition(store, CONSENTS, consent_id, act, now=now)


def choose_bank(
    store: Store, consent_id: str, bank_id: str | None, fixtures: Fixtures, *, now: datetime
) -> tuple[VrpConsent, list[StatusChange]]:
    """On the Hosted Pages the payer picks the bank (PENDING_MORE_INFO), or gives up."""
    at = now.timestamp()

    def act(consent: VrpConsent) -> VrpConsent:
        require(consent, PENDING_MORE_INFO)
        if bank_id is None:
            return lifecycle.closed(consent, REJECTED, "The payer left the Hosted Pages", at)
        check_bank(fixtures, bank_id, "FASTER_PAYMENTS", consent.currency)
        waiting = consent.with_status(
            PENDING_REDIRECT_AUTH, "Waiting for the payer at the bank", at
        )
        return replace(waiting, bank_id=bank_id)

    return lifecycle.transition(store, CONSENTS, consent_id, act, now=now)


def revoke(
    store: Store, member_id: str, consent_id: str, *, now: datetime
) -> tuple[VrpConsent, list[StatusChange]]:
    """``DELETE /vrp-consents/{id}``: REVOKED (again: unchanged); later VRPs are refused."""
    lifecycle.owned(store, CONSENTS, member_id, consent_id, now=now)
    at = now.timestamp()

    def act(consent: VrpConsent) -> VrpConsent:
        if consent.status == REVOKED:
            return consent
        require(
            consent,
            AUTHORIZED,
            PENDING,
            PENDING_MORE_INFO,
            PENDING_REDIRECT_AUTH,
            PENDING_REDIRECT_AUTH_VERIFICATION,
        )
        return lifecycle.closed(consent, REVOKED, "The consent was revoked", at)

    return lifecycle.transition(store, CONSENTS, consent_id, act, now=now)


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
    for consent in lifecycle.member_resources(store, CONSENTS, member_id, now=now):
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

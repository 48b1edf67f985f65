"""``GET /v2/payments``: the OpenAPI's filters and paging over the caller's payments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockbank.providers.tokenos.errors_v2 import FieldInvalid
from mockbank.providers.tokenos.models import lifecycle, refunds, vrp
from mockbank.providers.tokenos.models import payment_flow as flow
from mockbank.providers.tokenos.models import payments_v2 as payments
from mockbank.providers.tokenos.models import v2_common as f
from mockbank.providers.tokenos.models.vrp_payments import VRP_STATUSES
from mockbank.providers.tokenos.records.payments_v2 import Payment
from mockbank.store import Store

TYPES = ("SINGLE_IMMEDIATE_PAYMENT", "VARIABLE_RECURRING_PAYMENT")
REFUND_STATUSES = ("NONE", "PARTIAL", "FULL")


def member_payments(store: Store, member_id: str, *, now: datetime) -> list[Payment]:
    """The caller's payments (due steps applied), newest first."""
    return lifecycle.member_resources(store, payments.PAYMENTS, member_id, now=now)


def _statuses(args: dict[str, list[str]], vrp: bool) -> list[str]:
    statuses = f.list_arg(args, "statuses")
    allowed = {s.value for s in (VRP_STATUSES if vrp else flow.PaymentStatus)}
    for status in statuses:
        if status not in allowed:
            kind = "VRP payments" if vrp else "payments"
            raise FieldInvalid(f"statuses: {status} is not a status of {kind}", paths=["statuses"])
    return statuses


def _window(items: list[Payment], args: dict[str, list[str]]) -> list[Payment]:
    after, before = f.time_arg(args, "createdAfter"), f.time_arg(args, "createdBefore")
    if after is not None:
        items = [p for p in items if p.created > after]
    if before is not None:
        items = [p for p in items if p.created < before]
    return items


def list_payments(
    store: Store, member_id: str, args: dict[str, list[str]], *, now: datetime
) -> tuple[list[Payment], dict[str, Any], bool]:
    """(page, pageInfo, partial) for ``GET /v2/payments``."""
    limit = f.limit_arg(args)
    offset = (args.get("offset") or [""])[0]
    kind = (args.get("type") or ["SINGLE_IMMEDIATE_PAYMENT"])[0] or "SINGLE_IMMEDIATE_PAYMENT"
    if kind not in TYPES:
        raise FieldInvalid(f"type must be one of {', '.join(TYPES)}", paths=["type"])
    vrp = kind == "VARIABLE_RECURRING_PAYMENT"
    statuses = _statuses(args, vrp)
    refund_statuses = f.list_arg(args, "refundStatuses")
    if vrp and refund_statuses:
        raise FieldInvalid("refundStatuses is not supported for VRP", paths=["refundStatuses"])
    for status in refund_statuses:
        if status not in REFUND_STATUSES:
            raise FieldInvalid(
                f"refundStatuses: {status} is not NONE, PARTIAL or FULL", paths=["refundStatuses"]
            )
    items = [p for p in member_payments(store, member_id, now=now) if bool(p.vrp_consent_id) == vrp]
    consent = (args.get("vrpConsentId") or [""])[0]
    if vrp and consent:
        items = [p for p in items if p.vrp_consent_id == consent]
    items = _window(items, args)
    at = now.timestamp()
    items = f.pick(items, f.list_arg(args, "ids"), f.bool_arg(args, "invertIds"), lambda p: p.id)
    items = f.pick(items, statuses, f.bool_arg(args, "invertStatuses"), lambda p: p.status)
    items = f.pick(items, f.list_arg(args, "refIds"), False, lambda p: p.initiation.get("refId"))
    items = f.pick(items, refund_statuses, False, lambda p: payments.refund_status(p, at))
    for name in ("onBehalfOfId", "externalPsuReference"):
        wanted = (args.get(name) or [""])[0]
        if wanted:
            items = [p for p in items if p.initiation.get(name) == wanted]
    chunk, info = f.page(items, offset, limit)
    return chunk, info, f.bool_arg(args, "partial")


def state_summary(store: Store) -> dict[str, Any]:
    """``/_mockbank/state/tokenos``: v2 payments, VRP consents and refunds as last stored."""
    kinds: dict[str, lifecycle.Kind[Any]] = {
        "paymentsV2": payments.PAYMENTS,
        "vrpConsents": vrp.CONSENTS,
        "refunds": refunds.REFUNDS,
    }
    return {
        name: [
            {
                "id": r.id,
                "memberId": r.member_id,
                "status": r.status,
                "amount": r.initiation.get("amount") or r.initiation.get("maximumIndividualAmount"),
            }
            for r in lifecycle.stored(store, kind)
        ]
        for name, kind in kinds.items()
    }

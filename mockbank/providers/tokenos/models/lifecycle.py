"""How a payment, VRP consent or refund moves on the app clock, in one place for all three.

A resource's future is a schedule of timed status steps (the bank answering, the payer
approving on a phone, settlement). Steps are applied when due, on read or by a sweep, through
`transition`, which also reports each change as a `StatusChange`, so webhook delivery hangs
off a single place. Every write is one atomic `store.update`; new records and refIds are
inserted with the store's atomic `add`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from mockbank.providers.tokenos.errors_v2 import FieldNotUnique, InvalidStatus, V2Error
from mockbank.providers.tokenos.records.steps import NEXT_KEY, NS_DUE, Due, RefId, Step, Tracked
from mockbank.store import Store

R = TypeVar("R", bound=Tracked)
T = TypeVar("T", bound=Tracked)
FRESH_ID_TRIES = 50


@dataclass(frozen=True)
class StatusChange:
    """One status change of a payment, VRP consent or refund (what a webhook reports)."""

    kind: str  # "payment", "vrp-consent", "vrp" or "refund"
    id: str
    member_id: str
    status: str
    reason: str
    at: float
    resource: Any = field(default=None, compare=False)  # the resource as of this change


@dataclass(frozen=True)
class Kind(Generic[T]):
    """Where one kind of resource is stored, how it is read back, and how a miss is refused."""

    namespace: str
    decode: Callable[[dict[str, Any]], T]
    missing: Callable[[str], V2Error]


def change_of(resource: Tracked, at: float) -> StatusChange:
    """The resource's current status as a reportable change."""
    return StatusChange(
        resource.kind,
        resource.id,
        resource.member_id,
        resource.status,
        resource.reason,
        at,
        resource,
    )


def due_steps(schedule: tuple[Step, ...], now: float) -> tuple[tuple[Step, ...], tuple[Step, ...]]:
    """(steps due at `now`, steps still ahead), both in order."""
    ordered = sorted(schedule, key=lambda s: s.at)
    return tuple(s for s in ordered if s.at <= now), tuple(s for s in ordered if s.at > now)


def advance(resource: R, now: float) -> tuple[R, list[StatusChange]]:
    """Apply the steps due at `now`, in order, reporting each."""
    due, ahead = due_steps(resource.schedule, now)
    if not due:
        return resource, []
    moved, changes = replace(resource, schedule=ahead), []
    for step in due:
        moved = moved.with_status(step.status, step.reason, step.at)
        changes.append(change_of(moved, step.at))
    return moved, changes


def upcoming(resource: Tracked) -> list[StatusChange]:
    """The firm steps ahead, each with the resource as it will be then."""
    found: list[StatusChange] = []
    for step in resource.schedule:
        if step.firm:
            _, changes = advance(resource, step.at)
            found.extend(c for c in changes if c.at == step.at and c.status == step.status)
    return found


def closed(resource: R, status: str, reason: str, at: float) -> R:
    """The resource in a final status, with nothing left ahead of it."""
    return replace(resource.with_status(status, reason, at), schedule=())


LABELS = {"payment": ("payment", "paymentId"), "vrp-consent": ("VRP consent", "vrpConsentId")}


def require(resource: Tracked, *statuses: str) -> None:
    """FAILED_PRECONDITION unless the resource is in one of `statuses`."""
    if resource.status not in statuses:
        label, key = LABELS[resource.kind]
        raise InvalidStatus(
            f"{label} {resource.id} is {resource.status}; this needs {' or '.join(statuses)}",
            extra={key: resource.id},
        )


def index_due(
    store: Store, namespace: str, key: str, schedule: tuple[Step, ...], *, now: datetime
) -> None:
    """Note when a resource's next step falls due, so sweeps read only what is due."""
    if not schedule:
        store.delete(NS_DUE, Due.key(namespace, key))
        return
    due = Due(min(step.at for step in schedule))
    store.put(NS_DUE, Due.key(namespace, key), due.to_value(), now=now)
    # One record holds the earliest moment anything falls due: most requests read only it.
    if not store.add(NS_DUE, NEXT_KEY, due.to_value(), now=now):
        store.update(
            NS_DUE,
            NEXT_KEY,
            lambda v: Due(min(Due.from_value(v).at, due.at)).to_value(),
            now=now,
        )


def due_keys(store: Store, namespace: str, *, now: datetime) -> list[str]:
    """The ids in `namespace` with a step due at `now` (cheap when nothing is due)."""
    at = now.timestamp()
    earliest = store.get(NS_DUE, NEXT_KEY, now=now)
    if earliest is None or Due.from_value(earliest).at > at:
        return []
    prefix = Due.key(namespace, "")
    entries = [
        (r.key, Due.from_value(r.value).at) for r in store.records(NS_DUE) if r.key != NEXT_KEY
    ]
    keys = [k.removeprefix(prefix) for k, t in entries if k.startswith(prefix) and t <= at]
    # What stays due elsewhere or later; the resources swept now index their next step again.
    rest = [t for k, t in entries if not (k.startswith(prefix) and t <= at)]
    if rest:
        store.put(NS_DUE, NEXT_KEY, Due(min(rest)).to_value(), now=now)
    else:
        store.delete(NS_DUE, NEXT_KEY)
    return keys


def transition(
    store: Store, kind: Kind[T], key: str, action: Callable[[T], T] | None, *, now: datetime
) -> tuple[T, list[StatusChange]]:
    """Atomically: apply due steps, then `action`, then steps it made due; report the changes."""
    at = now.timestamp()
    result: dict[str, Any] = {}

    def change(value: dict[str, Any]) -> dict[str, Any]:
        resource, changes = advance(kind.decode(value), at)
        if action is not None:
            before = resource.status
            resource = action(resource)
            if resource.status != before:
                changes.append(change_of(resource, at))
            resource, more = advance(resource, at)
            changes.extend(more)
        result["resource"], result["changes"] = resource, changes
        return resource.to_value()

    if store.update(kind.namespace, key, change, now=now) is None:
        raise kind.missing(key)
    index_due(store, kind.namespace, key, result["resource"].schedule, now=now)
    return result["resource"], result["changes"]


def load(store: Store, kind: Kind[T], key: str, *, now: datetime) -> tuple[T, list[StatusChange]]:
    """A resource with every due step applied (written back atomically when any was due)."""
    value = store.get(kind.namespace, key, now=now)
    if not value or "memberId" not in value:  # absent, or an id reserved while checked
        raise kind.missing(key)
    resource = kind.decode(value)
    if not due_steps(resource.schedule, now.timestamp())[0]:
        return resource, []
    return transition(store, kind, key, None, now=now)


def owned(
    store: Store, kind: Kind[T], member_id: str, key: str, *, now: datetime
) -> tuple[T, list[StatusChange]]:
    """The caller's resource; another member's is as unknown as a missing one."""
    resource, changes = load(store, kind, key, now=now)
    if resource.member_id != member_id:
        raise kind.missing(key)
    return resource, changes


def stored(store: Store, kind: Kind[T]) -> list[T]:
    """Every resource of `kind` as last stored, oldest first (ids still being checked left out)."""
    return [kind.decode(r.value) for r in store.records(kind.namespace) if "memberId" in r.value]


def member_resources(store: Store, kind: Kind[T], member_id: str, *, now: datetime) -> list[T]:
    """The member's resources of `kind`, newest first, each with its due steps applied."""
    found = []
    for resource in reversed(stored(store, kind)):
        if resource.member_id != member_id:
            continue
        if due_steps(resource.schedule, now.timestamp())[0]:  # the sweep has not reached it
            resource = load(store, kind, resource.id, now=now)[0]
        found.append(resource)
    return found


def sweep(store: Store, kind: Kind[Any], *, now: datetime) -> list[StatusChange]:
    """Apply the due steps of every resource of `kind` that has one (reported unpolled)."""
    changes = []
    for key in due_keys(store, kind.namespace, now=now):
        try:
            changes.extend(transition(store, kind, key, None, now=now)[1])
        except V2Error:  # gone since it was indexed
            store.delete(NS_DUE, Due.key(kind.namespace, key))
    return changes


def fresh_id(
    store: Store,
    namespace: str,
    new_key: Callable[[], str],
    value: Callable[[str], dict[str, Any]],
    *,
    now: datetime,
) -> str:
    """Insert `value(id)` under a fresh id (ids from a seeded generator may collide)."""
    for _ in range(FRESH_ID_TRIES):
        candidate = new_key()
        if store.add(namespace, candidate, value(candidate), now=now):
            return candidate
    raise RuntimeError(f"could not find a free id in {namespace}")  # pragma: no cover


def claim(store: Store, namespace: str, ref: RefId, what: str, *, now: datetime) -> None:
    """Take a refId atomically; ``Field.NotUnique`` naming it when `what` already has it."""
    if not store.add(namespace, ref.key, ref.to_value(), now=now):
        raise FieldNotUnique(
            f"{what} with refId {ref.ref_id!r} exists already", paths=["initiation.refId"]
        )


def insert(
    store: Store, kind: Kind[T], draft: T, new_key: Callable[[], str], *, now: datetime
) -> T:
    """Store a new resource under a fresh id and index its first step."""
    key = fresh_id(
        store, kind.namespace, new_key, lambda k: replace(draft, id=k).to_value(), now=now
    )
    index_due(store, kind.namespace, key, draft.schedule, now=now)
    return replace(draft, id=key)

"""The timed status steps of v2 resources, the record every one of them shares, and the due index.

A payment, VRP consent or refund moves through statuses on the app clock: its future is a
schedule of `Step`s, applied when due. `Tracked` holds what the three records have in common
(identity, status, times, schedule); `Due` notes when a resource's next
step falls due, so sweeps read only what is due; `RefId` is a refId a member has used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Self

from mockbank.records import Record

NS_DUE = "tokenos.v2_due"  # "<namespace>|<id>" → the earliest step ahead, for the sweeps
NEXT_KEY = "next"  # in NS_DUE: the earliest of them all


@dataclass(frozen=True)
class Step(Record):
    """A status a resource takes at `at` (epoch seconds on the app clock).

    A firm step happens whatever anyone does next, so its webhook can be queued for its moment
    at once; a timeout is not firm (the payer may act first).
    """

    at: float
    status: str
    reason: str
    firm: bool = True


@dataclass(frozen=True)
class Due(Record):
    """When the next step of one resource (or, under `NEXT_KEY`, of any) falls due."""

    at: float

    @staticmethod
    def key(namespace: str, resource_id: str) -> str:
        return f"{namespace}|{resource_id}"


@dataclass(frozen=True, kw_only=True)
class Tracked(Record):
    """What a payment, a VRP consent and a refund share: identity, status, times, schedule."""

    id: str
    member_id: str
    initiation: dict[str, Any]
    status: str
    reason: str
    created: float
    updated: float
    schedule: tuple[Step, ...] = ()

    @classmethod
    def opened(
        cls,
        member_id: str,
        initiation: dict[str, Any],
        status: tuple[str, str],
        at: float,
        schedule: Iterable[Step],
        **own: Any,
    ) -> Self:
        """A new resource: `status` is (status, reason), created at `at`, its id set on insert."""
        return cls(
            id="",
            member_id=member_id,
            initiation=initiation,
            status=status[0],
            reason=status[1],
            created=at,
            updated=at,
            schedule=tuple(schedule),
            **own,
        )

    @property
    def kind(self) -> str:
        """What a status change of this resource reports itself as (webhook event kind)."""
        raise NotImplementedError

    def with_status(self, status: str, reason: str, at: float) -> Self:
        return replace(self, status=status, reason=reason, updated=at)


@dataclass(frozen=True)
class RefId(Record):
    """A refId a member has used: unique per member among its payments, consents or refunds."""

    member_id: str
    ref_id: str
    scope: str = ""  # "" in its own namespace; "vrp-consent" for consents among payment refIds

    @property
    def key(self) -> str:
        prefix = f"{self.scope}:" if self.scope else ""
        return f"{prefix}{self.member_id}\n{self.ref_id}"

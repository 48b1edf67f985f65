"""Injected failures: rules matched by provider and endpoint name.

A rule fires for the next ``count`` matching requests, or with a ``probability``, and answers
with a ``status`` (rendered in the provider's own error format), adds ``latency_ms``, or
``drop``s the connection. Providers name their endpoints once (`mockbank.routing.endpoint`)
and get faults for free.

Rules are records in the app's store, so with a persistent store (``--state``) every process
sharing it sees the same rules and a rule with ``count: 1`` fires once among all of them.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from mockbank.store import MemoryStore, Store

FAULT_NAMESPACE = "mockbank.faults"
FAULT_ID_SEQUENCE = "mockbank.fault-ids"
# Rules never expire, so their records can carry any instant.
_RECORD_TIME = datetime(1970, 1, 1, tzinfo=UTC)
_FIELDS = (
    "provider",
    "endpoint",
    "status",
    "latency_ms",
    "drop",
    "count",
    "probability",
    "message",
)


class FaultSpecError(ValueError):
    """A fault rule that does not make sense; the message says which field."""


class _Spent(Exception):
    """Another request (or process) used the rule's last count first."""


@dataclass(frozen=True)
class Fault:
    id: int
    provider: str
    endpoint: str | None
    action: str
    status: int | None = None
    latency_ms: int = 0
    count: int | None = None
    probability: float | None = None
    fired: int = 0
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_value(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Fault:
        known: dict[str, Any] = {f.name: value.get(f.name) for f in fields(cls)}
        return cls(**known)

    @property
    def key(self) -> str:
        return _key(self.id)


def _key(fault_id: int) -> str:
    return f"{fault_id:012d}"  # zero-padded, so keys sort in the order rules were added


def _number(spec: dict[str, Any], name: str, kind: type, low: float, high: float) -> Any:
    value = spec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultSpecError(f"'{name}' must be a number")
    if kind is int and value != int(value):
        raise FaultSpecError(f"'{name}' must be a whole number")
    if not low <= value <= high:
        raise FaultSpecError(f"'{name}' must be between {low:g} and {high:g}")
    return kind(value)


class Faults:
    def __init__(
        self,
        rng: random.Random,
        providers: set[str] | None = None,
        *,
        store: Store | None = None,
        namespace: str = FAULT_NAMESPACE,
    ) -> None:
        self._rng = rng
        self._providers = providers
        self._store: Store = store if store is not None else MemoryStore()
        self._namespace = namespace

    def add(self, spec: dict[str, Any], endpoints: dict[str, set[str]] | None = None) -> Fault:
        """Validate and add a rule; `endpoints` names each provider's known endpoints."""
        if not isinstance(spec, dict):
            raise FaultSpecError("a fault is a JSON object")
        unknown = set(spec) - set(_FIELDS)
        if unknown:
            raise FaultSpecError(f"unknown field(s): {', '.join(sorted(unknown))}")
        provider = spec.get("provider")
        if not isinstance(provider, str) or not provider:
            raise FaultSpecError("'provider' is required")
        if self._providers is not None and provider not in self._providers:
            raise FaultSpecError(
                f"unknown provider {provider!r}; known: {', '.join(sorted(self._providers))}"
            )
        endpoint = spec.get("endpoint")
        if endpoint is not None:
            known = (endpoints or {}).get(provider)
            if not isinstance(endpoint, str) or (known is not None and endpoint not in known):
                names = ", ".join(sorted(known or ()))
                raise FaultSpecError(
                    f"unknown endpoint {endpoint!r} for {provider}; known: {names}"
                )
        status = _number(spec, "status", int, 100, 599)
        latency = _number(spec, "latency_ms", int, 0, 120_000) or 0
        drop = spec.get("drop", False)
        if not isinstance(drop, bool):
            raise FaultSpecError("'drop' must be true or false")
        chosen = [
            name for name, on in (("status", status), ("latency", latency), ("drop", drop)) if on
        ]
        if len(chosen) != 1 and not (status and latency and not drop):
            raise FaultSpecError(
                "give one of 'status', 'latency_ms' or 'drop': true "
                "('status' with 'latency_ms' delays then fails)"
            )
        action = "drop" if drop else "status" if status else "latency"
        count = _number(spec, "count", int, 1, 1_000_000)
        probability = _number(spec, "probability", float, 0.0, 1.0)
        if count is None and probability is None:
            count = 1
        message = spec.get("message")
        if message is not None and not isinstance(message, str):
            raise FaultSpecError("'message' must be a string")
        fault = Fault(
            self._store.next_sequence(FAULT_ID_SEQUENCE),
            provider,
            endpoint,
            action,
            status,
            latency,
            count,
            probability,
            fired=0,
            message=message,
        )
        self._store.add(self._namespace, fault.key, fault.to_value(), now=_RECORD_TIME)
        return fault

    def match(self, provider: str | None, endpoint: str | None) -> Fault | None:
        """The first rule that fires for this request, consuming one of its count."""
        if provider is None:
            return None
        for fault in self.list():
            if fault.provider != provider:
                continue
            if fault.endpoint is not None and fault.endpoint != endpoint:
                continue
            if fault.probability is not None and self._rng.random() >= fault.probability:
                continue
            fired = self._fire(fault)
            if fired is not None:
                return fired
        return None

    def _fire(self, fault: Fault) -> Fault | None:
        """Count one firing atomically; None when another request used the last count."""

        def spend(value: dict[str, Any]) -> dict[str, Any]:
            current = Fault.from_value(value)
            if current.count is not None and current.count <= 0:
                raise _Spent()
            left = None if current.count is None else current.count - 1
            return replace(current, fired=current.fired + 1, count=left).to_value()

        try:
            value = self._store.update(self._namespace, fault.key, spend, now=_RECORD_TIME)
        except _Spent:
            return None
        if value is None:  # removed meanwhile
            return None
        fired = Fault.from_value(value)
        if fired.count == 0:
            self._store.delete(self._namespace, fault.key)
        return fired

    def outbound_failure(self, provider: str, endpoint: str) -> str | None:
        """For a call a provider makes outward: why this attempt fails, or None to send it.

        Latency is slept here, on the outbox's worker; 'drop' and 'status' fail the attempt
        without touching the network, so the outbox's retries and fallback take over.
        """
        fault = self.match(provider, endpoint)
        if fault is None:
            return None
        if fault.latency_ms:
            time.sleep(fault.latency_ms / 1000)
        if fault.action == "drop":
            return "injected fault: connection dropped"
        if fault.action == "status":
            return f"injected fault: HTTP {fault.status}"
        return None

    def list(self) -> list[Fault]:
        """The live rules, oldest first (a spent rule is gone)."""
        rules = [Fault.from_value(r.value) for r in self._store.records(self._namespace)]
        return sorted((f for f in rules if f.count != 0), key=lambda f: f.id)

    def remove(self, fault_id: int) -> bool:
        return self._store.delete(self._namespace, _key(fault_id))

    def clear(self, provider: str | None = None) -> None:
        for fault in self.list():
            if provider is None or fault.provider == provider:
                self._store.delete(self._namespace, fault.key)

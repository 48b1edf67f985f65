"""Injected failures: rules matched by provider and endpoint name.

A rule fires for the next ``count`` matching requests, or with a ``probability``, and answers
with a ``status`` (rendered in the provider's own error format), adds ``latency_ms``, or
``drop``s the connection. Providers name their endpoints once (`mockbank.routing.endpoint`)
and get faults for free.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

ACTIONS = ("status", "latency", "drop")


class FaultSpecError(ValueError):
    """A fault rule that does not make sense; the message says which field."""


@dataclass
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
    def __init__(self, rng: random.Random, providers: set[str] | None = None) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()
        self._next_id = 1
        self._rng = rng
        self._providers = providers

    def add(self, spec: dict[str, Any], endpoints: dict[str, set[str]] | None = None) -> Fault:
        """Validate and add a rule; `endpoints` names each provider's known endpoints."""
        if not isinstance(spec, dict):
            raise FaultSpecError("a fault is a JSON object")
        unknown = set(spec) - {
            "provider",
            "endpoint",
            "status",
            "latency_ms",
            "drop",
            "count",
            "probability",
            "message",
        }
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
        with self._lock:
            fault = Fault(
                self._next_id,
                provider,
                endpoint,
                action,
                status,
                latency,
                count,
                probability,
                message=message,
            )
            self._next_id += 1
            self._rules.append(fault)
        return fault

    def match(self, provider: str | None, endpoint: str | None) -> Fault | None:
        """The first rule that fires for this request, consuming one of its count."""
        if provider is None:
            return None
        with self._lock:
            for fault in self._rules:
                if fault.provider != provider:
                    continue
                if fault.endpoint is not None and fault.endpoint != endpoint:
                    continue
                if fault.probability is not None and self._rng.random() >= fault.probability:
                    continue
                fault.fired += 1
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._rules.remove(fault)
                return fault
        return None

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
        with self._lock:
            return list(self._rules)

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [f for f in self._rules if f.id != fault_id]
            return len(self._rules) != before

    def clear(self, provider: str | None = None) -> None:
        with self._lock:
            self._rules = [
                f for f in self._rules if provider is not None and f.provider != provider
            ]

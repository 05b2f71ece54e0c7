"""Deterministic fault injection for the sandbox servers.

Each request to a sandbox server (other than its ``/_sandbox/`` control
endpoints) asks the injector whether to misbehave.  Decisions come from a
seeded random generator, so a run with the same seed and the same sequence of
requests sees the same faults.  Each server renders a fault the way its real
counterpart would (a 429 with that network's reset headers, a 502 page, a
dropped connection).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from enum import Enum


class Fault(Enum):
    RATE_LIMIT = "rate_limit"  # 429 with reset headers
    SERVER_ERROR = "server_error"  # 500
    BAD_GATEWAY = "bad_gateway"  # 502
    UNAVAILABLE = "unavailable"  # 503
    SLOW = "slow"  # answer correctly, but late
    DROP = "drop"  # close the connection without an answer


HANGS = ("", "request", "response")  # FaultSettings.hang: never, before the work, after it

DEFAULT_WEIGHTS: dict[Fault, float] = {
    Fault.RATE_LIMIT: 2.0,
    Fault.SERVER_ERROR: 1.0,
    Fault.BAD_GATEWAY: 1.0,
    Fault.UNAVAILABLE: 1.0,
    Fault.SLOW: 1.0,
    Fault.DROP: 1.0,
}


@dataclass
class FaultSettings:
    """How often and how a server misbehaves."""

    rate: float = 0.0  # share of requests that get a fault, 0..1
    weights: dict[Fault, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    slow_seconds: float = 1.5  # real seconds a SLOW answer is held back
    retry_after_seconds: float = 2.0  # virtual seconds until a 429 resets
    unreachable: bool = False  # every connection is dropped at once
    # Every request is accepted and never answered, as a wedged server or proxy does:
    # "request" before any work, "response" after the work is done (a post is made,
    # its answer never sent). Held until this is cleared or the server stops, then dropped.
    hang: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "rate": self.rate,
            "weights": {fault.value: weight for fault, weight in self.weights.items()},
            "slow_seconds": self.slow_seconds,
            "retry_after_seconds": self.retry_after_seconds,
            "unreachable": self.unreachable,
            "hang": self.hang,
        }

    def update(self, values: dict[str, object]) -> None:
        """Apply a partial update, e.g. from the control endpoint's JSON body."""
        if "rate" in values:
            rate = float(values["rate"])  # type: ignore[arg-type]
            if not 0.0 <= rate <= 1.0:
                raise ValueError("rate must be between 0 and 1")
            self.rate = rate
        if "weights" in values:
            raw = values["weights"]
            if not isinstance(raw, dict):
                raise ValueError("weights must be an object of fault name -> weight")
            self.weights = {Fault(name): float(weight) for name, weight in raw.items()}
        for name in ("slow_seconds", "retry_after_seconds"):
            if name in values:
                setattr(self, name, float(values[name]))  # type: ignore[arg-type]
        if "unreachable" in values:
            self.unreachable = bool(values["unreachable"])
        if "hang" in values:
            hang = values["hang"] or ""
            if hang not in HANGS:
                raise ValueError(f"hang must be one of {', '.join(map(repr, HANGS))}")
            self.hang = str(hang)


class FaultInjector:
    """Decides, request by request, whether and how to fail."""

    def __init__(self, seed: int = 0, settings: FaultSettings | None = None):
        self.settings = settings or FaultSettings()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def decide(self) -> Fault | None:
        with self._lock:
            settings = self.settings
            if settings.rate <= 0 or not settings.weights:
                return None
            if self._random.random() >= settings.rate:
                return None
            faults = list(settings.weights)
            weights = [settings.weights[fault] for fault in faults]
            fault = self._random.choices(faults, weights)[0]
            self.counts[fault.value] = self.counts.get(fault.value, 0) + 1
            return fault

    def count(self, name: str) -> None:
        """Count one fault named ``name`` (shown by ``GET /_sandbox/faults``)."""
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + 1


__all__ = ["DEFAULT_WEIGHTS", "HANGS", "Fault", "FaultInjector", "FaultSettings"]

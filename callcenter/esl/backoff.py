"""Reconnect delays: exponential, bounded, with jitter so several controllers do not
reconnect to a restarted FreeSWITCH in the same instant."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        base = min(self.maximum, self.initial * self.factor ** min(max(attempt, 0), 64))
        spread = base * self.jitter
        return max(0.0, min(self.maximum, base + random.uniform(-spread, spread)))

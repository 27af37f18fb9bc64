"""Per-trunk limits: concurrent channels (inbound and outbound together) and calls per
second (a token bucket). Pure: the caller passes the time; ``TrunkLimiter``
(``trunks.limiter``) is the one greenlet that owns a ``Limits`` and answers the engine's
and the dialer's requests.

A trunk's bucket holds at most ``burst`` tokens (1 per call, the CPS rounded up, at least
1) and gains ``max_cps`` tokens a second, so a trunk at 2 CPS takes 2 calls at once after a
quiet second, then one every 0.5 s. Only outbound calls take tokens (a carrier's CPS limit
is on what it is sent); every channel, inbound or outbound, counts against ``max_channels``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from callcenter.trunks.spec import TrunkSpec


class Verdict(StrEnum):
    GRANTED = "granted"
    WAIT = "wait"  # the CPS limit: a token comes in ``wait`` seconds
    FULL = "full"  # the channel limit: waiting helps only when a channel ends


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    wait: float = 0.0  # seconds until a token, for WAIT
    reason: str = ""

    @property
    def granted(self) -> bool:
        return self.verdict is Verdict.GRANTED


GRANTED = Decision(Verdict.GRANTED)


@dataclass(slots=True)
class TokenBucket:
    rate: float  # tokens a second
    burst: float
    tokens: float
    at: float  # when ``tokens`` was counted

    @classmethod
    def full(cls, rate: float, now: float) -> TokenBucket:
        burst = float(max(1, math.ceil(rate)))
        return cls(rate, burst, burst, now)

    def _refill(self, now: float) -> None:
        if now > self.at:
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now

    def wait_for_one(self, now: float) -> float:
        """0 when a token is there, else the seconds until there is one."""
        self._refill(now)
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1.0


@dataclass(slots=True)
class _Trunk:
    channels: set[str] = field(default_factory=set)
    bucket: TokenBucket | None = None


class Limits:
    """Channels held per trunk (by leg UUID: releasing twice is harmless) and each
    trunk's bucket. Limits are read from the ``TrunkSpec`` at every request, so a changed
    trunk applies to the next call; a trunk without limits is never refused."""

    def __init__(self) -> None:
        self._trunks: dict[str, _Trunk] = {}

    def _state(self, trunk: TrunkSpec, now: float) -> _Trunk:
        state = self._trunks.setdefault(trunk.name, _Trunk())
        if trunk.max_cps is None or trunk.max_cps <= 0:
            state.bucket = None
        elif state.bucket is None or state.bucket.rate != trunk.max_cps:
            state.bucket = TokenBucket.full(trunk.max_cps, now)
        return state

    def acquire(self, trunk: TrunkSpec, leg: str, now: float, *, outbound: bool = True) -> Decision:
        """Take a channel (and, outbound, a token) for ``leg``; an inbound leg is always
        counted, even over the limit: it is already there."""
        state = self._state(trunk, now)
        if leg in state.channels:
            return GRANTED
        if outbound:
            limit = trunk.max_channels
            if limit is not None and len(state.channels) >= limit:
                return Decision(Verdict.FULL, reason=f"{trunk.name}: {limit} channel(s) in use")
            if state.bucket is not None:
                wait = state.bucket.wait_for_one(now)
                if wait > 0:
                    return Decision(
                        Verdict.WAIT, wait, f"{trunk.name}: {trunk.max_cps:g} call(s)/s reached"
                    )
                state.bucket.take(now)
        state.channels.add(leg)
        return GRANTED

    def release(self, trunk_name: str, leg: str) -> None:
        state = self._trunks.get(trunk_name)
        if state is not None:
            state.channels.discard(leg)

    def channels(self, trunk_name: str) -> int:
        state = self._trunks.get(trunk_name)
        return len(state.channels) if state is not None else 0

    def in_use(self) -> dict[str, int]:
        return {name: len(state.channels) for name, state in self._trunks.items()}

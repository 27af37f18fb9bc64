"""Durations the pacing model reasons about: handle times, times to answer.

Pure. A ``Durations`` answers ``cdf(t)`` (share of durations <= ``t`` seconds) and ``mean``;
``finishes_within(elapsed, window)`` is the conditional probability that something already
``elapsed`` seconds long ends within the next ``window`` seconds.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

_SQRT2 = math.sqrt(2.0)


class Durations(Protocol):
    """Frozen values (hashable: the pacing rows are memoized on them)."""

    def __hash__(self) -> int: ...

    @property
    def mean(self) -> float: ...

    def cdf(self, t: float) -> float: ...


def finishes_within(durations: Durations, elapsed: float, window: float) -> float:
    """P(D <= elapsed + window | D > elapsed). 0 when nothing observed lasts that long
    (the conservative answer for a dialer: such an agent is not counted on)."""
    before = durations.cdf(elapsed)
    alive = 1.0 - before
    if alive <= 1e-12:
        return 0.0
    return min(1.0, max(0.0, (durations.cdf(elapsed + window) - before) / alive))


@dataclass(frozen=True, slots=True)
class LogNormal:
    """ln(D) ~ Normal(mu, sigma). Handle times are right-skewed and positive; a lognormal
    fits them well enough for a ring window of 15-30 s, where only the body matters."""

    mu: float
    sigma: float

    @classmethod
    def from_mean(cls, mean: float, cv: float) -> LogNormal:
        """The lognormal with this mean and coefficient of variation (sd / mean)."""
        if mean <= 0 or cv <= 0:
            raise ValueError(f"mean and cv must be > 0, got mean={mean}, cv={cv}")
        sigma2 = math.log1p(cv * cv)
        return cls(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))

    @classmethod
    def fit(cls, samples: Iterable[float]) -> LogNormal:
        """Maximum-likelihood fit (mean and sd of the logs); needs two distinct samples > 0."""
        logs = [math.log(s) for s in samples if s > 0]
        if len(logs) < 2:
            raise ValueError(f"a fit needs at least 2 positive samples, got {len(logs)}")
        mu = sum(logs) / len(logs)
        var = sum((x - mu) ** 2 for x in logs) / (len(logs) - 1)
        if var <= 0:
            raise ValueError("a fit needs at least 2 distinct samples")
        return cls(mu, math.sqrt(var))

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma * self.sigma / 2)

    def cdf(self, t: float) -> float:
        if t <= 0:
            return 0.0
        return 0.5 * (1.0 + math.erf((math.log(t) - self.mu) / (self.sigma * _SQRT2)))


@dataclass(frozen=True, slots=True)
class Empirical:
    """The observed durations themselves (a step cdf)."""

    samples: tuple[float, ...]

    @classmethod
    def of(cls, samples: Iterable[float]) -> Empirical:
        kept = tuple(sorted(s for s in samples if s >= 0))
        if not kept:
            raise ValueError("an empirical distribution needs at least one sample >= 0")
        return cls(kept)

    @property
    def mean(self) -> float:
        return sum(self.samples) / len(self.samples)

    def cdf(self, t: float) -> float:
        return bisect.bisect_right(self.samples, t) / len(self.samples)


def quantile(durations: Durations, q: float) -> float:
    """The smallest ``t`` (to 1 ms) with ``cdf(t) >= q``, by bisection on the cdf."""
    if not 0 < q < 1:
        raise ValueError(f"q must be within (0, 1), got {q}")
    lo, hi = 0.0, max(1.0, 2 * durations.mean)
    while durations.cdf(hi) < q:
        lo, hi = hi, hi * 2
    while hi - lo > 1e-3:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if durations.cdf(mid) >= q else (mid, hi)
    return hi

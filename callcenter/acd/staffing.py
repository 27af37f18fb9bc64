"""Staffing: how many agents a queue needs for a service level, by Erlang C or Erlang A.

Pure: numbers in, numbers out (docs/staffing.md has the formulas and how they measured
against the simulator). With ``A = arrivals * AHT`` erlangs offered to ``N`` agents:

- **Erlang C** (nobody abandons; ``acd.ewt.erlang_c`` is ``P(wait)``):
  ``SL(T) = 1 - P(wait) * exp(-(N - A) * T / AHT)``, ``ASA = P(wait) * AHT / (N - A)``,
  occupancy ``A / N``; it needs ``N > A``.
- **Erlang A** (callers abandon after an exponential patience of mean ``patience``): the
  number of callers in the system is a birth-death chain (arrivals ``lambda``; departures
  ``min(n, N) * mu + max(0, n - N) * gamma`` with ``mu = 1/AHT``, ``gamma = 1/patience``).
  An arrival sees its stationary distribution (PASTA); one that finds ``j`` callers queued
  ahead moves up at rate ``N*mu + i*gamma`` with ``i`` ahead and gives up at ``gamma``, so its
  chances and times follow exactly (``_tagged``). Service level counts every offered call:
  answered within ``T`` / offered (abandons are missed calls).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from callcenter.acd.ewt import erlang_c
from callcenter.errors import ConfigError

TARGET = re.compile(r"(\d{1,3}(?:\.\d+)?)/(\d{1,5})")
TAIL = 1e-12  # the chain's states past this share are left out
MAX_AGENTS = 100_000


@dataclass(frozen=True, slots=True)
class Target:
    service_level: float  # 0.8
    seconds: float  # answered within

    @property
    def text(self) -> str:
        return f"{self.service_level * 100:g}/{self.seconds:g}"


@dataclass(frozen=True, slots=True)
class Traffic:
    calls_per_hour: float
    aht: float  # seconds: talk + hold + wrap-up
    patience: float | None = None  # mean seconds before a caller gives up; None: never

    @property
    def erlangs(self) -> float:
        return self.calls_per_hour / 3600 * self.aht


@dataclass(frozen=True, slots=True)
class Forecast:
    agents: int
    service_level: float  # share of offered calls answered within the target's seconds
    asa: float | None  # mean wait of answered calls, seconds (None: the queue grows forever)
    abandon_rate: float  # share of offered calls abandoned
    occupancy: float  # share of the agents' time on calls


@dataclass(frozen=True, slots=True)
class Plan:
    traffic: Traffic
    target: Target
    needed: int
    rows: tuple[Forecast, ...]  # N-1 (when N > 1), N, N+1

    @property
    def model(self) -> str:
        return "Erlang C" if self.traffic.patience is None else "Erlang A"


def parse_target(text: str) -> Target:
    """``80/20``: 80 % of calls answered within 20 seconds."""
    found = TARGET.fullmatch(text.strip())
    if found is None:
        raise ConfigError(f"--target: {text!r} is not PERCENT/SECONDS, e.g. 80/20")
    percent, seconds = float(found[1]), float(found[2])
    if not 0 < percent < 100:
        raise ConfigError(f"--target: {percent:g} % must be above 0 and below 100")
    return Target(percent / 100, seconds)


def forecast(traffic: Traffic, agents: int, seconds: float) -> Forecast:
    if traffic.patience is None:
        return _erlang_c(traffic, agents, seconds)
    return _erlang_a(traffic, agents, seconds)


def plan(traffic: Traffic, target: Target) -> Plan:
    """The fewest agents meeting ``target``, with the figures at one less and one more."""
    _check(traffic)
    needed = _needed(traffic, target)
    counts = [n for n in (needed - 1, needed, needed + 1) if n >= 1]
    rows = tuple(forecast(traffic, n, target.seconds) for n in counts)
    return Plan(traffic, target, needed, rows)


def _check(traffic: Traffic) -> None:
    if traffic.calls_per_hour < 0:
        raise ConfigError(f"calls per hour: {traffic.calls_per_hour:g} is negative")
    if traffic.aht <= 0:
        raise ConfigError(f"AHT: {traffic.aht:g} s must be above 0")
    if traffic.patience is not None and traffic.patience <= 0:
        raise ConfigError(f"patience: {traffic.patience:g} s must be above 0")


def _needed(traffic: Traffic, target: Target) -> int:
    """The smallest N meeting the target: the service level grows with N, so double, then
    halve the gap."""
    if traffic.calls_per_hour == 0:
        return 1

    def meets(agents: int) -> bool:
        return forecast(traffic, agents, target.seconds).service_level >= target.service_level

    low = math.floor(traffic.erlangs) if traffic.patience is None else 0  # fails (or none)
    high = max(1, low + 1)
    while not meets(high):
        low, high = high, high * 2
        if high > MAX_AGENTS:
            raise ConfigError(f"more than {MAX_AGENTS} agents needed: check the calls and AHT")
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if meets(middle) else (middle, high)
    return high


def _erlang_c(traffic: Traffic, agents: int, seconds: float) -> Forecast:
    load = traffic.erlangs
    if load >= agents:
        return Forecast(agents, 0.0, None, 0.0, 1.0)
    waits = erlang_c(agents, load)
    level = 1 - waits * math.exp(-(agents - load) * seconds / traffic.aht)
    asa = waits * traffic.aht / (agents - load)
    return Forecast(agents, level, asa, 0.0, load / agents)


def _erlang_a(traffic: Traffic, agents: int, seconds: float) -> Forecast:
    assert traffic.patience is not None
    rate = traffic.calls_per_hour / 3600
    if rate == 0:
        return Forecast(agents, 1.0, 0.0, 0.0, 0.0)
    service, gamma = agents / traffic.aht, 1 / traffic.patience
    free, queued = _stationary(rate, 1 / traffic.aht, gamma, agents)
    served, wait_sum = free, 0.0
    chance, mean = 1.0, 0.0  # of a caller with ``ahead`` queued before it, built up
    for ahead, share in enumerate(queued):
        moves_up = service + ahead * gamma
        chance *= moves_up / (moves_up + gamma)
        mean += 1 / (moves_up + gamma)
        served += share * chance
        wait_sum += share * chance * mean
    in_time = free + _answered_within(queued, service, gamma, seconds)
    asa = wait_sum / served if served > 0 else None
    occupancy = min(1.0, rate * served * traffic.aht / agents)
    return Forecast(agents, in_time, asa, 1 - served, occupancy)


def _stationary(rate: float, mu: float, gamma: float, agents: int) -> tuple[float, list[float]]:
    """P(an arrival finds a free agent), and P(it finds ``j`` callers queued) for j = 0..."""
    weights, weight, total = [1.0], 1.0, 1.0
    n = 0
    while n <= agents or weight >= TAIL * total:
        n += 1
        weight *= rate / (min(n, agents) * mu + max(0, n - agents) * gamma)
        weights.append(weight)
        total += weight
        if weight > 1e250:  # rescale: the shares are what matter
            weights = [w / 1e250 for w in weights]
            weight, total = weight / 1e250, total / 1e250
    return sum(weights[:agents]) / total, [w / total for w in weights[agents:]]


def _answered_within(queued: list[float], service: float, gamma: float, seconds: float) -> float:
    """P(answered within ``seconds``) of the callers who queue: ``queued[i]`` of them start
    with ``i`` callers ahead. With ``i`` ahead the next event comes at
    ``r_i = service + (i+1)*gamma``: someone ahead leaves (``service + i*gamma``; from 0 ahead,
    an agent takes it) or it gives up (``gamma``). Solved by uniformization: a Poisson clock
    at the highest rate, each tick a step of the chain ``P = I + Q / top``."""
    if not queued:
        return 0.0
    top = service + len(queued) * gamma
    ticks = top * seconds
    positions, answered, total = list(queued), 0.0, 0.0
    log_weight = -ticks
    for tick in range(int(ticks + 10 * math.sqrt(ticks) + 20)):
        if tick:
            log_weight += math.log(ticks) - math.log(tick)
            answered += positions[0] * service / top
            positions = _tick(positions, service, gamma, top)
        total += math.exp(log_weight) * answered
    return min(1.0, total)


def _tick(positions: list[float], service: float, gamma: float, top: float) -> list[float]:
    """One uniformized step: with ``i`` ahead a caller moves up with ``(service + i*gamma) /
    top``, leaves (gives up) with ``gamma / top``, and stays put otherwise."""
    last = len(positions) - 1
    return [
        p * (1 - (service + (i + 1) * gamma) / top)
        + (positions[i + 1] * (service + (i + 1) * gamma) / top if i < last else 0.0)
        for i, p in enumerate(positions)
    ]

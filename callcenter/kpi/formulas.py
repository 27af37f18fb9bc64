"""The call centre's numbers, each with its formula: one place that the live metrics, the
reports, the wallboards and the staffing plan all compute them with.

Pure: it takes counts and sums (or stays and CDRs as values) and returns figures. A ratio
whose denominator is 0 is ``None`` (nothing to measure), never 0 or 1.

A *stay* is one caller's time in one queue, from joining to leaving (``queue_entries``); its
*wait* runs from joining to the agent's answer, or to leaving when no agent answered. Only
closed stays (with an outcome) are counted. A caller who overflows from queue A to queue B
has a stay in each: each queue counts its own stay, the centre counts the call once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

DEFAULT_SHORT_ABANDON_SECONDS = 5
DEFAULT_FCR_HOURS = 24


class SlFormula(StrEnum):
    """The three common definitions of service level (T: the queue's service_level_seconds)."""

    OFFERED = "offered"  # answered within T / (offered - short abandons)
    ANSWERED = "answered"  # answered within T / answered
    ABANDONS_MET = "abandons_met"  # (answered within T + abandoned within T) / offered


SL_FORMULAS: dict[SlFormula, str] = {
    SlFormula.OFFERED: "answered within T / (offered - short abandons)",
    SlFormula.ANSWERED: "answered within T / answered",
    SlFormula.ABANDONS_MET: "(answered within T + abandoned within T) / offered",
}

ANSWERED = "answered"
ABANDONED = "abandoned"
CALLBACK = "callback"
# a stay left for a callback, closed when its callback ends (``callback``: stays stored
# before callbacks kept the place): neither answered nor an exit, whatever the callback became
CALLBACKS = frozenset({CALLBACK, "callback_answered", "callback_failed"})
# the outcomes that send a caller elsewhere: "overflowed by exit reason"
EXITS = ("timeout", "overflow", "full", "no_agent", "exit_key", "transferred")

FORMULAS = {
    "offered": "closed stays in the queue (every outcome)",
    "short_abandoned": "abandoned with wait < the short-abandon threshold (default 5 s)",
    "abandon_rate": "(abandoned - short abandons) / (offered - short abandons)",
    "asa": "sum of waits of answered stays / answered",
    "average_wait": "sum of waits of every closed stay / offered",
    "wait_p90": "90th percentile (nearest rank) of the waits of every closed stay",
    "aht": "(talk + hold + wrap-up) / handled calls (CDRs an agent answered)",
    "occupancy": "handling / (handling + available idle); handling = in_call + wrap_up",
    "fcr": "APPROXIMATE: share of answered callers (number) not calling again within N hours",
}


@dataclass(frozen=True, slots=True)
class Stay:
    queue: str
    call_uuid: str
    outcome: str
    wait: float  # seconds


@dataclass(frozen=True, slots=True)
class QueueTally:
    """What a queue's figures are computed from: counts and sums, additive over intervals."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    answered_within: int = 0
    abandoned_within: int = 0
    callbacks: int = 0
    exits: Mapping[str, int] = field(default_factory=dict)
    answered_wait: float = 0.0  # seconds, summed over answered stays
    wait: float = 0.0  # seconds, summed over every stay
    handled: int = 0  # calls an agent answered, from the CDRs
    talk: float = 0.0
    hold: float = 0.0
    wrapup: float = 0.0

    def __add__(self, other: QueueTally) -> QueueTally:
        exits = Counter(self.exits)
        exits.update(other.exits)
        return QueueTally(
            **{
                name: getattr(self, name) + getattr(other, name)
                for name in _ADDITIVE
            },
            exits=dict(exits),
        )  # fmt: skip


_ADDITIVE = (
    "offered", "answered", "abandoned", "short_abandoned", "answered_within",
    "abandoned_within", "callbacks", "answered_wait", "wait", "handled", "talk", "hold", "wrapup",
)  # fmt: skip


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def is_short_abandon(wait: float, short_seconds: float) -> bool:
    """A caller who hung up within the threshold (strictly less): a wrong number, not a
    caller the centre failed."""
    return wait < short_seconds


def within(wait: float, threshold: float) -> bool:
    """Answered (or abandoned) within T: at exactly T counts as within."""
    return wait <= threshold


def tally_stays(
    stays: Iterable[Stay], threshold: float, short_seconds: float = DEFAULT_SHORT_ABANDON_SECONDS
) -> QueueTally:
    """The counts of one queue's closed stays."""
    counts: Counter[str] = Counter()
    exits: Counter[str] = Counter()
    answered_wait = wait = 0.0
    for stay in stays:
        counts["offered"] += 1
        wait += stay.wait
        if stay.outcome == ANSWERED:
            counts["answered"] += 1
            answered_wait += stay.wait
            counts["answered_within"] += within(stay.wait, threshold)
        elif stay.outcome == ABANDONED:
            counts["abandoned"] += 1
            counts["short_abandoned"] += is_short_abandon(stay.wait, short_seconds)
            counts["abandoned_within"] += within(stay.wait, threshold)
        elif stay.outcome in CALLBACKS:
            counts["callbacks"] += 1
        else:
            exits[stay.outcome] += 1
    return QueueTally(**counts, exits=dict(exits), answered_wait=answered_wait, wait=wait)


def service_level(tally: QueueTally, formula: SlFormula | str) -> float | None:
    formula = SlFormula(formula)
    if formula is SlFormula.OFFERED:
        return ratio(tally.answered_within, tally.offered - tally.short_abandoned)
    if formula is SlFormula.ANSWERED:
        return ratio(tally.answered_within, tally.answered)
    return ratio(tally.answered_within + tally.abandoned_within, tally.offered)


def abandon_rate(tally: QueueTally) -> float | None:
    return ratio(tally.abandoned - tally.short_abandoned, tally.offered - tally.short_abandoned)


def asa(tally: QueueTally) -> float | None:
    """Average speed of answer, seconds."""
    return ratio(tally.answered_wait, tally.answered)


def average_wait(tally: QueueTally) -> float | None:
    return ratio(tally.wait, tally.offered)


def aht(tally: QueueTally) -> float | None:
    """Average handle time, seconds: talk + hold + wrap-up per handled call."""
    return ratio(tally.talk + tally.hold + tally.wrapup, tally.handled)


def occupancy(handling: float, available_idle: float) -> float | None:
    return ratio(handling, handling + available_idle)


def percentile(values: Sequence[float], share: float = 0.9) -> float | None:
    """Nearest rank: the smallest value with at least ``share`` of the values at or below it
    (SQL's ``percentile_disc``)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[_rank(len(ordered), share) - 1]


def _rank(total: int, share: float) -> int:
    """ceil(share x total), at least 1, in integers, as the reports' SQL counts it
    (``running * 10 >= total * 9``): no floating-point rounding between them."""
    part = Fraction(share).limit_denominator(1000)
    return max(1, -(-total * part.numerator // part.denominator))


def percentile_of_counts(counts: Iterable[tuple[float, int]], share: float = 0.9) -> float | None:
    """``percentile`` of values given as (value, how many times)."""
    ordered = sorted(counts)
    total = sum(n for _, n in ordered)
    if total == 0:
        return None
    rank, seen = _rank(total, share), 0
    for value, n in ordered:
        seen += n
        if seen >= rank:
            return value
    return ordered[-1][0]


def first_contact_resolution(
    calls: Iterable[tuple[str, datetime, bool]], hours: float = DEFAULT_FCR_HOURS
) -> float | None:
    """APPROXIMATE first-contact resolution. ``calls``: every inbound call (caller number,
    start, counted), where counted marks the answered calls being measured; the share of
    those whose caller did not call again (any inbound call) within ``hours`` after it.
    Callers with no number are left out. The engine does not know whether a problem was
    solved: a caller who does not call back is taken as served."""
    by_number: dict[str, list[tuple[datetime, bool]]] = {}
    for number, started, counted in calls:
        if number:
            by_number.setdefault(normalize_number(number), []).append((started, counted))
    total = resolved = 0
    window = timedelta(hours=hours)
    for starts in by_number.values():
        starts.sort()
        for (this, counted), after in zip(starts, [*starts[1:], None], strict=True):
            if counted:
                total += 1
                resolved += after is None or after[0] - this > window
    return ratio(resolved, total)


def normalize_number(number: str) -> str:
    """A caller number as compared for FCR: without its leading + (SQL: ``ltrim(n, '+')``)."""
    return number.lstrip("+")

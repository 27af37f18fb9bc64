"""Compliance rules of outbound dialing: abandon rates, the calling window, redials, retries.

Pure: counts and datetimes in, answers out. The defaults (docs/dialer.md, "Compliance") follow
the US Telemarketing Sales Rule (abandoned / live answered <= 3% per campaign over a rolling
30 days; an abandoned number not called again within 72 h here, a common carrier and state
practice) and Ofcom's UK policy (per campaign per 24 hours, with a reasoned estimate of the
answering-machine detection's false positives counted as abandoned). The operator must still
check their own jurisdiction: these are defaults, not legal advice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

US_WINDOW_DAYS = 30
REDIAL_HOLD = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class DayCounts:
    """One campaign's calls of one calendar day (in the campaign's reporting time zone)."""

    day: date
    live: int  # live humans answered (abandoned ones included)
    abandoned: int  # live answers given no agent within the safe harbor
    machine: int = 0  # answers the answering-machine detection called machines


@dataclass(frozen=True, slots=True)
class AbandonRate:
    abandoned: float  # the AMD false positives estimated included
    live: float
    amd_estimated: float = 0.0  # of those, the estimate: machine verdicts x the share given

    @property
    def rate(self) -> float:
        return self.abandoned / self.live if self.live else 0.0


def _rate(days: Iterable[DayCounts], amd_false_positive: float) -> AbandonRate:
    """A machine verdict on a live person hangs up on them: an abandoned live answer. The
    share of machine verdicts that were people is estimated (``amd_false_positive``)."""
    if not 0 <= amd_false_positive <= 1:
        raise ValueError(f"amd_false_positive must be within 0..1, got {amd_false_positive}")
    abandoned = live = estimated = 0.0
    for d in days:
        missed = d.machine * amd_false_positive
        abandoned += d.abandoned + missed
        live += d.live + missed
        estimated += missed
    return AbandonRate(abandoned, live, estimated)


def rolling_rate(
    days: Iterable[DayCounts],
    today: date,
    window_days: int = US_WINDOW_DAYS,
    amd_false_positive: float = 0.0,
) -> AbandonRate:
    """The US measure: abandoned / live answered over the ``window_days`` days ending today."""
    first = today - timedelta(days=window_days - 1)
    return _rate((d for d in days if first <= d.day <= today), amd_false_positive)


def daily_rate(
    days: Iterable[DayCounts], day: date, amd_false_positive: float = 0.0
) -> AbandonRate:
    """The UK measure: one calendar day's abandoned / live answered."""
    return _rate((d for d in days if d.day == day), amd_false_positive)


def worst_rate(days: Iterable[DayCounts], today: date, amd_false_positive: float = 0.0) -> float:
    """The rate the fallback to progressive watches: the worse of the two measures."""
    kept = list(days)
    return max(
        rolling_rate(kept, today, amd_false_positive=amd_false_positive).rate,
        daily_rate(kept, today, amd_false_positive).rate,
    )


@dataclass(frozen=True, slots=True)
class CallingWindow:
    """The hours a lead may be called, in the lead's own local time (default 08:00-21:00)."""

    start: time = time(8, 0)
    end: time = time(21, 0)

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"calling window start {self.start} must be before end {self.end}")

    def allows(self, at: datetime, zone: str) -> bool:
        local = _aware(at).astimezone(ZoneInfo(zone))
        return self.start <= local.time().replace(tzinfo=None) < self.end

    def next_opening(self, at: datetime, zone: str) -> datetime:
        """``at`` if the window is open then, else when it next opens (in ``at``'s zone)."""
        at = _aware(at)
        if self.allows(at, zone):
            return at
        tz = ZoneInfo(zone)
        local = at.astimezone(tz)
        day = (
            local.date()
            if local.time().replace(tzinfo=None) < self.start
            else (local.date() + timedelta(days=1))
        )
        opening = datetime.combine(day, self.start, tzinfo=tz)
        # a start inside a spring-forward gap does not exist: the wall clock after it does
        opening = opening.astimezone(at.tzinfo).astimezone(tz)
        return opening.astimezone(at.tzinfo)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"a datetime with a time zone is needed, got naive {at.isoformat()}")
    return at


class Outcome(StrEnum):
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    MACHINE = "machine"
    FAILED = "failed"
    ABANDONED = "abandoned"
    ANSWERED = "answered"  # a live person reached (an agent, or the flow of a broadcast)


@dataclass(frozen=True, slots=True)
class RetryRule:
    times: int  # retries after this outcome
    after: timedelta


DEFAULT_RETRIES: Mapping[Outcome, RetryRule] = {
    Outcome.BUSY: RetryRule(3, timedelta(minutes=10)),
    Outcome.NO_ANSWER: RetryRule(3, timedelta(hours=2)),
    Outcome.MACHINE: RetryRule(2, timedelta(hours=4)),
    Outcome.FAILED: RetryRule(1, timedelta(minutes=30)),
    Outcome.ABANDONED: RetryRule(1, REDIAL_HOLD),
}


@dataclass(frozen=True, slots=True)
class Attempt:
    at: datetime
    outcome: Outcome


def redial_allowed(
    attempts: Iterable[Attempt], at: datetime, hold: timedelta = REDIAL_HOLD
) -> bool:
    """No call to a number within ``hold`` of a call to it that was abandoned."""
    return all(a.outcome is not Outcome.ABANDONED or _aware(at) - a.at >= hold for a in attempts)


def next_attempt(
    attempts: list[Attempt],
    zone: str,
    rules: Mapping[Outcome, RetryRule] = DEFAULT_RETRIES,
    max_attempts: int = 5,
    window: CallingWindow = CallingWindow(),
    hold: timedelta = REDIAL_HOLD,
) -> datetime | None:
    """When a lead whose calls so far are ``attempts`` (oldest first) may be called again,
    or None when it may not: max attempts reached, or its last outcome's retries used up
    (an outcome without a rule is final: a live answer, a disposition)."""
    if not attempts or len(attempts) >= max_attempts:
        return None
    last = attempts[-1]
    rule = rules.get(last.outcome)
    if rule is None or sum(a.outcome is last.outcome for a in attempts) > rule.times:
        return None
    earliest = last.at + rule.after
    for a in attempts:
        if a.outcome is Outcome.ABANDONED:
            earliest = max(earliest, a.at + hold)
    return window.next_opening(earliest, zone)

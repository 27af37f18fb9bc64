"""Staffing from history: the arrivals and handle times a queue had per interval (from its
CDRs), planned with ``acd.staffing``. Read-only: nothing is changed, nothing audited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from callcenter.acd.staffing import Plan, Target, Traffic, parse_target, plan
from callcenter.errors import ConfigError, NotFound
from callcenter.services import checks
from callcenter.store.database import Database
from callcenter.store.models.acd import Queue
from callcenter.store.models.calls import Cdr
from callcenter.store.repos.reports import ReportRepository
from callcenter.vocabulary import Direction

MAX_INTERVALS = 7 * 24 * 4  # a week of 15-minute intervals


@dataclass(frozen=True, slots=True)
class Handled:
    """One call of the queue: when, its handle time if an agent took it, and whether the
    queue was offered it (not one the centre made for it: a callback, docs/kpis.md)."""

    started_at: datetime
    handle_seconds: float | None  # talk + hold (the CDR's); None: no agent answered
    offered: bool = True


@dataclass(frozen=True, slots=True)
class IntervalLoad:
    start: datetime
    seconds: float
    calls: int
    answered: int
    aht: float | None  # mean handle time of the answered calls

    @property
    def calls_per_hour(self) -> float:
        return self.calls * 3600 / self.seconds


@dataclass(frozen=True, slots=True)
class IntervalPlan:
    load: IntervalLoad
    plan: Plan | None  # None: no call, or no answered call to take an AHT from


def intervals(
    calls: Iterable[Handled],
    start: datetime,
    end: datetime,
    step: timedelta,
    wrapups: Iterable[tuple[datetime, float]] = (),
) -> list[IntervalLoad]:
    """``calls`` counted per ``step`` from ``start`` to ``end``, with the ``wrapups``
    (began at, seconds) after them added to the handle time of the interval each began in;
    every interval is listed, empty ones too."""
    count = int((end - start) / step)
    if count < 1 or count > MAX_INTERVALS:
        raise checks.InvalidArgument(
            "interval", f"{count} intervals of {step} between {start} and {end}: expected 1 to "
            f"{MAX_INTERVALS}"
        )  # fmt: skip
    offered = [0] * count
    handled: list[list[float]] = [[] for _ in range(count)]
    for call in calls:
        index = (call.started_at - start) // step
        if not 0 <= index < count:
            continue
        offered[index] += call.offered
        if call.handle_seconds is not None:
            handled[index].append(call.handle_seconds)
    wrapped = [0.0] * count
    for began, seconds in wrapups:
        index = (began - start) // step
        if 0 <= index < count:
            wrapped[index] += seconds
    return [
        IntervalLoad(
            start + step * i,
            step.total_seconds(),
            offered[i],
            len(handled[i]),
            (sum(handled[i]) + wrapped[i]) / len(handled[i]) if handled[i] else None,
        )
        for i in range(count)
    ]


def plan_intervals(
    loads: Iterable[IntervalLoad], target: Target, patience: float | None
) -> list[IntervalPlan]:
    return [
        IntervalPlan(
            load,
            plan(Traffic(load.calls_per_hour, load.aht, patience), target)
            if load.calls and load.aht
            else None,
        )
        for load in loads
    ]


def history(
    db: Database, queue: str, start: datetime, end: datetime, step: timedelta
) -> list[IntervalLoad]:
    """The queue's offered calls and handle times per interval, from its CDRs (an outbound
    one, a callback, is handled work, not an arrival: ``store.repos.reports.OFFERED``) and
    the wrap-ups after its calls, from the agent status history (a CDR has none)."""
    with db.session_scope() as session:
        if session.scalar(select(Queue.id).where(Queue.name == queue)) is None:
            raise NotFound(f"no queue {queue!r}", code="queue_not_found")
        columns = (Cdr.started_at, Cdr.agent_extension, Cdr.talk_ms, Cdr.hold_ms, Cdr.direction)
        rows = session.execute(
            select(*columns).where(
                Cdr.queue == queue, Cdr.started_at >= start, Cdr.started_at < end
            )
        ).all()
        spans = ReportRepository(session).wrapup_spans(start, min(end, datetime.now(UTC)), queue)
    calls = (
        Handled(
            started,
            (talk + hold) / 1000 if agent and talk > 0 else None,
            direction != Direction.OUTBOUND,
        )
        for started, agent, talk, hold, direction in rows
    )
    return intervals(calls, start, end, step, ((at, ms / 1000) for _, at, ms in spans))


@dataclass(frozen=True, slots=True)
class HistoryPlan:
    queue: str
    target: Target
    patience: float | None
    zone: str
    intervals: list[IntervalPlan]


def plan_history(
    db: Database,
    queue: str,
    *,
    days: int = 7,
    minutes: int = 60,
    target: str = "80/20",
    patience: float | None = None,
    zone: str = "UTC",
    now: datetime | None = None,
) -> HistoryPlan:
    """The last ``days`` whole intervals of ``minutes`` (in time zone ``zone``, up to the
    current interval's start), each planned for ``target``."""
    if not 1 <= days <= 7 or minutes not in (15, 30, 60):
        raise checks.InvalidArgument("days/interval", f"{days} days of {minutes} min: expected "
                                     "1 to 7 days of 15, 30 or 60 minutes")  # fmt: skip
    try:
        goal = parse_target(target)
        where = ZoneInfo(zone)
    except ConfigError as exc:
        raise checks.InvalidArgument("target", exc.message.removeprefix("--target: ")) from None
    except (ZoneInfoNotFoundError, ValueError):
        raise checks.InvalidArgument("tz", f"{checks.shown(zone)} is not a time zone") from None
    step = timedelta(minutes=minutes)
    local = (now or datetime.now(UTC)).astimezone(where)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = midnight + step * ((local - midnight) // step)
    start = end - timedelta(days=days)
    loads = history(db, queue, start.astimezone(UTC), end.astimezone(UTC), step)
    return HistoryPlan(queue, goal, patience, zone, plan_intervals(loads, goal, patience))

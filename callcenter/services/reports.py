"""Reports over a period: per queue, per agent, per interval, from the stored stays, CDRs
and agent status history (docs/kpis.md). Read-only: no audit entry, no change message.

Stays count by when the caller joined, CDRs by when the call started, agent time by the
moments within the window. Intervals are cut in the queue's time zone (else the engine's).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from callcenter.errors import NotFound
from callcenter.kpi import formulas as f
from callcenter.kpi.formulas import QueueTally
from callcenter.services import checks
from callcenter.store.database import Database
from callcenter.store.repos import report_totals
from callcenter.store.repos.report_totals import CENTRE, QueueTotals, StayRow
from callcenter.store.repos.reports import CdrRow, ReportRepository, zone_offsets

MAX_DAYS = 400
ALL = "(all)"  # the centre's row: each call counted once


class Interval(StrEnum):
    MINUTES_15 = "15m"
    HOUR = "hour"
    DAY = "day"


WIDTH = {Interval.MINUTES_15: 900, Interval.HOUR: 3600, Interval.DAY: 86_400}


@dataclass(frozen=True, slots=True)
class Period:
    since: datetime
    until: datetime
    queue: str | None = None
    agent: str | None = None
    by: Interval | None = None  # intervals only (default: hour)
    fcr_hours: float | None = None  # first-contact resolution (approximate) when given


# what each report can be asked for beyond its period: anything else is refused, not ignored
OPTIONS = {
    "queues": ("queue", "fcr_hours"),
    "intervals": ("queue", "by"),
    "agents": ("queue", "agent"),
}


@dataclass(frozen=True, slots=True)
class QueueFigures:
    queue: str
    interval: str | None  # the interval's local start (ISO 8601), None: the whole period
    sl_formula: str
    service_level_seconds: int
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    callbacks: int
    exits: dict[str, int]
    service_level: float | None
    abandon_rate: float | None
    asa_seconds: float | None
    average_wait_seconds: float | None
    wait_p90_seconds: float | None
    handled: int
    aht_seconds: float | None
    occupancy: float | None = None
    fcr_approx: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AgentFigures:
    agent: str
    calls: int
    talk_seconds: float
    hold_seconds: float
    wrapup_seconds: float
    ring_no_answer: int
    logged_in_seconds: float
    available_idle_seconds: float
    handling_seconds: float
    occupancy: float | None
    pause_seconds: dict[str, float] = field(default_factory=dict)  # by reason code

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _QueueSpec:
    formula: str
    threshold: int
    short: int
    zone: ZoneInfo


def now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime, zone: str) -> datetime:
    """A time as given by an operator: without a zone, the engine's (settings.time_zone)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(zone))


def _checked(period: Period, report: str) -> Period:
    for name in ("queue", "agent", "by", "fcr_hours"):
        if getattr(period, name) is not None and name not in OPTIONS[report]:
            takes = " or ".join(OPTIONS[report])
            raise checks.InvalidArgument(
                name, f"not an option of the {report} report (it takes {takes})"
            )
    if period.since.tzinfo is None or period.until.tzinfo is None:
        raise checks.InvalidArgument("from", "give times with a zone (UTC if naive)")
    if period.until <= period.since:
        raise checks.InvalidArgument("to", "must be after the start (--from)")
    if period.until - period.since > timedelta(days=MAX_DAYS):
        raise checks.InvalidArgument("to", f"a report covers at most {MAX_DAYS} days")
    if period.queue is not None:
        checks.queue_name(period.queue)
    if period.agent is not None:
        checks.extension(period.agent, "agent")
    if period.fcr_hours is not None:
        checks.in_range(int(period.fcr_hours), 1, 24 * 30, "fcr_hours")
    return period


SETTLE = report_totals.SETTLE


def _settled() -> datetime:
    """Agent time of a UTC day that ended before this is rolled up once (kpi_agent_days),
    and the stays and calls of a 15-minute interval (kpi_queue_waits, kpi_queue_calls):
    a day whose history is still being written (a spool replay) waits this long."""
    return now() - SETTLE


def _so_far(until: datetime) -> datetime:
    """Agent time is counted up to now, not to a window's end still to come."""
    return min(until, now())


def _specs(repo: ReportRepository, default_zone: str) -> dict[str, _QueueSpec]:
    return {
        name: _QueueSpec(formula, threshold, short, ZoneInfo(zone or default_zone))
        for name, formula, threshold, short, zone in repo.queues()
    }


def _known(queue: str | None, specs: Iterable[str]) -> None:
    if queue is not None and queue not in specs:
        raise NotFound(f"no queue named {queue!r}", code="queue_not_found")


def _known_agent(repo: ReportRepository, agent: str | None) -> None:
    """An agent of the engine, or one that a CDR names (an agent removed since)."""
    if agent is not None and not repo.agent_known(agent):
        raise NotFound(f"no agent {agent!r} (neither an agent nor in a CDR)",
                       code="agent_not_found")  # fmt: skip


def _tally(stays: Iterable[StayRow], cdrs: Sequence[CdrRow],
           wrapup_ms: int = 0) -> tuple[QueueTally, float | None]:  # fmt: skip
    """The queue's counts (short and within T counted in SQL from the waits in
    milliseconds, as ``formulas.is_short_abandon`` and ``formulas.within`` say), and its
    90th percentile wait (nearest rank, waits rounded up to the second; from SQL). Its
    handle time is the CDRs' talk and hold and the wrap-ups after its calls (``wrapup_ms``,
    from the agent status history: a CDR has none)."""
    counts: Counter[str] = Counter()
    exits: Counter[str] = Counter()
    answered_wait = wait = 0.0
    p90: float | None = None
    for row in stays:
        n, seconds, p90 = row.count, row.wait_ms / 1000, float(row.p90)
        counts["offered"] += n
        wait += seconds
        if row.outcome == f.ANSWERED:
            counts["answered"] += n
            answered_wait += seconds
            counts["answered_within"] += row.within
        elif row.outcome == f.ABANDONED:
            counts["abandoned"] += n
            counts["short_abandoned"] += row.short
            counts["abandoned_within"] += row.within
        elif row.outcome in f.CALLBACKS:
            counts["callbacks"] += n
        else:
            exits[row.outcome] += n
    handled = [sum(getattr(c, k) for c in cdrs) for k in ("handled", "talk_ms", "hold_ms")]
    total = QueueTally(**counts, exits=dict(exits), answered_wait=answered_wait, wait=wait,
                       handled=handled[0], talk=handled[1] / 1000, hold=handled[2] / 1000,
                       wrapup=wrapup_ms / 1000)  # fmt: skip
    return total, p90


def figures(queue: str, interval: str | None, spec: _QueueSpec, tally: QueueTally,
            p90: float | None) -> QueueFigures:  # fmt: skip
    return QueueFigures(
        queue=queue, interval=interval, sl_formula=spec.formula,
        service_level_seconds=spec.threshold, offered=tally.offered, answered=tally.answered,
        abandoned=tally.abandoned, short_abandoned=tally.short_abandoned,
        callbacks=tally.callbacks, exits=dict(tally.exits),
        service_level=f.service_level(tally, spec.formula), abandon_rate=f.abandon_rate(tally),
        asa_seconds=f.asa(tally), average_wait_seconds=f.average_wait(tally),
        wait_p90_seconds=p90,
        handled=tally.handled, aht_seconds=f.aht(tally),
    )  # fmt: skip


def queues_report(db: Database, period: Period, default_zone: str = "UTC") -> list[QueueFigures]:
    """One row per queue with traffic (or the one asked), then the centre's row."""
    period = _checked(period, "queues")
    since, until, name = period.since, period.until, period.queue
    with db.session_scope() as session:
        repo = ReportRepository(session)
        specs = _specs(repo, default_zone)
        _known(name, specs)
        split = QueueTotals(repo).split(since, until, _settled())
        waits = _by_queue(QueueTotals(repo).stays(split, name, None, 0, centre=name is None))
        cdrs = _by_queue(report_totals.cdrs(repo, split, name))
        fcr = repo.fcr(since, until, period.fcr_hours, name) if period.fcr_hours else {}
        members = repo.members()
        serving = sorted({x for q in (specs if name is None else [name])
                          for x in members.get(q, ())})  # fmt: skip
        end = _so_far(until)
        times = (
            repo.rolled_times(since, end, serving, _settled()) if serving and end > since else []
        )
        wrapups = repo.wrapups(since, end, name) if end > since else {}
    agents = {a.agent: a for a in _agent_rows({}, times)}
    rows, tallies = [], []
    for queue in sorted((set(waits) | set(cdrs)) & set(specs)):
        tally, p90 = _tally(waits[queue], cdrs[queue], wrapups.get((queue, 0), 0))
        tallies.append(tally)
        served = [agents[x] for x in members.get(queue, ()) if x in agents]
        counted, resolved = fcr.get(queue, (0, 0))
        row = figures(queue, None, specs[queue], tally, p90)
        rows.append(replace(
            row,
            occupancy=f.occupancy(sum(a.handling_seconds for a in served),
                                  sum(a.available_idle_seconds for a in served)),
            fcr_approx=f.ratio(resolved, counted),
        ))  # fmt: skip
    if name is None and rows:
        _, p90 = _tally(waits[CENTRE], [])
        rows.append(_centre(rows, sum(tallies, QueueTally()), p90))
    return rows


R = TypeVar("R", StayRow, CdrRow)


def _by_queue(rows: Iterable[R]) -> dict[str, list[R]]:
    out: dict[str, list[R]] = defaultdict(list)
    for row in rows:
        out[row.queue].append(row)
    return out


def _centre(rows: list[QueueFigures], tally: QueueTally, p90: float | None) -> QueueFigures:
    """The centre: every stay of every queue, with the queues' own formulas (docs/kpis.md):
    each stay within its own queue's T and short by its own S; a caller who overflowed from
    A to B is a stay in each. The service level is by the queues' formula when they share
    one, else ``offered``; T is theirs when they share one, else 0 (each queue's own)."""
    formulas = {r.sl_formula for r in rows}
    thresholds = {r.service_level_seconds for r in rows}
    formula = formulas.pop() if len(formulas) == 1 else str(f.SlFormula.OFFERED)
    spec = _QueueSpec(formula, thresholds.pop() if len(thresholds) == 1 else 0, 0, ZoneInfo("UTC"))
    return figures(ALL, None, spec, tally, p90)


def intervals_report(db: Database, period: Period,
                     default_zone: str = "UTC") -> list[QueueFigures]:  # fmt: skip
    """Per queue and interval (15m, hour, day in the queue's zone), intervals with traffic."""
    period = _checked(period, "intervals")
    width = WIDTH[Interval(period.by or Interval.HOUR)]
    found: dict[str, list[QueueFigures]] = defaultdict(list)
    with db.session_scope() as session:
        repo = ReportRepository(session)
        specs = _specs(repo, default_zone)
        _known(period.queue, specs)
        names = [period.queue] if period.queue is not None else sorted(specs)
        zones: dict[str, list[str]] = defaultdict(list)  # one pass, each queue in its zone
        for queue in names:
            zones[specs[queue].zone.key].append(queue)
        window = [(queues, zone_offsets(ZoneInfo(zone), period.since, period.until))
                  for zone, queues in zones.items()]  # fmt: skip
        split = QueueTotals(repo).split(period.since, period.until, _settled())
        waits = _by_bucket(QueueTotals(repo).stays(split, names, window, width))
        cdrs = _by_bucket(report_totals.cdrs(repo, split, names, window, width))
        end = _so_far(period.until)
        busy = (report_totals.occupancy(repo, period.since, end, _settled(), window, width)
                if end > period.since else {})  # fmt: skip
        wrapups = (repo.wrapups(period.since, end, names, window, width)
                   if end > period.since else {})  # fmt: skip
        for queue in names:
            spec = specs[queue]
            for bucket in sorted(set(waits[queue]) | set(cdrs[queue])):
                tally, p90 = _tally(waits[queue].get(bucket, []), cdrs[queue].get(bucket, []),
                                    wrapups.get((queue, bucket), 0))  # fmt: skip
                start = _interval_start(bucket, width, spec.zone)
                handling, idle = busy.get((queue, bucket), (0, 0))
                row = figures(queue, start, spec, tally, p90)
                found[queue].append(replace(row, occupancy=f.occupancy(handling, idle)))
    return [row for queue in sorted(found) for row in found[queue]]  # each in time order


def _by_bucket(rows: Iterable[R]) -> dict[str, dict[int, list[R]]]:
    """queue -> interval -> rows."""
    out: dict[str, dict[int, list[R]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        out[row.queue][row.bucket].append(row)
    return out


def _interval_start(key: int, width: int, zone: ZoneInfo) -> str:
    """The local start of an interval (``reports.interval_key``), with its own offset: a
    day at its local midnight; an hour or a quarter at the instant it starts, so the hour
    repeated when the clocks go back reads 02:00+02:00, then 02:00+01:00."""
    if width == WIDTH[Interval.DAY]:
        wall = datetime.fromtimestamp(key * width, UTC).replace(tzinfo=None)
        return wall.replace(tzinfo=zone).isoformat()
    return datetime.fromtimestamp(key, UTC).astimezone(zone).isoformat()


def agents_report(db: Database, period: Period) -> list[AgentFigures]:
    """One row per agent with calls or logged-in time in the period (or the one asked; or
    the members of the queue asked, each with all its work: agent time is not split by
    queue)."""
    period = _checked(period, "agents")
    with db.session_scope() as session:
        repo = ReportRepository(session)
        _known_agent(repo, period.agent)
        agents: list[str] | None = None if period.agent is None else [period.agent]
        if period.queue is not None:
            members = repo.members()
            _known(period.queue, [name for name, *_ in repo.queues()])
            serving = members.get(period.queue, [])
            agents = [x for x in serving if agents is None or x in agents]
        if agents == []:
            return []
        calls = repo.agent_calls(period.since, period.until, agents)
        end = _so_far(period.until)
        times = (repo.rolled_times(period.since, end, agents, _settled())
                 if end > period.since else [])  # fmt: skip
    return _agent_rows(calls, times)


Times = list[tuple[str, str, str, str | None, int, int]]


def _agent_rows(calls: dict[str, tuple[int, int, int, int]], times: Times) -> list[AgentFigures]:
    seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    pauses: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for extension, status, state, reason, ms, missed in times:
        kept = seconds[extension]
        kept["rna"] += missed
        if status == "logged_out":
            continue
        kept["logged_in"] += ms / 1000
        if state == "wrap_up":  # after its calls, whichever queue's (a CDR has none)
            kept["wrapup"] += ms / 1000
        if state in ("in_call", "wrap_up"):
            kept["handling"] += ms / 1000
        elif status == "available":
            kept["idle"] += ms / 1000
        if status == "paused":
            pauses[extension][reason or "unspecified"] += ms / 1000
    rows = []
    for extension in sorted(set(calls) | {x for x, s in seconds.items() if s["logged_in"]}):
        count, talk, hold, _ = calls.get(extension, (0, 0, 0, 0))
        kept = seconds[extension]
        rows.append(AgentFigures(
            agent=extension, calls=count, talk_seconds=talk / 1000, hold_seconds=hold / 1000,
            wrapup_seconds=kept["wrapup"], ring_no_answer=int(kept["rna"]),
            logged_in_seconds=kept["logged_in"], available_idle_seconds=kept["idle"],
            handling_seconds=kept["handling"],
            occupancy=f.occupancy(kept["handling"], kept["idle"]),
            pause_seconds={k: round(v, 3) for k, v in sorted(pauses[extension].items())},
        ))  # fmt: skip
    return rows

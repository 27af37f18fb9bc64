"""The reports' SQL: counts and sums over stays, CDRs and agent status history, grouped in
the database (PostgreSQL, or SQLite for the demo), so a month of a centre is read as a few
hundred rows, not a million. ``kpi.formulas`` turns them into figures.

Waits are whole milliseconds (``wait_ms``), so "within T" compares integers. Interval keys are
computed in SQL from the UTC epoch and the zone's offset, given as a CASE over the zone's
transitions inside the window (``interval_key``): a day starts at the queue's local
midnight, DST included; an hour or a quarter is keyed by the instant it starts at.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from callcenter.store.base import UTCDateTime, utcnow
from callcenter.store.direct import Executes
from callcenter.store.models import KpiAgentDay, KpiAgentQuarter, KpiRolledDay
from callcenter.store.statements import advisory_xact_lock

_STEP = timedelta(minutes=15)  # every zone's offsets (and their changes) fall on this grid
DAY = 86_400


# the advisory locks of the rollups: the 15-minute stays and calls ("kpi1", which a late
# write takes too), the days of agent time ("kpi2")
LOCK, DAYS_LOCK = 0x6B706931, 0x6B706932


def _lock(conn: Executes | Session, dialect: str, key: int = LOCK) -> None:
    """A rollup's lock, to the end of the transaction (SQLite: one writer at a time)."""
    if dialect == "postgresql":
        conn.execute(advisory_xact_lock(), {"key": key})


def _day(number: int) -> datetime:
    return datetime.fromtimestamp(number * DAY, UTC)


def _epoch_ms(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        # date_part is double precision (microseconds exact at today's epochs): several
        # times cheaper a row than extract's numeric
        return f"CAST(round(date_part('epoch', {column}) * 1000) AS BIGINT)"
    return f"CAST(round((julianday({column}) - 2440587.5) * 86400000.0) AS INTEGER)"


def _epoch_s(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(floor(date_part('epoch', {column})) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def zone_offsets(zone: ZoneInfo, since: datetime, until: datetime) -> list[tuple[int, int]]:
    """(from epoch second, offset seconds) for each offset the zone has within the window."""
    start = datetime.fromtimestamp(since.timestamp() // 900 * 900, UTC)
    out: list[tuple[int, int]] = []
    moment = start
    while True:
        offset = int((moment.astimezone(zone).utcoffset() or timedelta()).total_seconds())
        if not out or out[-1][1] != offset:
            out.append((int(moment.timestamp()), offset))
        if moment >= until:
            return out
        moment += _STEP


def _offset(dialect: str, column: str, offsets: Sequence[tuple[int, int]],
            seconds: str | None = None) -> tuple[str, str]:  # fmt: skip
    """The UTC epoch second of ``column`` (or ``seconds``: an expression of it to use
    instead) and the zone's offset at that moment, as SQL."""
    epoch = seconds or _epoch_s(dialect, column)
    if len(offsets) == 1:
        return epoch, str(offsets[0][1])
    pairs = zip(offsets[1:], offsets, strict=False)
    arms = " ".join(f"WHEN {epoch} < {start} THEN {prev}" for (start, _), (_, prev) in pairs)
    return epoch, f"CASE {arms} ELSE {offsets[-1][1]} END"


def interval_key(epoch: int, offset: int, width: int) -> int:
    """The key of the local interval holding the UTC epoch second ``epoch`` (the zone's
    offset then: ``offset``): a day is the local date (days since 1970-01-01), which DST
    does not split; a shorter interval is the UTC epoch second it starts at, so the hour
    repeated when the clocks go back is two intervals, not one (as ``_bucket`` in SQL)."""
    if width >= DAY:
        return (epoch + offset) // width
    return epoch - (epoch + offset) % width


# the queues of each time zone, and that zone's offsets over the window
Zones = Sequence[tuple[Sequence[str], Sequence[tuple[int, int]]]]


def _bucket(dialect: str, column: str, queue: str, zones: Zones | None, width: int,
            seconds: str | None = None) -> tuple[str, dict[str, str]]:  # fmt: skip
    """The interval key (``interval_key``) of ``column`` (or of the epoch second
    ``seconds``; 0: no intervals), each queue in its zone; and the queue names it binds."""
    if not zones:
        return "0", {}
    arms: list[str] = []
    values: dict[str, str] = {}
    for n, (names, offsets) in enumerate(zones):
        keys = {f"z{n}_{i}": name for i, name in enumerate(names)}
        values.update(keys)
        epoch, offset = _offset(dialect, column, offsets, seconds)
        local = (f"(({epoch} + {offset}) / {width})" if width >= DAY
                 else f"({epoch} - ({epoch} + {offset}) % {width})")  # fmt: skip
        if n == len(zones) - 1:
            return (f"CASE {' '.join(arms)} ELSE {local} END" if arms else local), values
        listed = ", ".join(f":{k}" for k in keys)
        arms.append(f"WHEN {queue} IN ({listed}) THEN {local}")
    raise AssertionError("unreachable")


def _param(dialect: str, name: str) -> str:
    """A time parameter where PostgreSQL cannot tell its type (a select list, LEAD)."""
    return f"CAST(:{name} AS TIMESTAMP WITH TIME ZONE)" if dialect == "postgresql" else f":{name}"


Queues = str | Sequence[str] | None  # one queue (or agent), some, or every one


def _among(column: str, queues: Queues, otherwise: str) -> tuple[str, dict[str, str]]:
    """``AND column IN (:q0, :q1, ...)`` and its values; no queue given: ``otherwise``."""
    if queues is None:
        return otherwise, {}
    names = [queues] if isinstance(queues, str) else list(queues)
    values = {f"q{i}": name for i, name in enumerate(names)}
    return f"AND {column} IN ({', '.join(':' + k for k in values)})", values


def _typed(sql: str) -> TextClause:
    return text(sql).bindparams(
        bindparam("since", type_=UTCDateTime()), bindparam("until", type_=UTCDateTime())
    )


@dataclass(frozen=True, slots=True)
class CdrRow:
    """The calls of a queue (CDRs: each call once, under its last queue) in an interval."""

    queue: str
    bucket: int
    calls: int  # offered: not the centre's own outbound calls (a callback: CALL_TOTALS)
    abandoned: int  # of those, disposition abandoned
    handled: int  # an agent answered (outbound ones too)
    talk_ms: int
    hold_ms: int
    wrapup_ms: int


# A queue's calls in its CDRs, as ``CdrRow`` reads them: offered and abandoned, then handled
# (an agent answered) with their times. An outbound CDR of a queue is the centre calling out
# for it (a queue's callback, a campaign's call an agent sent to it): work its agents
# handled, not a call the queue was offered (a callback's customer was offered once, in the
# call that asked for it: docs/kpis.md).
OFFERED = "direction <> 'outbound'"
HANDLED = "agent_extension IS NOT NULL"
CALL_TOTALS = f"""SUM(CASE WHEN {OFFERED} THEN 1 ELSE 0 END),
       SUM(CASE WHEN {OFFERED} AND disposition = 'abandoned' THEN 1 ELSE 0 END),
       SUM(CASE WHEN {HANDLED} THEN 1 ELSE 0 END),
       SUM(CASE WHEN {HANDLED} THEN talk_ms ELSE 0 END),
       SUM(CASE WHEN {HANDLED} THEN hold_ms ELSE 0 END),
       SUM(CASE WHEN {HANDLED} THEN wrapup_ms ELSE 0 END)"""

# (extension, status, state, pause reason, milliseconds, ring-no-answers: rows marked missed)
TimeRow = tuple[str, str, str, str | None, int, int]

# a paused row's reason code: its own, else that of the row that began its pause
_WHY = """CASE WHEN spans.status <> 'paused' THEN NULL
               WHEN spans.reason IS NOT NULL THEN spans.reason
               ELSE (SELECT p.reason FROM agent_status_history p
                     WHERE p.agent_id = spans.agent_id AND p.at <= spans.at
                       AND p.status = 'paused' AND p.reason IS NOT NULL
                       AND NOT EXISTS (
                           SELECT 1 FROM agent_status_history q
                           WHERE q.agent_id = p.agent_id AND q.at > p.at
                             AND q.at <= spans.at AND q.status <> 'paused')
                     ORDER BY p.at DESC, p.id DESC LIMIT 1) END"""


# (agent id, handling (else available idle), start ms, end ms)
Span = tuple[int, bool, int, int]
QUARTER_MS = 900_000


def quarter_hours(spans: Iterable[Span]) -> dict[tuple[int, int], tuple[int, int]]:
    """(15-minute UTC bucket, agent id) -> (handling ms, available idle ms) of the spans,
    each cut at the quarter hours it crosses."""
    found: dict[tuple[int, int], list[int]] = {}
    for agent, handling, start, end in spans:
        bucket = start // QUARTER_MS
        while start < end:
            edge = min(end, (bucket + 1) * QUARTER_MS)
            found.setdefault((bucket, agent), [0, 0])[0 if handling else 1] += edge - start
            start, bucket = edge, bucket + 1
    return {key: (h, i) for key, (h, i) in found.items()}


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        if self.dialect == "postgresql":
            # a report is a few big aggregations: JIT compiling them costs more (1 s and
            # more) than it saves, and their sorts fit in memory rather than on disk
            session.execute(text("SET LOCAL jit = off"))
            session.execute(text("SET LOCAL work_mem = '64MB'"))

    def _rows(self, sql: str, **values: Any) -> Sequence[Any]:
        return self.session.execute(_typed(sql), values).all()

    def _grouped(self, sql: str, **values: Any) -> Sequence[Any]:
        statement = _typed(sql) if ":since" in sql else text(sql)
        return self.grouped(statement, values)

    def grouped(self, statement: TextClause, values: dict[str, Any]) -> Sequence[Any]:
        """A GROUP BY of a few thousand groups over a million rows: PostgreSQL guesses a
        group a row and sorts them all; hashing is several times faster."""
        if self.dialect != "postgresql":
            return self.session.execute(statement, values).all()
        self.session.execute(text("SET LOCAL enable_sort = off"))
        try:
            return self.session.execute(statement, values).all()
        finally:
            self.session.execute(text("SET LOCAL enable_sort = on"))

    def cdrs(self, since: datetime, until: datetime, queue: Queues = None,
             zones: Zones | None = None,
             width: int = 0) -> list[CdrRow]:  # fmt: skip
        """Calls started in the window that went through a queue, and their handle times."""
        where, names = _among("queue", queue, "AND queue IS NOT NULL")
        bucket, zoned = _bucket(self.dialect, "started_at", "queue", zones, width)
        sql = f"""
            SELECT queue, {bucket} AS bucket, {CALL_TOTALS}
            FROM cdrs
            WHERE started_at >= :since AND started_at < :until {where}
            GROUP BY 1, 2"""
        found = self._grouped(sql, since=since, until=until, **names, **zoned)
        return [CdrRow(str(r[0]), int(r[1]), *(int(v) for v in r[2:8])) for r in found]

    def wrapups(self, since: datetime, until: datetime, queue: Queues = None,
                zones: Zones | None = None,
                width: int = 0) -> dict[tuple[str, int], int]:  # fmt: skip
        """(queue, interval key) -> milliseconds of wrap-up after the queue's calls, by when
        each wrap-up began (``wrapup_spans``)."""
        spans, names = self._wrapup_sql(queue)
        bucket, zoned = _bucket(self.dialect, "at", "queue", zones, width)
        sql = f"SELECT queue, {bucket}, SUM(ms) FROM ({spans}) w GROUP BY 1, 2"
        found = self._grouped(sql, since=since, until=until, **names, **zoned)
        return {(str(r[0]), int(r[1])): int(r[2]) for r in found}

    def wrapup_spans(self, since: datetime, until: datetime,
                     queue: Queues = None) -> list[tuple[str, datetime, int]]:  # fmt: skip
        """(queue, start, milliseconds) of each span in wrap-up after a queue's call begun in
        the window: a history row in state ``wrap_up``, logged in, with its queue, until the
        agent's next row, even past ``until`` (one still running: to ``until``). The CDR
        cannot hold it: it is written when the call ends, before the wrap-up. A pause in a
        wrap-up is a span of it too; a logout ends it."""
        spans, names = self._wrapup_sql(queue)
        sql = f"SELECT queue, at, ms FROM ({spans}) w ORDER BY at"
        rows = self.session.execute(
            _typed(sql).columns(at=UTCDateTime()), {"since": since, "until": until, **names}
        )
        return [(str(q), at, int(ms)) for q, at, ms in rows]

    def _wrapup_sql(self, queue: Queues) -> tuple[str, dict[str, str]]:
        d = self.dialect
        among, names = _among("h.queue", queue, "AND h.queue IS NOT NULL")
        # whole: filed where it began, not cut at the window's end (then counted nowhere);
        # one still running is counted to ``until``
        till = f"""COALESCE((SELECT MIN(n.at) FROM agent_status_history n
                             WHERE n.agent_id = h.agent_id
                               AND (n.at > h.at OR (n.at = h.at AND n.id > h.id))),
                            {_param(d, "until")})"""
        sql = f"""
            SELECT h.queue AS queue, h.at AS at, {_epoch_ms(d, till)} - {_epoch_ms(d, "h.at")} AS ms
            FROM agent_status_history h
            WHERE h.at >= :since AND h.at < :until AND h.state = 'wrap_up'
              AND h.status <> 'logged_out' {among}"""
        return sql, names

    def agent_known(self, extension: str) -> bool:
        """An agent of the engine, or one a CDR names (removed since)."""
        sql = """SELECT 1 FROM agents WHERE extension = :x
                 UNION ALL SELECT 1 FROM (SELECT 1 FROM cdrs WHERE agent_extension = :x
                                          LIMIT 1) c"""
        return self.session.execute(text(sql), {"x": extension}).first() is not None

    def agent_calls(self, since: datetime, until: datetime,
                    agent: Queues = None) -> dict[str, tuple[int, int, int, int]]:  # fmt: skip
        """extension -> (calls, talk ms, hold ms, wrap-up ms) from the CDRs it answered."""
        where, names = _among("agent_extension", agent, "")
        sql = f"""
            SELECT agent_extension, COUNT(*), SUM(talk_ms), SUM(hold_ms), SUM(wrapup_ms)
            FROM cdrs
            WHERE started_at >= :since AND started_at < :until
              AND agent_extension IS NOT NULL {where}
            GROUP BY agent_extension"""
        found = self._rows(sql, since=since, until=until, **names)
        return {str(r[0]): (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in found}

    def agent_times(self, since: datetime, until: datetime,
                    agent: Queues = None) -> list[TimeRow]:  # fmt: skip
        """(extension, status, state, pause reason, milliseconds, ring-no-answers: the
        rows marked ``missed``) per status/state/reason, from the history clipped to the window.

        One pass over each agent's rows in the window in index order (agent, time); the
        span before an agent's first row in the window is in the status and state of its
        last row before it. A paused row's reason is the one given when its pause began
        (looked up for paused rows without one only: a few a day)."""
        d = self.dialect
        among, names = _among("extension", agent, "")
        who = f"AND agent_id IN (SELECT id FROM agents WHERE 1 = 1 {among})" if among else ""
        until_ = _param(d, "until")
        sql = f"""
            SELECT a.extension, t.status, t.state, t.why, t.ms, t.missed
            FROM (SELECT agent_id, status, state, {_WHY}  AS why,
                         SUM({_epoch_ms(d, "till")} - {_epoch_ms(d, "at")}) AS ms,
                         SUM(CASE WHEN missed THEN 1 ELSE 0 END) AS missed
                  FROM (SELECT agent_id, status, state, reason, at, id, missed,
                               LEAD(at, 1, {until_}) OVER w AS till
                        FROM agent_status_history
                        WHERE at >= :since AND at < :until {who}
                        WINDOW w AS (PARTITION BY agent_id ORDER BY at, id)) spans
                  GROUP BY 1, 2, 3, 4) t
            JOIN agents a ON a.id = t.agent_id"""
        found = self._rows(sql, since=since, until=until, **names)
        out = [(str(r[0]), str(r[1]), str(r[2]), r[3], int(r[4]), int(r[5])) for r in found]
        return out + self._carried(since, until, agent)

    def _carried(self, since: datetime, until: datetime, agent: Queues) -> list[TimeRow]:
        """Each agent's span from ``since`` to its first row in the window (or ``until``),
        in the status and state of its last row before ``since``."""
        d = self.dialect
        who, names = _among("a.extension", agent, "")
        first = f"""COALESCE((SELECT MIN(f.at) FROM agent_status_history f
                              WHERE f.agent_id = a.id AND f.at >= :since AND f.at < :until),
                             {_param(d, "until")})"""
        sql = f"""
            SELECT a.extension, spans.status, spans.state, {_WHY},
                   {_epoch_ms(d, first)} - {_epoch_ms(d, _param(d, "since"))}
            FROM agents a JOIN agent_status_history spans ON spans.id = (
                SELECT h.id FROM agent_status_history h WHERE h.agent_id = a.id
                  AND h.at < :since ORDER BY h.at DESC, h.id DESC LIMIT 1)
            WHERE 1 = 1 {who}"""
        found = self._rows(sql, since=since, until=until, **names)
        return [(str(r[0]), str(r[1]), str(r[2]), r[3], int(r[4]), 0) for r in found]

    def rolled_times(self, since: datetime, until: datetime, agent: Queues = None,
                     settled: datetime | None = None) -> list[TimeRow]:  # fmt: skip
        """``agent_times`` with each whole UTC day of the window that ended before
        ``settled`` read from ``kpi_agent_days`` (rolled up the first time it is asked),
        the rest from the history."""
        first = -(-int(since.timestamp()) // DAY)  # the first whole day
        last = min(int(until.timestamp()), int((settled or until).timestamp())) // DAY
        if last <= first:
            return self.agent_times(since, until, agent)
        self.roll_days(first, last)
        among, names = _among("a.extension", agent, "")
        sql = f"""
            SELECT a.extension, k.status, k.state, k.reason, SUM(k.ms), SUM(k.missed)
            FROM kpi_agent_days k JOIN agents a ON a.id = k.agent_id
            WHERE k.day >= :first AND k.day < :last {among}
            GROUP BY a.extension, k.status, k.state, k.reason"""
        found = self.session.execute(text(sql), {"first": first, "last": last, **names})
        rows = [(str(r[0]), str(r[1]), str(r[2]), r[3] or None, int(r[4]), int(r[5]))
                for r in found]  # fmt: skip
        start, end = _day(first), _day(last)
        if since < start:
            rows += self.agent_times(since, start, agent)
        if end < until:
            rows += self.agent_times(end, until, agent)
        return rows

    def roll_days(self, first: int, last: int) -> None:
        """Roll up the days of [first, last) not rolled up yet, every agent's (a day whose
        mark was deleted: its rows replaced)."""
        _lock(self.session, self.dialect, DAYS_LOCK)
        done = {int(d) for (d,) in self.session.execute(
            text("SELECT day FROM kpi_rolled_days WHERE day >= :a AND day < :b"),
            {"a": first, "b": last})}  # fmt: skip
        agents = {str(e): int(i) for i, e in self.session.execute(
            text("SELECT id, extension FROM agents"))}  # fmt: skip
        for day in sorted(set(range(first, last)) - done):
            rows = self.agent_times(_day(day), _day(day + 1))
            quarter = {"a": day * DAY // 900, "b": (day + 1) * DAY // 900}
            self.session.execute(text("DELETE FROM kpi_agent_days WHERE day = :d"), {"d": day})
            self.session.execute(text("DELETE FROM kpi_agent_quarters "
                                      "WHERE bucket >= :a AND bucket < :b"), quarter)  # fmt: skip
            values = [{"day": day, "agent_id": agents[r[0]], "status": r[1], "state": r[2],
                       "reason": r[3] or "", "ms": r[4], "missed": r[5]}
                      for r in rows if r[0] in agents]  # fmt: skip
            merged: dict[tuple[Any, ...], dict[str, Any]] = {}
            for v in values:  # the carried span and the day's rows can share a key
                key = (v["agent_id"], v["status"], v["state"], v["reason"])
                if key in merged:
                    merged[key]["ms"] += v["ms"]
                    merged[key]["missed"] += v["missed"]
                else:
                    merged[key] = v
            if merged:
                self.session.execute(insert(KpiAgentDay), list(merged.values()))
            quarters = [{"bucket": b, "agent_id": a, "handling_ms": h, "idle_ms": i}
                        for (b, a), (h, i) in quarter_hours(
                            self.occupancy_spans(_day(day), _day(day + 1))).items()]  # fmt: skip
            if quarters:
                self.session.execute(insert(KpiAgentQuarter), quarters)
            self.session.execute(insert(KpiRolledDay), [{"day": day, "rolled_at": utcnow()}])

    def occupancy_spans(self, since: datetime, until: datetime) -> list[Span]:
        """(agent id, handling, start ms, end ms): every agent's spans of the window that
        count for occupancy (``_agent_rows``: logged in and in a call or wrap-up, handling;
        available otherwise, idle), the first carried from its last row before ``since``."""
        d = self.dialect
        until_ = _param(d, "until")
        sql = f"""
            SELECT agent_id, status, state, {_epoch_ms(d, "at")}, {_epoch_ms(d, "till")}
            FROM (SELECT agent_id, status, state, at,
                         LEAD(at, 1, {until_}) OVER (PARTITION BY agent_id ORDER BY at, id) AS till
                  FROM agent_status_history WHERE at >= :since AND at < :until) spans
            WHERE status <> 'logged_out'
              AND (state IN ('in_call', 'wrap_up') OR status = 'available')
            UNION ALL
            SELECT a.id, h.status, h.state, {_epoch_ms(d, _param(d, "since"))},
                   {
            _epoch_ms(
                d,
                f"COALESCE((SELECT MIN(f.at) FROM agent_status_history f "
                f"WHERE f.agent_id = a.id AND f.at >= :since "
                f"AND f.at < :until), {until_})",
            )
        }
            FROM agents a JOIN agent_status_history h ON h.id = (
                SELECT p.id FROM agent_status_history p WHERE p.agent_id = a.id
                  AND p.at < :since ORDER BY p.at DESC, p.id DESC LIMIT 1)
            WHERE h.status <> 'logged_out'
              AND (h.state IN ('in_call', 'wrap_up') OR h.status = 'available')"""
        return [(int(r[0]), str(r[2]) in ("in_call", "wrap_up"), int(r[3]), int(r[4]))
                for r in self._rows(sql, since=since, until=until)]  # fmt: skip

    def members(self) -> dict[str, list[str]]:
        """queue -> the extensions of its members (the agents serving it)."""
        sql = """SELECT q.name, a.extension FROM queue_members m
                 JOIN queues q ON q.id = m.queue_id JOIN agents a ON a.id = m.agent_id"""
        out: dict[str, list[str]] = {}
        for name, extension in self.session.execute(text(sql)).all():
            out.setdefault(str(name), []).append(str(extension))
        return out

    def queues(self) -> list[tuple[str, str, int, int, str | None]]:
        """(name, SL formula, service level seconds, short-abandon seconds, time zone)."""
        sql = """SELECT name, sl_formula, service_level_seconds, short_abandon_seconds,
                        time_zone FROM queues ORDER BY name"""
        return [(str(r[0]), str(r[1]), int(r[2]), int(r[3]), r[4])
                for r in self.session.execute(text(sql)).all()]  # fmt: skip

    def fcr(self, since: datetime, until: datetime, hours: float,
            queue: str | None = None) -> dict[str, tuple[int, int]]:  # fmt: skip
        """APPROXIMATE first-contact resolution per queue: (answered calls, of which the
        caller did not call again within ``hours``), callers matched by number without +."""
        d = self.dialect
        where = "AND queue = :queue" if queue is not None else "AND queue IS NOT NULL"
        gap = f"{_epoch_ms(d, 'nxt')} - {_epoch_ms(d, 'started_at')}"
        sql = f"""
            SELECT queue, COUNT(*),
                   SUM(CASE WHEN nxt IS NULL OR {gap} > :gap_ms THEN 1 ELSE 0 END)
            FROM (SELECT queue, agent_extension, started_at,
                         LEAD(started_at) OVER (PARTITION BY ltrim(from_number, '+')
                                                ORDER BY started_at) AS nxt
                  FROM cdrs
                  WHERE started_at >= :since AND started_at < :later
                    AND direction = 'inbound' AND from_number <> '') c
            WHERE started_at < :until AND agent_extension IS NOT NULL {where}
            GROUP BY queue"""
        statement = _typed(sql).bindparams(bindparam("later", type_=UTCDateTime()))
        values = {"since": since, "until": until, "later": until + timedelta(hours=hours),
                  "gap_ms": int(hours * 3_600_000), "queue": queue}  # fmt: skip
        found = self.session.execute(statement, values).all()
        return {str(r[0]): (int(r[1]), int(r[2])) for r in found}

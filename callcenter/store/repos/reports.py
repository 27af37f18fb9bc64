"""The reports' SQL: counts and sums over stays, CDRs and agent status history, grouped in
the database (PostgreSQL, or SQLite for the demo), so a month of a centre is read as a few
hundred rows, not a million. ``kpi.formulas`` turns them into figures.

Waits are whole milliseconds (``wait_ms``), so "within T" compares integers. Interval keys are
computed in SQL from the UTC epoch plus the zone's offset, given as a CASE over the zone's
transitions inside the window: a day starts at the queue's local midnight, DST included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from callcenter.store.base import UTCDateTime

_STEP = timedelta(minutes=15)  # every zone's offsets (and their changes) fall on this grid


def _epoch_ms(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(round(extract(epoch from {column}) * 1000) AS BIGINT)"
    return f"CAST(round((julianday({column}) - 2440587.5) * 86400000.0) AS INTEGER)"


def _epoch_s(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(floor(extract(epoch from {column})) AS BIGINT)"
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


def _local(dialect: str, column: str, offsets: Sequence[tuple[int, int]]) -> str:
    """The local epoch second of ``column`` (UTC epoch + the zone's offset at that moment)."""
    epoch = _epoch_s(dialect, column)
    if len(offsets) == 1:
        return f"({epoch} + {offsets[0][1]})"
    pairs = zip(offsets[1:], offsets, strict=False)
    arms = " ".join(f"WHEN {epoch} < {start} THEN {prev}" for (start, _), (_, prev) in pairs)
    return f"({epoch} + CASE {arms} ELSE {offsets[-1][1]} END)"


def _bucket(dialect: str, column: str, offsets: Sequence[tuple[int, int]] | None,
            width: int) -> str:  # fmt: skip
    if offsets is None:
        return "0"
    return f"({_local(dialect, column, offsets)} / {width})"


def _param(dialect: str, name: str) -> str:
    """A time parameter where PostgreSQL cannot tell its type (a select list, LEAD)."""
    return f"CAST(:{name} AS TIMESTAMP WITH TIME ZONE)" if dialect == "postgresql" else f":{name}"


def _typed(sql: str) -> TextClause:
    return text(sql).bindparams(
        bindparam("since", type_=UTCDateTime()), bindparam("until", type_=UTCDateTime())
    )


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    queue: str
    bucket: int  # local epoch second / width (0: the whole window)
    outcome: str
    count: int
    wait_ms: int
    short: int  # abandoned (or any) with wait < the queue's short-abandon threshold
    within: int  # wait <= the queue's service_level_seconds


@dataclass(frozen=True, slots=True)
class HandleRow:
    queue: str
    bucket: int
    handled: int
    talk_ms: int
    hold_ms: int
    wrapup_ms: int


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    def _rows(self, sql: str, **values: Any) -> Sequence[Any]:
        return self.session.execute(_typed(sql), values).all()

    def _stays(self, queue: str | None, offsets: Sequence[tuple[int, int]] | None,
               width: int) -> str:  # fmt: skip
        """Closed stays joined in the window with their wait (ms) and interval key."""
        d = self.dialect
        waited = (
            f"{_epoch_ms(d, 'COALESCE(e.answered_at, e.left_at)')} - {_epoch_ms(d, 'e.joined_at')}"
        )
        where = "AND q.name = :queue" if queue is not None else ""
        return f"""
            SELECT q.name AS queue, e.call_uuid, e.outcome, q.service_level_seconds AS sl,
                   q.short_abandon_seconds AS short_s, {waited} AS wait_ms,
                   {_bucket(d, "e.joined_at", offsets, width)} AS bucket
            FROM queue_entries e JOIN queues q ON q.id = e.queue_id
            WHERE e.joined_at >= :since AND e.joined_at < :until
              AND e.outcome IS NOT NULL {where}"""

    def outcomes(self, since: datetime, until: datetime, queue: str | None = None,
                 offsets: Sequence[tuple[int, int]] | None = None,
                 width: int = 0) -> list[OutcomeRow]:  # fmt: skip
        sql = f"""
            SELECT queue, bucket, outcome, COUNT(*), COALESCE(SUM(wait_ms), 0),
                   SUM(CASE WHEN wait_ms < short_s * 1000 THEN 1 ELSE 0 END),
                   SUM(CASE WHEN wait_ms <= sl * 1000 THEN 1 ELSE 0 END)
            FROM ({self._stays(queue, offsets, width)}) s
            GROUP BY queue, bucket, outcome"""
        found = self._rows(sql, since=since, until=until, queue=queue)
        return [OutcomeRow(r[0], int(r[1]), str(r[2]), int(r[3]), int(r[4]), int(r[5]),
                           int(r[6])) for r in found]  # fmt: skip

    def wait_p90(self, since: datetime, until: datetime, queue: str | None = None,
                 offsets: Sequence[tuple[int, int]] | None = None,
                 width: int = 0) -> dict[tuple[str, int], int]:  # fmt: skip
        """(queue, bucket) -> the 90th percentile wait, nearest rank (ms)."""
        sql = f"""
            SELECT queue, bucket, wait_ms FROM (
                SELECT queue, bucket, wait_ms,
                       ROW_NUMBER() OVER (PARTITION BY queue, bucket ORDER BY wait_ms) AS rn,
                       COUNT(*) OVER (PARTITION BY queue, bucket) AS n
                FROM ({self._stays(queue, offsets, width)}) s) ranked
            WHERE rn = (9 * n + 9) / 10"""
        found = self._rows(sql, since=since, until=until, queue=queue)
        return {(str(r[0]), int(r[1])): int(r[2]) for r in found}

    def calls(self, since: datetime, until: datetime,
              queue: str | None = None) -> tuple[int, int, int]:  # fmt: skip
        """The centre's calls, each counted once however many queues it went through:
        offered, answered (in any queue), abandoned (in any queue)."""
        sql = f"""
            SELECT COUNT(DISTINCT call_uuid),
                   COUNT(DISTINCT CASE WHEN outcome = 'answered' THEN call_uuid END),
                   COUNT(DISTINCT CASE WHEN outcome = 'abandoned' THEN call_uuid END)
            FROM ({self._stays(queue, None, 0)}) s"""
        row = self._rows(sql, since=since, until=until, queue=queue)[0]
        return int(row[0]), int(row[1]), int(row[2])

    def handling(self, since: datetime, until: datetime, queue: str | None = None,
                 offsets: Sequence[tuple[int, int]] | None = None,
                 width: int = 0) -> list[HandleRow]:  # fmt: skip
        """Calls an agent answered (CDRs with an agent), by queue, and their handle times."""
        where = "AND queue = :queue" if queue is not None else "AND queue IS NOT NULL"
        sql = f"""
            SELECT queue, {_bucket(self.dialect, "started_at", offsets, width)} AS bucket,
                   COUNT(*), SUM(talk_ms), SUM(hold_ms), SUM(wrapup_ms)
            FROM cdrs
            WHERE started_at >= :since AND started_at < :until
              AND agent_extension IS NOT NULL {where}
            GROUP BY 1, 2"""
        found = self._rows(sql, since=since, until=until, queue=queue)
        return [HandleRow(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]))
                for r in found]  # fmt: skip

    def agent_calls(self, since: datetime, until: datetime,
                    agent: str | None = None) -> dict[str, tuple[int, int, int, int]]:  # fmt: skip
        """extension -> (calls, talk ms, hold ms, wrap-up ms) from the CDRs it answered."""
        where = "AND agent_extension = :agent" if agent is not None else ""
        sql = f"""
            SELECT agent_extension, COUNT(*), SUM(talk_ms), SUM(hold_ms), SUM(wrapup_ms)
            FROM cdrs
            WHERE started_at >= :since AND started_at < :until
              AND agent_extension IS NOT NULL {where}
            GROUP BY agent_extension"""
        found = self._rows(sql, since=since, until=until, agent=agent)
        return {str(r[0]): (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in found}

    def agent_times(self, since: datetime, until: datetime, agent: str | None = None
                    ) -> list[tuple[str, str, str, str | None, int, int]]:  # fmt: skip
        """(extension, status, state, pause reason, milliseconds, offers that rang without
        becoming a call) per status/state/reason, from the history clipped to the window
        (the state at ``since`` is the agent's last change before it)."""
        d = self.dialect
        where = "AND a.extension = :agent" if agent is not None else ""
        since_, until_ = _param(d, "since"), _param(d, "until")
        sql = f"""
            WITH h AS (
                SELECT agent_id, status, state, reason, at, id FROM agent_status_history
                WHERE at >= :since AND at < :until
                UNION ALL
                SELECT agent_id, status, state, reason, {since_}, id FROM agent_status_history
                WHERE id IN (SELECT (SELECT h2.id FROM agent_status_history h2
                                     WHERE h2.agent_id = a.id AND h2.at < :since
                                     ORDER BY h2.at DESC, h2.id DESC LIMIT 1)
                             FROM agents a)
            ), lagged AS (
                SELECT agent_id, status, state, reason, at, id,
                       LAG(status) OVER (PARTITION BY agent_id ORDER BY at, id) AS before,
                       LEAD(state) OVER (PARTITION BY agent_id ORDER BY at, id) AS next_state,
                       LEAD(at, 1, {until_}) OVER (PARTITION BY agent_id ORDER BY at, id) AS till
                FROM h
            ), grouped AS (
                SELECT *, COUNT(CASE WHEN reason IS NOT NULL OR before IS NULL
                                       OR before <> status THEN 1 END)
                          OVER (PARTITION BY agent_id ORDER BY at, id ROWS UNBOUNDED PRECEDING)
                          AS run
                FROM lagged
            ), reasoned AS (
                SELECT *, FIRST_VALUE(reason) OVER (PARTITION BY agent_id, run ORDER BY at, id)
                          AS run_reason
                FROM grouped
            )
            SELECT a.extension, r.status, r.state,
                   CASE WHEN r.status = 'paused' THEN r.run_reason END,
                   SUM({_epoch_ms(d, "r.till")} - {_epoch_ms(d, "r.at")}),
                   SUM(CASE WHEN r.state = 'offering' AND r.next_state IS NOT NULL
                            AND r.next_state <> 'in_call' THEN 1 ELSE 0 END)
            FROM reasoned r JOIN agents a ON a.id = r.agent_id
            WHERE 1 = 1 {where}
            GROUP BY a.extension, r.status, r.state, CASE WHEN r.status = 'paused'
                     THEN r.run_reason END"""
        found = self._rows(sql, since=since, until=until, agent=agent)
        return [(str(r[0]), str(r[1]), str(r[2]), r[3], int(r[4]), int(r[5])) for r in found]

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

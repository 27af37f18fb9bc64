"""Stored per-15-minute totals of each queue's stays and calls, and the reports' reads that
use them: a month is a few hundred thousand summed rows instead of two million raw ones.

``kpi_queue_waits`` and ``kpi_queue_calls`` hold, per 15-minute UTC interval (``bucket``,
epoch seconds // 900) and queue, what ``ReportRepository.waits`` and ``.cdrs`` would read
from the raw rows. Every zone's offset is a multiple of 15 minutes (India's 30, Nepal's 45
included) and changes on that grid, so a local 15-minute, hour or day interval is a whole
number of UTC buckets, and the totals keep no threshold: a wait is kept to the second
(rounded up) with a flag for a whole second, so "wait <= T" and "wait < S" are decided when
the report is read, with the queue's T and S of that moment, as on the raw rows.

Exactly once: a bucket is rolled up in one transaction that writes its totals and its row in
``kpi_rolled_buckets``, under a lock that a late write also takes (PostgreSQL: an advisory
lock; SQLite: one writer at a time). A bucket is rolled up once it ended more than
``SETTLE`` ago and holds no open stay (a caller still waiting, a callback not yet made); a
write that reaches a bucket after that (a spool replayed after a long outage, a call longer
than ``SETTLE``) deletes its row in ``kpi_rolled_buckets`` (``unroll``), and the bucket is
read raw until it is rolled up again, its old totals replaced.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from callcenter.store.base import UTCDateTime, utcnow
from callcenter.store.direct import Executes
from callcenter.store.repos.reports import (
    CALL_TOTALS,
    DAY,
    CdrRow,
    Queues,
    ReportRepository,
    Zones,
    _among,
    _bucket,
    _day,
    _epoch_ms,
    _epoch_s,
    _lock,
    _typed,
    interval_key,
    quarter_hours,
)
from callcenter.store.statements import rolled_buckets_delete

WIDTH = 900  # seconds in a bucket
CENTRE = ""  # ``QueueTotals.stays``: the centre's rows (no queue is named so)
SETTLE = timedelta(hours=2)


def bucket_of(moment: datetime) -> int:
    return int(_aware(moment).timestamp()) // WIDTH


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _at(bucket: int) -> datetime:
    return datetime.fromtimestamp(bucket * WIDTH, UTC)


def _runs(buckets: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted buckets as [first, last) runs of consecutive ones."""
    runs: list[tuple[int, int]] = []
    for b in sorted(buckets):
        if runs and runs[-1][1] == b:
            runs[-1] = (runs[-1][0], b + 1)
        else:
            runs.append((b, b + 1))
    return runs


def unroll(conn: Executes, moments: Iterable[datetime], now: datetime | None = None) -> None:
    """A write of stays joined or calls started at ``moments`` (in the transaction of
    ``conn``): the buckets among them that may be rolled up already are read raw again."""
    horizon = (now or utcnow()) - SETTLE + timedelta(seconds=WIDTH)
    late = sorted({bucket_of(m) for m in moments if _aware(m) < horizon})
    if not late:
        return
    _lock(conn, conn.dialect.name)
    if conn.dialect.name == "postgresql":  # one statement whatever the count
        conn.execute(rolled_buckets_delete(), {"buckets": late})
        return
    names = {f"b{i}": b for i, b in enumerate(late)}
    listed = ", ".join(f":{k}" for k in names)
    conn.execute(text(f"DELETE FROM kpi_rolled_buckets WHERE bucket IN ({listed})"), names)


@dataclass(frozen=True, slots=True)
class StayRow:
    """Closed stays of one queue, interval and outcome: their count, waits summed, short
    (wait < the queue's short_abandon_seconds), within (wait <= its T); and the interval's
    90th percentile wait (every outcome), in seconds."""

    queue: str
    bucket: int  # reports.interval_key (0: the whole window)
    outcome: str
    count: int
    wait_ms: int
    short: int
    within: int
    p90: int


@dataclass(frozen=True, slots=True)
class Split:
    """A report's window: whole buckets [first, last) from the totals, but ``raw`` ones;
    everything else of [since, until) from the raw rows."""

    since: datetime
    until: datetime
    first: int
    last: int
    raw: tuple[int, ...]

    def raw_ranges(self) -> list[tuple[datetime, datetime]]:
        if self.first >= self.last:
            return [(self.since, self.until)]
        ranges = [(_at(a), _at(b)) for a, b in _runs(self.raw)]
        if self.since < _at(self.first):
            ranges.insert(0, (self.since, _at(self.first)))
        if _at(self.last) < self.until:
            ranges.append((_at(self.last), self.until))
        return ranges


class QueueTotals:
    def __init__(self, repo: ReportRepository) -> None:
        self.repo = repo
        self.session = repo.session
        self.dialect = repo.dialect

    def roll(self, first: int, last: int) -> int:
        """Roll up the buckets of [first, last) that are not yet and hold no open stay;
        how many were rolled up."""
        if last <= first:
            return 0
        _lock(self.session, self.dialect)
        done = {int(b) for (b,) in self.session.execute(
            text("SELECT bucket FROM kpi_rolled_buckets WHERE bucket >= :a AND bucket < :b"),
            {"a": first, "b": last})}  # fmt: skip
        todo = set(range(first, last)) - done
        if not todo:
            return 0
        todo -= self._open(first, last)
        for a, b in _runs(todo):
            self._roll_run(a, b)
        return len(todo)

    def _open(self, first: int, last: int) -> set[int]:
        sql = f"""SELECT DISTINCT {_epoch_s(self.dialect, "joined_at")} / {WIDTH}
                  FROM queue_entries
                  WHERE joined_at >= :since AND joined_at < :until AND outcome IS NULL"""
        found = self.session.execute(_typed(sql), {"since": _at(first), "until": _at(last)})
        return {int(b) for (b,) in found}

    def _roll_run(self, first: int, last: int) -> None:
        d = self.dialect
        span = {"since": _at(first), "until": _at(last)}
        for table in ("kpi_queue_waits", "kpi_queue_calls"):  # left by an unrolled bucket
            self.session.execute(
                text(f"DELETE FROM {table} WHERE bucket >= :a AND bucket < :b"),
                {"a": first, "b": last},
            )
        left = _epoch_ms(d, "COALESCE(e.answered_at, e.left_at)")
        self.session.execute(_typed(f"""
            INSERT INTO kpi_queue_waits (bucket, queue_id, outcome, seconds, whole, stays, wait_ms)
            SELECT bucket, queue_id, outcome, (wait_ms + 999) / 1000,
                   CASE WHEN wait_ms % 1000 = 0 THEN 1 ELSE 0 END, COUNT(*), SUM(wait_ms)
            FROM (SELECT e.queue_id, CAST(e.outcome AS VARCHAR(32)) AS outcome,
                         {left} - {_epoch_ms(d, "e.joined_at")} AS wait_ms,
                         {_epoch_s(d, "e.joined_at")} / {WIDTH} AS bucket
                  FROM queue_entries e
                  WHERE e.joined_at >= :since AND e.joined_at < :until
                    AND e.outcome IS NOT NULL) s
            GROUP BY 1, 2, 3, 4, 5"""), span)  # fmt: skip
        self.session.execute(_typed(f"""
            INSERT INTO kpi_queue_calls (bucket, queue, calls, abandoned, handled, talk_ms,
                                         hold_ms, wrapup_ms)
            SELECT {_epoch_s(d, "started_at")} / {WIDTH}, queue, {CALL_TOTALS}
            FROM cdrs
            WHERE started_at >= :since AND started_at < :until AND queue IS NOT NULL
            GROUP BY 1, 2"""), span)  # fmt: skip
        now = utcnow()
        self.session.execute(
            text("INSERT INTO kpi_rolled_buckets (bucket, rolled_at) VALUES (:b, :at)"),
            [{"b": b, "at": now} for b in range(first, last)],
        )

    def split(self, since: datetime, until: datetime, settled: datetime) -> Split:
        """Roll up what the window needs, and say what to read from where."""
        first = -(-int(since.timestamp()) // WIDTH)
        last = int(min(until, settled).timestamp()) // WIDTH
        if last <= first:
            return Split(since, until, 0, 0, ())
        self.roll(first, last)
        done = {int(b) for (b,) in self.session.execute(
            text("SELECT bucket FROM kpi_rolled_buckets WHERE bucket >= :a AND bucket < :b"),
            {"a": first, "b": last})}  # fmt: skip
        return Split(since, until, first, last, tuple(sorted(set(range(first, last)) - done)))

    def stays(self, split: Split, queue: Queues, zones: Zones | None, width: int,
              centre: bool = False) -> list[StayRow]:  # fmt: skip
        """The window's closed stays by queue, interval (``_bucket``) and outcome, with the
        interval's 90th percentile wait: the rolled buckets' totals and the raw rows of the
        rest, summed in one statement (so the percentile is of every wait in the interval).
        ``centre``: one more row per interval, queue ``CENTRE`` with no outcome and no
        stays, holding the 90th percentile of every stay of every queue read.

        Each wait is kept to the second, rounded up (``seconds``), with ``whole`` when it
        was a whole number of seconds: wait <= T is ``seconds <= T`` and wait < S is
        ``seconds - 1 + whole < S``. The percentile is the nearest rank of those seconds:
        the smallest whose running count reaches 9/10 of the interval's stays
        (``formulas.percentile_of_counts``, in integers)."""
        d = self.dialect
        where, names = _among("q.name", queue, "")
        values: dict[str, Any] = dict(names)
        parts = []
        if split.first < split.last:
            bucket, zoned = _bucket(d, "", "q.name", zones, width, seconds=f"k.bucket * {WIDTH}")
            skip, skipped = _except("k.bucket", split.raw)
            values.update(first=split.first, last=split.last, **zoned, **skipped)
            parts.append(f"""
                SELECT q.name AS queue, {bucket} AS lb, k.outcome AS outcome, k.seconds,
                       k.whole, k.stays AS n, k.wait_ms, q.short_abandon_seconds AS short_s,
                       q.service_level_seconds AS sl
                FROM kpi_queue_waits k JOIN queues q ON q.id = k.queue_id
                WHERE k.bucket >= :first AND k.bucket < :last {skip} {where}""")
        ranges = split.raw_ranges()
        times = []
        for i, (a, b) in enumerate(ranges):
            values.update({f"ra{i}": a, f"rb{i}": b})
            times += [f"ra{i}", f"rb{i}"]
        if ranges:
            bucket, zoned = _bucket(d, "e.joined_at", "q.name", zones, width)
            values.update(zoned)
            within = " OR ".join(f"(e.joined_at >= :ra{i} AND e.joined_at < :rb{i})"
                                 for i in range(len(ranges)))  # fmt: skip
            left = _epoch_ms(d, "COALESCE(e.answered_at, e.left_at)")
            parts.append(f"""
                SELECT queue, lb, outcome, (wait_ms + 999) / 1000 AS seconds,
                       CASE WHEN wait_ms % 1000 = 0 THEN 1 ELSE 0 END AS whole, 1 AS n,
                       wait_ms, short_s, sl
                FROM (SELECT q.name AS queue, {bucket} AS lb,
                             CAST(e.outcome AS VARCHAR(32)) AS outcome,
                             {left} - {_epoch_ms(d, "e.joined_at")} AS wait_ms,
                             q.short_abandon_seconds AS short_s, q.service_level_seconds AS sl
                      FROM queue_entries e JOIN queues q ON q.id = e.queue_id
                      WHERE ({within}) AND e.outcome IS NOT NULL {where}) r""")
        everyone = overall = ""
        if centre:
            everyone = f"UNION ALL SELECT '{CENTRE}', lb, seconds, SUM(n) FROM s GROUP BY 2, 3"
            overall = (
                f"UNION ALL SELECT queue, lb, '', 0, 0, 0, 0, p90 FROM p WHERE queue = '{CENTRE}'"
            )
        sql = f"""
            WITH s AS ({" UNION ALL ".join(parts)}),
            o AS (SELECT queue, lb, outcome, SUM(n) AS n, SUM(wait_ms) AS wait_ms,
                         SUM(CASE WHEN seconds - 1 + whole < short_s THEN n ELSE 0 END) AS short,
                         SUM(CASE WHEN seconds <= sl THEN n ELSE 0 END) AS within
                  FROM s GROUP BY queue, lb, outcome),
            h AS (SELECT queue, lb, seconds, SUM(n) AS n FROM s GROUP BY queue, lb, seconds
                  {everyone}),
            p AS (SELECT queue, lb, MIN(seconds) AS p90
                  FROM (SELECT queue, lb, seconds,
                               SUM(n) OVER (PARTITION BY queue, lb ORDER BY seconds
                                            ROWS UNBOUNDED PRECEDING) AS running,
                               SUM(n) OVER (PARTITION BY queue, lb) AS total
                        FROM h) c
                  WHERE running * 10 >= total * 9
                  GROUP BY queue, lb)
            SELECT o.queue, o.lb, o.outcome, o.n, o.wait_ms, o.short, o.within, p.p90
            FROM o JOIN p ON p.queue = o.queue AND p.lb = o.lb
            {overall}"""
        statement = text(sql).bindparams(*(bindparam(t, type_=UTCDateTime()) for t in times))
        found = self.repo.grouped(statement, values)
        return [StayRow(str(r[0]), int(r[1]), str(r[2]), *(int(v) for v in r[3:8]))
                for r in found]  # fmt: skip

    def cdrs(self, split: Split, queue: Queues, zones: Zones | None,
             width: int) -> list[CdrRow]:  # fmt: skip
        """The calls of the split's rolled buckets, grouped as ``ReportRepository.cdrs``."""
        if split.first >= split.last:
            return []
        where, names = _among("queue", queue, "")
        bucket, zoned = _bucket(self.dialect, "", "queue", zones, width,
                                seconds=f"bucket * {WIDTH}")  # fmt: skip
        skip, skipped = _except("bucket", split.raw)
        sql = f"""
            SELECT queue, {bucket}, SUM(calls), SUM(abandoned), SUM(handled), SUM(talk_ms),
                   SUM(hold_ms), SUM(wrapup_ms)
            FROM kpi_queue_calls
            WHERE bucket >= :first AND bucket < :last {skip} {where}
            GROUP BY 1, 2"""
        found = self.repo.grouped(text(sql), {"first": split.first, "last": split.last,
                                              **names, **zoned, **skipped})  # fmt: skip
        return [CdrRow(str(r[0]), int(r[1]), *(int(v) for v in r[2:8])) for r in found]


def _except(column: str, buckets: Collection[int]) -> tuple[str, dict[str, int]]:
    if not buckets:
        return "", {}
    values = {f"x{i}": b for i, b in enumerate(buckets)}
    return f"AND {column} NOT IN ({', '.join(':' + k for k in values)})", values


def occupancy(repo: ReportRepository, since: datetime, until: datetime, settled: datetime,
              zones: Zones, width: int) -> dict[tuple[str, int], tuple[int, int]]:  # fmt: skip
    """(queue, interval) -> (handling ms, available idle ms) of the queue's members within
    [since, until): each whole UTC day that ended before ``settled`` from
    ``kpi_agent_quarters`` (rolled up with the day), the rest from the status history, cut
    at the quarter hours; each queue's intervals in its zone (``zones``)."""
    first = -(-int(since.timestamp()) // DAY)
    last = int(min(until, settled).timestamp()) // DAY
    names = [name for queues, _ in zones for name in queues]
    found: dict[tuple[str, int], list[int]] = {}
    edges = [(since, until)]
    if last > first:
        repo.roll_days(first, last)
        edges = [(since, _day(first)), (_day(last), until)]
        bucket, zoned = _bucket(repo.dialect, "", "q.name", zones, width,
                                seconds=f"k.bucket * {WIDTH}")  # fmt: skip
        among, listed = _among("q.name", names, "")
        sql = f"""
            SELECT q.name, {bucket}, SUM(k.handling_ms), SUM(k.idle_ms)
            FROM kpi_agent_quarters k JOIN queue_members m ON m.agent_id = k.agent_id
                 JOIN queues q ON q.id = m.queue_id
            WHERE k.bucket >= :first AND k.bucket < :last {among}
            GROUP BY 1, 2"""
        values = {"first": first * DAY // WIDTH, "last": last * DAY // WIDTH, **zoned, **listed}
        for name, interval, handling, idle in repo.grouped(text(sql), values):
            found[(str(name), int(interval))] = [int(handling), int(idle)]
    serving: dict[int, list[str]] = {}
    for name, agent in repo.session.execute(
        text("SELECT q.name, m.agent_id FROM queue_members m JOIN queues q ON q.id = m.queue_id")
    ):
        if name in names:
            serving.setdefault(int(agent), []).append(str(name))  # fmt: skip
    offsets = {name: table for queues, table in zones for name in queues}
    for a, b in edges:
        if a >= b:
            continue
        for (quarter, agent), (handling, idle) in quarter_hours(repo.occupancy_spans(a, b)).items():
            for name in serving.get(agent, ()):
                key = (name, _interval(quarter * WIDTH, offsets[name], width))
                kept = found.setdefault(key, [0, 0])
                kept[0] += handling
                kept[1] += idle
    return {key: (h, i) for key, (h, i) in found.items()}


def _interval(epoch: int, offsets: Sequence[tuple[int, int]], width: int) -> int:
    """``reports._bucket`` in Python: the interval key of a UTC epoch second."""
    offset = offsets[0][1]
    for start, value in offsets[1:]:
        if epoch >= start:
            offset = value
    return interval_key(epoch, offset, width)


def cdrs(repo: ReportRepository, split: Split, queue: Queues = None,
         zones: Zones | None = None, width: int = 0) -> list[CdrRow]:  # fmt: skip
    """The window's calls: the rolled buckets' totals and the rest raw."""
    rows = QueueTotals(repo).cdrs(split, queue, zones, width)
    for a, b in split.raw_ranges():
        rows += repo.cdrs(a, b, queue, zones, width)
    return rows


def roll_settled(session: Session, since: datetime | None = None, now: datetime | None = None,
                 *, agent_days: bool = False) -> int:  # fmt: skip
    """Roll up every settled bucket from ``since`` (None: the first stay or call stored;
    the migration's backfill), as the engine does every few minutes over the last days,
    with the whole settled UTC days of agent time when ``agent_days``; how many buckets
    were rolled up."""
    if since is None:
        found = session.execute(text(
            "SELECT MIN(m) FROM (SELECT MIN(joined_at) AS m FROM queue_entries "
            "UNION ALL SELECT MIN(started_at) FROM cdrs WHERE queue IS NOT NULL) x"
        )).scalar()  # fmt: skip
        if found is None:
            return 0
        since = found if isinstance(found, datetime) else datetime.fromisoformat(str(found))
        since = _aware(since)
    settled = (now or utcnow()) - SETTLE
    repo = ReportRepository(session)
    if agent_days:
        repo.roll_days(int(since.timestamp()) // DAY, int(settled.timestamp()) // DAY)
    return QueueTotals(repo).roll(bucket_of(since), bucket_of(settled))


def first_unrolled(session: Session, since: datetime, now: datetime) -> datetime | None:
    """Where the first bucket or UTC day ``roll_settled`` would roll from ``since`` to
    ``now`` that is not rolled up yet begins; None when there is none (most rounds: nothing
    settled since the last one). Read without the rollup's locks: a bucket a late write
    unrolls meanwhile waits for the next round."""
    settled = now - SETTLE
    d0, d1 = int(since.timestamp()) // DAY, int(settled.timestamp()) // DAY
    b0, b1 = bucket_of(since), bucket_of(settled)
    days = {
        int(d)
        for (d,) in session.execute(
            text("SELECT day FROM kpi_rolled_days WHERE day >= :a AND day < :b"), {"a": d0, "b": d1}
        )
    }
    bucket = session.execute(text(
        "SELECT MIN(b) FROM (SELECT :b0 AS b WHERE NOT EXISTS"
        " (SELECT 1 FROM kpi_rolled_buckets WHERE bucket = :b0)"
        " UNION ALL SELECT r.bucket + 1 FROM kpi_rolled_buckets r"
        " WHERE r.bucket >= :b0 AND r.bucket < :b1 - 1 AND NOT EXISTS"
        " (SELECT 1 FROM kpi_rolled_buckets n WHERE n.bucket = r.bucket + 1)) x"),
        {"b0": b0, "b1": b1}).scalar() if b1 > b0 else None  # fmt: skip
    missing = [_day(d) for d in range(d0, d1) if d not in days][:1]
    if bucket is not None:
        missing.append(_at(int(bucket)))
    return min(missing, default=None)


__all__: Sequence[str] = (
    "QueueTotals", "Split", "StayRow", "cdrs", "first_unrolled", "roll_settled", "unroll",
)  # fmt: skip

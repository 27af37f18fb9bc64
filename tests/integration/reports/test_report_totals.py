"""Reports read from the stored 15-minute totals give what the raw rows give: on the fixed
tables (PostgreSQL and SQLite) and on three generated days of a centre whose queues are in
zones 30 and 45 minutes off the hour; a late write sends its interval back to the raw rows
until it is rolled up again, and an open stay keeps its interval raw."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from callcenter.kpi.rollup import KpiRollup
from callcenter.services import reports
from callcenter.services.reports import ALL, Interval, Period
from callcenter.store import migrate
from callcenter.store.database import Database
from callcenter.store.records import CdrRecord
from callcenter.store.repos.report_totals import (
    QueueTotals,
    bucket_of,
    first_unrolled,
    roll_settled,
    unroll,
)
from callcenter.store.repos.reports import ReportRepository
from callcenter.store.spool import Spool
from callcenter.store.writer import DurableWriter, WriterMetrics
from callcenter.vocabulary import Direction, Disposition, HangupBy
from tests.benchmarks.gen_reports import generate
from tests.conftest import migrated_database
from tests.integration.reports import fixed

START = datetime(2026, 11, 2, tzinfo=UTC)


def every_report(database: Database, period: Period) -> list[list[dict[str, Any]]]:
    found = [[r.as_dict() for r in reports.queues_report(database, period)]]
    for by in Interval:
        p = Period(period.since, period.until, queue=period.queue, by=by)
        found.append([r.as_dict() for r in reports.intervals_report(database, p)])
    return found


def raw_and_totals(database: Database, period: Period,
                   monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:  # fmt: skip
    with monkeypatch.context() as patched:  # nothing settled: every row read raw
        patched.setattr(reports, "_settled", lambda: datetime(2000, 1, 1, tzinfo=UTC))
        raw = every_report(database, period)
    return raw, every_report(database, period)


def rolled(database: Database) -> int:
    with database.session_scope() as session:
        return int(session.execute(text("SELECT COUNT(*) FROM kpi_rolled_buckets")).scalar_one())


def _same(raw: Any, totals: Any) -> None:
    assert len(raw) == len(totals)
    for a, b in zip(raw, totals, strict=True):
        assert len(a) == len(b) and a and b
        for x, y in zip(a, b, strict=True):
            assert x.keys() == y.keys()
            for key, value in x.items():
                exact = not isinstance(value, float)
                assert value == (y[key] if exact else pytest.approx(y[key])), (key, x, y)


@pytest.mark.parametrize("hours", [1, 6])
def test_totals_give_the_raw_figures_on_the_fixed_tables(
    loaded: Database, hours: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # T0 is 22:10 UTC: the window's edges fall inside 15-minute intervals, read raw
    period = Period(fixed.T0 - timedelta(hours=hours), fixed.T0 + timedelta(hours=hours))
    raw, totals = raw_and_totals(loaded, period, monkeypatch)
    assert rolled(loaded) >= 4 * 2 * hours - 1
    _same(raw, totals)
    assert totals[0][0]["service_level"] == pytest.approx(fixed.SL["offered"])


@pytest.fixture
def centre() -> Iterator[Database]:
    with migrated_database("cc_totals") as url:
        generate(url, calls=6000, agents=8, queues=4, days=3, start=START, seed=5)
        database = Database(url)
        with database.session_scope() as session:
            for name, zone in (("q1", "Asia/Kolkata"), ("q2", "Asia/Kathmandu")):
                session.execute(text("UPDATE queues SET time_zone = :z WHERE name = :n"),
                                {"z": zone, "n": name})  # fmt: skip
            session.execute(text("UPDATE queues SET sl_formula = 'answered', "
                                 "service_level_seconds = 30 WHERE name = 'q3'"))  # fmt: skip
        yield database
        database.dispose()


def test_totals_give_the_raw_figures_of_a_generated_centre(
    centre: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = Period(START, START + timedelta(days=3))
    odd = Period(
        START + timedelta(hours=7, minutes=7), START + timedelta(days=2, hours=5, minutes=53)
    )
    for period in (whole, odd, Period(whole.since, whole.until, queue="q2")):
        raw, totals = raw_and_totals(centre, period, monkeypatch)
        _same(raw, totals)
    assert rolled(centre) == 3 * 96
    # T and S are applied when a report is read, not when the totals were summed
    with centre.session_scope() as session:
        session.execute(text("UPDATE queues SET service_level_seconds = 7, "
                             "short_abandon_seconds = 13"))  # fmt: skip
    raw, totals = raw_and_totals(centre, whole, monkeypatch)
    _same(raw, totals)


def test_a_late_write_is_read_raw_until_rolled_up_again(
    centre: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    period = Period(START, START + timedelta(days=1))
    before = reports.queues_report(centre, period)
    late = START + timedelta(hours=9, minutes=3)
    with centre.held_transaction() as conn:  # as the writer does with a spool replay
        conn.execute(text(
            "INSERT INTO queue_entries (queue_id, call_uuid, priority, position_at_join, "
            "joined_at, offers, left_at, outcome, callback_attempts) SELECT id, 'late-1', 0, "
            "1, :at, 0, :left, 'abandoned', 0 FROM queues WHERE name = 'q0'"),
            {"at": late, "left": late + timedelta(seconds=42)})  # fmt: skip
        unroll(conn, [late])
    assert rolled(centre) == 96 - 1
    after = {r.queue: r for r in reports.queues_report(centre, period)}
    q0 = next(r for r in before if r.queue == "q0")
    assert (after["q0"].offered, after["q0"].abandoned) == (q0.offered + 1, q0.abandoned + 1)
    raw, totals = raw_and_totals(centre, period, monkeypatch)  # rolls it up again
    _same(raw, totals)
    assert rolled(centre) == 96
    with centre.session_scope() as session:
        assert roll_settled(session) > 0  # the empty intervals since, up to 2 h ago
        assert roll_settled(session) == 0  # each interval once


def test_an_open_stay_keeps_its_interval_raw(
    centre: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = START + timedelta(hours=10, minutes=20)
    with centre.session_scope() as session:
        session.execute(text(
            "INSERT INTO queue_entries (queue_id, call_uuid, priority, position_at_join, "
            "joined_at, offers, callback_attempts, callback_number) SELECT id, 'cb-1', 0, 1, "
            ":at, 0, 0, '5550100' FROM queues WHERE name = 'q1'"), {"at": waiting})  # fmt: skip
        days = QueueTotals(ReportRepository(session))
        assert days.roll(bucket_of(START), bucket_of(START) + 3 * 96) == 3 * 96 - 1
        kept = session.execute(text("SELECT COUNT(*) FROM kpi_rolled_buckets WHERE bucket = :b"),
                               {"b": bucket_of(waiting)}).scalar_one()  # fmt: skip
    assert kept == 0  # the callback still to be made: its interval is not summed yet
    raw, totals = raw_and_totals(centre, Period(START, START + timedelta(days=1)), monkeypatch)
    _same(raw, totals)


def test_the_writer_sends_a_late_calls_interval_back_to_the_raw_rows(
    centre: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    period = Period(START, START + timedelta(days=1))
    before = {r.queue: r for r in reports.queues_report(centre, period)}
    started = START + timedelta(hours=11, minutes=50)  # a call replayed from the spool
    late = CdrRecord(
        call_uuid="late-cdr", direction=Direction.INBOUND, node="fs1", started_at=started,
        ended_at=started + timedelta(minutes=3), hangup_cause="NORMAL_CLEARING",
        hangup_by=HangupBy.CALLER, disposition=Disposition.ANSWERED, queue="q3",
        agent_extension="1001", talk_ms=150_000, hold_ms=0, wrapup_ms=10_000,
    )  # fmt: skip
    writer = DurableWriter(centre, Spool(tmp_path / "spool"), WriterMetrics(CollectorRegistry()))
    writer.start()
    try:
        writer.write_cdr(late)
        assert writer.flush()
    finally:
        writer.stop()
    assert rolled(centre) == 96 - 1
    after = {r.queue: r for r in reports.queues_report(centre, period)}
    assert after[ALL].handled == before[ALL].handled + 1  # a CDR without a stay: not offered
    assert after["q3"].handled == before["q3"].handled + 1
    raw, totals = raw_and_totals(centre, period, monkeypatch)
    _same(raw, totals)


def test_an_intervals_occupancy_is_its_members_as_in_the_queue_report(centre: Database) -> None:
    # one local day of q1 (Asia/Kolkata, UTC+5:30): one interval, the queue report's window
    day = Period(START - timedelta(hours=5, minutes=30), START + timedelta(hours=18, minutes=30),
                 queue="q1")  # fmt: skip
    (whole,) = reports.queues_report(centre, day)
    by_day = reports.intervals_report(centre, Period(day.since, day.until, queue="q1",
                                                     by=Interval.DAY))  # fmt: skip
    assert [r.interval for r in by_day] == ["2026-11-02T00:00:00+05:30"]
    assert whole.occupancy is not None and 0 < whole.occupancy < 1
    assert by_day[0].occupancy == pytest.approx(whole.occupancy)
    hours = reports.intervals_report(centre, Period(day.since, day.until, queue="q1"))
    assert all(r.occupancy is not None for r in hours)


def count_sessions(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sessions opened, per ``KpiRollup.roll_once`` round from now on."""
    counts: list[int] = []
    scope, roll_once = database.session_scope, KpiRollup.roll_once

    def counted(*args: Any, **kwargs: Any) -> Any:
        counts[-1] += 1
        return scope(*args, **kwargs)

    def one_round(self: KpiRollup, *args: Any, **kwargs: Any) -> int:
        counts.append(0)
        return roll_once(self, *args, **kwargs)

    monkeypatch.setattr(database, "session_scope", counted)
    monkeypatch.setattr(KpiRollup, "roll_once", one_round)
    return counts


def test_the_engines_rollup_sums_the_last_settled_days_once(
    centre: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rollup = KpiRollup(centre)
    now = START + timedelta(days=3, hours=2)  # three days ago, all settled
    assert rollup.roll_once(now) == 7 * 96 - 8  # from 7 days before now to 2 hours before
    sessions = count_sessions(centre, monkeypatch)
    assert rollup.roll_once(now) == 0
    assert sessions == [1]  # nothing left: one read, not a transaction a day
    later = now + timedelta(minutes=30)  # two more buckets settled, and a late write's
    with centre.engine.begin() as conn:
        unroll(conn, [START + timedelta(days=2, hours=5)], now=later)
    assert rollup.roll_once(later) == 3
    assert rollup.roll_once(later) == 0 and sessions == [1, 2, 1]  # from the unrolled one on
    with centre.session_scope() as session:
        days = session.execute(text("SELECT COUNT(*) FROM kpi_rolled_days")).scalar_one()
        quarters = session.execute(text("SELECT COUNT(*) FROM kpi_agent_quarters")).scalar_one()
    assert days == 7 and quarters > 0  # the lookback's days of agent time too


def test_the_first_interval_left_to_roll_up_is_found_on_sqlite(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'rollup.db'}")
    migrate.upgrade(database)
    now = START + timedelta(days=8)
    since = now - timedelta(days=7)
    with database.session_scope() as session:
        assert first_unrolled(session, since, now) == since  # nothing rolled up yet
    assert KpiRollup(database).roll_once(now) == 7 * 96 - 8
    gap = bucket_of(START + timedelta(days=3, hours=10))
    with database.session_scope() as session:
        assert first_unrolled(session, since, now) is None
        session.execute(text("DELETE FROM kpi_rolled_buckets WHERE bucket IN (:a, :b)"),
                        {"a": gap, "b": gap + 5})  # fmt: skip
        assert first_unrolled(session, since, now) == datetime.fromtimestamp(gap * 900, UTC)
    assert KpiRollup(database).roll_once(now) == 2
    database.dispose()

"""The reports' SQL on fixed tables (tests/integration/reports/fixed.py): every figure as
worked out by hand, on PostgreSQL and on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.errors import NotFound
from callcenter.services import reports
from callcenter.services.reports import ALL, Interval, Period
from callcenter.store.database import Database
from tests.integration.reports import fixed


def _close(found: dict[str, object], expected: dict[str, object]) -> None:
    for key, value in expected.items():
        got = found[key]
        if isinstance(value, float):
            assert got == pytest.approx(value), key
        else:
            assert got == value, key


def test_queue_report_gives_every_figure_of_the_fixed_tables(loaded: Database) -> None:
    rows = reports.queues_report(loaded, Period(fixed.SINCE, fixed.UNTIL, fcr_hours=24))
    by_queue = {r.queue: r.as_dict() for r in rows}
    assert list(by_queue) == ["sales", "support", ALL]
    _close(by_queue["sales"], fixed.EXPECTED_SALES)
    assert by_queue["sales"]["service_level"] == pytest.approx(fixed.SL["offered"])
    # the caller who overflowed from sales to support is one call of the centre, answered;
    # c8's callback is handled work, not a tenth call offered
    centre = by_queue[ALL]
    assert (centre["offered"], centre["answered"], centre["abandoned"]) == (9, 5, 4)
    assert by_queue["support"]["offered"] == 1


@pytest.mark.parametrize("formula", ["answered", "abandons_met"])
def test_each_service_level_definition(db: Database, formula: str) -> None:
    fixed.load(db, formula)
    rows = reports.queues_report(db, Period(fixed.SINCE, fixed.UNTIL, queue="sales"))
    assert [r.queue for r in rows] == ["sales"]
    assert rows[0].sl_formula == formula
    assert rows[0].service_level == pytest.approx(fixed.SL[formula])


def test_agent_report_from_cdrs_and_status_history(loaded: Database) -> None:
    rows = reports.agents_report(loaded, Period(fixed.SINCE, fixed.UNTIL))
    by_agent = {r.agent: r.as_dict() for r in rows}
    assert set(by_agent) == {"1001", "1002"}
    _close(by_agent["1001"], fixed.EXPECTED_1001)
    assert by_agent["1002"]["calls"] == 1 and by_agent["1002"]["logged_in_seconds"] == 0
    one = reports.agents_report(loaded, Period(fixed.SINCE, fixed.UNTIL, agent="1002"))
    assert [r.agent for r in one] == ["1002"]


def test_intervals_are_cut_in_the_queue_time_zone(loaded: Database) -> None:
    period = Period(fixed.SINCE, fixed.UNTIL, queue="sales", by=Interval.DAY)
    rows = reports.intervals_report(loaded, period)
    # 22:10 UTC on 1 July is 00:10 on 2 July in Paris: the day starts at Paris midnight
    assert [r.interval for r in rows] == ["2026-07-02T00:00:00+02:00"]
    _close(rows[0].as_dict(), {k: fixed.EXPECTED_SALES[k] for k in
                               ("offered", "answered", "short_abandoned", "wait_p90_seconds",
                                "aht_seconds", "asa_seconds")})  # fmt: skip
    support = reports.intervals_report(loaded, Period(fixed.SINCE, fixed.UNTIL, by=Interval.HOUR))
    assert [(r.queue, r.interval) for r in support if r.queue == "support"] == [
        ("support", "2026-07-01T22:00:00+00:00")  # no zone of its own: the engine's (UTC)
    ]


def test_bad_periods_and_unknown_queues_are_refused(db: Database) -> None:
    fixed.load(db)
    with pytest.raises(NotFound, match="no queue named 'nope'"):
        reports.queues_report(db, Period(fixed.SINCE, fixed.UNTIL, queue="nope"))
    with pytest.raises(Exception, match="to: must be after the start"):
        reports.queues_report(db, Period(fixed.UNTIL, fixed.SINCE))


def test_queue_kpi_settings_are_checked_where_they_are_given(db: Database) -> None:
    from callcenter.services import queues
    from callcenter.services.actor import Actor
    from callcenter.services.queues import QueueSettings

    root = Actor("cli", "test")
    with pytest.raises(Exception, match="time_zone: 'Mars/Base': not an IANA time zone"):
        queues.add(db, root, "q1", QueueSettings(time_zone="Mars/Base"))
    with pytest.raises(Exception, match="sl_formula: 'best': one of offered, answered"):
        queues.add(db, root, "q1", QueueSettings(sl_formula="best"))
    with pytest.raises(Exception, match="short_abandon_seconds"):
        queues.add(db, root, "q1", QueueSettings(short_abandon_seconds=-1))
    made = queues.add(db, root, "q1", QueueSettings(sl_formula="abandons_met",
                                                     time_zone="Europe/Paris"))  # fmt: skip
    assert (made.sl_formula, made.short_abandon_seconds, made.time_zone) == (
        "abandons_met", 5, "Europe/Paris")  # fmt: skip
    cleared = queues.update(db, root, "q1", QueueSettings(time_zone=""))
    assert cleared.time_zone is None


def test_a_period_still_to_come_has_no_agent_time(loaded: Database) -> None:
    later = Period(datetime.now(UTC) + timedelta(days=1), datetime.now(UTC) + timedelta(days=2))
    assert reports.agents_report(loaded, later) == []
    assert reports.queues_report(loaded, later) == []


def test_whole_settled_days_of_agent_time_are_rolled_up_once(loaded: Database) -> None:
    from sqlalchemy import text

    from callcenter.store.repos.reports import ReportRepository

    days = Period(fixed.T0 - timedelta(days=2), fixed.T0 + timedelta(days=2))
    with loaded.session_scope() as session:
        raw = sorted(ReportRepository(session).agent_times(days.since, days.until))
    first = {r.agent: r.as_dict() for r in reports.agents_report(loaded, days)}  # rolls up
    again = {r.agent: r.as_dict() for r in reports.agents_report(loaded, days)}  # reads them
    assert first == again
    _close(first["1001"], fixed.EXPECTED_1001)
    with loaded.session_scope() as session:
        rolled = session.execute(text("SELECT COUNT(*) FROM kpi_rolled_days")).scalar()
        rows = session.execute(text("SELECT SUM(ms) FROM kpi_agent_days")).scalar()
    assert rolled == 3  # 30 June, 1 and 2 July: whole days inside the period, all settled
    # 1001's time from its first row (T0 - 2 h) to the end of 2 July, in every status
    end_of_days = datetime(2026, 7, 3, tzinfo=UTC)
    assert int(rows) == (end_of_days - (fixed.T0 - timedelta(hours=2))).total_seconds() * 1000
    assert (
        sum(r[4] for r in raw)
        == (days.until - fixed.T0 + timedelta(hours=2)).total_seconds() * 1000
    )

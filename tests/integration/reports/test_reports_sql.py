"""The reports' SQL on fixed tables (tests/integration/reports/fixed.py): every figure as
worked out by hand, on PostgreSQL and on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from callcenter.errors import NotFound
from callcenter.services import reports
from callcenter.services.checks import InvalidArgument
from callcenter.services.reports import ALL, Interval, Period
from callcenter.store.database import Database
from callcenter.store.models import Agent, AgentStatusChange, Cdr, Queue, QueueMember
from callcenter.vocabulary import AgentState, AgentStatus, Direction, Disposition, HangupBy
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
    assert by_queue["support"]["offered"] == 1
    # the centre: the queues' formulas over every stay of both (the caller who overflowed
    # from sales to support is a stay in each); c8's callback is handled work, not offered
    _close(by_queue[ALL], EXPECTED_CENTRE)


EXPECTED_CENTRE = {
    "offered": 10, "answered": 4, "abandoned": 4, "short_abandoned": 1, "callbacks": 1,
    "exits": {"overflow": 1}, "sl_formula": "offered", "service_level_seconds": 0,
    "service_level": 3 / 9,  # sales 2 within 20 s, support 1 within 30 s; 10 - 1 short
    "abandon_rate": 3 / 9, "asa_seconds": 60 / 4, "average_wait_seconds": 218 / 10,
    "wait_p90_seconds": 40.0,  # waits 3 5 5 10 20 20 25 30 40 60: the 9th
    "handled": 5, "aht_seconds": (700 + 60) / 5,
}  # fmt: skip


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


@pytest.mark.parametrize(
    ("report", "given"),
    [
        (reports.queues_report, {"agent": "1001"}),
        (reports.queues_report, {"by": Interval.DAY}),
        (reports.intervals_report, {"agent": "1001"}),
        (reports.intervals_report, {"fcr_hours": 24}),
        (reports.agents_report, {"by": Interval.DAY}),
        (reports.agents_report, {"fcr_hours": 24}),
    ],
)
def test_a_report_refuses_an_option_it_would_ignore(
    db: Database, report: Any, given: dict[str, Any]
) -> None:
    [name] = given
    with pytest.raises(InvalidArgument, match=f"{name}: not an option of the"):
        report(db, Period(fixed.SINCE, fixed.UNTIL, **given))


def test_the_agent_report_of_a_queue_keeps_its_members(loaded: Database) -> None:
    def agents(**given: Any) -> list[str]:
        return [r.agent for r in reports.agents_report(loaded, Period(fixed.SINCE, fixed.UNTIL,
                                                                      **given))]  # fmt: skip

    assert agents(queue="support") == ["1002"]
    assert agents(queue="sales") == ["1001"]
    assert agents(queue="sales", agent="1002") == []
    with pytest.raises(NotFound, match="no queue named 'nosuch'"):
        agents(queue="nosuch")
    with pytest.raises(NotFound, match="no agent '1999'"):
        agents(agent="1999")


def test_wrap_up_comes_from_the_status_history_paused_or_cut_by_a_logout(
    either: Database,
) -> None:
    t0 = fixed.T0
    with either.session_scope() as s:
        agent, queue = Agent(extension="1009"), Queue(name="wq")
        s.add_all([agent, queue])
        s.flush()
        s.add_all([QueueMember(queue_id=queue.id, agent_id=agent.id)])
        s.add(Cdr(call_uuid="w1", direction=Direction.INBOUND, node="fs1", queue="wq",
                  agent_extension="1009", started_at=t0, answered_at=t0,
                  ended_at=t0 + timedelta(seconds=100), talk_ms=100_000,
                  hangup_cause="NORMAL_CLEARING", hangup_by=HangupBy.CALLER,
                  disposition=Disposition.ANSWERED))  # fmt: skip
        # (seconds after T0, status, state, queue)
        for after, status, state, which in [
            (0, "available", "in_call", None),
            (100, "available", "wrap_up", "wq"),  # 10 s available
            (110, "paused", "wrap_up", "wq"),  # 5 s paused, still the queue's wrap-up
            (115, "logged_out", "wrap_up", "wq"),  # cut by the logout: not counted
            (200, "available", "idle", None),
            (300, "available", "wrap_up", None),  # after a call of no queue: 7 s
            (307, "available", "idle", None),
        ]:
            s.add(AgentStatusChange(agent_id=agent.id, status=AgentStatus(status),
                                    state=AgentState(state), queue=which,
                                    at=t0 + timedelta(seconds=after)))  # fmt: skip
    [row] = reports.agents_report(either, Period(fixed.SINCE, fixed.UNTIL, agent="1009"))
    assert row.wrapup_seconds == pytest.approx(22.0)
    [by_queue] = reports.queues_report(either, Period(fixed.SINCE, fixed.UNTIL, queue="wq"))
    [by_hour] = reports.intervals_report(either, Period(fixed.SINCE, fixed.UNTIL, queue="wq"))
    assert by_queue.aht_seconds == by_hour.aht_seconds == pytest.approx(115.0)


def test_a_queues_wrap_up_running_past_the_period_is_counted_whole_where_it_began(
    either: Database,
) -> None:
    # a wrap-up is filed under the period it began in, but was cut at the period's end:
    # 23:59-00:02 gave a minute to the first day and nothing to the next
    end = fixed.UNTIL
    with either.session_scope() as s:
        agent, queue = Agent(extension="1010"), Queue(name="wq2")
        s.add_all([agent, queue])
        s.flush()
        s.add(Cdr(call_uuid="w2", direction=Direction.INBOUND, node="fs1", queue="wq2",
                  agent_extension="1010", started_at=end - timedelta(seconds=160),
                  answered_at=end - timedelta(seconds=160), ended_at=end - timedelta(seconds=60),
                  talk_ms=100_000, hangup_cause="NORMAL_CLEARING", hangup_by=HangupBy.CALLER,
                  disposition=Disposition.ANSWERED))  # fmt: skip
        for after, state, which in [(-160, "in_call", None), (-60, "wrap_up", "wq2"),
                                    (120, "idle", None)]:  # fmt: skip
            s.add(AgentStatusChange(agent_id=agent.id, status=AgentStatus.AVAILABLE,
                                    state=AgentState(state), queue=which,
                                    at=end + timedelta(seconds=after)))  # fmt: skip
    [by_queue] = reports.queues_report(either, Period(fixed.SINCE, end, queue="wq2"))
    assert by_queue.aht_seconds == pytest.approx(100.0 + 180.0)

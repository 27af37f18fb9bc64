"""What the agents' time and calls add up to, as the CDRs, the status history, the reports
and the live metrics tell it: the simulator over real TCP, the dispatcher, PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import gevent
import pytest

from callcenter.app import App
from callcenter.services import agents, reports, staffing
from callcenter.services.actor import Actor
from callcenter.services.checks import InvalidArgument
from callcenter.services.reports import Period
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.repos import AgentRepository
from callcenter.vocabulary import AgentState, AgentStatus, Disposition, RouteTarget
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import add_route, apps_sent, settled, wait_cdr
from tests.integration.calls.test_queues import originates, setup_queue
from tests.support import until


def test_a_direct_extension_call_to_an_agent_on_a_call_is_busy(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.register_agent("2765", AgentBehaviour(answer_delay=0.2))
    setup_queue(app, "direct65", {"2765": {}}, did="8765")
    add_route(app, "8766", RouteTarget.EXTENSION, "2765")
    first = sim.place_call("8766", "15550765", behaviour=CallerBehaviour(talk_time=600.0))
    board = app.dispatcher.board
    until(lambda: board.agents["2765"].state is AgentState.IN_CALL)
    # top's caller column: the caller the agent talks to
    shown = until(lambda: app.wallboard_tally.on_call("2765"))
    assert shown.number == "15550765"
    until(lambda: not app.wallboard_tally.on_call("2765").ringing)  # type: ignore[union-attr]
    second = sim.place_call("8766", "15550766")
    cdr = wait_cdr(app, second)
    assert (cdr.disposition, cdr.hangup_cause) == (Disposition.BUSY, "USER_BUSY")
    assert cdr.agent_extension is None
    assert any(line.startswith("playback ") and "480" in line for line in apps_sent(sim, second))
    assert len([line for line in originates(sim) if "user/2765@" in line]) == 1
    sim.hangup(first)
    wait_cdr(app, first)
    until(lambda: settled(app))


def _history(app: App, extension: str) -> list[str]:
    app.writer.flush()
    with app.database.session_scope() as session:
        return [str(h.state) for h in reversed(AgentRepository(session).history(extension))]


def test_a_caller_leaving_while_the_agent_rings_is_not_the_agents_miss(
    sim: Simulator, engine: EngineFactory
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    app = engine()
    sim.register_agent("2767", AgentBehaviour(answer_delay=6.0))  # rings 5 s (sim time)
    setup_queue(app, "gone67", {"2767": {}}, did="8767", agent_ring_seconds=10)
    board = app.dispatcher.board
    for n in range(2):
        uuid = sim.place_call("8767", f"1555076{n}", behaviour=CallerBehaviour(patience=2.0))
        cdr = wait_cdr(app, uuid)
        assert cdr.disposition is Disposition.ABANDONED
        until(lambda: board.agents["2767"].state is AgentState.IDLE and not board.tickets)
    until(lambda: settled(app))
    # one offer each, no phantom second offer after the caller left
    assert _history(app, "2767").count("offering") == 2
    live = {row["agent"]: row for row in app.kpis.agent_figures()}["2767"]
    assert live["ring_no_answer"] == 0
    period = Period(start, datetime.now(UTC) + timedelta(hours=1), agent="2767")
    [row] = reports.agents_report(app.database, period)
    assert row.ring_no_answer == 0


def test_a_phone_that_rings_out_is_the_agents_miss_in_metrics_and_reports(
    sim: Simulator, engine: EngineFactory
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    app = engine()
    sim.register_agent("2768", AgentBehaviour(no_answer=True))
    setup_queue(app, "miss68", {"2768": {}}, did="8768", agent_ring_seconds=1)
    uuid = sim.place_call("8768", "15550768", behaviour=CallerBehaviour(patience=30.0))
    until(lambda: app.kpis.agent_figures() and any(
        r["agent"] == "2768" and r["ring_no_answer"] >= 1 for r in app.kpis.agent_figures()
    ), timeout=10)  # fmt: skip
    sim.hangup(uuid)
    wait_cdr(app, uuid)
    until(lambda: settled(app))
    live = {row["agent"]: row for row in app.kpis.agent_figures()}["2768"]
    period = Period(start, datetime.now(UTC) + timedelta(hours=1), agent="2768")
    [row] = reports.agents_report(app.database, period)
    assert row.ring_no_answer == live["ring_no_answer"] >= 1


def test_an_operators_pause_counts_under_its_reason_at_once(
    sim: Simulator, engine: EngineFactory
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    app = engine()
    sim.register_agent("2764", AgentBehaviour())
    setup_queue(app, "pause64", {"2764": {}}, did="8764")
    app.kpis.agent_figures()  # a scrape: the agent is known, available
    agents.pause(app.database, Actor("cli", "test"), "2764", "lunch")
    board = app.dispatcher.board
    until(lambda: board.agents["2764"].status is AgentStatus.PAUSED)
    paused = until(lambda: app.kpis.agents["2764"].status == "paused")  # no scrape needed
    assert paused and app.kpis.agents["2764"].reason == "lunch"
    gevent.sleep(0.5)
    live = {row["agent"]: row for row in app.kpis.agent_figures()}["2764"]
    assert set(live["pause_seconds"]) == {"lunch"} and live["pause_seconds"]["lunch"] >= 0.5
    period = Period(start, datetime.now(UTC) + timedelta(hours=1), agent="2764")
    [row] = reports.agents_report(app.database, period)
    assert set(row.pause_seconds) == {"lunch"}


def test_a_pause_reason_is_stored_by_its_configured_name_and_an_unknown_one_refused(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine(CALLCENTER_PAUSE_REASONS="1=break,2=lunch,7=coaching")
    setup_queue(app, "pause63", {"2763": {}}, did="8763")
    who = Actor("cli", "test")
    with pytest.raises(InvalidArgument) as refused:
        agents.pause(app.database, who, "2763", "nap", reasons=app.api.env.pause_reasons)
    assert "1=break, 2=lunch, 7=coaching" in str(refused.value)
    assert agents.pause(app.database, who, "2763", "7",
                        reasons=app.api.env.pause_reasons).pause_reason == "coaching"  # fmt: skip


def _wrapups(app: App, extension: str) -> list[tuple[str, str, str | None]]:
    """The agent's history rows in wrap-up: (status, state, queue)."""
    app.writer.flush()
    with app.database.session_scope() as session:
        rows = reversed(AgentRepository(session).history(extension))
        return [(str(h.status), str(h.state), h.queue) for h in rows if h.state == "wrap_up"]


def _queue_call(sim: Simulator, app: App, extension: str, wrapup: int) -> None:
    """Agent ``extension`` alone in queue wrap<last two digits>, with ``wrapup`` seconds of
    wrap-up, takes a call of 1 s; back when its wrap-up has begun."""
    n = extension[-2:]
    sim.register_agent(extension, AgentBehaviour())
    setup_queue(app, f"wrap{n}", {extension: {}}, did=f"97{n}")
    agents.update(app.database, Actor("cli", "test"), extension, wrapup_seconds=wrapup)
    until(lambda: app.dispatcher.board.agents[extension].wrapup_seconds == wrapup)
    uuid = sim.place_call(f"97{n}", f"155507{n}", behaviour=CallerBehaviour(talk_time=1.0))
    assert wait_cdr(app, uuid).wrapup_ms == 0  # written when the call ends: before its wrap-up
    until(lambda: app.dispatcher.board.agents[extension].state is AgentState.WRAP_UP)


def test_wrap_up_counts_for_the_agent_and_its_queues_aht_live_in_reports_and_staffing(
    sim: Simulator, engine: EngineFactory
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    app = engine()
    _queue_call(sim, app, "2769", 2)
    until(lambda: app.dispatcher.board.agents["2769"].state is AgentState.IDLE, timeout=10)
    until(lambda: settled(app))
    assert _wrapups(app, "2769") == [("available", "wrap_up", "wrap69")]
    live = {row["agent"]: row for row in app.kpis.agent_figures()}["2769"]
    [queue_live] = [q for q in app.kpis.queue_figures() if q["queue"] == "wrap69"]
    assert 1.9 <= live["wrapup_seconds"] <= 3.0
    period = Period(start, datetime.now(UTC) + timedelta(hours=1), agent="2769")
    [row] = reports.agents_report(app.database, period)
    assert row.wrapup_seconds == pytest.approx(live["wrapup_seconds"], abs=0.3)
    handle = row.talk_seconds + row.hold_seconds + row.wrapup_seconds
    queue_period = Period(start, period.until, queue="wrap69")
    [by_queue] = reports.queues_report(app.database, queue_period)
    [by_hour] = reports.intervals_report(app.database, queue_period)
    for figures in (by_queue, by_hour):
        assert figures.handled == 1
        assert figures.aht_seconds == pytest.approx(handle, abs=0.01)
    assert queue_live["aht_seconds"] == pytest.approx(handle, abs=0.3)
    hour = timedelta(hours=1)
    [load] = staffing.history(app.database, "wrap69", start, start + hour, hour)
    assert load.aht == pytest.approx(handle, abs=0.01)


def test_a_wrap_up_paused_then_cut_by_a_logout_counts_to_the_logout(
    sim: Simulator, engine: EngineFactory
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    app = engine()
    who = Actor("cli", "test")
    _queue_call(sim, app, "2762", 60)
    app.writer.flush()
    agents.pause(app.database, who, "2762", "lunch")
    gevent.sleep(0.5)
    agents.logout(app.database, who, "2762")
    until(lambda: app.dispatcher.board.agents["2762"].status is AgentStatus.LOGGED_OUT)
    until(lambda: settled(app))
    assert _wrapups(app, "2762") == [("available", "wrap_up", "wrap62"),
                                     ("paused", "wrap_up", "wrap62"),
                                     ("logged_out", "wrap_up", "wrap62")]  # fmt: skip
    gevent.sleep(0.5)  # logged out: no more wrap-up counted
    live = {row["agent"]: row for row in app.kpis.agent_figures()}["2762"]
    period = Period(start, datetime.now(UTC) + timedelta(hours=1))
    [row] = reports.agents_report(app.database, replace(period, agent="2762"))
    assert 0.5 <= row.wrapup_seconds < 5
    assert live["wrapup_seconds"] == pytest.approx(row.wrapup_seconds, abs=0.3)
    [queue] = reports.queues_report(app.database, replace(period, queue="wrap62"))
    assert queue.aht_seconds == pytest.approx(row.talk_seconds + row.wrapup_seconds, abs=0.01)


def test_a_wrap_up_ended_early_counts_to_its_end(sim: Simulator, engine: EngineFactory) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    app = engine()
    who = Actor("cli", "test")
    _queue_call(sim, app, "2761", 60)
    app.writer.flush()
    gevent.sleep(0.3)
    agents.end_wrapup(app.database, who, "2761")  # *25
    until(lambda: app.dispatcher.board.agents["2761"].state is AgentState.IDLE)
    until(lambda: settled(app))
    period = Period(start, datetime.now(UTC) + timedelta(hours=1), agent="2761")
    [row] = reports.agents_report(app.database, period)
    assert 0.3 <= row.wrapup_seconds < 5
    live = {r["agent"]: r for r in app.kpis.agent_figures()}["2761"]
    assert live["wrapup_seconds"] == pytest.approx(row.wrapup_seconds, abs=0.3)

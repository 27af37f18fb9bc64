"""What the agents' time and calls add up to, as the CDRs, the status history, the reports
and the live metrics tell it: the simulator over real TCP, the dispatcher, PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import gevent
import pytest

from callcenter.app import App
from callcenter.services import agents, reports
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

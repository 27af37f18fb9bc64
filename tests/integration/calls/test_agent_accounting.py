"""What the agents' time and calls add up to, as the CDRs, the status history, the reports
and the live metrics tell it: the simulator over real TCP, the dispatcher, PostgreSQL."""

from __future__ import annotations

from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.vocabulary import AgentState, Disposition, RouteTarget
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

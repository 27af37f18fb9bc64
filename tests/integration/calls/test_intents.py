"""Intents on live calls (hang up, transfer, bridge to an agent): the simulator over real TCP,
the dispatcher, PostgreSQL. The CDR says who did it."""

from __future__ import annotations

from callcenter.app import App
from callcenter.calls.intents import BridgeAgent, Hangup, Transfer
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.repos import AgentRepository
from callcenter.vocabulary import AgentState, AgentStatus, CallState, QueueOutcome
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import settled, wait_cdr
from tests.integration.calls.test_queues import entries, originates, setup_queue
from tests.support import until

WAITING = CallerBehaviour(patience=None)  # stays until someone ends the call


def send(app: App, uuid: str, intent: Hangup | Transfer | BridgeAgent) -> bool:
    return app.managers["fs1"].send_intent(uuid, intent)


def state_of(app: App, uuid: str) -> CallState | None:
    actor = app.managers["fs1"].actors.get(uuid)
    return actor.call.state if actor is not None else None


def slot(app: App, ext: str) -> tuple[AgentStatus, AgentState] | None:
    agent = app.dispatcher.board.agents.get(ext)
    return (agent.status, agent.state) if agent is not None else None


def kills(sim: Simulator) -> list[str]:
    return [c.line[c.line.index("uuid_kill") :] for c in sim.core.commands if "uuid_kill" in c.line]


def agent_legs(app: App, uuid: str) -> list[str]:
    actor = app.managers["fs1"].actors[uuid]
    return [leg.uuid for leg in actor.call.timeline.legs.values() if leg.agent_extension]


def test_hang_up_a_waiting_caller_with_a_cause(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    setup_queue(app, "i-wait", {"3001": {}}, did="9001", status=AgentStatus.PAUSED)
    uuid = sim.place_call("9001", "15559001", behaviour=WAITING)
    until(lambda: state_of(app, uuid) is CallState.QUEUED)
    assert send(app, uuid, Hangup("CALL_REJECTED", "api:crm")) is True
    cdr = wait_cdr(app, uuid)
    assert cdr.ended_by == "api:crm"
    assert f"uuid_kill {uuid} CALL_REJECTED" in kills(sim)
    assert {"node": "@hangup", "by": "api:crm", "cause": "CALL_REJECTED"}.items() <= (
        cdr.ivr_path[-1].items()
    )
    [entry] = entries(app, "i-wait")
    assert entry.outcome is QueueOutcome.ABANDONED and entry.left_at is not None
    until(lambda: settled(app))
    # the call is over: an intent for it is a clean no
    assert send(app, uuid, Hangup("NORMAL_CLEARING", "api:crm")) is False


def test_an_intent_racing_the_callers_hang_up_is_a_clean_no_op(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    setup_queue(app, "i-race", {"3002": {}}, did="9002", status=AgentStatus.PAUSED)
    uuid = sim.place_call("9002", "15559002", behaviour=WAITING)
    until(lambda: state_of(app, uuid) is CallState.QUEUED)
    sim.hangup(uuid)  # the caller goes; the intent may reach the actor before or after
    send(app, uuid, Transfer("queue:i-race", "cli:root"))
    cdr = wait_cdr(app, uuid)
    assert cdr.ended_by is None  # the caller ended it
    until(lambda: settled(app))
    assert send(app, uuid, Hangup("NORMAL_CLEARING", "cli:root")) is False


def test_hang_up_while_an_agent_rings_kills_the_agent_leg(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.register_agent("3003", AgentBehaviour(no_answer=True))
    setup_queue(app, "i-ring", {"3003": {}}, did="9003", agent_ring_seconds=30)
    uuid = sim.place_call("9003", "15559003", behaviour=WAITING)
    until(lambda: any("user/3003@" in line for line in originates(sim)))
    until(lambda: slot(app, "3003") == (AgentStatus.AVAILABLE, AgentState.OFFERING))
    [leg] = agent_legs(app, uuid)
    assert send(app, uuid, Hangup("NORMAL_CLEARING", "api:supervisor")) is True
    cdr = wait_cdr(app, uuid)
    assert cdr.ended_by == "api:supervisor"
    assert any(line.startswith(f"uuid_kill {leg} ") for line in kills(sim))
    # no fault of the agent's: idle and available again at once, no failed offer counted
    until(lambda: slot(app, "3003") == (AgentStatus.AVAILABLE, AgentState.IDLE))
    assert app.dispatcher.board.agents["3003"].failed_offers == 0
    until(lambda: settled(app))


def test_transfer_a_bridged_call_to_another_agent(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    sim.register_agent("3004", AgentBehaviour(answer_delay=0.5))
    sim.register_agent("3005", AgentBehaviour(answer_delay=0.5, talk_time=1.0))
    setup_queue(app, "i-xfer", {"3004": {}}, did="9004")
    with app.database.session_scope() as session:
        AgentRepository(session).get("3004")  # the queue's agent; 3005 is reached directly
    uuid = sim.place_call("9004", "15559004", behaviour=WAITING)
    until(lambda: state_of(app, uuid) is CallState.BRIDGED)
    [first] = agent_legs(app, uuid)
    assert send(app, uuid, Transfer("extension:3005", "api:crm")) is True
    cdr = wait_cdr(app, uuid, timeout=20.0)
    assert any(line.startswith(f"uuid_kill {first} ") for line in kills(sim))
    assert any("user/3005@" in line for line in originates(sim))
    assert cdr.agent_extension in ("3004", "3005")
    assert any(
        step.get("node") == "@transfer" and step.get("by") == "api:crm"
        and step.get("target") == "extension:3005"
        for step in cdr.ivr_path
    )  # fmt: skip
    assert cdr.ended_by is None  # transferred, then ended by the second agent
    # the first agent's leg was released properly: wrap-up (1 s), then idle
    history = agent_history(app, "3004")
    until(lambda: slot(app, "3004") == (AgentStatus.AVAILABLE, AgentState.IDLE))
    assert AgentState.WRAP_UP in history()
    until(lambda: settled(app))


def agent_history(app: App, ext: str):  # type: ignore[no-untyped-def]
    def states() -> list[AgentState]:
        app.writer.flush()
        with app.database.session_scope() as session:
            return [h.state for h in AgentRepository(session).history(ext)]

    return states


def test_transfer_a_waiting_caller_to_another_queue(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    sim.register_agent("3007", AgentBehaviour(answer_delay=0.5))
    setup_queue(app, "i-from", {"3006": {}}, did="9005", status=AgentStatus.PAUSED)
    setup_queue(app, "i-to", {"3007": {}}, did="9006")
    uuid = sim.place_call("9005", "15559005", behaviour=CallerBehaviour(talk_time=1.0))
    until(lambda: state_of(app, uuid) is CallState.QUEUED)
    assert send(app, uuid, Transfer("queue:i-to", "cli:alice")) is True
    cdr = wait_cdr(app, uuid, timeout=20.0)
    assert (cdr.queue, cdr.agent_extension) == ("i-to", "3007")
    [left] = entries(app, "i-from")
    assert left.outcome is QueueOutcome.TRANSFERRED
    [taken] = entries(app, "i-to")
    assert taken.outcome is QueueOutcome.ANSWERED
    until(lambda: settled(app))


def test_bridge_a_waiting_caller_to_a_named_agent(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    sim.register_agent("3009", AgentBehaviour(answer_delay=0.5, talk_time=1.0))
    setup_queue(app, "i-bridge", {"3008": {}}, did="9007", status=AgentStatus.PAUSED)
    setup_queue(app, "i-other", {"3009": {}, "3010": {}}, did="9008", status=AgentStatus.PAUSED)
    with app.database.session_scope() as session:
        AgentRepository(session).set_status("3009", AgentStatus.AVAILABLE)
    app.dispatcher.agent_changed("3009")
    until(lambda: slot(app, "3009") == (AgentStatus.AVAILABLE, AgentState.IDLE))
    uuid = sim.place_call("9007", "15559007", behaviour=WAITING)
    until(lambda: state_of(app, uuid) is CallState.QUEUED)
    # a paused agent is refused: the caller stays in its queue
    assert send(app, uuid, BridgeAgent("3010", "api:sup")) is True
    until(lambda: len(entries(app, "i-bridge")) == 2)
    until(lambda: state_of(app, uuid) is CallState.QUEUED)
    assert not any("user/3010@" in line for line in originates(sim))
    # an idle, available one is rung and bridged
    assert send(app, uuid, BridgeAgent("3009", "api:sup")) is True
    cdr = wait_cdr(app, uuid, timeout=20.0)
    assert cdr.agent_extension == "3009"
    steps = [s for s in cdr.ivr_path if s.get("node") == "@bridge_agent"]
    assert [s.get("refused") for s in steps] == ["paused", None]
    outcomes = {e.outcome for e in entries(app, "i-bridge")}
    assert outcomes == {QueueOutcome.TRANSFERRED}
    until(lambda: slot(app, "3009") == (AgentStatus.AVAILABLE, AgentState.IDLE))
    until(lambda: settled(app))

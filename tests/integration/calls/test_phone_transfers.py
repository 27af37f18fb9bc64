"""Transfers from agents' phones (the transfer key, a blind REFER), on the simulator over real
TCP and PostgreSQL: FreeSWITCH hangs up the agent's leg and parks the caller again (same
Unique-ID, ``transfer_source ...:bl_xfer:...``, sessions-3 s13); the engine releases the
agent to wrap-up and routes the caller to what the phone dialled. The CDR shows the chain."""

from __future__ import annotations

from typing import Any

from callcenter.app import App
from callcenter.calls.transfers import BUSY_TONE
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.records import CdrRecord
from callcenter.store.repos import QueueRepository
from callcenter.vocabulary import (
    AgentState,
    AgentStatus,
    CallState,
    Disposition,
    QueueOutcome,
    RouteTarget,
)
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import add_route, apps_sent, settled, wait_cdr
from tests.integration.calls.test_intents import agent_history, slot, state_of
from tests.integration.calls.test_queues import entries, originates, setup_queue
from tests.integration.ivr.test_outbound_transfer import DIAL_STRING, FarEnd, carrier_route
from tests.support import until

__all__ = ["carrier_route"]  # the outbound route fixture, used by name

WAITING = CallerBehaviour(patience=None)


def bridged_leg(app: App, uuid: str) -> str:
    """The agent leg the caller talks to now."""

    def find() -> str | None:
        actor = app.managers["fs1"].actors.get(uuid)
        if actor is None:
            return None
        for leg in actor.call.timeline.legs.values():
            if leg.agent_extension and leg.bridged_us and leg.hangup_us is None:
                return leg.uuid
        return None

    found = until(find)
    assert isinstance(found, str)
    return found


def hops(cdr: CdrRecord) -> list[dict[str, Any]]:
    return [step for step in cdr.ivr_path if step.get("node") == "@transfer"]


def answered_by(app: App, uuid: str, ext: str) -> str:
    """Wait until the caller is bridged to ``ext``; its leg."""
    until(lambda: state_of(app, uuid) is CallState.BRIDGED)

    def leg() -> str | None:
        actor = app.managers["fs1"].actors.get(uuid)
        if actor is None:
            return None
        for one in actor.call.timeline.legs.values():
            if one.agent_extension == ext and one.bridged_us and one.hangup_us is None:
                return one.uuid
        return None

    found = until(leg, timeout=15.0)
    assert isinstance(found, str)
    return found


def test_blind_transfer_to_an_extension(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    sim.register_agent("4001", AgentBehaviour(answer_delay=0.3))
    sim.register_agent("4002", AgentBehaviour(answer_delay=0.3, talk_time=1.0))
    setup_queue(app, "t-first", {"4001": {}}, did="9101")
    setup_queue(app, "t-other", {"4002": {}}, did="9102")  # 4002: an agent, idle
    uuid = sim.place_call("9101", "15559101", behaviour=WAITING)
    first = answered_by(app, uuid, "4001")
    history = agent_history(app, "4001")
    published: list[Any] = []
    app.events.subscribe(published.append)

    assert sim.refer(first, "4002") is True
    cdr = wait_cdr(app, uuid, timeout=20.0)
    moved = [e.to_dict() for e in published if e.type == "call.transferred"]
    assert [(e["call_uuid"], e["data"]["target"], e["data"]["by"]) for e in moved] == [
        (uuid, "4002", "agent:4001")
    ]

    assert cdr.disposition is Disposition.ANSWERED
    assert cdr.transfers == 1 and cdr.transferred_by == "4001"
    [hop] = hops(cdr)
    assert hop["kind"] == "blind" and hop["by"] == "agent:4001" and hop["to"] == "4002"
    assert hop["target"] == "extension:4002" and "bl_xfer:4002/callcenter/XML" in hop["source"]
    assert any("user/4002@" in line for line in originates(sim))
    assert [leg.agent_extension for leg in cdr.legs if leg.answered_at][1:] == ["4001", "4002"]
    # the transferring agent: wrap-up, then idle; its queue stay stays answered
    until(lambda: slot(app, "4001") == (AgentStatus.AVAILABLE, AgentState.IDLE))
    assert AgentState.WRAP_UP in history()
    [stay] = entries(app, "t-first")
    assert stay.outcome is QueueOutcome.ANSWERED and stay.agent_extension == "4001"
    # the first agent's leg ended by FreeSWITCH for the transfer, as recorded
    leg = sim.channel(first)
    assert leg is None or leg.variables.get("endpoint_disposition") == "BLIND_TRANSFER"
    until(lambda: settled(app))


def test_blind_transfer_to_a_queue_by_its_number(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    sim.register_agent("4003", AgentBehaviour(answer_delay=0.3))
    sim.register_agent("4004", AgentBehaviour(answer_delay=0.3, talk_time=1.0))
    setup_queue(app, "t-sales", {"4003": {}}, did="9103")
    setup_queue(app, "t-billing", {"4004": {}}, did="9104", number="7")
    uuid = sim.place_call("9103", "15559103", behaviour=WAITING)
    first = answered_by(app, uuid, "4003")

    assert sim.refer(first, "*87") is True
    cdr = wait_cdr(app, uuid, timeout=20.0)

    assert cdr.disposition is Disposition.ANSWERED and cdr.queue == "t-billing"
    [hop] = hops(cdr)
    assert hop["to"] == "*87" and hop["target"] == "queue:t-billing"
    assert cdr.transferred_by == "4003"
    assert [leg.agent_extension for leg in cdr.legs if leg.answered_at][1:] == ["4003", "4004"]
    [billing] = entries(app, "t-billing")
    assert billing.outcome is QueueOutcome.ANSWERED and billing.agent_extension == "4004"
    [sales] = entries(app, "t-sales")
    assert sales.outcome is QueueOutcome.ANSWERED and sales.agent_extension == "4003"
    until(lambda: settled(app))


def test_caller_abandoning_in_the_queue_it_was_transferred_to_is_abandoned(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.register_agent("4005", AgentBehaviour(answer_delay=0.3))
    setup_queue(app, "t-front", {"4005": {}}, did="9105")
    setup_queue(app, "t-back", {"4006": {}}, did="9106", status=AgentStatus.PAUSED)
    with app.database.session_scope() as session:
        QueueRepository(session).update("t-back", number="66")
    uuid = sim.place_call("9105", "15559105", behaviour=WAITING)
    first = answered_by(app, uuid, "4005")

    sim.refer(first, "*866")
    until(lambda: state_of(app, uuid) is CallState.QUEUED)
    sim.hangup(uuid)  # the caller gives up in the second queue
    cdr = wait_cdr(app, uuid)

    assert cdr.disposition is Disposition.ABANDONED and cdr.queue == "t-back"
    assert cdr.hangup_by.value == "caller" and cdr.transfers == 1
    [back] = entries(app, "t-back")
    assert back.outcome is QueueOutcome.ABANDONED
    [front] = entries(app, "t-front")
    assert front.outcome is QueueOutcome.ANSWERED
    until(lambda: settled(app))


def test_blind_transfer_to_an_external_number(
    sim: Simulator, engine: EngineFactory, carrier_route: None
) -> None:
    app = engine()
    sim.register_agent("4007", AgentBehaviour(answer_delay=0.3))
    far_end = FarEnd(AgentBehaviour(answer_delay=0.3, talk_time=1.0))
    sim.set_far_end(far_end)
    setup_queue(app, "t-out", {"4007": {}}, did="9107")
    uuid = sim.place_call("9107", "15559107", behaviour=WAITING)
    first = answered_by(app, uuid, "4007")

    sim.refer(first, "0049301234")
    cdr = wait_cdr(app, uuid, timeout=20.0)

    assert far_end.dialled == [DIAL_STRING]
    assert cdr.disposition is Disposition.ANSWERED
    [hop] = hops(cdr)
    assert hop["target"] == "number:0049301234" and hop["agent"] == "4007"
    assert [leg.role.value for leg in cdr.legs].count("outbound") == 1
    until(lambda: settled(app))


def test_target_busy_sends_the_caller_back_to_its_queue(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.register_agent("4008", AgentBehaviour(answer_delay=0.3, talk_time=20.0))
    setup_queue(app, "t-home", {"4008": {}}, did="9108")
    setup_queue(app, "t-away", {"4009": {}}, did="9109", status=AgentStatus.PAUSED)
    uuid = sim.place_call("9108", "15559108", behaviour=WAITING)
    first = answered_by(app, uuid, "4008")

    sim.refer(first, "4009")  # paused: the phone does not ring
    # back in its queue, offered again once 4008's wrap-up (1 s) is over
    cdr = wait_cdr(app, uuid, timeout=30.0)

    assert not any("user/4009@" in line for line in originates(sim))
    [hop] = hops(cdr)
    assert hop["target"] == "extension:4009" and hop["result"] == "paused"
    assert cdr.disposition is Disposition.ANSWERED and cdr.queue == "t-home"
    assert [line for line in originates(sim) if "user/4008@" in line][1:]  # rung again
    stays = entries(app, "t-home")
    assert [s.outcome for s in stays] == [QueueOutcome.ANSWERED, QueueOutcome.ANSWERED]
    until(lambda: settled(app))


def test_target_not_answering_without_a_queue_gets_a_busy_tone(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.register_agent("4010", AgentBehaviour(answer_delay=0.3))
    sim.register_agent("4011", AgentBehaviour(busy=True))
    setup_queue(app, "t-only", {"4011": {}}, did="9111")  # 4011: an agent, idle
    add_route(app, "9110", RouteTarget.EXTENSION, "4010")  # straight to 4010, no queue
    uuid = sim.place_call("9110", "15559110", behaviour=WAITING)
    first = answered_by(app, uuid, "4010")

    sim.refer(first, "4011")
    cdr = wait_cdr(app, uuid, timeout=20.0)

    assert f"playback {BUSY_TONE}" in apps_sent(sim, uuid)
    assert cdr.disposition is Disposition.BUSY and cdr.hangup_cause == "USER_BUSY"
    [hop] = hops(cdr)
    assert hop["result"] == "USER_BUSY"
    until(lambda: slot(app, "4011") == (AgentStatus.AVAILABLE, AgentState.IDLE))
    until(lambda: settled(app))


def test_caller_hanging_up_during_the_transfer(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    sim.register_agent("4012", AgentBehaviour(answer_delay=0.3))
    sim.register_agent("4013", AgentBehaviour(no_answer=True))
    setup_queue(app, "t-gone", {"4012": {}}, did="9112")
    setup_queue(app, "t-ring", {"4013": {}}, did="9113")
    uuid = sim.place_call("9112", "15559112", behaviour=WAITING)
    first = answered_by(app, uuid, "4012")

    sim.refer(first, "4013")
    until(lambda: any("user/4013@" in line for line in originates(sim)))
    sim.hangup(uuid)  # while 4013 rings
    cdr = wait_cdr(app, uuid)

    assert cdr.disposition is Disposition.ABANDONED and cdr.transfers == 1
    # the ringing phone stops; the reservation is released: 4013 idle, 4012 after wrap-up
    until(lambda: slot(app, "4013") == (AgentStatus.AVAILABLE, AgentState.IDLE))
    until(lambda: slot(app, "4012") == (AgentStatus.AVAILABLE, AgentState.IDLE))
    until(lambda: settled(app))


def test_attended_transfer_to_an_extension(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    sim.register_agent("4014", AgentBehaviour(answer_delay=0.3))
    sim.register_agent("4015", AgentBehaviour(answer_delay=0.3, talk_time=40.0))
    setup_queue(app, "t-att", {"4014": {}}, did="9114")
    setup_queue(app, "t-att-2", {"4015": {}}, did="9115")
    add_route(app, "4015", RouteTarget.EXTENSION, "4015")  # what the consult call reaches
    uuid = sim.place_call("9114", "15559114", behaviour=WAITING)
    first = answered_by(app, uuid, "4014")
    history = agent_history(app, "4014")

    consult = sim.consult("4014", "4015")  # the agent's phone calls 4015 and talks to it
    target = answered_by(app, consult, "4015")
    assert sim.refer_replaces(first, consult) is True
    cdr = wait_cdr(app, uuid, timeout=30.0)

    assert cdr.disposition is Disposition.ANSWERED
    assert cdr.transfers == 1 and cdr.transferred_by == "4014"
    [hop] = hops(cdr)
    assert hop["kind"] == "attended" and hop["by"] == "agent:4014"
    assert hop["target"] == "extension:4015" and ":att_xfer:4014@callcenter/" in hop["source"]
    # the target's leg is the caller's call's now: in its CDR, bridged, ended by its end
    [moved] = [leg for leg in cdr.legs if leg.leg_uuid == target]
    assert moved.agent_extension == "4015" and moved.ended_at is not None
    assert moved.hangup_cause == "NORMAL_CLEARING"
    # the consult call ends on its own (FreeSWITCH parks the replaced leg, then hangs it up)
    consult_cdr = wait_cdr(app, consult, timeout=10.0)
    assert consult_cdr.hangup_cause == "ATTENDED_TRANSFER"
    until(lambda: slot(app, "4014") == (AgentStatus.AVAILABLE, AgentState.IDLE))
    assert AgentState.WRAP_UP in history()
    until(lambda: slot(app, "4015") == (AgentStatus.AVAILABLE, AgentState.IDLE))
    until(lambda: settled(app))


def test_two_hops_and_an_unknown_queue_number(sim: Simulator, engine: EngineFactory) -> None:
    """4016 sends the caller to *899 (no such queue: back to its queue, answered by 4016
    again after wrap-up), then to 4017, who sends it on to 4018: three hops in one CDR."""
    app = engine()
    for ext in ("4016", "4017"):
        sim.register_agent(ext, AgentBehaviour(answer_delay=0.3))
    sim.register_agent("4018", AgentBehaviour(answer_delay=0.3, talk_time=1.0))
    setup_queue(app, "t-hops", {"4016": {}}, did="9116")
    setup_queue(app, "t-hops-2", {"4017": {}, "4018": {}}, did="9117")
    uuid = sim.place_call("9116", "15559116", behaviour=WAITING)
    first = answered_by(app, uuid, "4016")

    assert sim.refer(first, "*899") is True
    again = until(lambda: answered_leg(app, uuid, "4016", not_in={first}), timeout=15.0)
    assert sim.refer(again, "4017") is True
    second = until(lambda: answered_leg(app, uuid, "4017"), timeout=15.0)
    assert sim.refer(second, "4018") is True
    cdr = wait_cdr(app, uuid, timeout=20.0)

    assert cdr.disposition is Disposition.ANSWERED
    assert (cdr.transfers, cdr.transferred_by) == (3, "4017")
    assert [(h["agent"], h["to"], h.get("result")) for h in hops(cdr)] == [
        ("4016", "*899", "UNALLOCATED_NUMBER"),
        ("4016", "4017", None),
        ("4017", "4018", None),
    ]
    until(lambda: settled(app))


def answered_leg(app: App, uuid: str, ext: str, not_in: set[str] | None = None) -> str | None:
    actor = app.managers["fs1"].actors.get(uuid)
    if actor is None:
        return None
    for leg in actor.call.timeline.legs.values():
        up = leg.bridged_us is not None and leg.hangup_us is None
        if leg.agent_extension == ext and up and leg.uuid not in (not_in or set()):
            return leg.uuid
    return None

"""Callbacks that keep the caller's place, the exit key while agents ring, places and stays
across a restart. The simulator over real TCP, the dispatcher, PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import update

from callcenter.acd.callback_calls import TONE_FAILED
from callcenter.acd.on_call import TONE_REFUSED
from callcenter.app import App
from callcenter.sim import api as sim_api
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.models import QueueEntry
from callcenter.store.records import OpenStaysClosed, QueueStayRecord
from callcenter.store.repos import OutboundRouteRepository
from callcenter.store.repos.acd_state import AcdStateRepository
from callcenter.vocabulary import AgentState, AgentStatus, Direction, Disposition, QueueOutcome
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import apps_sent, settled, wait_cdr
from tests.integration.calls.test_queues import MOH, _set_status, entries, first_stay, setup_queue
from tests.support import until

CALLBACK = {"callback_key": "5", "callback_retry_seconds": 1, "callback_ring_seconds": 5}


def _outbound(app: App) -> None:
    """Every number through carrier1 (the database is the module's: added once)."""
    with app.database.session_scope() as session:
        routes = OutboundRouteRepository(session)
        if not any(r.name == "callbacks" for r in routes.all()):
            routes.add("callbacks", r"^[0-9]{6,15}$", "carrier1")
    app.outbound.reload()


def _originates(sim: Simulator) -> list[str]:
    return [c.line for c in sim.core.commands if "originate" in c.line]


def _callback_calls(sim: Simulator) -> list[str]:
    """The callbacks' calls: the agents' legs, tagged ``cc_entry=callback``, in order."""
    return [c.line.split("origination_uuid=")[1].split(",")[0] for c in sim.core.commands
            if "cc_entry=callback" in c.line]  # fmt: skip


def _ringing(sim: Simulator, extension: str) -> bool:
    return any(c.variables.get("cc_agent") == extension for c in sim.channels)


def _ask_callback(app: App, sim: Simulator, queue: str, did: str, number: str, **kw: object) -> str:
    """A caller who waits, presses 5, confirms its number with 1 and is hung up."""
    caller = sim.place_call(did, number, behaviour=CallerBehaviour(patience=300, **kw))
    until(lambda: any(t.call_uuid == caller for t in app.dispatcher.board.waiting(queue)))
    sim.send_dtmf(caller, "5")
    assert wait_cdr(app, caller, 20).disposition is Disposition.CALLBACK
    return caller


def test_a_callback_rings_the_agent_first_then_dials_the_customer_and_bridges(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    _outbound(app)
    sim.register_agent("4101", AgentBehaviour(answer_delay=0.2))
    sim.set_far_end(lambda target: AgentBehaviour(answer_delay=0.3, talk_time=1.0))
    setup_queue(app, "cb1", {"4101": {}}, did="8401", status=AgentStatus.PAUSED, routing=CALLBACK)
    caller = _ask_callback(app, sim, "cb1", "8401", "+15554010001", digits=("1",))
    said = apps_sent(sim, caller)
    assert "say en NUMBER iterated 15554010001" in said, said
    # the caller is gone; its place is held by the callback, with no outcome yet
    [waiting] = app.dispatcher.board.waiting("cb1")
    assert (waiting.call_uuid, waiting.callback) == (caller, "15554010001")
    entry = until(lambda: first_stay(app, "cb1"))  # the dispatcher's write may still be due
    assert len(entries(app, "cb1")) == 1
    assert (entry.outcome, entry.callback_number, entry.callback_attempts) == (
        None, "15554010001", 0,
    )  # fmt: skip
    _set_status(app, "4101", AgentStatus.AVAILABLE)
    until(lambda: (s := first_stay(app, "cb1")) and s.outcome is not None, timeout=20)
    [entry] = entries(app, "cb1")
    assert entry.outcome is QueueOutcome.CALLBACK_ANSWERED, entry
    assert (entry.callback_attempts, entry.callback_result) == (1, "answered")
    assert entry.agent_extension == "4101" and entry.answered_at is not None
    lines = _originates(sim)
    agent = next(i for i, line in enumerate(lines) if "user/4101@" in line)
    customer = next(i for i, line in enumerate(lines) if "carrier1/15554010001" in line)
    assert agent < customer  # the agent first
    assert "cc_entry=callback" in lines[agent]
    # its CDR is the queue's and the agent's, as a queue call's: reports per queue count it
    [call] = _callback_calls(sim)
    cdr = wait_cdr(app, call, timeout=20)
    assert (cdr.queue, cdr.agent_extension, cdr.direction, cdr.to_number) == (
        "cb1", "4101", Direction.OUTBOUND, "15554010001",
    )  # fmt: skip
    assert (cdr.disposition, cdr.queue_wait_ms) == (Disposition.ANSWERED, 0)
    assert cdr.talk_ms > 0
    until(lambda: settled(app), timeout=15)
    assert app.dispatcher.board.agents["4101"].state in (AgentState.WRAP_UP, AgentState.IDLE)


def test_a_customer_who_does_not_answer_is_dialled_again_and_the_agent_is_freed(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    _outbound(app)
    sim.register_agent("4111", AgentBehaviour(answer_delay=0.2))
    dialled: list[str] = []

    def far_end(target: str) -> AgentBehaviour:
        dialled.append(target)
        if len(dialled) == 1:
            return AgentBehaviour(no_answer=True)
        return AgentBehaviour(answer_delay=0.3, talk_time=1.0)

    sim.set_far_end(far_end)
    setup_queue(app, "cb2", {"4111": {}}, did="8411", status=AgentStatus.PAUSED, routing=CALLBACK)
    # the caller keys in another number: 2, then the number ended by #
    _ask_callback(app, sim, "cb2", "8411", "15554110001", digits=("2", "15554119999#"))
    _set_status(app, "4111", AgentStatus.AVAILABLE)
    until(lambda: (s := first_stay(app, "cb2")) and s.callback_result == "no_answer", timeout=20)
    [entry] = entries(app, "cb2")
    assert (entry.outcome, entry.callback_number, entry.callback_attempts) == (
        None, "15554119999", 1,
    )  # fmt: skip
    until(lambda: (s := first_stay(app, "cb2")) and s.outcome is not None, timeout=20)
    [entry] = entries(app, "cb2")
    assert (entry.outcome, entry.callback_attempts) == (QueueOutcome.CALLBACK_ANSWERED, 2)
    assert len(dialled) == 2 and all("15554119999" in d for d in dialled)
    first, second = (wait_cdr(app, call, timeout=20) for call in _callback_calls(sim))
    assert (first.queue, first.disposition, first.hangup_cause, first.agent_extension) == (
        "cb2", Disposition.NO_ANSWER, "NO_ANSWER", None,
    )  # fmt: skip
    assert (second.queue, second.disposition, second.agent_extension) == (
        "cb2", Disposition.ANSWERED, "4111",
    )  # fmt: skip
    # the agent was rung once per attempt, and not paused or rested for the customer's silence
    assert sum("user/4111@" in line for line in _originates(sim)) == 2
    until(lambda: settled(app), timeout=15)
    agent = app.dispatcher.board.agents["4111"]
    assert agent.status is AgentStatus.AVAILABLE and agent.failed_offers == 0


@pytest.mark.parametrize("refused", [True, False], ids=["bridge-refused", "originator-cancelled"])
def test_a_customer_who_hangs_up_between_the_answer_and_the_bridge_was_called_back(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch, refused: bool
) -> None:
    # the uuid_bridge's -ERR (or the agent's leg FreeSWITCH hangs up when the bridge finds
    # the customer gone) was taken for the agent leaving: the customer was dialled again
    bridge = sim_api.HANDLERS["uuid_bridge"]
    left: list[str] = []

    def customer_leaves(api: sim_api.Api, argv: list[str], args: str) -> str:
        customer = api.core.session(argv[1]) if len(argv) > 1 else None
        if customer is None or left:
            return bridge(api, argv, args)
        left.append(argv[1])
        if refused:  # its BYE came first: FreeSWITCH finds no such channel any more
            customer.hangup("NORMAL_CLEARING", "recv_bye")
            return "-ERR Invalid uuid\n"
        reply = bridge(api, argv, args)  # accepted, the BYE crossing it: the bridge finds the
        customer.hangup("NORMAL_CLEARING", "recv_bye")  # customer gone, hangs the agent up
        return reply

    monkeypatch.setitem(sim_api.HANDLERS, "uuid_bridge", customer_leaves)
    app = engine()
    _outbound(app)
    extension, queue = ("4171", "cb9") if refused else ("4172", "cb10")
    sim.register_agent(extension, AgentBehaviour(answer_delay=0.2))
    sim.set_far_end(lambda target: AgentBehaviour(answer_delay=0.3))
    did = f"8{extension[1:]}"
    setup_queue(app, queue, {extension: {}}, did=did, status=AgentStatus.PAUSED, routing=CALLBACK)
    _ask_callback(app, sim, queue, did, f"1555{extension}01", digits=("1",))
    _set_status(app, extension, AgentStatus.AVAILABLE)
    until(lambda: (s := first_stay(app, queue)) and s.outcome is not None, timeout=20)
    [entry] = entries(app, queue)
    assert (entry.outcome, entry.callback_attempts, entry.callback_result) == (
        QueueOutcome.CALLBACK_ANSWERED, 1, "answered",
    )  # fmt: skip
    assert len(left) == 1
    assert sum(f"carrier1/1555{extension}01" in line for line in _originates(sim)) == 1  # once
    [call] = _callback_calls(sim)
    cdr = wait_cdr(app, call, timeout=20)  # the agent's leg: hung up by the engine, or by
    assert cdr.hangup_cause == ("NORMAL_CLEARING" if refused else "ORIGINATOR_CANCEL")  # FS
    assert f"playback {TONE_FAILED}" not in apps_sent(sim, call)  # reached: not "not reached"
    until(lambda: settled(app), timeout=15)
    agent = app.dispatcher.board.agents[extension]  # freed as after any call it took
    assert agent.state in (AgentState.WRAP_UP, AgentState.IDLE)
    assert agent.status is AgentStatus.AVAILABLE and agent.failed_offers == 0
    assert not any("uuid_record" in c.line for c in sim.core.commands)


def test_a_pending_callback_keeps_its_place_through_a_restart(
    sim: Simulator, engine: EngineFactory
) -> None:
    first = engine()
    _outbound(first)
    sim.register_agent("4121", AgentBehaviour(answer_delay=0.2))
    sim.set_far_end(lambda target: AgentBehaviour(answer_delay=0.3, talk_time=1.0))
    setup_queue(first, "cb3", {"4121": {}}, did="8421", status=AgentStatus.PAUSED, routing=CALLBACK)
    called_back = _ask_callback(first, sim, "cb3", "8421", "15554210001", digits=("1",))
    later = sim.place_call("8421", "15554210002", behaviour=CallerBehaviour(talk_time=0.5))
    until(lambda: len(first.dispatcher.board.waiting("cb3")) == 2)
    before = {e.call_uuid: e.joined_at for e in entries(first, "cb3")}
    first.stop("restart")  # the live caller stays on the line; the callback is in the database
    second = engine()
    board = second.dispatcher.board
    until(lambda: len(board.waiting("cb3")) == 2, timeout=15)
    assert [t.call_uuid for t in board.waiting("cb3")] == [called_back, later]
    assert board.waiting("cb3")[0].callback == "15554210001"
    _set_status(second, "4121", AgentStatus.AVAILABLE)
    assert wait_cdr(second, later, 30).agent_extension == "4121"
    rows = {e.call_uuid: e for e in entries(second, "cb3")}
    assert rows[called_back].outcome is QueueOutcome.CALLBACK_ANSWERED
    assert rows[called_back].joined_at == before[called_back]
    assert rows[later].outcome is QueueOutcome.ANSWERED
    assert rows[called_back].answered_at < rows[later].answered_at  # served first: its place
    until(lambda: settled(second), timeout=15)


def test_the_exit_key_pressed_while_the_agent_rings_cancels_the_offer_at_no_fault(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.register_agent("4131", AgentBehaviour(no_answer=True))
    setup_queue(
        app, "cb4", {"4131": {}}, did="8431", agent_ring_seconds=60,
        routing={"exit_key": "0", "max_no_answer": 1}, overflow_target="hangup:USER_BUSY",
    )  # fmt: skip
    caller = sim.place_call("8431", "15554310001", behaviour=CallerBehaviour(patience=300))
    agent = app.dispatcher.board.agents["4131"]
    until(lambda: agent.state is AgentState.OFFERING)
    until(lambda: _ringing(sim, "4131"))
    sim.send_dtmf(caller, "0")
    cdr = wait_cdr(app, caller, 15)
    [entry] = entries(app, "cb4")
    assert entry.outcome is QueueOutcome.EXIT_KEY, (entry, apps_sent(sim, caller))
    until(lambda: not _ringing(sim, "4131"))  # the agent's leg hung up
    assert cdr.answered_at is not None
    until(lambda: agent.state is AgentState.IDLE)
    assert agent.status is AgentStatus.AVAILABLE  # one no-answer pauses: this was none
    assert agent.failed_offers == 0 and agent.ready_at <= app.dispatcher.clock()
    until(lambda: settled(app))


def test_a_caller_who_hung_up_gets_its_place_back_after_a_restart(
    sim: Simulator, engine: EngineFactory
) -> None:
    first = engine()
    setup_queue(
        first, "cb5", {"4141": {}}, did="8441", status=AgentStatus.PAUSED,
        rejoin_window_seconds=300,
    )  # fmt: skip
    gone = sim.place_call("8441", "+15554410001", behaviour=CallerBehaviour(patience=300))
    until(lambda: len(first.dispatcher.board.waiting("cb5")) == 1)
    other = sim.place_call("8441", "15554410002", behaviour=CallerBehaviour(patience=300))
    until(lambda: len(first.dispatcher.board.waiting("cb5")) == 2)
    sim.hangup(gone)
    wait_cdr(first, gone)
    until(lambda: len(first.dispatcher.board.waiting("cb5")) == 1)
    first.stop("restart")
    second = engine()
    board = second.dispatcher.board
    until(lambda: len(board.waiting("cb5")) == 1, timeout=15)  # the other caller, resumed
    again = sim.place_call("8441", "0015554410001", behaviour=CallerBehaviour(patience=300))
    until(lambda: len(board.waiting("cb5")) == 2)
    assert [t.call_uuid for t in board.waiting("cb5")] == [again, other]  # ahead, as before
    rows = {e.call_uuid: e for e in entries(second, "cb5")}
    assert rows[again].joined_at == rows[gone].joined_at
    for uuid in (again, other):
        sim.hangup(uuid)
    until(lambda: settled(second), timeout=15)


def test_a_caller_bridged_when_the_engine_died_has_its_stay_answered_after_the_restart(
    sim: Simulator, engine: EngineFactory
) -> None:
    first = engine()
    sim.register_agent("4151", AgentBehaviour(answer_delay=0.2))
    setup_queue(first, "cb6", {"4151": {}}, did="8451")
    caller = sim.place_call("8451", "15554510001", behaviour=CallerBehaviour())
    until(
        lambda: (s := first_stay(first, "cb6")) and s.outcome is QueueOutcome.ANSWERED, timeout=15
    )
    first.stop("killed")  # the call stays bridged in FreeSWITCH
    with first.database.session_scope() as session:  # what a SIGKILL loses: the answer's write
        session.execute(
            update(QueueEntry)
            .where(QueueEntry.call_uuid == caller)
            .values(outcome=None, left_at=None, answered_at=None, agent_id=None)
        )
    second = engine()
    until(lambda: (s := first_stay(second, "cb6")) and s.outcome is not None, timeout=15)
    [entry] = entries(second, "cb6")
    assert (entry.outcome, entry.agent_extension) == (QueueOutcome.ANSWERED, "4151"), entry
    assert entry.answered_at is not None and entry.left_at is not None
    sim.hangup(caller)
    wait_cdr(second, caller, 15)
    until(lambda: settled(second), timeout=15)


def test_a_start_closes_bridged_stays_answered_and_keeps_pending_callbacks_open(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    setup_queue(app, "cb7", {"4161": {}}, did="8461", status=AgentStatus.PAUSED)
    joined = datetime.now(UTC) - timedelta(minutes=5)
    stays = [
        QueueStayRecord("cb7-bridged", "cb7", str(uuid4()), 0, 1, joined, 1, joined, joined),
        QueueStayRecord("cb7-waiting", "cb7", str(uuid4()), 0, 1, joined),
        QueueStayRecord("cb7-callback", "cb7", str(uuid4()), 0, 1, joined,
                        callback_number="15554610001", callback_attempts=1),
    ]  # fmt: skip
    with app.database.session_scope() as session:
        repo = AcdStateRepository(session)
        repo.save_stays(stays)
        repo.close_open_stays([OpenStaysClosed(datetime.now(UTC), "engine restarted")])
    rows = {e.call_uuid: e for e in entries(app, "cb7")}
    bridged, waiting, callback = (rows[s.call_uuid] for s in stays)
    assert (bridged.outcome, bridged.left_at) == (QueueOutcome.ANSWERED, joined)
    assert waiting.outcome is None and waiting.left_at is not None  # unknown: not made up
    assert (callback.outcome, callback.left_at, callback.callback_attempts) == (None, None, 1)


def test_a_number_that_cannot_be_called_back_leaves_the_caller_waiting(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    setup_queue(app, "cb8", {"4181": {}}, did="8481", status=AgentStatus.PAUSED, routing=CALLBACK)
    keyed = CallerBehaviour(patience=300, digits=("555#", "555#"))  # too short, twice
    caller = sim.place_call("8481", "anonymous", behaviour=keyed)
    until(lambda: len(app.dispatcher.board.waiting("cb8")) == 1)
    sim.send_dtmf(caller, "5")
    until(lambda: f"playback {TONE_REFUSED}" in apps_sent(sim, caller), timeout=15)
    said = apps_sent(sim, caller)
    assert not any("iterated" in line for line in said)  # a withheld number is not offered
    [waiting] = app.dispatcher.board.waiting("cb8")
    assert (waiting.call_uuid, waiting.callback) == (caller, None)
    until(lambda: apps_sent(sim, caller)[-1] == f"playback {MOH}", timeout=15)  # music again
    sim.hangup(caller)
    assert wait_cdr(app, caller).disposition is Disposition.ABANDONED
    [entry] = entries(app, "cb8")
    assert (entry.outcome, entry.callback_number) == (QueueOutcome.ABANDONED, None)
    until(lambda: settled(app))

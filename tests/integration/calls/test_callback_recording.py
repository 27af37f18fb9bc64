"""A queue's callback recorded as a call of that queue (it never was: the callback bridged
the agent and the customer with a raw ``uuid_bridge``): the agent's policy over the queue's,
stereo from the bridge, the row with the queue and the agent, the agent's ``*27``/``*28``, an
engine restarting mid call; nothing recorded when the agent leaves in the whisper or the
customer does not answer, and a customer hanging up as the bridge comes up was answered;
the queue's recording announcement told to the customer before the bridge (and who hangs
up during it). The engine, the simulator over TCP and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from callcenter.app import App
from callcenter.sim.behaviour import AgentBehaviour
from callcenter.sim.events import SimEvent
from callcenter.sim.simulator import Simulator
from callcenter.store.repos import AgentRepository, RecordingRepository
from callcenter.vocabulary import (
    AgentState,
    AgentStatus,
    Disposition,
    HangupBy,
    QueueOutcome,
    RecordingPolicy,
)
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_callbacks import (
    CALLBACK,
    _ask_callback,
    _callback_calls,
    _originates,
    _outbound,
)
from tests.integration.calls.test_calls import apps_sent, settled, wait_cdr
from tests.integration.calls.test_queues import _set_status, entries, first_stay, setup_queue
from tests.integration.calls.test_recording import api_lines, checked
from tests.integration.calls.test_recording_restart import _sent, restarted
from tests.integration.dialer.test_campaign_recording import (
    _paused_by_the_agent_and_hung_up,
    _rows,
)
from tests.support import until

CUSTOMER = AgentBehaviour(answer_delay=0.3)  # answers, stays on the line
NOTICE = "custom/may-be-recorded.wav"  # the queue's recording announcement


def _asked(
    app: App, sim: Simulator, queue: str, agent: str, number: str,
    customer: AgentBehaviour = CUSTOMER, **fields: object,
) -> None:  # fmt: skip
    """A caller of ``queue`` who asked to be called back at ``number``; then its one agent,
    auto-answering, is made available: the callback rings it, then dials the customer."""
    _outbound(app)
    sim.register_agent(agent, AgentBehaviour(answer_delay=0.2))
    sim.set_far_end(lambda _target: customer)
    did = f"8{agent[1:]}"
    setup_queue(app, queue, {agent: {}}, did=did, status=AgentStatus.PAUSED,
                routing=fields.pop("routing", CALLBACK), **fields)  # fmt: skip
    _ask_callback(app, sim, queue, did, number, digits=("1",))
    _set_status(app, agent, AgentStatus.AVAILABLE)


def _callback_call(sim: Simulator, queue: str) -> str | None:
    """The callback's call: the agent's leg, tagged ``cc_entry=callback``."""
    for channel in sim.channels:
        tags = channel.variables
        if tags.get("cc_entry") == "callback" and tags.get("cc_queue") == queue:
            return channel.uuid
    return None


def _bridged(sim: Simulator, queue: str) -> str | None:
    call = _callback_call(sim, queue)
    channel = sim.channel(call) if call is not None else None
    return call if channel is not None and channel.partner is not None else None


def test_a_callback_is_recorded_in_stereo_from_the_bridge_as_a_call_of_its_queue(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app = engine(CALLCENTER_RECORDING_TEMPLATE="{kind}/{queue}/{agent}/{call_uuid}.wav")
    _asked(app, sim, "cbr1", "4191", "15554910001", recording_policy=RecordingPolicy.ALL)
    call = until(lambda: _bridged(sim, "cbr1"), timeout=20)
    until(lambda: _sent(sim, call, "start") == 1)
    lines = api_lines(sim, call)
    stereo = lines.index(f"api uuid_setvar {call} RECORD_STEREO true")
    assert stereo < next(i for i, x in enumerate(lines) if f"uuid_record {call} start " in x)
    [live] = _rows(app, call)  # its row from the start: a restart adopts it
    assert (live.status, live.queue, live.agent) == ("recording", "cbr1", "4191")
    customer = sim.channel(call).partner  # type: ignore[union-attr]
    assert customer is not None
    sim.send_dtmf(customer, "*27", gap=0.05)  # the customer's keys do nothing
    sim.send_dtmf(call, "#")  # the agent's key after them: they were read by then
    actor = app.managers["fs1"].actors[call]
    until(lambda: "".join(actor.call.keys).endswith("#"))
    assert _sent(sim, call, "mask") == 0
    # the agent's leg is the call's own: its *27/*28 pause and resume the file
    row = _paused_by_the_agent_and_hung_up(app, sim, call, call)
    assert (row.id, row.queue, row.agent) == (live.id, "cbr1", "4191")
    assert Path(row.path) == tmp_path / "recordings" / "queue" / "cbr1" / "4191" / f"{call}.wav"
    [stay] = entries(app, "cbr1")
    assert (stay.outcome, stay.callback_attempts) == (QueueOutcome.CALLBACK_ANSWERED, 1)
    until(lambda: settled(app), timeout=15)


def test_a_callback_recorded_by_the_agents_policy_is_adopted_through_a_restart(
    sim: Simulator, engine: EngineFactory
) -> None:
    first = engine()
    with first.database.session_scope() as session:  # the agent's own over the queue's never
        AgentRepository(session).add("4192", "Agent 4192", wrapup_seconds=1)
        AgentRepository(session).set_phone("4192", recording_policy="always")
    first.phones.changed("4192")
    _asked(first, sim, "cbr2", "4192", "15554920001", recording_policy=RecordingPolicy.NONE)
    call = until(lambda: _bridged(sim, "cbr2"), timeout=20)
    until(lambda: _sent(sim, call, "start") == 1)
    sim.send_dtmf(call, "*27", gap=0.05)  # paused as the engine goes away
    until(lambda: _sent(sim, call, "mask") == 1)
    [row] = _rows(first, call)
    assert (row.status, row.queue, row.agent) == ("recording", "cbr2", "4192")
    second, current = restarted(first, engine, call)
    assert current.path == row.path and current.paused
    sim.send_dtmf(call, "*28", gap=0.05)  # the agent's resume reaches the adopted call
    until(lambda: _sent(sim, call, "unmask") == 1, timeout=10)
    sim.hangup(call)  # the agent hangs up
    cdr = wait_cdr(second, call, timeout=20)  # adopted: still the queue's and the agent's
    assert (cdr.queue, cdr.agent_extension) == ("cbr2", "4192")
    [done] = checked(second, call)
    assert (done.id, done.status, done.channels) == (row.id, "ok", 2)
    assert (done.queue, done.agent, len(done.paused)) == ("cbr2", "4192", 1)
    assert _sent(sim, call, "start") == 1  # adopted, not started again
    until(lambda: settled(second), timeout=15)


def test_a_customer_hanging_up_as_the_bridge_comes_up_was_called_back(
    sim: Simulator, engine: EngineFactory
) -> None:
    # the bridge's CallGone was taken for the agent leaving before the customer answered:
    # the stay went back in line and the customer was dialled again
    app = engine()
    left: list[str] = []

    def leave_at_the_bridge(event: SimEvent) -> None:
        if event.name != "CHANNEL_BRIDGE" or left:
            return
        if event.unique_id != _callback_call(sim, "cbr3"):
            return
        customer = event.get("Bridge-B-Unique-ID") or ""
        left.append(customer)
        sim.core.spawn(sim.hangup, customer, name="customer-leaves")

    sim.on_event(leave_at_the_bridge)
    _asked(app, sim, "cbr3", "4193", "15554930001", recording_policy=RecordingPolicy.ALL)
    until(lambda: (s := first_stay(app, "cbr3")) and s.outcome is not None, timeout=20)
    [stay] = entries(app, "cbr3")
    assert (stay.outcome, stay.callback_attempts, stay.callback_result) == (
        QueueOutcome.CALLBACK_ANSWERED, 1, "answered",
    )  # fmt: skip
    assert len(left) == 1
    assert sum("carrier1/15554930001" in line for line in _originates(sim)) == 1  # once
    [call] = _callback_calls(sim)
    wait_cdr(app, call, timeout=20)
    until(lambda: all(r.status not in ("recording", "pending") for r in _rows(app, call)))
    until(lambda: settled(app), timeout=15)


def test_nothing_is_recorded_when_the_agent_leaves_in_the_whisper_or_no_customer_answers(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    whispered: list[str] = []

    def hang_up_in_the_whisper(event: SimEvent) -> None:
        call = event.unique_id or ""
        if (event.name == "CHANNEL_EXECUTE" and event.get("Application") == "playback"
                and not whispered and call == _callback_call(sim, "cbr4")):  # fmt: skip
            whispered.append(call)
            sim.core.spawn(sim.hangup, call, name="agent-leaves")

    sim.on_event(hang_up_in_the_whisper)
    _asked(app, sim, "cbr4", "4194", "15554940001", AgentBehaviour(no_answer=True),
           recording_policy=RecordingPolicy.ALL,
           routing={**CALLBACK, "callback_attempts": 1})  # fmt: skip
    until(lambda: (s := first_stay(app, "cbr4")) and s.outcome is not None, timeout=30)
    [stay] = entries(app, "cbr4")
    assert (stay.outcome, stay.callback_result) == (QueueOutcome.CALLBACK_FAILED, "no_answer")
    assert len(whispered) == 1  # the agent left the first attempt: not counted
    assert sum("user/4194@" in line for line in _originates(sim)) == 2
    until(lambda: settled(app), timeout=15)
    assert not any("uuid_record" in c.line for c in sim.core.commands)
    app.writer.flush()
    with app.database.session_scope() as session:
        assert RecordingRepository(session).search(queue="cbr4") == []


def _customer(sim: Simulator, number: str) -> str | None:
    """The customer's leg: the originate through the carrier to ``number``."""
    for c in sim.core.commands:
        if "originate" in c.line and f"carrier1/{number}" in c.line:
            return c.line.split("origination_uuid=")[1].split(",")[0]
    return None


def _index(sim: Simulator, found: Callable[[str], bool]) -> int:
    return next(i for i, c in enumerate(sim.core.commands) if found(c.line))


def _hangs_up_in_the_notice(sim: Simulator, whose: Callable[[], str | None]) -> list[str]:
    """The leg ``whose()`` names hangs up as the recording notice starts on it (once: the
    customer's; the agent's hears it too, by uuid_broadcast); the legs that did."""
    left: list[str] = []

    def hang_up(event: SimEvent) -> None:
        leg = whose()
        if (event.name == "CHANNEL_EXECUTE" and event.get("Application-Data") == NOTICE
                and not left and leg is not None and event.unique_id == leg):  # fmt: skip
            left.append(leg)
            sim.core.spawn(sim.hangup, leg, name="leaves-in-the-notice")

    sim.on_event(hang_up)
    return left


@pytest.mark.parametrize("policy", [RecordingPolicy.ALL, RecordingPolicy.NONE])
def test_a_callback_that_may_be_recorded_tells_the_customer_before_the_bridge(
    sim: Simulator, engine: EngineFactory, policy: RecordingPolicy
) -> None:
    # the customer of a callback never heard the queue's "this call may be recorded" on
    # this call (if at all, on its own, maybe hours before): it was recorded unannounced
    app = engine()
    sim.set_file_duration(NOTICE, 2.0)
    seen: list[tuple[str, str, str]] = []
    sim.on_event(lambda e: seen.append((e.name, e.unique_id, e.get("Application") or "")))
    recorded = policy is RecordingPolicy.ALL
    queue, agent, number = ("cbr5", "4195", "15554950001") if recorded else (
        "cbr6", "4196", "15554960001")  # fmt: skip
    _asked(app, sim, queue, agent, number, recording_policy=policy,
           recording_announcement=NOTICE)  # fmt: skip
    call = until(lambda: _bridged(sim, queue), timeout=20)
    customer = _customer(sim, number)
    assert customer is not None
    if not recorded:  # never recorded: nothing to announce, nothing recorded
        until(lambda: (s := first_stay(app, queue)) and s.outcome is not None, timeout=10)
        assert f"playback {NOTICE}" not in apps_sent(sim, customer)
        assert not any("uuid_broadcast" in c.line or "uuid_record" in c.line
                       for c in sim.core.commands)  # fmt: skip
        sim.hangup(call)
        wait_cdr(app, call, timeout=20)
        until(lambda: settled(app), timeout=15)
        return
    until(lambda: _sent(sim, call, "start") == 1)
    assert f"playback {NOTICE}" in apps_sent(sim, customer)  # to the customer's own leg
    heard = _index(sim, lambda line: line == f"api uuid_broadcast {call} {NOTICE} aleg")
    told = _index(sim, lambda line: line == f"sendmsg {customer}")
    bridge = _index(sim, lambda line: line.startswith(f"api uuid_bridge {call} {customer}"))
    start = _index(sim, lambda line: line.startswith(f"api uuid_record {call} start "))
    assert heard < told < bridge < start  # the agent hears it too; recorded after it
    done = seen.index(("CHANNEL_EXECUTE_COMPLETE", customer, "playback"))
    assert done < seen.index(("CHANNEL_BRIDGE", call, ""))  # heard out before the bridge
    [stay] = entries(app, queue)
    assert (stay.outcome, stay.callback_attempts) == (QueueOutcome.CALLBACK_ANSWERED, 1)
    sim.hangup(call)
    wait_cdr(app, call, timeout=20)
    [row] = checked(app, call)
    assert (row.queue, row.agent, row.channels) == (queue, agent, 2)
    until(lambda: settled(app), timeout=15)


def test_a_customer_hanging_up_during_the_recording_notice_was_called_back_and_not_bridged(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.set_file_duration(NOTICE, 2.0)
    left = _hangs_up_in_the_notice(sim, lambda: _customer(sim, "15554970001"))
    _asked(app, sim, "cbr7", "4197", "15554970001", recording_policy=RecordingPolicy.ALL,
           recording_announcement=NOTICE)  # fmt: skip
    until(lambda: (s := first_stay(app, "cbr7")) and s.outcome is not None, timeout=20)
    [stay] = entries(app, "cbr7")
    assert (stay.outcome, stay.callback_attempts, stay.callback_result) == (
        QueueOutcome.CALLBACK_ANSWERED, 1, "answered",
    )  # fmt: skip
    assert left == [_customer(sim, "15554970001")]
    assert sum("carrier1/15554970001" in line for line in _originates(sim)) == 1  # once
    [call] = _callback_calls(sim)
    cdr = wait_cdr(app, call, timeout=20)
    assert (cdr.queue, cdr.disposition, cdr.hangup_by) == (
        "cbr7", Disposition.ABANDONED, HangupBy.CALLER,
    )  # fmt: skip
    assert not any("uuid_bridge" in c.line or "uuid_record" in c.line for c in sim.core.commands)
    until(lambda: settled(app), timeout=15)
    agent = app.dispatcher.board.agents["4197"]  # freed as after any call it took
    assert agent.state in (AgentState.WRAP_UP, AgentState.IDLE)
    assert agent.status is AgentStatus.AVAILABLE


def test_an_agent_hanging_up_during_the_recording_notice_leaves_no_customer_on_the_line(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.set_file_duration(NOTICE, 2.0)
    left = _hangs_up_in_the_notice(sim, lambda: _callback_call(sim, "cbr8"))  # the agent's
    _asked(app, sim, "cbr8", "4198", "15554980001", recording_policy=RecordingPolicy.ALL,
           recording_announcement=NOTICE)  # fmt: skip
    until(lambda: (s := first_stay(app, "cbr8")) and s.outcome is not None, timeout=30)
    [stay] = entries(app, "cbr8")  # the agent left the first: not counted, dialled again
    assert (stay.outcome, stay.callback_attempts) == (QueueOutcome.CALLBACK_ANSWERED, 1)
    first, second = (c.line.split("origination_uuid=")[1].split(",")[0]
                     for c in sim.core.commands if "carrier1/15554980001" in c.line)  # fmt: skip
    until(lambda: sim.channel(first) is None, timeout=5)  # hung up, not left parked
    assert not any(f"uuid_bridge {left[0]}" in c.line for c in sim.core.commands)
    assert f"playback {NOTICE}" in apps_sent(sim, second)  # told again on the new call
    call = until(lambda: _bridged(sim, "cbr8"), timeout=20)
    sim.hangup(call)
    wait_cdr(app, call, timeout=20)
    until(lambda: settled(app), timeout=15)

"""s03 (originate + uuid_bridge + uuid_record + bridged hangup) and s04 (originate failures)."""

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on

import uuid as uuidlib

import gevent
import pytest

from callcenter.sim import AgentBehaviour, Simulator
from callcenter.sim.session import ExecRequest
from tests.integration.sim.rawesl import RawESL
from tests.integration.sim.recorded import channel_uuids, controller_part, recorded_events, sequence
from tests.support import until

ORIGINATE = (
    "{{origination_uuid={b},cc_role=agent,origination_caller_id_name=Queue-Sales}}{dial} &park()"
)


def _parked_answered_caller(sim: Simulator, esl: RawESL) -> str:
    a = sim.place_call("5000", "15551234567", "Alice Caller")
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=a))
    app = esl.sendmsg(a, "answer")
    until(lambda: esl.find("CHANNEL_EXECUTE_COMPLETE", Application_UUID=app))
    return a


def test_s03_agent_bridge_record_and_bridged_hangup(sim: Simulator, esl: RawESL) -> None:
    a = _parked_answered_caller(sim, esl)
    b = str(uuidlib.uuid4())
    # dialled as recorded: straight to sofia (a user/ dial adds a second CHANNEL_OUTGOING,
    # see test_event_cost's s17 scenario)
    dial = "sofia/external/agent@127.0.0.1:5070"
    reply = esl.command(f"bgapi originate {ORIGINATE.format(b=b, dial=dial)}")
    job = reply.headers["Job-UUID"]
    bg = until(lambda: esl.find("BACKGROUND_JOB", Job_UUID=job))[0]
    assert bg.body == f"+OK {b}\n"
    park_b = until(lambda: esl.find("CHANNEL_PARK", Unique_ID=b))[0]
    assert park_b["Call-Direction"] == "outbound"
    assert esl.api(f"uuid_bridge {a} {b}") == f"+OK {b}\n"
    bridge = until(lambda: esl.find("CHANNEL_BRIDGE"))[0]
    assert (bridge["Unique-ID"], bridge["Bridge-A-Unique-ID"], bridge["Bridge-B-Unique-ID"]) == (
        a,
        a,
        b,
    )
    assert bridge["Other-Leg-Unique-ID"] == b and bridge["Other-Type"] == "originatee"
    until(lambda: len(esl.find("CALL_UPDATE", Unique_ID=b)) == 2)
    path = "/var/lib/callcenter/recordings/s03.wav"
    assert esl.api(f"uuid_record {a} start {path}") == "+OK Success\n"
    until(lambda: esl.find("RECORD_START", Unique_ID=a))
    assert esl.api(f"uuid_record {a} mask {path}") == "+OK Success\n"
    assert esl.api(f"uuid_record {a} unmask {path}") == "+OK Success\n"
    assert esl.api(f"uuid_record {a} stop {path}") == "+OK Success\n"
    stop = until(lambda: esl.find("RECORD_STOP", Unique_ID=a))[0]
    assert stop["Record-Completion-Cause"] == "success-maxtime"
    assert stop["Record-File-Path"] == path
    assert sim.hangup(a)
    until(
        lambda: (
            esl.find("CHANNEL_DESTROY", Unique_ID=a) and esl.find("CHANNEL_DESTROY", Unique_ID=b)
        )
    )

    recorded = recorded_events("s03-agent-bridge-record.events.jsonl")
    real_a, real_b = channel_uuids(recorded)[:2]
    assert controller_part(esl.names_for(a)) == controller_part(sequence(recorded, real_a))
    assert esl.names_for(b) == sequence(recorded, real_b)
    hb = esl.find("CHANNEL_HANGUP", Unique_ID=b)[0]
    assert hb["Hangup-Cause"] == "NORMAL_CLEARING"
    seqs = [int(e["Event-Sequence"]) for e in esl.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_agent_hangs_up_after_talk_time(sim: Simulator, esl: RawESL) -> None:
    sim.register_agent("1002", AgentBehaviour(answer_delay=0.1, talk_time=1.0))
    a = _parked_answered_caller(sim, esl)
    b = str(uuidlib.uuid4())
    body = esl.api(f"originate {ORIGINATE.format(b=b, dial='user/1002')}")
    assert body == f"+OK {b}\n"
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=b))
    esl.api(f"uuid_bridge {a} {b}")
    until(lambda: esl.find("CHANNEL_DESTROY", Unique_ID=a), timeout=5)
    assert esl.find("CHANNEL_HANGUP", Unique_ID=a)[0]["Hangup-Cause"] == "NORMAL_CLEARING"
    assert esl.find("CHANNEL_UNBRIDGE", Unique_ID=a)


@pytest.mark.parametrize("broken_first", [False, True], ids=["bridge", "break-then-bridge"])
def test_an_app_taken_just_before_a_bridge_or_break_ends_at_once(
    sim: Simulator, esl: RawESL, broken_first: bool
) -> None:
    """The park loop has taken a playback (a sendmsg) and not yet started it when the
    break or the bridge comes: FreeSWITCH's flags (CF_BREAK, CF_TRANSFER) end it as it
    starts. The simulator played it on, the bridge gave up after its 10 s and the caller
    stayed parked with music, never bridged (a loaded test run's "bridged and silent")."""
    a = _parked_answered_caller(sim, esl)
    b = str(uuidlib.uuid4())
    assert esl.api(f"originate {ORIGINATE.format(b=b, dial='user/1001')}") == f"+OK {b}\n"
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=b))
    caller = sim.core.session(a)
    assert caller is not None
    caller.inbox.put(ExecRequest("playback", "tone_stream://%(1000,4000,350);loops=-1", None))
    gevent.sleep(0)  # the park loop takes it; it starts after its 20 ms frame
    assert caller.starting and caller.current_app != "playback"
    if broken_first:
        assert sim.api.execute("uuid_break", f"{a} all") == "+OK\n"
    assert sim.api.execute("uuid_bridge", f"{a} {b}") == f"+OK {b}\n"
    until(lambda: esl.find("CHANNEL_BRIDGE", Unique_ID=a), timeout=3)
    assert caller.peer is not None and caller.peer.uuid == b


def test_a_bridge_to_a_leg_that_hung_up_is_refused_or_hangs_the_originator_up(
    sim: Simulator, esl: RawESL
) -> None:
    """switch_ivr_uuid_bridge: a leg it cannot find is refused (``-ERR Invalid uuid``, as
    s06 recorded); an originatee hung up but not yet destroyed is not looked at, and
    uuid_bridge_on_soft_execute then finds it down and hangs the originator up with
    ORIGINATOR_CANCEL (uuid_bridge_continue_on_cancel unset). The simulator had left the
    originator out of its park, silent, and never bridged."""
    a = _parked_answered_caller(sim, esl)
    b = str(uuidlib.uuid4())
    assert esl.api(f"originate {ORIGINATE.format(b=b, dial='user/1001')}") == f"+OK {b}\n"
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=b))
    assert sim.api.execute("uuid_bridge", f"{a} {b}") == f"+OK {b}\n"
    assert sim.hangup(b)  # its BYE crosses the bridge
    until(lambda: esl.find("CHANNEL_HANGUP", Unique_ID=a), timeout=3)
    assert esl.find("CHANNEL_HANGUP", Unique_ID=a)[0]["Hangup-Cause"] == "ORIGINATOR_CANCEL"
    assert not esl.find("CHANNEL_BRIDGE", Unique_ID=a)
    until(lambda: sim.core.session(b) is None)
    c = _parked_answered_caller(sim, esl)
    assert esl.api(f"uuid_bridge {c} {b}") == "-ERR Invalid uuid\n"  # b: no such channel
    assert sim.channel(c) is not None  # refused: nothing happens to the other leg


def test_s04_originate_failures(sim: Simulator, esl: RawESL) -> None:
    sim.register_agent("2000", AgentBehaviour(busy=True))
    sim.register_agent("2001", AgentBehaviour(no_answer=True))
    sim.register_agent("2002", AgentBehaviour(registered=False))

    busy = str(uuidlib.uuid4())
    chosen_job = str(uuidlib.uuid4())
    reply = esl.command(
        f"bgapi originate {ORIGINATE.format(b=busy, dial='user/2000')}", f"Job-UUID: {chosen_job}"
    )
    assert reply.headers["Reply-Text"] == f"+OK Job-UUID: {chosen_job}"
    bg = until(lambda: esl.find("BACKGROUND_JOB", Job_UUID=chosen_job))[0]
    assert bg.body == "-ERR USER_BUSY\n"
    until(lambda: esl.find("CHANNEL_STATE", Unique_ID=busy, Channel_State="CS_DESTROY"))
    recorded = recorded_events("s04-originate-failures.events.jsonl")
    real = channel_uuids(recorded)
    assert esl.names_for(busy) == sequence(recorded, real[0])
    complete = esl.find("CHANNEL_HANGUP_COMPLETE", Unique_ID=busy)[0]
    assert complete["Hangup-Cause"] == "USER_BUSY"
    assert complete["variable_sip_hangup_disposition"] == "recv_refuse"

    # blocking api: the response comes before the leg's events
    blocking = str(uuidlib.uuid4())
    before = len(esl.raw)
    assert (
        esl.api(f"originate {ORIGINATE.format(b=blocking, dial='user/2000')}") == "-ERR USER_BUSY\n"
    )
    later = esl.raw[before:]
    first_event = next(i for i, m in enumerate(later) if m.content_type == "text/event-json")
    first_api = next(i for i, m in enumerate(later) if m.content_type == "api/response")
    assert first_api < first_event

    ringing = str(uuidlib.uuid4())
    dial = ORIGINATE.format(b=ringing, dial="user/2001").replace("}", ",originate_timeout=2}", 1)
    job = esl.command(f"bgapi originate {dial}").headers["Job-UUID"]
    bg = until(lambda: esl.find("BACKGROUND_JOB", Job_UUID=job))[0]
    assert bg.body == "-ERR NO_ANSWER\n"
    until(lambda: esl.find("CHANNEL_STATE", Unique_ID=ringing, Channel_State="CS_DESTROY"))
    assert esl.names_for(ringing) == sequence(recorded, real[3])
    assert (
        esl.find("CHANNEL_HANGUP_COMPLETE", Unique_ID=ringing)[0]["variable_sip_hangup_disposition"]
        == "send_cancel"
    )

    for ext in ("2002", "9999"):
        absent = str(uuidlib.uuid4())
        job = esl.command(
            f"bgapi originate {ORIGINATE.format(b=absent, dial='user/' + ext)}"
        ).headers["Job-UUID"]
        bg = until(lambda job=job: esl.find("BACKGROUND_JOB", Job_UUID=job))[0]
        assert bg.body == "-ERR SUBSCRIBER_ABSENT\n"
        assert esl.names_for(absent) == []


def test_originate_app_quirk_and_hangup_after_app(sim: Simulator, esl: RawESL) -> None:
    b = str(uuidlib.uuid4())
    dial = f"{{origination_uuid={b}}}user/1001 &playback(tone_stream://%(500,0,440);loops=2)"
    esl.command(f"bgapi originate {dial}")
    until(lambda: esl.find("CHANNEL_STATE", Unique_ID=b, Channel_State="CS_DESTROY"))
    execute = esl.find("CHANNEL_EXECUTE", Unique_ID=b)[0]
    assert execute["Application-Data"] == "tone_stream://%(500,0,440"
    assert esl.find("CHANNEL_HANGUP", Unique_ID=b)[0]["Hangup-Cause"] == "NORMAL_CLEARING"


def test_bridge_app_to_agent(sim: Simulator, esl: RawESL) -> None:
    sim.register_agent("1003", AgentBehaviour(answer_delay=0.2, talk_time=1.0))
    a = _parked_answered_caller(sim, esl)
    app = esl.sendmsg(a, "bridge", "user/1003")
    done = until(lambda: esl.find("CHANNEL_EXECUTE_COMPLETE", Application_UUID=app), timeout=5)[0]
    assert done["Application"] == "bridge"
    assert esl.find("CHANNEL_BRIDGE", Unique_ID=a) and esl.find("CHANNEL_UNBRIDGE", Unique_ID=a)
    assert esl.api(f"uuid_exists {a}") == "true"  # hangup_after_bridge=false: caller stays

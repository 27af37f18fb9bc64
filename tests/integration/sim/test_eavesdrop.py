"""s15 (a supervisor's leg eavesdrops on the agent's leg): the simulator against the
recorded order of events, both runs: the supervisor hangs up; the caller hangs up and
FreeSWITCH hangs the supervisor up (sessions-3/s15-eavesdrop, seq 1009-1032 and 1142-1179;
CODEC, API and PRESENCE_IN left out, as this subscription does)."""

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on

import uuid as uuidlib

from callcenter.sim import AgentBehaviour, Simulator
from tests.integration.sim.rawesl import RawESL, _label
from tests.integration.sim.test_refer import _bridged
from tests.support import until

SUPERVISOR = (
    "{{origination_uuid={s},cc_role=supervisor,originate_timeout=15}}user/1002 &eavesdrop({b})"
)
START = ["S:EXEC(eavesdrop)", "B:MEDIA_BUG_START", "S:CALL_UPDATE", "S:DTMF", "S:DTMF"]
END = ["S:st:CS_HANGUP", "S:cs:HANGUP", "S:st:CS_REPORTING", "S:HANGUP_COMPLETE", "S:DESTROY",
       "S:st:CS_DESTROY"]  # fmt: skip
RUN_1 = [*START, "S:HANGUP", "B:MEDIA_BUG_STOP", "S:DONE(eavesdrop)", *END]
RUN_2 = [*START, "A:HANGUP", "B:HANGUP", "B:HANGUP_COMPLETE", "A:HANGUP_COMPLETE",
         "B:MEDIA_BUG_STOP", "S:DONE(eavesdrop)", "S:HANGUP", *END]  # fmt: skip


def _supervise(sim: Simulator, esl: RawESL) -> tuple[str, str, str]:
    esl.command("event json MEDIA_BUG_START MEDIA_BUG_STOP")
    sim.register_agent("1002", AgentBehaviour(answer_delay=0.2))
    a, b = _bridged(sim, esl)
    s = str(uuidlib.uuid4())
    assert esl.api(f"originate {SUPERVISOR.format(s=s, b=b)}") == f"+OK {s}\n"
    until(lambda: esl.find("CALL_UPDATE", Unique_ID=s))
    assert sim.send_dtmf(s, "23")  # whisper, then barge: no event but the DTMF
    until(lambda: len(esl.find("DTMF", Unique_ID=s)) == 2)
    return a, b, s


def _labels(esl: RawESL, a: str, b: str, s: str) -> list[str]:
    first = esl.find("CHANNEL_EXECUTE", Unique_ID=s, Application="eavesdrop")[0]
    start = next(i for i, e in enumerate(esl.events) if e is first)
    out = []
    for e in esl.events[start:]:
        leg = e.headers.get("Unique-ID")
        if leg == s:
            out.append("S:" + _label(e))
        elif leg == b and "MEDIA_BUG" in e.name:
            out.append("B:" + _label(e))
            assert e["Media-Bug-Function"] == "eavesdrop" and e["Media-Bug-Target"] == b
        elif leg in (a, b) and e.name in ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE"):
            out.append(("A:" if leg == a else "B:") + _label(e))
    return out


def test_s15_the_supervisor_hangs_up_and_the_call_goes_on(sim: Simulator, esl: RawESL) -> None:
    a, b, s = _supervise(sim, esl)
    assert not esl.find("CHANNEL_PARK", Unique_ID=s) and not esl.find("CHANNEL_BRIDGE", Unique_ID=s)
    assert sim.hangup(s)
    until(lambda: esl.find("CHANNEL_STATE", Unique_ID=s, Channel_State="CS_DESTROY"))
    assert _labels(esl, a, b, s) == RUN_1
    assert sim.channel(a) is not None and sim.channel(b) is not None  # untouched
    assert sim.channel(a).partner == b


def test_s15_the_caller_leaves_and_the_supervisor_is_hung_up(sim: Simulator, esl: RawESL) -> None:
    a, b, s = _supervise(sim, esl)
    assert sim.hangup(a)
    until(lambda: esl.find("CHANNEL_STATE", Unique_ID=s, Channel_State="CS_DESTROY"))
    ours = _labels(esl, a, b, s)
    # the caller's and the agent's own hang-up events: the bridged-call order (s03's), not
    # eavesdrop's; what matters here is that both come before the bug's end and S's hang-up
    legs = {"A:HANGUP", "B:HANGUP", "A:HANGUP_COMPLETE", "B:HANGUP_COMPLETE"}
    assert [x for x in ours if x not in legs] == [x for x in RUN_2 if x not in legs]
    assert sorted(ours[5:9]) == sorted(legs) and ours[9] == "B:MEDIA_BUG_STOP"
    done = esl.find("CHANNEL_HANGUP_COMPLETE", Unique_ID=s)[0]
    assert done["variable_sip_hangup_disposition"] == "send_bye"

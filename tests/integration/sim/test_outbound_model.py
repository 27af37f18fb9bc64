"""The simulator's outbound model over TCP: who a dialled number reaches, and what
``wait_for_silence`` and mod_avmd hear once it answers (sim.listening)."""

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on

import uuid as uuidlib
from collections import Counter

from callcenter.sim import AgentBehaviour, Simulator, Voice
from callcenter.sim.traffic import TrafficModel, TrafficProfile
from tests.integration.sim.rawesl import EventMsg, RawESL
from tests.support import until

WFS = "200 20 5 3500"  # thresh, 400 ms of silence, 100 ms of speech first, 3.5 s at most


def dial(esl: RawESL, number: str, timeout: int = 20) -> tuple[str, str]:
    uuid = str(uuidlib.uuid4())
    reply = esl.api(
        f"originate {{origination_uuid={uuid},originate_timeout={timeout}}}"
        f"sofia/gateway/carrier/{number} &park"
    )
    return uuid, reply.strip()


def completed(esl: RawESL, uuid: str, app: str) -> EventMsg:
    until(lambda: esl.find("CHANNEL_EXECUTE_COMPLETE", Unique_ID=uuid, Application=app))
    return esl.find("CHANNEL_EXECUTE_COMPLETE", Unique_ID=uuid, Application=app)[0]


def seconds_since_answer(esl: RawESL, uuid: str, event: EventMsg) -> float:
    answer = esl.find("CHANNEL_ANSWER", Unique_ID=uuid)[0]
    stamp = int(event["Event-Date-Timestamp"]) - int(answer["Event-Date-Timestamp"])
    return stamp / 1_000_000


def model(sim: Simulator, **overrides: AgentBehaviour) -> TrafficModel:
    return TrafficModel(sim, TrafficProfile(), seed=5, overrides=overrides)


def test_a_person_says_hello_and_the_silence_after_it_ends_wait_for_silence(
    sim: Simulator, esl: RawESL
) -> None:
    voice = Voice(silence=0.3, speech=0.8, patience=30.0)
    model(sim, **{"15550001": AgentBehaviour(answer_delay=1.0, voice=voice)})
    uuid, reply = dial(esl, "15550001")
    assert reply == f"+OK {uuid}"
    esl.sendmsg(uuid, "wait_for_silence", WFS)
    done = completed(esl, uuid, "wait_for_silence")
    assert done["variable_wait_for_silence_timeout"] == "false"
    # greeting ends at 1.1 s; 20 quiet frames, then switch_ivr.c's 25-frame countdown
    assert 1.9 <= seconds_since_answer(esl, uuid, done) <= 2.2


def test_a_machine_talks_through_the_window_then_avmd_hears_its_beep(
    sim: Simulator, esl: RawESL
) -> None:
    esl.command("event json CUSTOM avmd::start avmd::beep avmd::stop")
    voice = Voice(machine=True, silence=0.5, speech=6.0, beep_gap=0.5, patience=None)
    model(sim, **{"15550002": AgentBehaviour(answer_delay=1.0, machine=True, voice=voice)})
    uuid, _ = dial(esl, "15550002")
    esl.sendmsg(uuid, "avmd_start")
    esl.sendmsg(uuid, "wait_for_silence", WFS)
    done = completed(esl, uuid, "wait_for_silence")
    assert done["variable_wait_for_silence_timeout"] == "true"
    assert int(done["variable_wait_for_silence_listenhits"]) > 5
    until(lambda: esl.find("CUSTOM", Event_Subclass="avmd::beep", Unique_ID=uuid), timeout=5)
    beep = esl.find("CUSTOM", Event_Subclass="avmd::beep", Unique_ID=uuid)[0]
    assert beep["Beep-Status"] == "DETECTED" and beep["Call-command"] == "avmd"
    assert 990 < float(beep["Frequency"]) < 1010
    assert 7.0 <= seconds_since_answer(esl, uuid, beep) <= 7.3  # beep at 7.0 s, heard in 160 ms
    assert "variable_avmd_detect" not in beep.headers  # mod_avmd's events carry no channel data
    esl.sendmsg(uuid, "avmd_stop")
    until(lambda: esl.find("CUSTOM", Event_Subclass="avmd::stop", Unique_ID=uuid))
    stop = esl.find("CUSTOM", Event_Subclass="avmd::stop", Unique_ID=uuid)[0]
    assert stop["Beep-Status"] == "DETECTED"
    assert esl.find("CUSTOM", Event_Subclass="avmd::start", Unique_ID=uuid)


def test_a_hang_up_with_avmd_running_removes_its_bug_as_freeswitch_does(
    sim: Simulator, esl: RawESL
) -> None:
    # every bug goes at hang-up (MEDIA_BUG_STOP, target "N/A": mod_avmd adds it with none),
    # and mod_avmd's close callback sends no avmd::stop
    esl.command(
        "event json MEDIA_BUG_START MEDIA_BUG_STOP CUSTOM avmd::start avmd::beep avmd::stop"
    )
    model(sim, **{"15550009": AgentBehaviour(voice=Voice(silence=0.5, speech=1.0, patience=60.0))})
    uuid, _ = dial(esl, "15550009")
    esl.sendmsg(uuid, "avmd_start")
    until(lambda: esl.find("CUSTOM", Event_Subclass="avmd::start", Unique_ID=uuid))
    until(lambda: esl.find("MEDIA_BUG_START", Unique_ID=uuid), timeout=3)
    started = esl.find("MEDIA_BUG_START", Unique_ID=uuid)[0]
    assert (started["Media-Bug-Function"], started["Media-Bug-Target"]) == ("avmd", "N/A")
    esl.api(f"uuid_kill {uuid}")
    until(lambda: esl.find("CHANNEL_HANGUP_COMPLETE", Unique_ID=uuid))
    [stopped] = esl.find("MEDIA_BUG_STOP", Unique_ID=uuid)
    assert (stopped["Media-Bug-Function"], stopped["Media-Bug-Target"]) == ("avmd", "N/A")
    assert set(stopped.headers) - {"Media-Bug-Target"} >= {"Unique-ID", "Channel-State"}
    assert not esl.find("CUSTOM", Event_Subclass="avmd::stop", Unique_ID=uuid)


def test_without_mod_avmd_avmd_start_hangs_the_channel_up_as_an_invalid_application(
    sim: Simulator, esl: RawESL
) -> None:
    # switch_core_session_execute_application_get_flags: "Invalid Application", the channel
    # hung up DESTINATION_OUT_OF_ORDER before any CHANNEL_EXECUTE (and none completes)
    sim.core.modules.discard("mod_avmd")
    model(sim, **{"15550010": AgentBehaviour(voice=Voice(silence=0.5, speech=1.0, patience=60.0))})
    uuid, _ = dial(esl, "15550010")
    esl.sendmsg(uuid, "avmd_start")
    until(lambda: esl.find("CHANNEL_HANGUP_COMPLETE", Unique_ID=uuid))
    [gone] = esl.find("CHANNEL_HANGUP_COMPLETE", Unique_ID=uuid)
    assert gone["Hangup-Cause"] == "DESTINATION_OUT_OF_ORDER"
    for name in ("CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE"):
        assert not esl.find(name, Unique_ID=uuid, Application="avmd_start"), name
    assert not esl.find("CUSTOM", Event_Subclass="avmd::start", Unique_ID=uuid)


def test_a_talker_without_a_pause_and_a_silent_answer_time_out(sim: Simulator, esl: RawESL) -> None:
    model(
        sim,
        **{
            # talking far longer than the wait, whenever it starts (the second dial may take
            # seconds of a loaded machine: 4 s of speech was over before the wait began)
            "15550003": AgentBehaviour(voice=Voice(silence=0.2, speech=30.0, patience=60.0)),
            "15550004": AgentBehaviour(voice=Voice(silence=20.0, speech=1.0, patience=30.0)),
        },
    )
    talker, _ = dial(esl, "15550003")
    silent, _ = dial(esl, "15550004")
    esl.sendmsg(talker, "wait_for_silence", WFS)
    esl.sendmsg(silent, "wait_for_silence", WFS)
    long = completed(esl, talker, "wait_for_silence")
    quiet = completed(esl, silent, "wait_for_silence")
    assert long["variable_wait_for_silence_timeout"] == "true"
    assert int(long["variable_wait_for_silence_listenhits"]) > 100
    assert quiet["variable_wait_for_silence_timeout"] == "true"
    assert quiet["variable_wait_for_silence_listenhits"] == "0"


def test_busy_no_answer_and_network_failures_end_the_originate(sim: Simulator, esl: RawESL) -> None:
    model(
        sim,
        **{
            "15550005": AgentBehaviour(busy=True),
            "15550006": AgentBehaviour(no_answer=True),
            "15550007": AgentBehaviour(fail_cause="NO_ROUTE_DESTINATION"),
        },
    )
    assert dial(esl, "15550005")[1] == "-ERR USER_BUSY"
    assert dial(esl, "15550006", timeout=15)[1] == "-ERR NO_ANSWER"
    assert dial(esl, "15550007")[1] == "-ERR NO_ROUTE_DESTINATION"


def test_a_person_no_one_speaks_to_hangs_up_after_their_patience(
    sim: Simulator, esl: RawESL
) -> None:
    voice = Voice(silence=0.2, speech=0.6, patience=3.0)
    model(sim, **{"15550008": AgentBehaviour(answer_delay=0.5, voice=voice)})
    uuid, _ = dial(esl, "15550008")
    until(lambda: esl.find("CHANNEL_HANGUP_COMPLETE", Unique_ID=uuid))
    gone = esl.find("CHANNEL_HANGUP_COMPLETE", Unique_ID=uuid)[0]
    assert gone["variable_sip_hangup_disposition"] == "recv_bye"
    assert 3.7 <= seconds_since_answer(esl, uuid, gone) <= 4.2


def test_the_draws_are_seeded_and_follow_the_profile(sim: Simulator) -> None:
    profile = TrafficProfile(
        outbound_busy=0.1, outbound_no_answer=0.2, outbound_failed=0.05, outbound_machine=0.25
    )
    first = TrafficModel(sim, profile, seed=11)
    again = TrafficModel(sim, profile, seed=11)
    draws = [first.far_end() for _ in range(4000)]
    assert draws[:50] == [again.far_end() for _ in range(50)]
    kinds = Counter(
        "busy"
        if b.busy
        else "no_answer"
        if b.no_answer
        else "failed"
        if b.fail_cause
        else "machine"
        if b.machine
        else "person"
        for b in draws
    )
    for kind, share in (
        ("busy", 0.1), ("no_answer", 0.2), ("failed", 0.05), ("machine", 0.25), ("person", 0.4)
    ):  # fmt: skip
        assert abs(kinds[kind] / 4000 - share) < 0.025, (kind, kinds)
    people = [b.voice for b in draws if b.voice is not None and not b.voice.machine]
    talkers = sum(1 for v in people if v.speech > 1.5)
    assert 0.04 < talkers / len(people) < 0.13
    machines = [b.voice for b in draws if b.voice is not None and b.voice.machine]
    assert 0.85 < sum(1 for v in machines if v.beep_at is not None) / len(machines) < 0.95


def test_an_originate_returns_on_early_media_unless_told_to_ignore_it(
    sim: Simulator, esl: RawESL
) -> None:
    # switch_ivr_originate.c: a 183 with SDP (a carrier's ringback) ends the originate, the
    # leg parked unanswered, unless ignore_early_media is set; then it waits for the answer
    ringback = AgentBehaviour(early_media=0.5, answer_delay=40.0, voice=Voice(patience=60.0))
    model(sim, **{"15550020": ringback, "15550021": ringback})
    early, reply = dial(esl, "15550020")
    assert reply == f"+OK {early}"
    [progress] = esl.find("CHANNEL_PROGRESS_MEDIA", Unique_ID=early)
    assert (progress["Answer-State"], progress["variable_endpoint_disposition"]) == (
        "early",
        "EARLY MEDIA",
    )
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=early))
    assert not esl.find("CHANNEL_ANSWER", Unique_ID=early)  # parked at 0.5 s, rings to 40 s
    until(lambda: esl.find("CHANNEL_ANSWER", Unique_ID=early), timeout=10)
    waited = str(uuidlib.uuid4())
    reply = esl.api(
        f"originate {{origination_uuid={waited},ignore_early_media=true}}"
        "sofia/gateway/carrier/15550021 &park"
    )
    assert reply.strip() == f"+OK {waited}"
    names = [e.name for e in esl.events if e.headers.get("Unique-ID") == waited]
    assert names.index("CHANNEL_PROGRESS_MEDIA") < names.index("CHANNEL_ANSWER")
    assert names.index("CHANNEL_ANSWER") < names.index("CHANNEL_PARK")

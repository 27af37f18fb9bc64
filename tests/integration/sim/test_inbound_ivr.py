"""s01 (inbound IVR) and s02 (caller hangs up mid-playback) against the recordings."""

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on

from callcenter.sim import CallerBehaviour, Simulator
from tests.integration.sim.rawesl import RawESL
from tests.integration.sim.recorded import channel_uuids, controller_part, recorded_events, sequence
from tests.support import until

PAGD = r"1 4 3 5000 # tone_stream://%(300,0,800) silence_stream://250 cc_digits \d+"


def _done(esl: RawESL, app_uuid: str):  # type: ignore[no-untyped-def]
    return until(lambda: esl.find("CHANNEL_EXECUTE_COMPLETE", Application_UUID=app_uuid))[0]


def test_s01_inbound_ivr_replay(sim: Simulator, esl: RawESL) -> None:
    uuid = sim.place_call(
        "5000",
        "15551234567",
        "Alice Caller",
        behaviour=CallerBehaviour(digits=("12#",), first_digit_delay=1.0),
    )
    park = until(lambda: esl.find("CHANNEL_PARK", Unique_ID=uuid))[0]
    assert park["Answer-State"] == "ringing"
    assert park["variable_cc_did"] == "5000" and park["variable_cc_managed"] == "true"
    assert park["Call-Direction"] == "inbound"

    answer = _done(esl, esl.sendmsg(uuid, "answer"))
    assert answer["Application-Response"] == "_none_"
    played = _done(esl, esl.sendmsg(uuid, "playback", "tone_stream://%(2000,0,440)"))
    assert played["Application-Response"] == "FILE PLAYED"
    pagd = _done(esl, esl.sendmsg(uuid, "play_and_get_digits", PAGD))
    assert pagd["Application-Response"] == "_none_"
    assert pagd["variable_cc_digits"] == "12"
    assert pagd["variable_read_result"] == "success"
    assert pagd["variable_read_terminator_used"] == "#"
    assert esl.api(f"uuid_getvar {uuid} cc_digits") == "12"
    _done(esl, esl.sendmsg(uuid, "set", "cc_result=digits_12"))
    esl.sendmsg(uuid, "hangup", "NORMAL_CLEARING")
    until(lambda: esl.find("CHANNEL_STATE", Unique_ID=uuid, Channel_State="CS_DESTROY"))

    recorded = recorded_events("s01-inbound-ivr.events.jsonl")
    real = channel_uuids(recorded)[0]
    assert controller_part(esl.names_for(uuid)) == controller_part(sequence(recorded, real))
    assert [e["DTMF-Digit"] for e in esl.find("DTMF")] == ["1", "2", "#"]
    complete = esl.find("CHANNEL_HANGUP_COMPLETE", Unique_ID=uuid)[0]
    assert complete["Hangup-Cause"] == "NORMAL_CLEARING"
    assert complete["variable_sip_hangup_disposition"] == "send_bye"
    assert complete["variable_cc_result"] == "digits_12"
    assert esl.api(f"uuid_exists {uuid}") == "false"


def test_every_execute_correlates_by_event_uuid(sim: Simulator, esl: RawESL) -> None:
    uuid = sim.place_call("5000", "15551230000")
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=uuid))
    chosen = [
        esl.sendmsg(uuid, app, arg)
        for app, arg in [
            ("answer", ""),
            ("set", "a=1"),
            ("export", "b=2"),
            ("sleep", "100"),
            ("playback", "silence_stream://200"),
            ("info", ""),
        ]
    ]
    until(lambda: all(esl.find("CHANNEL_EXECUTE_COMPLETE", Application_UUID=c) for c in chosen))
    for c in chosen:
        assert len(esl.find("CHANNEL_EXECUTE", Application_UUID=c)) == 1
    esl.send(
        f"sendmsg {uuid}\ncall-command: execute\nexecute-app-name: set\n"
        "execute-app-arg: cc_no_event_uuid=true\n\n"
    )
    assert esl.reply().headers["Reply-Text"] == "+OK"
    done = until(
        lambda: esl.find("CHANNEL_EXECUTE_COMPLETE", Application_Data="cc_no_event_uuid=true")
    )
    assert len(done[0]["Application-UUID"]) == 36


def test_s02_caller_hangs_up_mid_playback(sim: Simulator, esl: RawESL) -> None:
    uuid = sim.place_call("5000", "15551234567", "Alice Caller")
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=uuid))
    _done(esl, esl.sendmsg(uuid, "answer"))
    esl.sendmsg(uuid, "playback", "tone_stream://%(10000,0,440)")
    until(lambda: esl.find("PLAYBACK_START", Unique_ID=uuid))
    assert sim.hangup(uuid)
    until(lambda: esl.find("CHANNEL_STATE", Unique_ID=uuid, Channel_State="CS_DESTROY"))

    recorded = recorded_events("s02-caller-hangup-mid-playback.events.jsonl")
    real = channel_uuids(recorded)[0]
    assert controller_part(esl.names_for(uuid)) == controller_part(sequence(recorded, real))
    labels = esl.names_for(uuid)
    assert labels[-11:] == [
        "HANGUP",
        "PLAYBACK_STOP",
        "DONE(playback)",
        "UNPARK",
        "DONE(park)",
        "st:CS_HANGUP",
        "cs:HANGUP",
        "st:CS_REPORTING",
        "HANGUP_COMPLETE",
        "DESTROY",
        "st:CS_DESTROY",
    ]
    done = esl.find("CHANNEL_EXECUTE_COMPLETE", Unique_ID=uuid)
    assert [d["Application-Response"] for d in done[-2:]] == ["PLAYBACK ERROR", "PLAYBACK ERROR"]
    assert esl.find("PLAYBACK_STOP")[0]["Playback-Status"] == "done"
    complete = esl.find("CHANNEL_HANGUP_COMPLETE")[0]
    assert complete["variable_sip_hangup_disposition"] == "recv_bye"

    # the gone channel, as s02 probes it
    reply = esl.command(f"sendmsg {uuid}", "call-command: execute", "execute-app-name: answer")
    assert reply.headers["Reply-Text"] == f"-ERR invalid session id [{uuid}]"
    assert esl.api(f"uuid_kill {uuid}") == "-ERR No such channel!\n"
    assert esl.api(f"uuid_getvar {uuid} cc_did") == "-ERR No such channel!\n"
    assert esl.api(f"uuid_dump {uuid} json") == "-ERR No such channel!\n"
    reply = esl.command(f"bgapi uuid_kill {uuid}")
    job = reply.headers["Job-UUID"]
    assert reply.headers["Reply-Text"] == f"+OK Job-UUID: {job}"
    bg = until(lambda: esl.find("BACKGROUND_JOB", Job_UUID=job))[0]
    assert bg.body == "-ERR No such channel!\n"
    assert bg["Job-Command"] == "uuid_kill" and bg["Job-Command-Arg"] == uuid


def test_caller_hangs_up_during_digit_collection(sim: Simulator, esl: RawESL) -> None:
    uuid = sim.place_call(
        "5000",
        "1555",
        behaviour=CallerBehaviour(hangup_at_app="play_and_get_digits", hangup_at_app_delay=0.5),
    )
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=uuid))
    esl.sendmsg(uuid, "answer")
    app = esl.sendmsg(uuid, "play_and_get_digits", PAGD)
    done = _done(esl, app)
    until(lambda: esl.find("CHANNEL_DESTROY", Unique_ID=uuid))
    labels = esl.names_for(uuid)
    assert labels.index("HANGUP") < labels.index("DONE(play_and_get_digits)")
    assert labels[-1] == "st:CS_DESTROY" and labels[-2] == "DESTROY"
    assert done["Application-Response"] == "_none_"


def test_patience_abandons_and_dtmf_breaks_playback(sim: Simulator, esl: RawESL) -> None:
    uuid = sim.place_call("5000", "1555", behaviour=CallerBehaviour(patience=3.0))
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=uuid))
    esl.sendmsg(uuid, "answer")
    esl.sendmsg(uuid, "set", "playback_terminators=#")
    app = esl.sendmsg(uuid, "playback", "tone_stream://%(20000,0,440)")
    until(lambda: esl.find("PLAYBACK_START", Unique_ID=uuid))
    sim.send_dtmf(uuid, "#")
    done = _done(esl, app)
    assert done["Application-Response"] == "FILE PLAYED"
    assert esl.find("PLAYBACK_STOP")[0]["Playback-Status"] == "break"
    hangup = until(lambda: esl.find("CHANNEL_HANGUP_COMPLETE", Unique_ID=uuid), timeout=5)[0]
    assert hangup["variable_sip_hangup_disposition"] == "recv_bye"


def test_uuid_break_all_flushes_queued_executes(sim: Simulator, esl: RawESL) -> None:
    # mod_commands: `uuid_break <uuid> all` flushes the channel's private events, so an
    # execute queued behind the playback never runs (and never completes); the next one runs
    uuid = sim.place_call("5000", "1555", behaviour=CallerBehaviour(patience=30.0))
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=uuid))
    esl.sendmsg(uuid, "answer")
    playing = esl.sendmsg(uuid, "playback", "tone_stream://%(20000,0,440)")
    queued = esl.sendmsg(uuid, "playback", "tone_stream://%(20000,0,350)")
    until(lambda: esl.find("PLAYBACK_START", Unique_ID=uuid))
    assert esl.api(f"uuid_break {uuid} all").startswith("+OK")
    _done(esl, playing)
    after = esl.sendmsg(uuid, "answer")
    _done(esl, after)
    assert not esl.find("CHANNEL_EXECUTE_COMPLETE", Application_UUID=queued)

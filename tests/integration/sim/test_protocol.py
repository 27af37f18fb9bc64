"""Protocol texts (s06), listings (s05), several clients, filters, drops and restarts."""

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on

import json
import uuid as uuidlib

from callcenter.sim import CallerBehaviour, Simulator
from tests.integration.sim.rawesl import RawESL
from tests.support import until
from tests.unit.sim.fixtures import FIXTURES, messages

UNKNOWN = "cb3eeb4d-ec92-4bd3-a8e5-9dc9dd05a4eb"
OTHER = "01d601f3-4f66-4a55-9e08-79ddf86658f3"
S06_COMMANDS = [
    ("api no_such_command arg1",),
    (f"api uuid_kill {UNKNOWN}",),
    (f"api uuid_getvar {UNKNOWN} cc_did",),
    (f"api uuid_setvar {UNKNOWN} cc_x 1",),
    (f"api uuid_bridge {UNKNOWN} {OTHER}",),
    (f"api uuid_record {UNKNOWN} start /var/lib/callcenter/recordings/none.wav",),
    (f"api uuid_transfer {UNKNOWN} 5001 XML public",),
    (f"api uuid_broadcast {UNKNOWN} tone_stream://%(100,0,440) aleg",),
    (
        f"sendmsg {UNKNOWN}",
        "call-command: execute",
        "execute-app-name: playback",
        "execute-app-arg: tone_stream://%(500,0,440)",
        f"Event-UUID: {uuidlib.uuid4()}",
    ),
    (f"sendmsg {UNKNOWN}", "call-command: hangup", "hangup-cause: NORMAL_CLEARING"),
    ("event json CHANNEL_CREATE CHANNEL_ANSWER BACKGROUND_JOB",),
    ("event plain CHANNEL_HANGUP",),
    ("event json BACKGROUND_JOB",),
    (f"bgapi uuid_kill {UNKNOWN}",),
    ("bgapi no_such_command", "Job-UUID: 04f52871-a732-47b2-b0ef-5d0d4ab0d90e"),
    (f"filter Unique-ID {UNKNOWN}",),
    (f"filter delete Unique-ID {UNKNOWN}",),
    ("filter Event-Name",),
    ("nixevent CHANNEL_CREATE",),
    ("noevents",),
    ("noevents",),
    ("nixevent CHANNEL_ANSWER",),
    ("linger",),
    ("linger 10",),
    ("nolinger",),
    (f"myevents {UNKNOWN} json",),
    ("divert_events on",),
    ("getvar cc_did",),
    ("resume",),
    ("no_such_esl_command",),
    ("event json",),
    ("api",),
    ("api fsctl sps",),
    ("api global_getvar switchname_unset_probe",),
    ("api version",),
    ("api uptime",),
    ("api hupall NORMAL_CLEARING cc_nonexistent_var novalue",),
    ("exit",),
]


def _reply_text(m: dict) -> str:  # type: ignore[type-arg]
    if m["content_type"] == "api/response":
        return "api:" + m["body"]
    return m["headers"].get("Reply-Text", m["content_type"])


def test_s06_reply_texts_match_the_recording(sim: Simulator) -> None:
    recorded = [
        _reply_text(m)
        for m in messages("s06-replies-errors.events.jsonl")
        if m["content_type"] in ("command/reply", "api/response")
    ][1:]  # after "+OK accepted"
    client = RawESL(*sim.address)
    client.auth()
    got = []
    for command in S06_COMMANDS:
        client.send("\n".join(command) + "\n\n")
        got.append(
            _reply_text(
                {
                    "content_type": (m := client.reply()).content_type,
                    "headers": m.headers,
                    "body": m.body,
                }
            )
        )
    assert len(got) == len(recorded)
    for mine, real, command in zip(got, recorded, S06_COMMANDS, strict=True):
        if command[0] == "api uptime":
            assert mine.removeprefix("api:").isdigit()
        elif command[0].startswith("bgapi uuid_kill"):
            assert mine.startswith("+OK Job-UUID: ")
        else:
            assert mine == real, command
    until(lambda: client.closed.is_set())
    assert client.disconnect is not None and client.disconnect.raw.endswith(b"cluecon.com/\n")
    jobs = client.find("BACKGROUND_JOB")
    assert [j.body for j in jobs] == [
        "-ERR No such channel!\n",
        "-ERR no_such_command Command not found!\n",
    ]


def test_wrong_password_and_exit_bytes(sim: Simulator) -> None:
    for fixture, password, commands in (
        ("s06-wrong-password.esl", "NotThePassword", []),
        ("s06-exit-subscribed.esl", "ClueCon", ["event json CHANNEL_CREATE", "exit"]),
    ):
        client = RawESL(*sim.address)
        client.send(f"auth {password}\n\n")
        for command in commands:
            client.send(f"{command}\n\n")
        until(lambda c=client: c.closed.is_set())
        assert b"".join(m.raw for m in client.raw) == (FIXTURES / fixture).read_bytes()


def test_s05_listings(sim: Simulator, esl: RawESL) -> None:
    recorded = [m["body"] for m in messages("s05-show-channels.api.jsonl")]
    assert esl.api("show channels as json") == '{"row_count": 0}\n' == recorded[0]
    assert esl.api("show calls as json") == '{"row_count": 0}\n'
    a = sim.place_call("5000", "15551234567", "Alice Caller")
    c = sim.place_call("5000", "15557654321", "Bob Caller")
    for u in (a, c):
        until(lambda u=u: esl.find("CHANNEL_PARK", Unique_ID=u))
        esl.sendmsg(u, "answer")
    b = str(uuidlib.uuid4())
    assert esl.api(f"originate {{origination_uuid={b}}}user/1001 &park()") == f"+OK {b}\n"
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=b))
    esl.api(f"uuid_bridge {c} {b}")
    until(lambda: len(esl.find("CALL_UPDATE", Unique_ID=b)) == 2)
    channels = json.loads(esl.api("show channels as json"))
    real_channels = json.loads(next(r for r in recorded if r.startswith('{"row_count":3')))
    assert channels["row_count"] == 3
    assert [list(r) for r in channels["rows"]] == [list(r) for r in real_channels["rows"]]
    assert all(isinstance(v, str) for r in channels["rows"] for v in r.values())
    rows = {r["uuid"]: r for r in channels["rows"]}
    assert rows[c]["application"] == "uuid_bridge" and rows[c]["application_data"] == b
    assert rows[a]["application"] == "answer"
    calls = json.loads(esl.api("show calls as json"))
    real_calls = json.loads(next(r for r in recorded if r.startswith('{"row_count":2')))
    assert calls["row_count"] == 2
    assert [list(r) for r in calls["rows"]] == [list(r) for r in real_calls["rows"]]
    assert esl.api("show channels count") == "\n3 total.\n"
    assert esl.api("show channels").endswith("\n\n3 total.\n")
    assert "1000 session(s) max" in esl.api("status")
    dump = json.loads(esl.api(f"uuid_dump {a} json"))
    assert dump["Event-Name"] == "CHANNEL_DATA" and dump["variable_cc_did"] == "5000"
    assert esl.api(f"uuid_dump {a}").startswith("Event-Name: CHANNEL_DATA\n")
    assert esl.api(f"uuid_kill {a}") == "+OK\n"
    assert esl.api(f"uuid_kill {c} USER_BUSY") == "+OK\n"
    until(lambda: esl.find("CHANNEL_DESTROY", Unique_ID=b))
    assert esl.find("CHANNEL_HANGUP", Unique_ID=b)[0]["Hangup-Cause"] == "NORMAL_CLEARING"
    assert esl.api("show channels as json") == '{"row_count": 0}\n'


def test_json_and_plain_clients_get_the_same_events(sim: Simulator, esl: RawESL) -> None:
    plain = RawESL(*sim.address)
    plain.auth()
    assert (
        plain.command("event plain ALL").headers["Reply-Text"] == "+OK event listener enabled plain"
    )
    filtered = RawESL(*sim.address)
    filtered.auth()
    filtered.command("event json ALL")
    hostile = "Evil\nEvent-Name: CHANNEL_HANGUP"
    other = sim.place_call("5000", "1555000")
    filtered.command(f"filter Unique-ID {other}")
    u = sim.place_call("5009", "15550000001", hostile)
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=u) and plain.find("CHANNEL_PARK", Unique_ID=u))
    sim.hangup(u)
    until(lambda: plain.find("CHANNEL_DESTROY", Unique_ID=u))
    until(lambda: esl.find("CHANNEL_DESTROY", Unique_ID=u))  # each socket has its own pace
    mine = [(e.name, e["Event-Sequence"]) for e in esl.events if e.get("Unique-ID") == u]
    theirs = [(e.name, e["Event-Sequence"]) for e in plain.events if e.get("Unique-ID") == u]
    assert mine == theirs
    create = plain.find("CHANNEL_CREATE", Unique_ID=u)[0]
    assert create["Caller-Caller-ID-Name"] == hostile
    assert all(e.name != "CHANNEL_HANGUP" or e.get("Unique-ID") == u for e in plain.events)
    assert {e.get("Unique-ID") for e in filtered.events} == {other}
    plain.close()
    filtered.close()


def test_drop_clients_keeps_channels_and_restart_clears_them(sim: Simulator, esl: RawESL) -> None:
    u = sim.place_call("5000", "1555", behaviour=CallerBehaviour())
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=u))
    core_uuid = sim.core_uuid
    sim.drop_clients()
    until(lambda: esl.closed.is_set())
    again = RawESL(*sim.address)
    again.auth()
    assert json.loads(again.api("show channels as json"))["rows"][0]["uuid"] == u
    assert again.api(f"uuid_exists {u}") == "true"
    again.close()
    sim.restart()
    assert sim.core_uuid != core_uuid and sim.channels == []
    fresh = RawESL(*sim.address)
    fresh.auth()
    assert fresh.api("show channels as json") == '{"row_count": 0}\n'
    assert fresh.api(f"uuid_exists {u}") == "false"
    fresh.close()
    assert any(c.line.startswith("auth") for c in sim.commands)


def test_transfer_reparks_and_setvar_getvar(sim: Simulator, esl: RawESL) -> None:
    u = sim.place_call("5000", "1555")
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=u))
    esl.sendmsg(u, "answer")
    assert esl.api(f"uuid_setvar {u} cc_x hello world") == "+OK\n"
    assert esl.api(f"uuid_getvar {u} cc_x") == "hello world"
    assert esl.api(f"uuid_setvar {u} cc_x") == "+OK\n"
    assert esl.api(f"uuid_getvar {u} cc_x") == "_undef_"
    assert esl.api(f"uuid_setvar_multi {u} a=1;b=2") == "+OK\n"
    assert esl.api(f"uuid_getvar {u} b") == "2"
    assert esl.api(f"uuid_transfer {u} 5001 XML callcenter") == "+OK\n"
    until(lambda: len(esl.find("CHANNEL_PARK", Unique_ID=u)) == 2)
    labels = esl.names_for(u)
    first = labels.index("UNPARK")
    assert labels[first : first + 6] == [
        "UNPARK",
        "DONE(park)",
        "cs:RINGING",
        "st:CS_ROUTING",
        "cs:ACTIVE",
        "st:CS_EXECUTE",
    ]
    assert len(esl.find("CHANNEL_CREATE", Unique_ID=u)) == 1
    assert esl.find("CHANNEL_PARK", Unique_ID=u)[1]["variable_cc_did"] == "5001"
    assert esl.api(f"uuid_broadcast {u} tone_stream://%(1000,0,800) aleg") == "+OK Message sent\n"
    until(lambda: esl.find("PLAYBACK_STOP", Unique_ID=u))

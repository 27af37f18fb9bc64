from __future__ import annotations

import uuid as uuidlib

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from callcenter import grammar
from callcenter.errors import UnsafeValue
from callcenter.esl import commands as c
from callcenter.esl.quoting import scrub
from callcenter.esl.vocabulary import DEFAULT_EVENTS, HangupCause

from .fs_model import read_originate, split

U = "56775b48-9736-4bb6-93e1-54345f5f3db3"
E = "eb47af08-fe1e-4617-ad5b-6d1ca3f95091"
HOSTILE = [
    "Evil\nEvent-Name: CHANNEL_HANGUP",
    "Evil%0AEvent-Name: CHANNEL_HANGUP",
    'Zoë \\"Q\\" Test \\\\ back',
    "Pct%A Plus+ Semi; Amp&",
    'line1\nEvent-Name: CHANNEL_HANGUP\n\ntail %41 + "q" \\ end',
    "x}user/evil,{a=b",
    "${system(rm -rf /)}",
    "a\r\nsendmsg " + U,
    "nul\x00byte",
]
text = st.text(max_size=60)


def _single_line(command: str) -> None:
    assert "\r" not in command and "\x00" not in command and "\n\n" not in command


def test_exact_texts() -> None:
    assert c.api("show", "channels", "as", "json") == "api show channels as json"
    assert c.bgapi("status", job_uuid=E) == f"bgapi status\nJob-UUID: {E}"
    assert c.execute(U, "playback", "tone_stream://%(2000,0,440)", E) == (
        f"sendmsg {U}\ncall-command: execute\nexecute-app-name: playback\n"
        f"execute-app-arg: tone_stream://%(2000,0,440)\nEvent-UUID: {E}"
    )
    assert c.execute(U, "answer", None, E, lock=True, loops=2).splitlines()[3:] == [
        "loops: 2",
        "event-lock: true",
        f"Event-UUID: {E}",
    ]
    assert c.hangup(U, "USER_BUSY") == (
        f"sendmsg {U}\ncall-command: hangup\nhangup-cause: USER_BUSY"
    )
    assert c.originate(
        "user/1001", {"cc_role": "agent", "origination_caller_id_name": "Queue Sales"}, uuid=U
    ) == (
        f"originate {{origination_uuid={U},ignore_early_media=true,cc_role=agent,"
        f"origination_caller_id_name='Queue Sales'}}user/1001 &park()"
    )
    # a leg that may return on early media is asked for by saying so
    assert c.originate("user/1001", {"ignore_early_media": "false"}, uuid=U) == (
        f"originate {{origination_uuid={U},ignore_early_media=false}}user/1001 &park()"
    )
    assert c.uuid_bridge(U, E) == f"uuid_bridge {U} {E}"
    assert c.uuid_kill(U) == f"uuid_kill {U} NORMAL_CLEARING"
    assert c.uuid_transfer(U, "5001", "XML", "public") == f"uuid_transfer {U} 5001 XML public"
    assert c.uuid_record(U, "start", "/var/lib/callcenter/recordings/a.wav") == (
        f"uuid_record {U} start /var/lib/callcenter/recordings/a.wav"
    )
    assert c.uuid_broadcast(U, "tone_stream://%(1000,0,800)", "both") == (
        f"uuid_broadcast {U} tone_stream://%(1000,0,800) both"
    )
    assert (
        c.uuid_setvar(U, "cc_x", "a value with spaces")
        == f"uuid_setvar {U} cc_x a value with spaces"
    )
    assert c.uuid_setvar(U, "cc_x", None) == f"uuid_setvar {U} cc_x"
    assert c.uuid_getvar(U, "cc_digits") == f"uuid_getvar {U} cc_digits"
    assert c.uuid_exists(U) == f"uuid_exists {U}"
    assert c.show_channels_json() == "show channels as json"
    assert c.filter("Unique-ID", U) == f"filter Unique-ID {U}"
    assert c.filter("Unique-ID", U, delete=True) == f"filter delete Unique-ID {U}"
    assert c.event_subscription("json", DEFAULT_EVENTS).startswith(
        "event json CHANNEL_CREATE CHANNEL_PARK "
    )
    assert c.event_subscription("plain", ["CUSTOM", "callcenter::info"]) == (
        "event plain CUSTOM callcenter::info"
    )


def test_every_hangup_cause_is_accepted() -> None:
    for cause in HangupCause:
        assert c.uuid_kill(U, cause).endswith(cause)


@pytest.mark.parametrize("bad", ["", "abc", U + "\n", U.upper() + " x", "../../etc", U[:-1]])
def test_uuid_is_checked(bad: str) -> None:
    with pytest.raises(UnsafeValue, match="uuid"):
        c.uuid_kill(bad)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_recorded_hostile_values_never_reach_a_command_unquoted(hostile: str) -> None:
    for build in (
        lambda: c.originate("user/1001", {"origination_caller_id_name": hostile}, uuid=U),
        lambda: c.execute(U, "playback", hostile, E),
        lambda: c.uuid_setvar(U, "cc_name", hostile),
        lambda: c.uuid_transfer(U, hostile),
        lambda: c.uuid_kill(U, hostile),
        lambda: c.execute(U, hostile, None, E),
    ):
        try:
            command = build()
        except UnsafeValue:
            continue
        _single_line(command)
        assert "\n" not in command.split("\n", 1)[0] or command.startswith("sendmsg")
        if command.startswith("originate"):
            assert read_originate(command)[0]["origination_caller_id_name"] == hostile


@pytest.mark.parametrize("hostile", HOSTILE)
def test_scrubbed_hostile_names_originate_safely(hostile: str) -> None:
    name = scrub(hostile)
    assume_ok = name or "x"
    line = c.originate("user/1001", {"origination_caller_id_name": assume_ok}, uuid=U)
    variables, dial, app = read_originate(line)
    assert variables == {
        "origination_uuid": U,
        "ignore_early_media": "true",
        "origination_caller_id_name": assume_ok,
    }
    assert (dial, app) == ("user/1001", "&park()")


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True), text, max_size=4))
@example({"origination_caller_id_name": "Smith, John"})
@example({"a": "it's"})
@example({"a": "x,y", "b": "p q"})
@example({"a": "'x'", "b": "'"})
def test_originate_variables_read_back_exactly_or_are_refused(variables: dict[str, str]) -> None:
    variables.pop("origination_uuid", None)
    try:
        line = c.originate("sofia/gateway/gw1/15551234567", variables, uuid=U)
    except UnsafeValue:
        return
    _single_line(line)
    assert "\n" not in line
    got, dial, app = read_originate(line)
    assert got == {"origination_uuid": U, "ignore_early_media": "true", **variables}
    assert (dial, app) == ("sofia/gateway/gw1/15551234567", "&park()")


@pytest.mark.parametrize("value", ["Smith, John", "Queue Sales", "a=b", "50% off!", "Zoë", "x;y"])
def test_ordinary_values_are_not_refused(value: str) -> None:
    got, _, _ = read_originate(c.originate("user/1001", {"v": value}, uuid=U))
    assert got["v"] == value


@settings(max_examples=300, deadline=None)
@given(text)
@example("a) &hangup(")
@example("x\nEvent-UUID: " + E)
def test_execute_arg_stays_in_its_header(arg: str) -> None:
    assume(arg)
    try:
        command = c.execute(U, "playback", arg, E)
    except UnsafeValue:
        return
    lines = command.split("\n")
    assert len(lines) == 5
    assert lines[3] == f"execute-app-arg: {arg}"
    assert lines[4] == f"Event-UUID: {E}"


@settings(max_examples=300, deadline=None)
@given(text, text)
@example("cc_x y", "value")
@example("cc_x", "it's 'quoted'")
def test_api_arguments_cannot_smuggle_extra_tokens(name: str, value: str) -> None:
    try:
        line = c.uuid_setvar(U, name, value)
    except UnsafeValue:
        return
    _single_line(line)
    assert split(line, " ", 4) == ["uuid_setvar", U, name, value]


@settings(max_examples=300, deadline=None)
@given(text)
def test_single_token_arguments(path: str) -> None:
    try:
        line = c.uuid_record(U, "start", path)
    except UnsafeValue:
        return
    assert split(line, " ") == ["uuid_record", U, "start", path]


@pytest.mark.parametrize(
    "build",
    [
        lambda: c.originate("user/1001", {}, uuid=U, app="playback", app_arg="a(1)"),
        lambda: c.originate("user/1001,user/1002", {}, uuid=U),
        lambda: c.originate("user/1001|user/1002", {}, uuid=U),
        lambda: c.originate("{x=y}user/1001", {}, uuid=U),
        lambda: c.originate("user/1001", {"origination_uuid": E}, uuid=U),
        lambda: c.originate("user/1001", {"bad name": "x"}, uuid=U),
        lambda: c.originate("user/1001", {"v": " padded"}, uuid=U),
        lambda: c.uuid_broadcast(U, "hangup::NORMAL_CLEARING"),
        lambda: c.uuid_broadcast(U, "a.wav", "all"),  # type: ignore[arg-type]
        lambda: c.uuid_record(U, "erase", "a.wav"),  # type: ignore[arg-type]
        lambda: c.execute(U, "Playback", None, E),
        lambda: c.execute(U, "playback", "${system(reboot)}", E),
        lambda: c.execute(U, "playback", "a", E, loops=0),
        lambda: c.api("show channels"),
        lambda: c.api("show", "channels as"),
        lambda: c.bgapi("status", job_uuid="not-a-uuid"),
        lambda: c.event_subscription("json", []),
        lambda: c.event_subscription("json", ["CHANNEL_CREATE\nexit"]),
        lambda: c.filter("Unique-ID", "a b"),
        lambda: c.auth("ClueCon\napi shutdown"),
        lambda: c.uuid_setvar(U, "x", ""),
    ],
)
def test_refused(build) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnsafeValue):
        build()


def test_execute_expand_is_explicit() -> None:
    assert "${sound_prefix}" in c.execute(U, "playback", "${sound_prefix}/a.wav", E, expand=True)


def test_fresh_uuid4_accepted() -> None:
    assert c.uuid_exists(str(uuidlib.uuid4()))


_CHECKERS = ["uuid", "app_name", "cause", "var_name", "header_name", "event_keyword",
             "dial_string"]  # fmt: skip


@pytest.mark.parametrize("checker", _CHECKERS)
@given(value=st.text(max_size=40))
@example(value="ABC\n")
@example(value=U + "\x00")
def test_a_pattern_check_refuses_as_line_safe_first_then_the_pattern(checker, value):
    # the checks match their pattern first (no pattern admits a control character) and
    # only a refusal asks line_safe: the same verdict and the same message as before
    check = getattr(grammar, checker)
    try:
        grammar.line_safe("f", value)
    except UnsafeValue as unsafe:
        with pytest.raises(UnsafeValue) as refused:
            check("f", value)
        assert str(refused.value) == str(unsafe)
        return
    try:
        assert check("f", value) == value
    except UnsafeValue as exc:
        assert "control character" not in str(exc)


@pytest.mark.parametrize("checker", _CHECKERS)
def test_a_pattern_check_refuses_what_is_not_text(checker):
    with pytest.raises(UnsafeValue, match="expected text, got int"):
        getattr(grammar, checker)("f", 7)

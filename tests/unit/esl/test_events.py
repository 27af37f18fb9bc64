from __future__ import annotations

import contextlib
import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.errors import ESLProtocolError
from callcenter.esl.events import EVENT_CONTENT_TYPES, parse_event
from callcenter.esl.wire import FrameParser, Message

from .recordings import FIXTURES, as_header, expected, raw, stream_names

EVIL = "Evil\nEvent-Name: CHANNEL_HANGUP"


def _events(name: str) -> list[tuple[Message, dict]]:
    pairs = zip(FrameParser().feed(raw(name)), expected(name), strict=True)
    return [(m, e) for m, e in pairs if m.content_type in EVENT_CONTENT_TYPES]


@pytest.mark.parametrize("name", stream_names())
def test_events_match_the_recording(name: str) -> None:
    for msg, exp in _events(name):
        event = parse_event(msg)
        body = dict(exp["body"])
        want_body = body.pop("_body", None)
        assert dict(event.headers) == {k: as_header(v) for k, v in body.items()}
        assert event.body == want_body
        assert event.name == body["Event-Name"]
        assert event.unique_id == body.get("Unique-ID")
        for header, values in exp.get("duplicate_headers", {}).items():
            assert event.headers[header] == values[-1]


def test_plain_and_json_agree_when_nothing_hostile() -> None:
    plain = [parse_event(m) for m, _ in _events("s08-dual-plain")]
    json_ = [parse_event(m) for m, _ in _events("s08-dual-json")]
    assert [e.sequence for e in plain] == [e.sequence for e in json_]
    for a, b in zip(plain, json_, strict=True):
        assert dict(a.headers) == dict(b.headers)
        assert a.body == b.body


@pytest.mark.parametrize("name", ["s09-hostile-plain", "s09-hostile-json"])
def test_hostile_caller_name_cannot_forge_a_header(name: str) -> None:
    events = [parse_event(m) for m, _ in _events(name)]
    names = {e.caller_id_name for e in events}
    assert EVIL in names
    assert 'Zoë \\"Q\\" Test \\\\ back' in names
    assert "Pct%A Plus+ Semi; Amp&" in names
    hangups = [e for e in events if e.name == "CHANNEL_HANGUP"]
    assert all(e.hangup_cause for e in hangups)
    evil = [e for e in events if e.caller_id_name == EVIL]
    assert evil and all(e.name != "CHANNEL_HANGUP" or e.hangup_cause for e in evil)
    assert all("\n" not in e.name for e in events)


def test_recording_one_hostile_stream_where_greenswitch_is_fooled() -> None:
    data = gzip.decompress((FIXTURES / "r1-s09-hostile-caller-id.plain.esl.gz").read_bytes())
    events = [
        parse_event(m) for m in FrameParser().feed(data) if m.content_type in EVENT_CONTENT_TYPES
    ]
    first = events[0]
    assert first.name == "CHANNEL_CREATE"
    assert first.caller_id_name == EVIL


def test_plus_is_not_a_space() -> None:
    body = b"Event-Name: CUSTOM\nX-Value: a+b%20c%2B\n\n"
    event = parse_event(Message({"Content-Type": "text/event-plain"}, body))
    assert event.get("X-Value") == "a+b c+"


def test_plain_inner_body_is_raw() -> None:
    inner = b"+OK %41\n\nline2\n"
    body = (
        b"Event-Name: BACKGROUND_JOB\nJob-UUID: j\nContent-Length: "
        + str(len(inner)).encode()
        + b"\n\n"
        + inner
    )
    event = parse_event(Message({"Content-Type": "text/event-plain"}, body))
    assert event.body == "+OK %41\n\nline2\n"
    assert event.job_uuid == "j"


def test_non_utf8_does_not_crash() -> None:
    plain = parse_event(
        Message({"Content-Type": "text/event-plain"}, b"Event-Name: DTMF\nX: \xff%FF\xc3\n\n")
    )
    assert plain.name == "DTMF" and plain.get("X") is not None
    js = parse_event(
        Message({"Content-Type": "text/event-json"}, b'{"Event-Name":"DTMF","X":"\xff"}')
    )
    assert js.get("X") == "\ufffd"


def test_helpers() -> None:
    body = (
        b'{"Event-Name":"CHANNEL_EXECUTE_COMPLETE","Unique-ID":"u","Event-Sequence":"42",'
        b'"Event-Date-Timestamp":"1795440498584769","Application":"playback",'
        b'"Application-UUID":"a","Application-Response":"FILE PLAYED",'
        b'"variable_cc_digits":"12","Hangup-Cause":"NORMAL_CLEARING","Hangup-Cause":"X"}'
    )
    e = parse_event(Message({"Content-Type": "text/event-json"}, body))
    assert (e.sequence, e.timestamp_us) == (42, 1795440498584769)
    assert e.variable("cc_digits") == "12" and e.variable("nope", "d") == "d"
    assert (e.application, e.application_uuid, e.application_response) == (
        "playback",
        "a",
        "FILE PLAYED",
    )
    assert e.hangup_cause == "NORMAL_CLEARING"  # a repeated header: the first, as FreeSWITCH


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/event-json", b"{not json"),
        ("text/event-json", b"[1, 2]"),
        ("text/event-json", b'{"Unique-ID": "x"}'),
        ("text/event-plain", b"garbage line\n\n"),
        ("api/response", b"+OK"),
    ],
)
def test_malformed_events_raise_protocol_error(content_type: str, body: bytes) -> None:
    with pytest.raises(ESLProtocolError):
        parse_event(Message({"Content-Type": content_type}, body))


@pytest.mark.parametrize(
    "body",
    [
        b"Event-Name: BACKGROUND_JOB\nJob-UUID: j\nContent-Length: 10\n\nshort",
        b"Event-Name: BACKGROUND_JOB\nJob-UUID: j\nContent-Length: ten\n\n",
    ],
)
def test_a_broken_plain_inner_body_fails_when_read(body: bytes) -> None:
    # as a JSON event's _body: checked when decoded, not in the reader
    event = parse_event(Message({"Content-Type": "text/event-plain"}, body))
    assert (event.name, event.job_uuid) == ("BACKGROUND_JOB", "j")
    with pytest.raises(ESLProtocolError, match="Content-Length"):
        event.body  # noqa: B018
    assert event.broken


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=500), st.sampled_from(sorted(EVENT_CONTENT_TYPES)))
def test_random_bodies_only_raise_protocol_errors(body: bytes, content_type: str) -> None:
    with contextlib.suppress(ESLProtocolError):
        parse_event(Message({"Content-Type": content_type}, body))


# -- issue 10, findings 5 and 6: hostile bodies raise the protocol error, nothing else ---------

DEEP = 1000
NESTED = b'{"Event-Name":"CHANNEL_PARK","Unique-ID":"u","x":' + b"[" * DEEP + b"]" * DEEP
DUPLICATED_APP_UUID = (
    b'{"Event-Name":"CHANNEL_EXECUTE_COMPLETE","Unique-ID":"u",'
    b'"Application-UUID":"a","Application-UUID":"b",,}'
)


def test_a_deeply_nested_json_body_is_a_protocol_error() -> None:  # issue 10, finding 5
    with pytest.raises(ESLProtocolError, match="nested"):
        parse_event(Message({"Content-Type": "text/event-json"}, NESTED))  # read at once
    lazy = parse_event(Message({"Content-Type": "text/event-json"}, NESTED + b"}"))
    assert (lazy.name, lazy.unique_id) == ("CHANNEL_PARK", "u")
    for _ in range(2):  # and on every read after the first
        with pytest.raises(ESLProtocolError, match="nested"):
            lazy.headers  # noqa: B018
        with pytest.raises(ESLProtocolError):
            lazy.get("Anything-Else")


def test_a_json_array_header_nested_under_the_limit_still_decodes() -> None:
    deep = b'{"Event-Name":"X","x":' + b"[" * 50 + b"]" * 50 + b"}"
    event = parse_event(Message({"Content-Type": "text/event-json"}, deep))
    assert event.get("x") == "ARRAY::" + "[" * 49 + "]" * 49


def test_a_duplicated_application_uuid_in_a_broken_body_is_a_protocol_error() -> None:
    event = parse_event(Message({"Content-Type": "text/event-json"}, DUPLICATED_APP_UUID))
    assert (event.name, event.unique_id) == ("CHANNEL_EXECUTE_COMPLETE", "u")
    # the last: FreeSWITCH writes it once, after the variables, and both parses read such a
    # header from the end (TAIL_HEADERS)
    assert event.application_uuid == "b"
    with pytest.raises(ESLProtocolError):
        event.headers  # noqa: B018
    escaped = DUPLICATED_APP_UUID.replace(b'"b"', b'"\\u0062"')  # only the full parse can say
    event = parse_event(Message({"Content-Type": "text/event-json"}, escaped))
    with pytest.raises(ESLProtocolError):
        event.application_uuid  # noqa: B018

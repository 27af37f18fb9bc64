"""Lazy events: the targeted scan must read exactly what the full parse reads, or decline."""

from __future__ import annotations

import contextlib
import gzip
import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from callcenter.errors import ESLProtocolError
from callcenter.esl import events as ev
from callcenter.esl.events import (
    EVENT_CONTENT_TYPES,
    EVENT_JSON,
    EVENT_PLAIN,
    LOOKUPS_BEFORE_DECODING,
    Event,
    parse_event,
    parse_event_eagerly,
)
from callcenter.esl.wire import FrameParser, Message

from .recordings import FIXTURES, raw, stream_names

ROUTING = ("Event-Name", "Unique-ID", "Event-Subclass", "Job-UUID", "Application-UUID")
ENGINE_READS = (
    "Event-Date-Timestamp",
    "Event-Sequence",
    "Hangup-Cause",
    "Other-Leg-Unique-ID",
    "variable_sip_hangup_disposition",
    "Caller-Caller-ID-Name",
    "Caller-Caller-ID-Number",
    "Caller-Destination-Number",
    "Channel-Name",
    "Call-Direction",
    "Application",
    "Application-Response",
    "variable_cc_did",
    "variable_cc_digits",
    "variable_read_result",
    "Content-Length",
)


def _recorded() -> Iterator[tuple[str, Message]]:
    for name in stream_names():
        for message in FrameParser().feed(raw(name)):
            if message.content_type in EVENT_CONTENT_TYPES:
                yield name, message
    r1 = gzip.decompress((FIXTURES / "r1-s09-hostile-caller-id.plain.esl.gz").read_bytes())
    for message in FrameParser().feed(r1):
        if message.content_type in EVENT_CONTENT_TYPES:
            yield "r1-s09", message


RECORDED = list(_recorded())


def _fmt(message: Message) -> int:
    return ev._JSON if message.content_type == EVENT_JSON else ev._PLAIN


def _assert_same(lazy: Event, eager: Event) -> None:
    assert (lazy.name, lazy.unique_id) == (eager.name, eager.unique_id)
    assert (lazy.job_uuid, lazy.application_uuid) == (eager.job_uuid, eager.application_uuid)
    assert lazy.subclass == eager.subclass
    for key in (*ROUTING, *ENGINE_READS):
        assert lazy.get(key, "-") == eager.get(key, "-"), key
    assert (lazy.timestamp_us, lazy.sequence) == (eager.timestamp_us, eager.sequence)
    assert dict(lazy.headers) == dict(eager.headers)
    assert lazy.body == eager.body
    assert lazy == eager


def test_recordings_cover_both_formats() -> None:
    kinds = {m.content_type for _, m in RECORDED}
    assert kinds == {EVENT_JSON, EVENT_PLAIN}
    assert len(RECORDED) > 1000


@pytest.mark.parametrize("name", [*stream_names(), "r1-s09"])
def test_lazy_and_eager_agree_on_every_recorded_event(name: str) -> None:
    messages = [m for n, m in RECORDED if n == name]
    for message in messages:
        _assert_same(parse_event(message), parse_event_eagerly(message))


def test_the_scan_reads_every_recorded_header_exactly_or_declines() -> None:
    declined = answered = 0
    for _, message in RECORDED:
        headers = parse_event_eagerly(message).headers
        for key in headers:
            if ev._needle(key) is None:
                continue
            got = ev._scan(message.body, _fmt(message), key.encode())
            if got is ev._AMBIGUOUS:
                declined += 1
            else:
                answered += 1
                assert got == headers[key], key
        assert ev._scan(message.body, _fmt(message), b"No-Such-Header") is None
    assert answered > 50 * declined  # the scan answers nearly always


def test_routing_needs_no_decoding_on_the_recordings() -> None:
    events = [parse_event(m) for _, m in RECORDED]
    assert sum(e.decoded for e in events) < len(events) // 20


def test_duplicate_hangup_cause_first_wins_in_both_formats() -> None:
    seen = 0
    for _, message in RECORDED:
        if b"CHANNEL_HANGUP_COMPLETE" not in message.body[:60]:
            continue
        event, eager = parse_event(message), parse_event_eagerly(message)
        assert event.hangup_cause == eager.hangup_cause
        # the first one, read from the start, in both formats
        assert ev._scan(message.body, _fmt(message), b"Hangup-Cause") == eager.hangup_cause
        seen += 1
    assert seen >= 10


# -- hostile values ------------------------------------------------------------------------

FORGERIES = [
    '","Event-Name":"CHANNEL_HANGUP',
    '","Unique-ID":"00000000-0000-0000-0000-000000000000',
    '\\","Unique-ID":"forged',
    '\\\\","Unique-ID":"forged',
    "Evil\nEvent-Name: CHANNEL_HANGUP",
    "x\nUnique-ID: forged\n",
    "x\n\nUnique-ID: forged",
    "Unique-ID",
    '"Unique-ID"',
    "Job-UUID: j\nApplication-UUID: a",
    '{"Event-Name":"X"}',
    "%0AUnique-ID%3A%20forged",
    "\\u0055nique-ID",
    'Zoë \\"Q\\" Test \\\\ back',
]

_text = st.one_of(
    st.sampled_from(FORGERIES),
    st.text(max_size=40),
    st.text(alphabet='"\\:,{}[]\n%-UniqueIDEvtNam ', max_size=40),
)
_value = st.one_of(_text, st.lists(_text, min_size=1, max_size=3))
_hostile = st.lists(st.tuples(st.sampled_from(("Caller-Caller-ID-Name", "")), _value), max_size=6)


def _serialize_json(pairs: list[tuple[str, str | list[str]]], ascii_only: bool) -> bytes:
    # One compact object as FreeSWITCH's cJSON writes it; duplicate keys kept.
    parts = (
        json.dumps(k, ensure_ascii=ascii_only) + ":" + json.dumps(v, ensure_ascii=ascii_only)
        for k, v in pairs
    )
    return ("{" + ",".join(parts) + "}").encode()


def _plain_value(value: str | list[str]) -> str:
    if isinstance(value, list):
        value = "ARRAY::" + "|:".join(value)
    return quote(value, safe="/,()'!*$-._~")


def _serialize_plain(pairs: list[tuple[str, str | list[str]]]) -> bytes:
    return "".join(f"{k}: {_plain_value(v)}\n" for k, v in pairs).encode() + b"\n"


def _pairs(
    hostile: list[tuple[str, str | list[str]]], names: list[str], routing: dict[str, str]
) -> list[tuple[str, str | list[str]]]:
    pairs: list[tuple[str, str | list[str]]] = [("Event-Name", "CHANNEL_EXECUTE_COMPLETE")]
    pairs += [(k, v) for k, v in routing.items()]
    for i, (key, value) in enumerate(hostile):
        pairs.append((key or "variable_" + names[i % len(names)], value))
    return pairs


@settings(max_examples=400, deadline=None)
@given(
    hostile=_hostile,
    names=st.lists(st.text(min_size=1, max_size=20).filter(lambda s: "\n" not in s), min_size=1),
    routing=st.dictionaries(
        st.sampled_from(ROUTING[1:]), st.sampled_from(("u-1", "j-2", "a-3", "")), max_size=4
    ),
    ascii_only=st.booleans(),
)
@example(
    hostile=[("Caller-Caller-ID-Name", FORGERIES[1]), ("", "x")],
    names=['Unique-ID":"y'],
    routing={"Unique-ID": "real"},
    ascii_only=False,
)
def test_hostile_values_cannot_fool_the_scan(
    hostile: list[tuple[str, str | list[str]]],
    names: list[str],
    routing: dict[str, str],
    ascii_only: bool,
) -> None:
    pairs = _pairs(hostile, names, routing)
    for message in (
        Message({"Content-Type": EVENT_JSON}, _serialize_json(pairs, ascii_only)),
        Message({"Content-Type": EVENT_PLAIN}, _serialize_plain(pairs)),
    ):
        eager = parse_event_eagerly(message)
        lazy = parse_event(message)
        for key in ROUTING:
            assert ev._scan(message.body, _fmt(message), key.encode()) in (
                eager.get(key),
                ev._AMBIGUOUS,
            )
        _assert_same(lazy, eager)


def test_a_forged_key_inside_a_value_is_not_a_key() -> None:
    body = _serialize_json(
        [
            ("Event-Name", "CHANNEL_CREATE"),
            ("Caller-Caller-ID-Name", 'Evil","Unique-ID":"forged'),
            ("Unique-ID", "real"),
        ],
        ascii_only=False,
    )
    assert b'\\"Unique-ID\\":\\"forged' in body
    event = parse_event(Message({"Content-Type": EVENT_JSON}, body))
    assert event.unique_id == "real" and not event.decoded


def test_a_key_that_appears_twice_reads_the_first_as_freeswitch_and_the_full_parse_do() -> None:
    # switch_event_get_header returns a header's first occurrence: so do both parses (the
    # scan searches forward, and stops before the channel variables for a header written
    # before them; from the end it crossed them all)
    body = b'{"Event-Name":"X","Unique-ID":"first","Unique-ID":"last"}'
    message = Message({"Content-Type": EVENT_JSON}, body)
    event = parse_event(message)
    assert event.unique_id == "first" and not event.decoded  # the first, read from the start
    assert parse_event_eagerly(message).unique_id == "first"
    hidden = b'{"Event-Name":"X","Caller-Caller-ID-Name":"\\"Unique-ID","Unique-ID":"real"}'
    event = parse_event(Message({"Content-Type": EVENT_JSON}, hidden))
    assert event.unique_id == "real" and event.decoded  # the first text is not a key: decoded
    plain = b"Event-Name: X\nUnique-ID: first\nUnique-ID: last\n\n"
    message = Message({"Content-Type": EVENT_PLAIN}, plain)
    assert parse_event(message).unique_id == parse_event_eagerly(message).unique_id == "first"


def test_a_variable_or_a_tail_header_that_appears_twice_reads_the_last_in_both_parses() -> None:
    # FreeSWITCH writes each channel variable once, and the tail headers (an execute's
    # Application-*) once, after them; read from the end (the engine's own tags are set last),
    # so a repeat is its last, by the scan and the full parse alike
    pairs: list[tuple[str, str | list[str]]] = [
        ("Event-Name", "CHANNEL_EXECUTE_COMPLETE"),
        ("Hangup-Cause", "first"),
        ("variable_cc_entry", "first"),
        ("Application-UUID", "first"),
        ("Hangup-Cause", "last"),
        ("variable_cc_entry", "last"),
        ("Application-UUID", "last"),
    ]
    for message in (
        Message({"Content-Type": EVENT_JSON}, _serialize_json(pairs, ascii_only=True)),
        Message({"Content-Type": EVENT_PLAIN}, _serialize_plain(pairs)),
    ):
        lazy, eager = parse_event(message), parse_event_eagerly(message)
        assert lazy.variable("cc_entry") == eager.variable("cc_entry") == "last"
        assert lazy.hangup_cause == eager.hangup_cause == "first"
        assert lazy.application_uuid == eager.application_uuid == "last"
        assert not lazy.decoded
        _assert_same(lazy, eager)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (
            EVENT_JSON,
            b'{"Event-Name":"CHANNEL_PARK","Unique-ID":"u","Event-Name":"CHANNEL_HANGUP"}',
        ),
        (
            EVENT_JSON,
            b'{"Core-UUID":"c","Event-Name":"CHANNEL_PARK","Event-Name":"CHANNEL_HANGUP"}',
        ),
        (EVENT_JSON, b'{"Event-Name":"CHANNEL_PARK","Event-Name":["CHANNEL_HANGUP"]}'),
        (EVENT_PLAIN, b"Event-Name: CHANNEL_PARK\nUnique-ID: u\nEvent-Name: CHANNEL_HANGUP\n\n"),
        (EVENT_PLAIN, b"Core-UUID: c\nEvent-Name: CHANNEL_PARK\nEvent-Name: CHANNEL_HANGUP\n\n"),
    ],
)
def test_a_repeated_event_name_is_the_first_as_freeswitch_reads_it(
    content_type: str, body: bytes
) -> None:
    # switch_event_get_header returns a header's first occurrence, and FreeSWITCH writes
    # Event-Name first: the scan reads the name without a pass over the body for a repeat,
    # and the full parse agrees (as it does for every other repeated header).
    message = Message({"Content-Type": content_type}, body)
    lazy, eager = parse_event(message), parse_event_eagerly(message)
    assert lazy.name == eager.name == eager.headers["Event-Name"] == "CHANNEL_PARK"
    assert lazy.get("Event-Name") == "CHANNEL_PARK"
    _assert_same(lazy, eager)


def test_a_nested_object_is_not_freeswitchs_and_its_keys_are_not_headers() -> None:
    # FreeSWITCH writes a flat object of strings and arrays of strings: the scan would read
    # a key of a nested object as a header, which the full parse did not (it kept the object
    # as JSON text). Such a body is now malformed for both.
    for body in (
        b'{"Event-Name":"X","a":{"b":"1","Unique-ID":"u"}}',
        b'{"Event-Name":"X","a":[{"b":"1","Unique-ID":"u"}]}',
        b'{"Event-Name":"X","a":[[{}]],"Unique-ID":"u"}',
    ):
        message = Message({"Content-Type": EVENT_JSON}, body)
        with pytest.raises(ESLProtocolError, match="nested object"):
            parse_event_eagerly(message)
        lazy = parse_event(message)
        assert lazy.unique_id is None or lazy.unique_id == "u"
        with pytest.raises(ESLProtocolError, match="nested object"):
            lazy.headers  # noqa: B018
        assert lazy.broken
    array = b'{"Event-Name":"X","a":["1",["2"]],"Unique-ID":"u"}'  # arrays are FreeSWITCH's
    assert parse_event_eagerly(Message({"Content-Type": EVENT_JSON}, array)).unique_id == "u"


def test_plain_inner_body_lines_are_not_headers() -> None:
    inner = b"Unique-ID: forged\nEvent-Name: CHANNEL_HANGUP\n"
    body = (
        b"Event-Name: BACKGROUND_JOB\nJob-UUID: j\nContent-Length: "
        + str(len(inner)).encode()
        + b"\n\n"
        + inner
    )
    event = parse_event(Message({"Content-Type": EVENT_PLAIN}, body))
    assert (event.name, event.unique_id, event.job_uuid) == ("BACKGROUND_JOB", None, "j")
    assert event.body == inner.decode()


# -- decoding happens at most once -----------------------------------------------------------


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = ev._decode

    def counting(raw: bytes, fmt: int) -> tuple[dict[str, str], str | None]:
        calls.append(fmt)
        return real(raw, fmt)

    monkeypatch.setattr(ev, "_decode", counting)
    return calls


@pytest.mark.parametrize("content_type", sorted(EVENT_CONTENT_TYPES))
def test_headers_are_decoded_at_most_once(content_type: str, decodes: list[int]) -> None:
    message = next(
        m
        for _, m in RECORDED
        if m.content_type == content_type and b"CHANNEL_HANGUP_COMPLETE" in m.body[:60]
    )
    event = parse_event(message)
    assert decodes == [] and not event.decoded
    assert event.name == "CHANNEL_HANGUP_COMPLETE" and event.unique_id
    assert event.timestamp_us and event.get("Channel-Name")
    assert decodes == [] and not event.decoded  # a few headers: scanned, not decoded
    assert event.get("Caller-Username") and event.variable("sip_call_id")
    assert decodes == [] and not event.decoded
    assert dict(event.headers)["Hangup-Cause"]
    assert decodes == [ev._JSON if content_type == EVENT_JSON else ev._PLAIN]
    for _ in range(3):
        assert event.headers is event.headers
        assert event.variable("sip_hangup_disposition") is not None
        assert event.body is None and event.sequence and event.caller_id_number
    assert len(decodes) == 1 and event.decoded


def test_many_lookups_decode_once_instead(decodes: list[int]) -> None:
    message = next(m for _, m in RECORDED if b'"Event-Name":"CHANNEL_PARK"' in m.body)
    event = parse_event(message)
    for key in ENGINE_READS * 3:
        event.get(key)
    assert len(decodes) == 1
    assert event._lookups == LOOKUPS_BEFORE_DECODING


def test_routing_fields_never_decode(decodes: list[int]) -> None:
    lazy = 0
    for _, message in RECORDED:
        event = parse_event(message)
        if event.decoded:  # a plain event with an inner body is checked whole at once
            continue
        lazy += 1
        _ = (event.name, event.unique_id, event.subclass, event.job_uuid, event.application_uuid)
        assert not event.decoded
    assert lazy > 1000 and len(decodes) == len(RECORDED) - lazy


# -- the Event API is the frozen dataclass's ------------------------------------------------


def test_synthetic_events_built_positionally() -> None:
    headers = {"Event-Name": "CHANNEL_HANGUP_COMPLETE", "Event-Date-Timestamp": "12"}
    event = Event("CHANNEL_HANGUP_COMPLETE", None, "u", headers)
    assert (event.name, event.subclass, event.unique_id, event.body) == (
        "CHANNEL_HANGUP_COMPLETE",
        None,
        "u",
        None,
    )
    assert event.headers is headers and event.decoded
    assert event.timestamp_us == 12 and event.get("Nope", "d") == "d"
    assert event.variable("x") is None and event.job_uuid is None
    keyword = Event(name="X", subclass="s", unique_id=None, headers={}, body="b")
    assert (keyword.subclass, keyword.body) == ("s", "b")
    assert event == Event("CHANNEL_HANGUP_COMPLETE", None, "u", dict(headers))
    assert event != keyword


def test_events_are_immutable_and_slotted() -> None:
    event = parse_event(
        Message({"Content-Type": EVENT_JSON}, b'{"Event-Name":"X","Unique-ID":"u"}')
    )
    for attr in ("name", "unique_id", "subclass", "headers", "body", "other"):
        with pytest.raises(AttributeError):
            setattr(event, attr, "y")
    assert not hasattr(event, "__dict__")
    with pytest.raises(TypeError):
        hash(event)
    assert "X" in repr(event) and "not decoded" in repr(event)
    event.headers  # noqa: B018
    assert "Unique-ID" in repr(event)


# -- bodies that are not what FreeSWITCH writes -----------------------------------------


def test_a_broken_body_fails_when_its_headers_are_read() -> None:
    event = parse_event(
        Message({"Content-Type": EVENT_JSON}, b'{"Event-Name":"X","Unique-ID":"u",oops}')
    )
    assert (event.name, event.unique_id) == ("X", "u")
    with pytest.raises(ESLProtocolError):
        event.headers  # noqa: B018
    with pytest.raises(ESLProtocolError):
        event.get("Anything-Else")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(sorted(EVENT_CONTENT_TYPES)))
@example(b'{"Event-Name":"X","Unique-ID":"u"}', EVENT_JSON)
@example(b'{"Event-Name":"X","Unique-ID":"u","Unique-ID":["a"]}', EVENT_JSON)
@example(b"Event-Name: X\nUnique-ID: u\nbroken\n\n", EVENT_PLAIN)
def test_whatever_the_scan_says_the_full_parse_agrees_or_refuses(body: bytes, kind: str) -> None:
    message = Message({"Content-Type": kind}, body)
    try:
        eager = parse_event_eagerly(message)
    except ESLProtocolError:
        eager = None
    with contextlib.suppress(ESLProtocolError):
        lazy = parse_event(message)
        if eager is None:  # only a body FreeSWITCH could not have written gets this far
            with pytest.raises(ESLProtocolError):
                lazy.headers  # noqa: B018
        else:
            _assert_same(lazy, eager)
        return
    assert eager is None

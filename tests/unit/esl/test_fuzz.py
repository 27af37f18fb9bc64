"""Fuzzing the framer and event decoding (issue 10): bounded here, longer with `make fuzz`.

CALLCENTER_FUZZ_EXAMPLES sets the examples per test (default 150, a few seconds in all);
`make fuzz` runs these with many more, then the atheris harness where atheris installs.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from .fuzz_targets import (
    EVENT_JSON,
    EVENT_PLAIN,
    check_dispatch,
    check_event,
    check_framing,
    event_message,
)
from .recordings import raw, stream_names

EXAMPLES = int(os.environ.get("CALLCENTER_FUZZ_EXAMPLES", "150"))
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# issue 10, finding 5: nested past the recursion limit (open, and closed by a `}`)
NESTED = b'{"Event-Name":"CHANNEL_PARK","Unique-ID":"u","x":' + b"[" * 1000 + b"]" * 1000
# issue 10, finding 6: a repeated correlation id forces the full parse, which fails
DUPLICATED_APPLICATION_UUID = (
    b'{"Event-Name":"CHANNEL_EXECUTE_COMPLETE","Unique-ID":"u",'
    b'"Application-UUID":"a","Application-UUID":"b",,}'
)
DUPLICATED_JOB_UUID = b'{"Event-Name":"BACKGROUND_JOB","Job-UUID":"a","Job-UUID":"b",,}'
REPRODUCERS = (NESTED, NESTED + b"}", DUPLICATED_APPLICATION_UUID, DUPLICATED_JOB_UUID)

# -- framing ---------------------------------------------------------------------------------

RECORDED = {name: raw(name)[:6000] for name in stream_names()}  # a few frames of each
_cuts = st.lists(st.integers(min_value=0, max_value=10**6), max_size=40)


def _framed(body: bytes, content_type: str = EVENT_JSON) -> bytes:
    return b"Content-Length: %d\nContent-Type: %s\n\n%s" % (len(body), content_type.encode(), body)


@fuzz
@given(st.sampled_from(sorted(RECORDED)), _cuts)
def test_any_chunking_of_a_recorded_stream_frames_the_same(name: str, cuts: list[int]) -> None:
    check_framing(RECORDED[name], cuts)


_header_line = st.one_of(
    st.sampled_from(
        [
            b"Content-Type: text/event-json",
            b"Content-Type: command/reply",
            b"Content-Length: 3",
            b"Content-Length: 0",
            b"Content-Length: -1",
            b"Content-Length: 99999999999",
            b"Content-Length:",
            b"Reply-Text: +OK",
            b"Bad Name: x",
            b": empty name",
            b"",
        ]
    ),
    st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")),
)
_frame = st.tuples(st.lists(_header_line, max_size=4), st.binary(max_size=40)).map(
    lambda f: b"\n".join(f[0]) + b"\n\n" + f[1]
)


@fuzz
@given(st.one_of(st.binary(max_size=1500), st.lists(_frame, max_size=8).map(b"".join)), _cuts)
@example(b"Content-Length: 5\n\n" + b"\n" * 600, [3])
@example(b"X" * 600, [1, 2, 3])
@example(b"".join(map(_framed, REPRODUCERS)), [7, 100, 2100])
def test_arbitrary_bytes_frame_alike_in_any_chunks_or_raise_the_framing_error(
    data: bytes, cuts: list[int]
) -> None:
    check_framing(data, cuts)


# -- event bodies ------------------------------------------------------------------------------

KEYS = (
    "Event-Name",
    "Unique-ID",
    "Application-UUID",
    "Job-UUID",
    "Event-Subclass",
    "Event-Sequence",
    "Event-Date-Timestamp",
    "Hangup-Cause",
    "Content-Length",
    "_body",
    "variable_cc_digits",
    'Unique-ID":"',
    "Unique-ID\\",
)
VALUES = (
    "CHANNEL_PARK",
    "CHANNEL_EXECUTE_COMPLETE",
    "BACKGROUND_JOB",
    "CHANNEL_DESTROY",
    "u",
    "a",
    "b",
    "1",
    "",
    '","Unique-ID":"forged',
    "x\nUnique-ID: forged\n",
    "%0AUnique-ID%3A%20forged",
    "%ZZ",
    "\\",
)
_key = st.one_of(st.sampled_from(KEYS), st.text(max_size=10))
_scalar = st.one_of(
    st.sampled_from(VALUES), st.text(max_size=12), st.integers(), st.none(), st.booleans()
)
_json_value = st.recursive(  # FreeSWITCH nests no object: such bodies must be refused
    _scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_key, inner, max_size=2),
    max_leaves=8,
)
# Damage done to a well-formed body: (where, what to put there, how many bytes to cut)
_damage = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=10**6),
        st.sampled_from([b"", b",", b'"', b"\\", b"{", b"}", b"[", b"]", b":", b"\n", b"\xff"]),
        st.integers(min_value=0, max_value=3),
    ),
    max_size=3,
)


def _damaged(body: bytes, damage: list[tuple[int, bytes, int]]) -> bytes:
    for at, insert, cut in damage:
        at %= len(body) + 1
        body = body[:at] + insert + body[at + cut :]
    return body


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    pairs = draw(st.lists(st.tuples(_key, _json_value), max_size=8))
    if draw(st.booleans()):
        pairs.insert(0, ("Event-Name", draw(st.sampled_from(VALUES[:4]))))
    depth = draw(st.sampled_from([0, 0, 0, 3, 990, 1000, 3000]))
    ascii_only = draw(st.booleans())
    parts = [
        json.dumps(k, ensure_ascii=ascii_only) + ":" + json.dumps(v, ensure_ascii=ascii_only)
        for k, v in pairs
    ]
    if depth:
        parts.append('"deep":' + "[" * depth + "]" * depth)
    body = ("{" + ",".join(parts) + "}").encode()
    return _damaged(body, draw(_damage))


@st.composite
def plain_bodies(draw: st.DrawFn) -> bytes:
    pairs = draw(st.lists(st.tuples(_key, st.one_of(_scalar, st.text(max_size=12))), max_size=8))
    if draw(st.booleans()):
        pairs.insert(0, ("Event-Name", draw(st.sampled_from(VALUES[:4]))))
    encode = draw(st.booleans())
    lines = []
    for key, value in pairs:
        text = "" if value is None else str(value)
        lines.append(f"{key}: {quote(text, safe='') if encode else text}")
    inner = draw(st.one_of(st.none(), st.binary(max_size=30)))
    head = "\n".join(lines).encode()
    if inner is None:
        body = head + b"\n\n"
    else:
        length = draw(st.sampled_from([str(len(inner)), str(len(inner) + 1), "x", ""]))
        body = head + b"\nContent-Length: " + length.encode() + b"\n\n" + inner
    return _damaged(body, draw(_damage))


_bodies = st.one_of(
    st.tuples(json_bodies(), st.just(EVENT_JSON)),
    st.tuples(plain_bodies(), st.just(EVENT_PLAIN)),
    st.tuples(st.binary(max_size=300), st.sampled_from([EVENT_JSON, EVENT_PLAIN])),
)


@fuzz
@given(_bodies)
@example((NESTED, EVENT_JSON))
@example((NESTED + b"}", EVENT_JSON))
@example((DUPLICATED_APPLICATION_UUID, EVENT_JSON))
@example((DUPLICATED_JOB_UUID, EVENT_JSON))
@example((b"Event-Name: X\nUnique-ID: u\nUnique-ID: v\nbroken\n\n", EVENT_PLAIN))
@example((b'{"Event-Name":"X","a":{"b":"1","Unique-ID":"u"}}', EVENT_JSON))  # a nested key
def test_any_event_body_decodes_routes_and_reads_or_raises_the_protocol_error(
    body_and_type: tuple[bytes, str],
) -> None:
    check_event(*body_and_type)


@fuzz
@given(st.lists(_bodies, min_size=1, max_size=6))
@example([(body, EVENT_JSON) for body in REPRODUCERS])
def test_the_reader_survives_any_events_and_its_waiting_commands_too(
    bodies: list[tuple[bytes, str]],
) -> None:
    check_dispatch([event_message(body, content_type) for body, content_type in bodies])

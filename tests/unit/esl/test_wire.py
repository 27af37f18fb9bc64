from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.errors import ESLProtocolError
from callcenter.esl.wire import FrameParser, Message

from .recordings import expected, raw, stream_names

STREAMS = stream_names()


def _check(messages: list[Message], name: str) -> None:
    want = expected(name)
    assert len(messages) == len(want)
    for got, exp in zip(messages, want, strict=True):
        envelope = {k: v for k, v in exp["headers"].items() if k != "Content-Length"}
        assert {k: v for k, v in got.headers.items() if k != "Content-Length"} == envelope
        assert int(got.headers.get("Content-Length", "0")) == len(got.body)
        assert got.content_type == exp["content_type"]
        if isinstance(exp["body"], str):
            assert got.body.decode() == exp["body"]
        elif exp["body"] is None:
            assert got.body == b""


@pytest.mark.parametrize("name", STREAMS)
def test_whole_stream_in_one_feed(name: str) -> None:
    _check(FrameParser().feed(raw(name)), name)


@pytest.mark.parametrize("name", STREAMS)
def test_random_chunks(name: str) -> None:
    data = raw(name)
    rng = random.Random(name)
    parser, messages, pos = FrameParser(), [], 0
    while pos < len(data):
        size = rng.choice((1, 2, 3, 7, 64, 1000, 4096, 65536))
        messages += parser.feed(data[pos : pos + size])
        pos += size
    assert parser.buffered == 0
    _check(messages, name)


@pytest.mark.parametrize(
    "name",
    [
        "s01-inbound-ivr",
        "s08-dual-plain",
        "s09-hostile-plain",
        "s06-replies-errors",
        "s05-show-channels",
    ],
)
def test_byte_at_a_time(name: str) -> None:
    data = raw(name)
    parser = FrameParser()
    messages: list[Message] = []
    for i in range(len(data)):
        messages += parser.feed(data[i : i + 1])
    _check(messages, name)


def test_incomplete_message_stays_buffered() -> None:
    parser = FrameParser()
    assert parser.feed(b"Content-Type: api/response\nContent-Length: 5\n\nab") == []
    [msg] = parser.feed(b"cde")
    assert msg.body == b"abcde" and msg.content_type == "api/response"


def test_body_may_hold_blank_lines() -> None:
    [msg, nxt] = FrameParser().feed(
        b"Content-Type: api/response\nContent-Length: 6\n\n\n\nx\n\n\n"
        b"Content-Type: auth/request\n\n"
    )
    assert msg.body == b"\n\nx\n\n\n"
    assert nxt.content_type == "auth/request"


@pytest.mark.parametrize(
    "frame",
    [
        b"Content-Length: -1\n\n",
        b"Content-Length: 12abc\n\n",
        b"Content-Length: \xd9\xa3\n\n",
        b"Content-Length: 99999999999999\n\n",
        b"this is not a header\n\n",
        b": no name\n\n",
    ],
)
def test_malformed_framing_raises(frame: bytes) -> None:
    with pytest.raises(ESLProtocolError):
        FrameParser().feed(frame)


def test_oversized_header_block_raises_even_without_terminator() -> None:
    parser = FrameParser(max_header_bytes=1024)
    with pytest.raises(ESLProtocolError, match="larger than"):
        for _ in range(100):
            parser.feed(b"X-Long: " + b"a" * 100 + b"\n")


def test_oversized_body_raises() -> None:
    with pytest.raises(ESLProtocolError, match="exceeds"):
        FrameParser(max_body_bytes=10).feed(b"Content-Length: 11\n\n")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.integers(min_value=1, max_value=50))
def test_random_bytes_only_raise_protocol_errors(data: bytes, chunk: int) -> None:
    parser = FrameParser(max_header_bytes=512)
    try:
        for i in range(0, len(data), chunk):
            parser.feed(data[i : i + chunk])
    except ESLProtocolError:
        pass


_name = st.text(
    st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
    min_size=1,
    max_size=20,
)
_value = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\n"), max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.dictionaries(_name, _value, max_size=5), st.binary(max_size=300)), max_size=5
    ),
    st.integers(min_value=1, max_value=40),
)
def test_valid_frames_round_trip(frames: list[tuple[dict[str, str], bytes]], chunk: int) -> None:
    wire = b""
    want = []
    for headers, body in frames:
        headers = {k: v for k, v in headers.items() if k != "Content-Length"}
        headers["Content-Type"] = "x/y"
        if body:
            headers["Content-Length"] = str(len(body))
        wire += "".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + b"\n" + body
        want.append(Message(headers, body))
    parser, got = FrameParser(), []
    for i in range(0, len(wire), chunk):
        got += parser.feed(wire[i : i + chunk])
    assert got == want

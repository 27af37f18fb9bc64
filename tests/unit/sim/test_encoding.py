# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on

import json

import pytest

from callcenter.sim.encoding import (
    Block,
    api_response,
    command_reply,
    disconnect_notice,
    encode_event_json,
    encode_event_plain,
    url_encode,
)
from tests.unit.sim.fixtures import raw_bodies


def _pairs(raw_json: bytes) -> list[tuple[str, str]]:
    return json.loads(raw_json, object_pairs_hook=list)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("Evil\nEvent-Name: CHANNEL_HANGUP", "Evil%0AEvent-Name%3A%20CHANNEL_HANGUP"),
        ('Zoë \\"Q\\" Test \\\\ back', "Zo%C3%AB%20%5C%22Q%5C%22%20Test%20%5C%5C%20back"),
        ("Pct%A Plus+ Semi; Amp&", "Pct%25A%20Plus%2B%20Semi%3B%20Amp%26"),
        ("Pct%25%41 Plus+ Semi; Amp&", "Pct%25%41%20Plus%2B%20Semi%3B%20Amp%26"),  # lossy quirk
        ("sofia/external/1555@127.0.0.1:5090", "sofia/external/1555%40127.0.0.1%3A5090"),
        ("a,b(c)'d!e*f$g-h.i_j~k", "a,b(c)'d!e*f$g-h.i_j~k"),
        ('#&+:;<=>?@[\\]^`{|}"', "%23%26%2B%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D%22"),
        ("fd00::10", "fd00%3A%3A10"),
        ("100%", "100%25"),
    ],
)
def test_url_encode_matches_freeswitch(value: str, encoded: str) -> None:
    assert url_encode(value) == encoded


def test_plain_encoding_of_hostile_events_equals_recorded_bytes() -> None:
    plain = raw_bodies("s09-hostile-plain-creates.bin")
    as_json = raw_bodies("s09-hostile-json-creates.bin")
    assert len(plain) == len(as_json) == 3
    for raw_plain, raw_json in zip(plain, as_json, strict=True):
        frame = encode_event_plain([Block(_pairs(raw_json))], None)
        assert frame.split(b"\n\n", 1)[1] == raw_plain


def test_json_encoding_of_hostile_events_equals_recorded_bytes() -> None:
    for raw_json in raw_bodies("s09-hostile-json-creates.bin"):
        frame = encode_event_json([Block(_pairs(raw_json))], None)
        head, body = frame.split(b"\n\n", 1)
        assert body == raw_json
        assert head == b"Content-Length: %d\nContent-Type: text/event-json" % len(raw_json)


def test_event_with_body_in_both_formats() -> None:
    blocks = [Block([("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", "j")])]
    body = "+OK 1\n"
    assert encode_event_json(blocks, body).endswith(
        b'{"Event-Name":"BACKGROUND_JOB","Job-UUID":"j","Content-Length":"6","_body":"+OK 1\\n"}'
    )
    plain = encode_event_plain(blocks, body)
    assert plain.endswith(b"Job-UUID: j\nContent-Length: 6\n\n+OK 1\n")
    outer = int(plain.split(b"\n", 1)[0].split(b": ")[1])
    assert outer == len(plain.split(b"\n\n", 1)[1])


def test_envelopes_byte_for_byte() -> None:
    assert (
        command_reply("+OK accepted")
        == b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
    )
    assert command_reply("+OK Job-UUID: u", (("Job-UUID", "u"),)) == (
        b"Content-Type: command/reply\nReply-Text: +OK Job-UUID: u\nJob-UUID: u\n\n"
    )
    assert api_response("12") == b"Content-Type: api/response\nContent-Length: 2\n\n12"
    assert disconnect_notice() == (
        b"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"
        b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
    )

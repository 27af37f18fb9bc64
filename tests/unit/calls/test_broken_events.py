"""A call's actor drops an event whose body turns out not to decode (issue 10, finding 5):
the connection has counted and logged it; the call carries on."""

from __future__ import annotations

from callcenter.calls.call import Call
from callcenter.esl.events import EVENT_JSON, Event, parse_event
from callcenter.esl.wire import Message
from callcenter.vocabulary import CallState

U = "4c06f453-8f1e-4852-9835-917047ab05fb"


def _event(body: bytes) -> Event:
    return parse_event(Message({"Content-Type": EVENT_JSON}, body))


def test_a_broken_event_is_dropped_and_the_call_goes_on() -> None:
    park = _event(
        b'{"Event-Name":"CHANNEL_PARK","Unique-ID":"' + U.encode() + b'",'
        b'"Event-Date-Timestamp":"1000","variable_cc_managed":"true"}'
    )
    call = Call.from_park(park, "fs1")
    broken = _event(  # an escaped timestamp needs the full parse, which fails
        b'{"Event-Name":"CHANNEL_ANSWER","Unique-ID":"' + U.encode() + b'",'
        b'"Event-Date-Timestamp":"200\\u0030","x":' + b"[" * 1000 + b"]" * 1000 + b"}"
    )
    call.apply(broken)
    assert broken.broken
    assert call.state is CallState.PARKED and call.caller.answered_us is None
    answer = _event(
        b'{"Event-Name":"CHANNEL_ANSWER","Unique-ID":"' + U.encode() + b'",'
        b'"Event-Date-Timestamp":"3000"}'
    )
    call.apply(answer)
    assert call.state is CallState.ANSWERED and call.caller.answered_us == 3000

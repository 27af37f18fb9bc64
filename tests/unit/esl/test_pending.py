"""What the connection waits for, resolved by the events that end it."""

from __future__ import annotations

import json

from callcenter.errors import CallGone
from callcenter.esl.events import EVENT_JSON, Event, parse_event
from callcenter.esl.pending import Pending
from callcenter.esl.wire import Message

VARIABLES = {f"variable_v{n}": "x" * 30 for n in range(100)}


def _complete(channel: str, app_uuid: str, escaped: bool = False) -> Event:
    headers = {"Event-Name": "CHANNEL_EXECUTE_COMPLETE", "Unique-ID": channel, **VARIABLES}
    headers |= {"Application": "set", "Application-UUID": app_uuid}
    body = json.dumps(headers, separators=(",", ":")).encode()
    if escaped:  # a value only the full parse can read
        body = body.replace(f'"{app_uuid}"'.encode(), b'"\\u0061' + app_uuid[1:].encode() + b'"')
    return parse_event(Message({"Content-Type": EVENT_JSON}, body))


def test_an_execute_completes_by_its_application_uuid() -> None:
    pending = Pending()
    waiter = pending.expect_execute("e-1", "chan-a")
    pending.resolve(_complete("chan-a", "e-2"))
    assert not waiter.ready()
    pending.resolve(_complete("chan-a", "e-1"))
    assert waiter.ready() and waiter.get().application_uuid == "e-1"
    assert len(pending) == 0


def test_another_channels_execute_is_not_read_past_its_unique_id() -> None:
    # a dialplan's `set` on a channel the engine runs nothing on: its Application-UUID,
    # written last, is never read (here it could only be read by decoding the whole body)
    pending = Pending()
    waiter = pending.expect_execute("a-1", "chan-a")
    stranger = _complete("chan-b", "a-1", escaped=True)
    pending.resolve(stranger)
    assert not stranger.decoded and not waiter.ready()
    mine = _complete("chan-a", "a-1", escaped=True)
    pending.resolve(mine)
    assert mine.decoded and waiter.get() is mine


def test_a_destroyed_channel_fails_what_it_still_runs() -> None:
    pending = Pending()
    waiter = pending.expect_execute("e-1", "chan-a")
    other = pending.expect_execute("e-2", "chan-b")
    pending.resolve(Event("CHANNEL_DESTROY", None, "chan-a", {}))
    assert isinstance(waiter.exception, CallGone) and not other.ready()

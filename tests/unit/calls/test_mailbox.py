"""A call's mailbox: what it keeps of the reader's events, and what wakes its actor."""

from __future__ import annotations

import pytest
from gevent.queue import Full

from callcenter.calls.mailbox import Mailbox
from callcenter.esl.events import Event

CALLER, AGENT = "c-1", "a-1"


def _event(name: str, leg: str) -> Event:
    return Event(name, None, leg, {"Event-Name": name, "Unique-ID": leg})


def test_a_destroy_after_the_legs_hangup_complete_is_not_kept() -> None:
    mailbox = Mailbox(CALLER)
    for name in ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE"):
        mailbox.put_nowait(_event(name, AGENT))
    assert [e.name for e in mailbox.drain()] == ["CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE"]
    mailbox.put_nowait(_event("CHANNEL_DESTROY", AGENT))
    assert mailbox.qsize() == 0
    assert mailbox.get(timeout=0.01) is None  # nothing woke the actor
    mailbox.put_nowait(_event("CHANNEL_HANGUP_COMPLETE", CALLER))
    mailbox.put_nowait(_event("CHANNEL_DESTROY", CALLER))
    assert [e.name for e in mailbox.drain()] == ["CHANNEL_HANGUP_COMPLETE"]
    assert mailbox.caller_hangup.is_set()


def test_a_destroy_is_kept_when_the_hangup_complete_never_came() -> None:
    # a reconnect lost the HANGUP_COMPLETE, or the mailbox was full for it: the timeline
    # ends the leg at its DESTROY
    mailbox = Mailbox(CALLER, maxsize=1)
    mailbox.put_nowait(_event("CHANNEL_HANGUP", AGENT))
    with pytest.raises(Full):
        mailbox.put_nowait(_event("CHANNEL_HANGUP_COMPLETE", AGENT))
    mailbox.drain()
    mailbox.put_nowait(_event("CHANNEL_DESTROY", AGENT))
    assert [e.unique_id for e in mailbox.drain()] == [AGENT]

"""A call's mailbox: the ESL reader puts, the call's actor takes.

``put_nowait`` runs in the reader greenlet and never blocks. It keeps only the events the
call reads (``wants``; by default the ones its timeline handles) so a call waiting minutes
on a playback does not hoard events nobody will look at. It also raises a flag the moment
the caller's CHANNEL_HANGUP arrives, so an actor waiting on something else (an originate
ringing an agent) can stop at once instead of after its own timeout. A leg's
CHANNEL_DESTROY after its CHANNEL_HANGUP_COMPLETE says nothing the call reads (the timeline
ends a leg there only if the HANGUP_COMPLETE was missed): it is not kept, and does not wake
the actor.

``post`` takes messages from other greenlets (the ACD's answers, intents from operators):
values, never shared objects. They wait beside the events, in order, and the actor takes
them with ``take_messages``; an intent also raises ``intent`` so that a wait on something
else (agents ringing) stops for it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Collection

from gevent.event import Event as Flag
from gevent.queue import Full

from callcenter.calls.intents import INTENTS
from callcenter.cdr.timeline import TIMELINE_EVENTS
from callcenter.esl.events import Event

_GONE = frozenset({"CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"})
# what a call reads: its timeline's events, and the keys its caller presses (a queue's exit
# key; a DTMF event is rare, so every call taking them costs nothing); CUSTOM: mod_avmd's
# avmd::beep on a dialer's call (the engine subscribes to no other per-channel CUSTOM)
CALL_EVENTS = TIMELINE_EVENTS | {"DTMF", "CUSTOM"}


class Mailbox:
    __slots__ = (
        "_completed", "_items", "_messages", "_ready", "call_uuid", "caller_hangup", "intent",
        "keyed", "maxsize", "wants",
    )  # fmt: skip

    def __init__(
        self, call_uuid: str, maxsize: int = 1000, wants: Collection[str] = CALL_EVENTS
    ) -> None:
        self.call_uuid = call_uuid
        self.maxsize = maxsize
        self.wants = frozenset(wants)
        self._items: deque[Event] = deque()
        self._ready = Flag()
        self.caller_hangup = Flag()
        self._messages: deque[object] = deque()
        self.intent = Flag()
        self.keyed = Flag()  # the caller pressed a key (a wait on agents ringing reads it)
        self._completed: set[str] = set()  # legs whose HANGUP_COMPLETE was kept

    def put_nowait(self, event: Event) -> None:
        name = event.name
        if name not in self.wants:
            return
        if name in _GONE:
            leg = event.unique_id
            if leg == self.call_uuid:
                self.caller_hangup.set()
            if name == "CHANNEL_DESTROY" and leg in self._completed:
                self._completed.discard(leg)
                return  # after its HANGUP_COMPLETE: nothing new
        elif name == "DTMF" and event.unique_id == self.call_uuid:
            self.keyed.set()
        if len(self._items) >= self.maxsize:
            raise Full  # the router counts the drop
        self._items.append(event)
        self._ready.set()
        if name == "CHANNEL_HANGUP_COMPLETE":
            self._completed.add(event.unique_id or "")

    def get(self, timeout: float) -> Event | None:
        if not self._items:
            if self._messages:
                return None  # the caller pumps: messages first
            self._ready.clear()
            self._ready.wait(timeout)
            if not self._items:
                return None
        return self._items.popleft()

    def post(self, message: object) -> None:
        """A message for the actor (never blocks); ``calls.intents`` ones raise ``intent``."""
        self._messages.append(message)
        if isinstance(message, INTENTS):
            self.intent.set()
        self._ready.set()

    def take_messages(self) -> list[object]:
        if not self._messages:
            return []
        messages = list(self._messages)
        self._messages.clear()
        return messages

    def wake(self) -> None:
        """Make a waiting ``get`` return (with None) so its caller looks at the world again."""
        self._ready.set()

    def drain(self) -> list[Event]:
        events = list(self._items)
        self._items.clear()
        return events

    def qsize(self) -> int:
        return len(self._items)

    def lost(self, leg_uuid: str, cause: str = "NORMAL_UNSPECIFIED") -> None:
        """Deliver the end of a leg that hung up while the engine could not see it."""
        now = str(time.time_ns() // 1000)
        headers = {
            "Event-Name": "CHANNEL_HANGUP_COMPLETE",
            "Unique-ID": leg_uuid,
            "Event-Date-Timestamp": now,
            "Hangup-Cause": cause,
            "variable_cc_synthetic": "true",
        }
        self.put_nowait(Event("CHANNEL_HANGUP_COMPLETE", None, leg_uuid, headers))

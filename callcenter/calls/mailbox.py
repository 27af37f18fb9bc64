"""A call's mailbox: the ESL reader puts, the call's actor takes.

``put_nowait`` runs in the reader greenlet and never blocks. It also raises a flag the
moment the caller's CHANNEL_HANGUP arrives, so an actor waiting on something else (an
originate ringing an agent) can stop at once instead of after its own timeout.
"""

from __future__ import annotations

import time

from gevent.event import Event as Flag
from gevent.queue import Empty, Queue

from callcenter.esl.events import Event

_GONE = frozenset({"CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"})


class Mailbox:
    def __init__(self, call_uuid: str, maxsize: int = 1000) -> None:
        self.call_uuid = call_uuid
        self._queue: Queue = Queue(maxsize)
        self.caller_hangup = Flag()

    def put_nowait(self, event: Event) -> None:
        if event.unique_id == self.call_uuid and event.name in _GONE:
            self.caller_hangup.set()
        self._queue.put_nowait(event)  # Full propagates: the router counts the drop

    def get(self, timeout: float) -> Event | None:
        try:
            event: Event = self._queue.get(timeout=timeout)
        except Empty:
            return None
        return event

    def drain(self) -> list[Event]:
        events: list[Event] = []
        while True:
            try:
                events.append(self._queue.get_nowait())
            except Empty:
                return events

    def qsize(self) -> int:
        return int(self._queue.qsize())

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

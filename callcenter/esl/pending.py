"""What the connection is waiting for: replies in command order, background jobs by
Job-UUID, and executes by the Event-UUID FreeSWITCH echoes back as Application-UUID."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from gevent.event import AsyncResult

from callcenter.errors import CallGone
from callcenter.esl.events import Event
from callcenter.esl.wire import Message

# The only events ``Pending.resolve`` looks at: the reader skips it for every other one.
RESOLVING_EVENTS = frozenset({"CHANNEL_EXECUTE_COMPLETE", "BACKGROUND_JOB", "CHANNEL_DESTROY"})


class Pending:
    def __init__(self) -> None:
        self._replies: deque[Any] = deque()
        self._jobs: dict[str, Any] = {}
        self._executes: dict[str, tuple[str, Any]] = {}
        self._by_channel: dict[str, set[str]] = {}  # channel uuid -> its pending event uuids

    def __len__(self) -> int:
        return len(self._replies) + len(self._jobs) + len(self._executes)

    def queue_reply(self, slot: Any) -> None:
        """The next reply goes to ``slot`` (``set``, ``set_exception``, ``ready``), after
        the replies of the commands written before."""
        self._replies.append(slot)

    def reply(self, message: Message) -> bool:
        # Replies come back in command order; a timed-out command keeps its slot so a late
        # reply is consumed by it and never handed to the next command.
        if not self._replies:
            return False
        self._replies.popleft().set(message)
        return True

    def expect_job(self, job_uuid: str) -> AsyncResult:
        result = self._jobs[job_uuid] = AsyncResult()
        return result

    def forget_job(self, job_uuid: str) -> None:
        self._jobs.pop(job_uuid, None)

    def expect_execute(self, event_uuid: str, channel_uuid: str) -> AsyncResult:
        result = AsyncResult()
        self._executes[event_uuid] = (channel_uuid, result)
        self._by_channel.setdefault(channel_uuid, set()).add(event_uuid)
        return result

    def forget_execute(self, event_uuid: str) -> None:
        entry = self._executes.pop(event_uuid, None)
        if entry is not None:
            self._unindex(entry[0], event_uuid)

    def _unindex(self, channel: str, event_uuid: str) -> None:
        waiting = self._by_channel.get(channel)
        if waiting is not None:
            waiting.discard(event_uuid)
            if not waiting:
                del self._by_channel[channel]

    def resolve(self, event: Event) -> None:
        name = event.name
        if name == "CHANNEL_EXECUTE_COMPLETE" and self._executes:
            if event.unique_id not in self._by_channel:
                # not a channel the engine runs anything on (a dialplan's own `set`s: six
                # a call): its Unique-ID, written near the top, says so without reading the
                # Application-UUID FreeSWITCH writes last, past every channel variable
                return
            app_uuid = event.application_uuid
            entry = self._executes.pop(app_uuid, None) if app_uuid else None
            if entry is not None and app_uuid is not None:
                self._unindex(entry[0], app_uuid)
                entry[1].set(event)
        elif name == "BACKGROUND_JOB" and self._jobs:
            job_uuid = event.job_uuid
            job = self._jobs.pop(job_uuid, None) if job_uuid else None
            if job is not None:
                job.set(event)
        elif name == "CHANNEL_DESTROY" and self._executes:
            # EXECUTE_COMPLETE always precedes DESTROY, so what is still waiting never ends.
            gone = event.unique_id or ""
            for event_uuid in self._by_channel.pop(gone, ()):
                _, result = self._executes.pop(event_uuid)
                result.set_exception(CallGone(f"{gone}: channel destroyed during execute"))

    def fail_all(self, make_error: Callable[[], Exception]) -> int:
        waiters = [*self._replies, *self._jobs.values(), *(r for _, r in self._executes.values())]
        self._replies.clear()
        self._jobs.clear()
        self._executes.clear()
        self._by_channel.clear()
        for result in waiters:
            if not result.ready():
                result.set_exception(make_error())
        return len(waiters)

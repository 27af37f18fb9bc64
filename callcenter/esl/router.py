"""Fan events out to per-call mailboxes and named subscribers, without ever blocking.

``route`` runs in the ESL reader greenlet: it only does ``put_nowait`` on bounded queues.
A full queue drops the event and counts it; nothing raises back into the reader.

A mailbox with a ``wants`` set (``calls.mailbox.Mailbox``) keeps only those event names, so
the router reads an event's Unique-ID (a scan of its body) only when some mailbox wants the
event's name: most events (EXECUTE_COMPLETE, DTMF, BACKGROUND_JOB) go to no call's mailbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

from gevent.queue import Full, Queue

from callcenter.errors import ESLProtocolError
from callcenter.esl.events import Event
from callcenter.metrics.esl import ESLMetrics

log = logging.getLogger(__name__)

CALLS_QUEUE = "calls"


class Mailbox(Protocol):
    """What a call's events go to: a gevent ``Queue``, ``calls.mailbox.Mailbox``, or any
    listener with these two (``qsize``: the events held, for the ``calls`` queue's depth
    metric; a listener that holds none says 0). A ``wants`` set, if it has one, limits the
    event names it is given."""

    def put_nowait(self, item: Any, /) -> None: ...

    def qsize(self) -> int: ...


@dataclass(frozen=True, slots=True)
class _Subscriber:
    name: str
    queue: Any
    events: frozenset[str] | None
    accept: Callable[[Event], bool] | None


class EventRouter:
    def __init__(
        self,
        *,
        metrics: ESLMetrics | None = None,
        mailbox_size: int = 1000,
    ) -> None:
        self._metrics = metrics
        self._mailbox_size = mailbox_size
        self._mailboxes: dict[str, Mailbox] = {}
        # the mailboxes by the set of names they want (every call's mailbox shares one), and
        # how many of those sets hold each name; `_open`: how many mailboxes take every name
        self._wants: dict[frozenset[str], int] = {}
        self._wanted: dict[str, int] = {}
        self._open = 0
        self._subscribers: dict[str, _Subscriber] = {}
        self.dropped: dict[str, int] = {}
        if metrics is not None:
            metrics.track_queue(CALLS_QUEUE, self._mailbox_depth)

    def register_call(self, unique_id: str, maxsize: int | None = None) -> Queue:
        mailbox = self._mailboxes.get(unique_id)
        if mailbox is None:
            mailbox = Queue(maxsize or self._mailbox_size)
            self.attach_call(unique_id, mailbox)
        return mailbox

    def attach_call(self, unique_id: str, mailbox: Mailbox) -> None:
        """Deliver ``unique_id``'s events to an existing mailbox (a call's other legs)."""
        self.unregister_call(unique_id)
        self._mailboxes[unique_id] = mailbox
        self._count_wants(mailbox, 1)

    def unregister_call(self, unique_id: str) -> None:
        mailbox = self._mailboxes.pop(unique_id, None)
        if mailbox is not None:
            self._count_wants(mailbox, -1)

    def _count_wants(self, mailbox: Any, step: int) -> None:
        wants: Collection[str] | None = getattr(mailbox, "wants", None)
        if wants is None:
            self._open += step
            return
        key = wants if isinstance(wants, frozenset) else frozenset(wants)
        mailboxes = self._wants.get(key, 0) + step
        if mailboxes:
            self._wants[key] = mailboxes
        else:
            del self._wants[key]
        if mailboxes != (1 if step > 0 else 0):
            return  # the set was already counted (or still is): one dict update per leg
        wanted = self._wanted
        for name in key:
            count = wanted.get(name, 0) + step
            if count:
                wanted[name] = count
            else:
                del wanted[name]

    def mailbox(self, unique_id: str) -> Queue | None:
        return self._mailboxes.get(unique_id)

    @property
    def calls(self) -> int:
        return len(self._mailboxes)

    def subscribe(
        self,
        name: str,
        *,
        maxsize: int = 10000,
        events: Collection[str] | None = None,
        accept: Callable[[Event], bool] | None = None,
    ) -> Queue:
        if name in self._subscribers:
            raise ValueError(f"subscriber {name!r} already exists")
        queue = Queue(maxsize)
        wanted = frozenset(events) if events is not None else None
        self._subscribers[name] = _Subscriber(name, queue, wanted, accept)
        if self._metrics is not None:
            self._metrics.track_queue(name, queue.qsize)
        return queue

    def unsubscribe(self, name: str) -> None:
        if self._subscribers.pop(name, None) is not None and self._metrics is not None:
            self._metrics.untrack_queue(name)

    def __call__(self, event: Event) -> None:
        self.route(event)

    def route(self, event: Event) -> None:
        name = event.name
        if self._open or name in self._wanted:
            unique_id = event.unique_id
            if unique_id is not None:
                mailbox = self._mailboxes.get(unique_id)
                if mailbox is not None:
                    try:
                        mailbox.put_nowait(event)
                    except Full:
                        self._drop(CALLS_QUEUE, event)
        for sub in self._subscribers.values():
            if sub.events is not None and name not in sub.events:
                continue
            if sub.accept is not None and not self._accepts(sub, event):
                continue
            try:
                sub.queue.put_nowait(event)
            except Full:
                self._drop(sub.name, event)

    def _accepts(self, sub: _Subscriber, event: Event) -> bool:
        assert sub.accept is not None
        try:
            return sub.accept(event)
        except Exception as exc:  # a subscriber's filter must not break routing for the others
            if not (isinstance(exc, ESLProtocolError) and event.broken):  # else: counted, logged
                log.exception("event filter of subscriber %s failed on %s", sub.name, event.name)
            return False

    def _drop(self, queue: str, event: Event) -> None:
        count = self.dropped[queue] = self.dropped.get(queue, 0) + 1
        if self._metrics is not None:
            self._metrics.dropped(queue)
        if count == 1 or count % 1000 == 0:
            log.warning(
                "queue %s full: dropped %s (uuid %s, seq %s); %d dropped so far",
                queue,
                event.name,
                event.unique_id,
                event.get("Event-Sequence"),
                count,
            )

    def _mailbox_depth(self) -> float:
        return float(sum(q.qsize() for q in list(self._mailboxes.values())))

"""Events this engine did not publish itself, onto its SSE stream: an operator's change
(``agent.status_changed`` from the CLI or the API, appended by the service in its own
transaction) and the calls of other engines on the same database.

One greenlet reads the outbox after the last ``seq`` it saw (the outbox's lock makes that
order the commit order, so nothing is skipped) every ``poll`` seconds and relays what the
bus did not carry here; the engine's own events went to the stream live, so they are
recognised by id and left out. Relayed events come up to ``poll`` seconds (plus the other
writer's batching window) after the live ones, so around them the stream is not in strict
time order; each event still comes once.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

import gevent

from callcenter.errors import DatabaseUnavailable
from callcenter.events.bus import EventBus
from callcenter.events.sse import EventStream
from callcenter.events.types import Event
from callcenter.store.database import Database
from callcenter.store.repos.webhooks import WebhookRepository

log = logging.getLogger(__name__)

IDLE_WAIT = 60.0  # seconds between looks at a stream nobody listens to (a client wakes it)


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        bus: EventBus,
        stream: EventStream,
        *,
        poll: float = 0.5,
        remember: int = 50_000,
        batch: int = 500,
    ) -> None:
        self.database = database
        self.stream = stream
        self.poll = poll
        self.batch = batch
        self._mine: set[str] = set()
        self._order: deque[str] = deque()
        self._remember = remember
        self._last: int | None = None
        self._greenlet: gevent.Greenlet[Any] | None = None
        bus.subscribe(self._published)

    def _published(self, event: Event) -> None:
        self._mine.add(event.id)
        self._order.append(event.id)
        if len(self._order) > self._remember:
            self._mine.discard(self._order.popleft())

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._run)
        self._greenlet.link_exception(self._crashed)

    def stop(self) -> None:
        if self._greenlet is not None:
            greenlet, self._greenlet = self._greenlet, None
            greenlet.kill(block=True, timeout=5)

    def _crashed(self, greenlet: gevent.Greenlet[Any]) -> None:
        log.error("event relay died: %r; restarting", greenlet.exception)
        gevent.sleep(1.0)
        self.start()

    def _run(self) -> None:
        while True:
            if not self.stream.client_count:  # nobody to relay to: no query (then from now on)
                self._last = None
                self.stream.wait_for_clients(IDLE_WAIT)  # no wake-up while nobody listens
                continue
            try:
                more = self.step()
            except DatabaseUnavailable as exc:
                log.info("event relay: %s", exc)
                more = False
            if not more:
                gevent.sleep(self.poll)

    def step(self) -> bool:
        """Relay what was stored since the last step; True when there may be more."""
        with self.database.session_scope() as session:
            repo = WebhookRepository(session)
            if self._last is None:  # from the start of this run on
                self._last = repo.newest_seq()
                return False
            rows = repo.next_events(self._last, (), self.batch)
        for row in rows:
            self._last = row.seq
            if row.event_id in self._mine:
                continue
            self.stream.relay(row.payload)
        return len(rows) == self.batch

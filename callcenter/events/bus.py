"""The engine's one event bus: publishers (the ESL reader, call actors, the dispatcher) hand
an event to every subscriber and go on.

``publish`` never blocks and does no I/O: subscribers are called in the publisher's greenlet
and must only put the event somewhere bounded (the writer's queue, an SSE client's queue, a
counter). A subscriber that raises is logged and counted; the publisher never sees it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter

from callcenter.events.types import EVENT_TYPES, Event
from callcenter.metrics.children import Children

log = logging.getLogger(__name__)

Subscriber = Callable[[Event], None]


class BusMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.published = Counter(
            "callcenter_events_published_total",
            "Events published on the engine's bus, by type.",
            ["type"],
            registry=registry,
        )
        self.subscriber_errors = Counter(
            "callcenter_events_subscriber_errors_total",
            "Subscribers of the event bus that raised on an event (a bug; the event went on "
            "to the others).",
            registry=registry,
        )
        self.published_by_type = Children(self.published)
        for name in EVENT_TYPES:
            self.published_by_type(name)


class EventBus:
    def __init__(self, metrics: BusMetrics | None = None) -> None:
        self.metrics = metrics
        self._subscribers: tuple[Subscriber, ...] = ()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns what removes it."""
        self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

        return unsubscribe

    def publish(self, event: Event) -> None:
        if self.metrics is not None:
            self.metrics.published_by_type(event.type).inc()
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:  # a subscriber's bug must never reach a call's actor
                log.exception("event %s %s: a subscriber failed", event.type, event.id)
                if self.metrics is not None:
                    self.metrics.subscriber_errors.inc()

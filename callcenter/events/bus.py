"""The engine's one event bus: publishers (the ESL reader, call actors, the dispatcher) hand
an event to every subscriber and go on.

``publish`` never blocks and does no I/O: subscribers are called in the publisher's greenlet
and must only put the event somewhere bounded (the writer's queue, an SSE client's queue, a
counter). A subscriber that raises is logged and counted; the publisher never sees it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

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
        self._entries: tuple[tuple[Subscriber, frozenset[str] | None], ...] = ()
        # who hears each type, in the order they subscribed: a subscriber that reads a few
        # types (the live KPIs, the dialer, the wallboard's tally) is not called for the
        # rest (a queue call publishes ~10 events, most of them read by half the subscribers)
        self._by_type: dict[str, tuple[Subscriber, ...]] = {}

    def subscribe(
        self, subscriber: Subscriber, types: Collection[str] | None = None
    ) -> Callable[[], None]:
        """Add a subscriber of every event, or only of ``types``; returns what removes it."""
        entry = (subscriber, frozenset(map(str, types)) if types is not None else None)
        self._entries = (*self._entries, entry)
        self._by_type = {}

        def unsubscribe() -> None:
            self._entries = tuple(e for e in self._entries if e is not entry)
            self._by_type = {}

        return unsubscribe

    def _subscribers(self, kind: str) -> tuple[Subscriber, ...]:
        subscribers = self._by_type[kind] = tuple(
            subscriber for subscriber, types in self._entries if types is None or kind in types
        )
        return subscribers

    def publish(self, event: Event) -> None:
        kind = event.type
        if self.metrics is not None:
            self.metrics.published_by_type(kind).inc()
        subscribers = self._by_type.get(kind)
        if subscribers is None:
            subscribers = self._subscribers(kind)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:  # a subscriber's bug must never reach a call's actor
                log.exception("event %s %s: a subscriber failed", event.type, event.id)
                if self.metrics is not None:
                    self.metrics.subscriber_errors.inc()

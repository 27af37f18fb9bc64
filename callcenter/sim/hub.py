"""Event subscriptions (``event``, ``nixevent``, ``noevents``, ``filter``) and fan-out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from callcenter.sim.events import SimEvent


class Subscription:
    """What one ESL connection asked to receive. Pure: no I/O."""

    def __init__(self) -> None:
        self.fmt = "plain"
        self.names: set[str] = set()
        self.custom: set[str] = set()
        self.all = False
        self.filters: dict[str, set[str]] = {}

    @property
    def listening(self) -> bool:
        return self.all or bool(self.names) or bool(self.custom)

    def subscribe(self, fmt: str, tokens: Sequence[str]) -> None:
        self.fmt = fmt
        custom = False
        for token in tokens:
            if custom:
                self.custom.add(token)
            elif token == "ALL":
                self.all = True
            elif token == "CUSTOM":
                custom = True
            else:
                self.names.add(token)

    def nix(self, tokens: Sequence[str]) -> None:
        custom = False
        for token in tokens:
            if custom:
                self.custom.discard(token)
            elif token == "ALL":
                self.all = False
                self.names.clear()
                self.custom.clear()
            elif token == "CUSTOM":
                custom = True
            else:
                self.names.discard(token)

    def clear(self) -> None:
        self.all = False
        self.names.clear()
        self.custom.clear()

    def add_filter(self, header: str, value: str) -> None:
        self.filters.setdefault(header, set()).add(value)

    def delete_filter(self, header: str, value: str | None) -> None:
        if header == "all":
            self.filters.clear()
            return
        if value is None:
            self.filters.pop(header, None)
            return
        values = self.filters.get(header)
        if values is not None:
            values.discard(value)
            if not values:
                del self.filters[header]

    def wants(self, event: SimEvent) -> bool:
        if event.name == "CUSTOM":
            if not (self.all or event.subclass in self.custom):
                return False
        elif not (self.all or event.name in self.names):
            return False
        if not self.filters:
            return True
        for header, values in self.filters.items():
            if header == "Unique-ID":
                value: str | None = event.unique_id or None
            elif header == "Event-Name":
                value = event.name
            else:
                value = event.get(header)
            if value is not None and value in values:
                return True
        return False


class Subscriber(Protocol):
    subscription: Subscription

    def deliver(self, event: SimEvent) -> None: ...


class EventHub:
    """Fans every event out to the connections that want it, in Event-Sequence order."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._listeners: list[Callable[[SimEvent], None]] = []

    def add(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)

    def listen(self, callback: Callable[[SimEvent], None]) -> None:
        """In-process observers (tests, traffic counters); called synchronously."""
        self._listeners.append(callback)

    @property
    def listeners(self) -> list[Callable[[SimEvent], None]]:
        return list(self._listeners)

    @property
    def subscribers(self) -> list[Subscriber]:
        return list(self._subscribers)

    def emit(self, event: SimEvent) -> None:
        for subscriber in self._subscribers:
            if subscriber.subscription.wants(event):
                subscriber.deliver(event)
        for callback in self._listeners:
            callback(event)

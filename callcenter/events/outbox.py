"""The durable outbox: every event in table ``events``, in the transaction of its change.

Engine events go through the durable writer (``DurableOutbox`` subscribes to the bus and
hands each event to the writer's queue, right behind the records of the change it reports,
so both share the writer's batch, or its spool while the database is away). An operator
change made by a service appends its event with ``append`` inside the service's own
transaction, as its last statement.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from callcenter.events.types import Event
from callcenter.store.records import EventRecord
from callcenter.store.repos.events import write_events
from callcenter.store.writer import DurableWriter


def record_of(event: Event) -> EventRecord:
    return EventRecord(
        event_id=event.id,
        type=str(event.type),
        at=event.at,
        payload=event.to_dict(),
        call_uuid=event.call_uuid,
        queue=event.queue,
        agent_extension=event.agent_extension,
    )


def append(session: Session, event: Event) -> None:
    """Store ``event`` in the caller's transaction: it is delivered if and only if that
    transaction commits. Call it last before the commit (on PostgreSQL it takes the outbox
    lock, held until then)."""
    write_events(session.connection(), [record_of(event)])


class Subscriptions:
    """The event types some enabled webhook wants, as last read (``WebhookDelivery.scan``,
    every ``DeliveryOptions.scan`` seconds). Until it is first read, or when a webhook
    wants every type, every type. The value is replaced whole, never changed in place."""

    def __init__(self) -> None:
        self.types: frozenset[str] | None = None  # None: every type

    def wants(self, event_type: str) -> bool:
        types = self.types
        return types is None or event_type in types


class DurableOutbox:
    """The bus subscriber that makes engine events durable through the writer: the types
    an enabled webhook subscribes to (a site with no webhook writes none: at 10 to 15
    events a call, the outbox would cost more than the call's own rows)."""

    def __init__(self, writer: DurableWriter, subscriptions: Subscriptions | None = None) -> None:
        self.writer = writer
        self.subscriptions = subscriptions or Subscriptions()

    def __call__(self, event: Event) -> None:
        if self.subscriptions.wants(str(event.type)):
            self.writer.write_event(record_of(event))

"""The events outbox: appended in the transaction of the change an event reports."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from callcenter.store.direct import Executes
from callcenter.store.records import EventRecord
from callcenter.store.statements import advisory_xact_lock, event_insert, params

_FIELDS = tuple(f.name for f in dataclasses.fields(EventRecord))
# pg_advisory_xact_lock key of the outbox: held from an append to its commit, so the order
# of ``events.seq`` is the order in which the events became visible (a webhook's cursor
# never passes a row committed later with a smaller seq)
OUTBOX_LOCK = 0x63630012


def write_events(conn: Executes, events: Sequence[EventRecord]) -> None:
    """Append events not stored yet (by ``event_id``). Take it last in a transaction: the
    lock it takes on PostgreSQL is held until the commit."""
    if not events:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(advisory_xact_lock(), {"key": OUTBOX_LOCK})
    rows = [params(e, _FIELDS) for e in events]
    conn.execute(event_insert(conn.dialect.name, _FIELDS), rows)

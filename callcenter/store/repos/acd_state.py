"""What the ACD dispatcher writes as it works: queue stays by ticket, agent states with history.

Both are replayed from the spool after a database outage, so both are idempotent: a stay is
an upsert by its ticket; an agent state sets the current columns (history rows of a replayed
batch are only written if that batch never committed).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from callcenter.store.models import Agent, AgentStatusChange, Queue, QueueEntry
from callcenter.store.records import AgentStateRecord, OpenStaysClosed, QueueStayRecord
from callcenter.store.repos._insert import insert_for

log = logging.getLogger(__name__)

_STAY_FIELDS = (
    "ticket", "call_uuid", "priority", "position_at_join", "joined_at", "offers",
    "offered_at", "answered_at", "left_at", "outcome", "reason",
)  # fmt: skip


def _stay_upsert(session: Session, rows: list[dict[str, Any]]) -> Any:
    """Insert or update by ticket. A stay resumed after a restart writes again from its start:
    the join time and position stay the first ones, the first offer time is kept, and the
    offer count never goes down."""
    table = QueueEntry.__table__
    stmt = insert_for(session, table).values(rows)  # type: ignore[arg-type]
    new = stmt.excluded
    changes = {c: new[c] for c in rows[0] if c not in ("ticket", "joined_at", "position_at_join")}
    changes["offered_at"] = func.coalesce(table.c.offered_at, new.offered_at)
    changes["offers"] = case((new.offers > table.c.offers, new.offers), else_=table.c.offers)
    return stmt.on_conflict_do_update(index_elements=["ticket"], set_=changes)


class AcdStateRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _ids(self, model: Any, column: Any, names: set[str]) -> dict[str, int]:
        if not names:
            return {}
        return dict(self.session.execute(select(column, model.id).where(column.in_(names))).all())

    def save_stays(self, stays: Sequence[QueueStayRecord]) -> int:
        """Upsert each stay by ticket (the last write of a ticket in the batch wins)."""
        latest = {s.ticket: s for s in stays}
        queues = self._ids(Queue, Queue.name, {s.queue for s in latest.values()})
        agents = self._ids(
            Agent,
            Agent.extension,
            {s.agent_extension for s in latest.values() if s.agent_extension},
        )
        rows = []
        for stay in latest.values():
            queue_id = queues.get(stay.queue)
            if queue_id is None:
                log.warning("queue %r was deleted; stay %s not recorded", stay.queue, stay.ticket)
                continue
            row = {name: getattr(stay, name) for name in _STAY_FIELDS}
            row.update(queue_id=queue_id, agent_id=agents.get(stay.agent_extension or ""))
            rows.append(row)
        if rows:
            self.session.execute(_stay_upsert(self.session, rows))
        return len(rows)

    def close_open_stays(self, closes: Sequence[OpenStaysClosed]) -> int:
        """Stays with no left_at written before ``at`` are closed (outcome left unknown)."""
        done = 0
        for close in closes:
            stmt = update(QueueEntry).where(
                QueueEntry.left_at.is_(None), QueueEntry.joined_at < close.at
            )
            if close.keep:
                kept = QueueEntry.ticket.in_(close.keep)
                stmt = stmt.where(or_(QueueEntry.ticket.is_(None), ~kept))
            result = self.session.execute(stmt.values(left_at=close.at, reason=close.reason))
            done += getattr(result, "rowcount", 0) or 0
        return done

    def save_agent_states(self, changes: Sequence[AgentStateRecord]) -> int:
        if not changes:
            return 0
        agents = {
            a.extension: a
            for a in self.session.scalars(
                select(Agent).where(Agent.extension.in_({c.extension for c in changes}))
            )
        }
        for change in changes:
            agent = agents.get(change.extension)
            if agent is None:
                continue  # removed meanwhile
            if change.status_changed and agent.status is not change.status:
                agent.status = change.status
                agent.pause_reason = change.reason
                agent.status_changed_at = change.at
            agent.state = change.state
            self.session.add(
                AgentStatusChange(
                    agent_id=agent.id,
                    status=agent.status,
                    state=change.state,
                    reason=change.reason,
                    at=change.at,
                )
            )
        self.session.flush()
        return len(changes)

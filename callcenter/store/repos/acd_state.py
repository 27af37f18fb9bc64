"""What the ACD dispatcher writes as it works: queue stays by ticket, agent states with history.

Both are replayed from the spool after a database outage, so both are idempotent: a stay is
an upsert by its ticket; an agent state sets the current columns (history rows of a replayed
batch are only written if that batch never committed).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from callcenter.store.base import utcnow
from callcenter.store.direct import Counted, Executes, Rowcount, when_counted
from callcenter.store.models import AcdCounter, Agent, Queue, QueueEntry
from callcenter.store.records import (
    AcdCounterRecord,
    AgentStateRecord,
    OpenStaysClosed,
    QueueStayRecord,
)
from callcenter.store.statements import (
    STAY_COLUMNS,
    agent_history_insert,
    agent_state_update,
    agent_state_with_history,
    counter_upsert,
    params,
    stay_upsert,
)
from callcenter.vocabulary import AgentStatus, QueueOutcome

log = logging.getLogger(__name__)


def write_stays(conn: Executes, stays: Sequence[QueueStayRecord]) -> Counted:
    """Upsert each stay by ticket (the last write of a ticket in the batch wins); the
    result's ``rowcount``: how many were recorded (in the writer's pipeline, known once it
    has synced: a stay not recorded is logged then)."""
    latest = {s.ticket: s for s in stays}
    if not latest:
        return Rowcount(0)
    rows = []
    for stay in latest.values():
        row = params(stay, STAY_COLUMNS)
        row.update(p_queue=stay.queue, p_agent_extension=stay.agent_extension)
        rows.append(row)
    result = conn.execute(stay_upsert(conn.dialect.name), rows)

    def check(written: int) -> None:
        if 0 <= written < len(rows):
            queues = sorted({s.queue for s in latest.values()})
            log.warning(
                "%d queue stay(s) not recorded: queue deleted (of %s)", len(rows) - written, queues
            )

    when_counted(result, check)
    return result


def write_agent_states(conn: Executes, changes: Sequence[AgentStateRecord]) -> int:
    """The agents' current state and status, and one history row per change, in order.

    The updates run in the batch's order, as if one by one. The history rows are written
    first, each with the status the agent has after its change: the one the engine set
    earlier in the batch, else the one stored before the batch."""
    if not changes:
        return 0
    updates = []
    history = []
    set_by_engine: dict[str, AgentStatus] = {}
    for change in changes:
        status = change.status if change.status_changed else None
        if status is not None:
            set_by_engine[change.extension] = status
        row = {
            "p_extension": change.extension,
            "p_status": status,
            "p_state": change.state,
            "p_reason": change.reason,
            "p_at": change.at,
            "p_missed": change.missed,
            "p_queue": change.queue,
            "p_engine_status": change.status,
        }
        updates.append(row)
        history.append(dict(row, p_status=set_by_engine.get(change.extension)))
    if conn.dialect.name == "postgresql":  # one statement a change: each row sees the last
        conn.execute(agent_state_with_history(), updates)
        return len(changes)
    conn.execute(agent_history_insert(), history)
    conn.execute(agent_state_update(), updates)
    return len(changes)


def close_open_stays(conn: Executes, closes: Sequence[OpenStaysClosed]) -> int:
    """Stays a previous run left open, begun before ``at``, are closed: one bridged to an
    agent (the engine was killed before the call ended) as answered, the others with the
    outcome unknown. A callback still waiting its turn stays open (the dispatcher loads it
    back at its place)."""
    done = 0
    for close in closes:
        left_open = (QueueEntry.left_at.is_(None) | QueueEntry.outcome.is_(None)) & (
            QueueEntry.joined_at < close.at
        )
        pending_callback = QueueEntry.callback_number.is_not(None) & QueueEntry.outcome.is_(None)
        stmt = update(QueueEntry).where(left_open, ~pending_callback)
        if close.keep:
            kept = QueueEntry.ticket.in_(close.keep)
            stmt = stmt.where(or_(QueueEntry.ticket.is_(None), ~kept))
        bridged = stmt.where(QueueEntry.answered_at.is_not(None))
        result = conn.execute(
            bridged.values(
                left_at=func.coalesce(QueueEntry.left_at, QueueEntry.answered_at),
                outcome=QueueOutcome.ANSWERED,
                reason=func.coalesce(QueueEntry.reason, close.reason),
            )
        )
        done += result.rowcount or 0
        unknown = stmt.where(QueueEntry.answered_at.is_(None), QueueEntry.left_at.is_(None))
        result = conn.execute(unknown.values(left_at=close.at, reason=close.reason))
        done += result.rowcount or 0
    return done


def write_counters(conn: Executes, counters: Sequence[AcdCounterRecord]) -> int:
    """Upsert each queue's or agent's counters (the last write of a key in the batch wins)."""
    latest = {(c.scope, c.name): c for c in counters}
    if not latest:
        return 0
    at = utcnow()
    rows = [
        {"p_scope": c.scope, "p_name": c.name, "p_data": c.data, "p_updated_at": at}
        for c in latest.values()
    ]
    conn.execute(counter_upsert(conn.dialect.name), rows)
    return len(rows)


class AcdStateRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def save_stays(self, stays: Sequence[QueueStayRecord]) -> int:
        return int(write_stays(self.session.connection(), stays).rowcount)

    def close_open_stays(self, closes: Sequence[OpenStaysClosed]) -> int:
        return close_open_stays(self.session.connection(), closes)

    def save_agent_states(self, changes: Sequence[AgentStateRecord]) -> int:
        return write_agent_states(self.session.connection(), changes)

    def counters(self) -> list[AcdCounterRecord]:
        rows = self.session.scalars(select(AcdCounter))
        return [AcdCounterRecord(r.scope, r.name, dict(r.data or {})) for r in rows]

    def save_counters(self, counters: Sequence[AcdCounterRecord]) -> int:
        return write_counters(self.session.connection(), counters)

    def pending_callbacks(self) -> list[QueueStayRecord]:
        """The callbacks taken and not yet ended (no outcome), first joined first."""
        rows = self.session.execute(
            select(QueueEntry, Queue.name)
            .join(Queue, Queue.id == QueueEntry.queue_id)
            .where(
                QueueEntry.callback_number.is_not(None),
                QueueEntry.outcome.is_(None),
                QueueEntry.ticket.is_not(None),
            )
            .order_by(QueueEntry.joined_at, QueueEntry.id)
        )
        return [_stay_of(e, name, None) for e, name in rows]

    def kept_places(self, since: datetime) -> list[KeptPlace]:
        """The places of callers who hung up waiting (``abandoned``) since ``since`` and
        have not called the queue again: (queue, normalized number) -> first join time."""
        rows = self.session.execute(
            select(QueueEntry, Queue.name)
            .join(Queue, Queue.id == QueueEntry.queue_id)
            .where(QueueEntry.caller_number.is_not(None), QueueEntry.joined_at >= since)
            .order_by(QueueEntry.id)
        )
        last: dict[tuple[str, str], tuple[QueueEntry, str]] = {}
        for entry, name in rows:
            last[(name, entry.caller_number or "")] = (entry, name)
        return [
            KeptPlace(name, e.caller_number or "", int(e.joined_at.timestamp() * 1e6), e.left_at)
            for e, name in last.values()
            if e.outcome is QueueOutcome.ABANDONED and e.left_at is not None
        ]

    def open_stays(self, call_uuids: Collection[str]) -> list[QueueStayRecord]:
        """The stays of these calls that have no outcome yet (a previous run's, at a start),
        as the ACD wrote them, in the order they began."""
        found: list[QueueStayRecord] = []
        uuids = sorted(set(call_uuids))
        for start in range(0, len(uuids), 1000):
            rows = self.session.execute(
                select(QueueEntry, Queue.name, Agent.extension)
                .join(Queue, Queue.id == QueueEntry.queue_id)
                .outerjoin(Agent, Agent.id == QueueEntry.agent_id)
                .where(
                    QueueEntry.call_uuid.in_(uuids[start : start + 1000]),
                    QueueEntry.outcome.is_(None),
                    QueueEntry.ticket.is_not(None),
                )
                .order_by(QueueEntry.joined_at, QueueEntry.id)
            )
            found += [_stay_of(e, name, ext) for e, name, ext in rows]
        return found


@dataclass(frozen=True, slots=True)
class KeptPlace:
    queue: str
    number: str
    since_us: int
    left_at: datetime


def _stay_of(e: QueueEntry, queue: str, extension: str | None) -> QueueStayRecord:
    return QueueStayRecord(
        ticket=e.ticket or "",
        queue=queue,
        call_uuid=e.call_uuid,
        priority=e.priority,
        position_at_join=e.position_at_join,
        joined_at=e.joined_at,
        offers=e.offers,
        offered_at=e.offered_at,
        answered_at=e.answered_at,
        agent_extension=extension,
        left_at=e.left_at,
        outcome=e.outcome,
        reason=e.reason,
        caller_number=e.caller_number,
        callback_number=e.callback_number,
        callback_attempts=e.callback_attempts,
        callback_result=e.callback_result,
    )

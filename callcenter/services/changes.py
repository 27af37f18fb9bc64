"""The change rows services write for running engines, and how engines read them back.

A service calls ``record`` inside its own transaction: the row commits (or rolls back)
with the change it describes. On PostgreSQL the same transaction takes an advisory lock,
so change rows commit in id order (an engine reading ``id > last`` never skips one that
committed late), and queues ``NOTIFY callcenter_changes, '<id>'``, which PostgreSQL
delivers at commit and drops on rollback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from callcenter.errors import CallCenterError
from callcenter.services.actor import Actor
from callcenter.store.base import utcnow
from callcenter.store.database import Database
from callcenter.store.models import EngineChange
from callcenter.store.repos import AuditLog

CHANNEL = "callcenter_changes"
LISTENER_NAME = "callcenter-engine"  # the application_name of an engine's LISTEN connection
_ORDER_LOCK = 0x63630006  # pg_advisory_xact_lock key: one change writer at a time


class ChangeKind(StrEnum):
    AGENT = "agent"  # key: extension
    QUEUE = "queue"  # key: queue name
    ROUTE = "route"  # key: DID
    OUTBOUND_ROUTE = "outbound_route"  # key: route name
    FLOW = "flow"  # key: "" (every flow of dialplans_dir)
    CALL = "call"  # key: call uuid; op: hangup, transfer, bridge_agent
    WEBHOOK = "webhook"  # key: webhook id: the engines look at their endpoints again
    TRUNK = "trunk"  # key: trunk name ("" for apply); op: add, set, remove, apply
    TRUNK_GROUP = "trunk_group"  # key: group name; op: add, set, remove
    CAMPAIGN = "campaign"  # key: campaign name; op: create, set, start, pause, stop, import
    DNC = "dnc"  # key: campaign name ("" the global list); op: add, remove, import


@dataclass(frozen=True, slots=True)
class Change:
    id: int
    at: datetime
    kind: str
    key: str
    op: str
    actor: str
    details: dict[str, Any] = field(default_factory=dict)


def record(
    session: Session,
    who: Actor,
    kind: ChangeKind,
    key: str,
    op: str,
    details: dict[str, Any] | None = None,
) -> int:
    """Add the change row to the session's transaction; its id."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ORDER_LOCK})
    row = EngineChange(
        kind=str(kind), key=key, op=op, details=details or {}, actor=str(who), at=utcnow()
    )
    session.add(row)
    session.flush()
    if postgres:
        session.execute(
            text("SELECT pg_notify(:channel, :id)"), {"channel": CHANNEL, "id": str(row.id)}
        )
    return row.id


def after(session: Session, last_id: int, limit: int = 500) -> list[Change]:
    """The changes above ``last_id``, oldest first."""
    rows = session.scalars(
        select(EngineChange).where(EngineChange.id > last_id).order_by(EngineChange.id).limit(limit)
    )
    return [Change(r.id, r.at, r.kind, r.key, r.op, r.actor, dict(r.details or {})) for r in rows]


def last_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(EngineChange.id), 0))) or 0)


def prune(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Drop the rows every engine has had time to apply; how many went."""
    newest = select(func.max(EngineChange.id)).scalar_subquery()
    result = session.execute(
        delete(EngineChange).where(
            EngineChange.at < utcnow() - older_than, EngineChange.id < newest
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def audited(
    session: Session,
    who: Actor,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    *,
    kind: ChangeKind | None = None,
    op: str = "",
) -> None:
    """The audit entry naming ``who``, and the engine's change row (keyed by ``target``)
    when ``kind`` is given, in the session's transaction."""
    AuditLog(session).record(str(who), action, target, details)
    if kind is not None:
        record(session, who, kind, target, op or action.rsplit(".", 1)[-1], details)


def newest_id(session: Session) -> int:
    return int(session.scalar(select(func.max(EngineChange.id))) or 0)


def recorded_since(session: Session, after_id: int, who: Actor) -> int:
    """How many changes ``who`` recorded after ``after_id`` (a CLI run's own)."""
    query = select(func.count()).where(EngineChange.id > after_id, EngineChange.actor == str(who))
    return int(session.scalar(query) or 0)


def engines_listening(session: Session) -> int | None:
    """On PostgreSQL, the engines whose change feed is listening now (their connections'
    ``application_name``); None where the database cannot tell (SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE application_name = :name AND datname = current_database()"
    )
    return int(session.scalar(query, {"name": LISTENER_NAME}) or 0)


def unheard(db: Database, who: Actor, after_id: int) -> bool:
    """Whether ``who`` recorded changes after ``after_id`` that no engine is listening for
    now (PostgreSQL; SQLite cannot tell: False). They are applied when an engine starts."""
    with db.session_scope() as session:
        if not recorded_since(session, after_id, who):
            return False
        return engines_listening(session) == 0


def newest(db: Database) -> int | None:
    """The newest change id, or None when the database cannot say (away, not migrated)."""
    try:
        with db.session_scope() as session:
            return newest_id(session)
    except (CallCenterError, SQLAlchemyError):  # a command that needs no database goes on
        return None

"""``INSERT ... ON CONFLICT`` for the two dialects the engine supports, one row or many."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Table) -> Any:
    """The dialect's ``insert`` (PostgreSQL or SQLite), which has ``on_conflict_*``."""
    return _insert(session, table)


def _insert(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def insert_ignore(session: Session, table: Table, values: dict[str, Any], key: str) -> Any:
    """Insert one row unless ``key`` already exists; return the new primary key or None."""
    rows = insert_ignore_many(session, table, [values], key)
    return rows[0][1] if rows else None


def insert_ignore_many(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], key: str
) -> list[tuple[Any, Any]]:
    """Insert the rows whose ``key`` is new; return (key, id) of those inserted."""
    if not rows:
        return []
    stmt = (
        _insert(session, table)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=[key])
        .returning(table.c[key], table.c.id)
    )
    return [(k, i) for k, i in session.execute(stmt)]


def upsert_many(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], key: str, keep: Sequence[str]
) -> dict[Any, Any]:
    """Insert or update by ``key`` (columns in ``keep`` are never overwritten); key -> id.

    A key must appear once per statement (PostgreSQL refuses to update a row twice).
    """
    if not rows:
        return {}
    stmt = _insert(session, table).values(list(rows))
    update = {c: stmt.excluded[c] for c in rows[0] if c != key and c not in keep}
    stmt = stmt.on_conflict_do_update(index_elements=[key], set_=update).returning(
        table.c[key], table.c.id
    )
    return {k: i for k, i in session.execute(stmt)}

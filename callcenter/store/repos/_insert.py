"""``INSERT ... ON CONFLICT DO NOTHING`` for the two dialects the engine supports."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, table: Table, values: dict[str, Any], key: str) -> Any:
    """Insert one row unless ``key`` already exists; return the new primary key or None."""
    dialect = session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        builder(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[key])
        .returning(table.c.id)
    )
    return session.execute(stmt).scalar_one_or_none()

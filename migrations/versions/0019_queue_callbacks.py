"""queue callbacks and kept places: queue_entries.callback_*, caller_number, new outcomes

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 12:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_OUTCOMES = (
    "answered", "abandoned", "timeout", "overflow", "callback", "transferred", "no_agent",
    "exit_key", "full",
)  # fmt: skip
NEW_OUTCOMES = (*OLD_OUTCOMES, "callback_answered", "callback_failed")
OLD_DISPOSITIONS = (
    "answered", "abandoned", "no_answer", "busy", "failed", "voicemail", "transferred",
    "rejected", "ivr_completed", "played", "feature",
)  # fmt: skip
NEW_DISPOSITIONS = (*OLD_DISPOSITIONS, "callback")
_DISPOSITIONS = (("calls", "call_disposition"), ("cdrs", "cdr_disposition"))


def _allow(values: Sequence[str]) -> None:
    """The calls' and CDRs' disposition columns take ``values`` (CHECK replaced)."""
    listed = ", ".join(f"'{v}'" for v in values)
    for table, name in _DISPOSITIONS:
        with op.batch_alter_table(table) as batch:  # batch: SQLite rebuilds the table
            batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
            batch.create_check_constraint(name, sa.text(f"disposition IN ({listed})"))


def _retype(values: Sequence[str]) -> None:
    """The outcome column's CHECK constraint lists ``values`` (a portable enum)."""
    listed = ", ".join(f"'{v}'" for v in values)
    name = op.f("ck_queue_entries_queue_entry_outcome")
    with op.batch_alter_table("queue_entries") as batch:
        batch.drop_constraint(name, type_="check")
        batch.alter_column(
            "outcome",
            type_=sa.String(length=max(len(v) for v in values) + 8),
            existing_nullable=True,
        )
        batch.create_check_constraint(name, f"outcome IN ({listed})")


def upgrade() -> None:
    _retype(NEW_OUTCOMES)
    _allow(NEW_DISPOSITIONS)
    with op.batch_alter_table("queue_entries") as batch:
        # the caller's normalized number: a place kept for a caller who calls again
        batch.add_column(sa.Column("caller_number", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("callback_number", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("callback_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("callback_result", sa.String(length=32), nullable=True))
        batch.create_index(op.f("ix_queue_entries_callback_number"), ["callback_number"])


def downgrade() -> None:
    entries = sa.table("queue_entries", sa.column("outcome", sa.String()))
    op.execute(
        entries.update()
        .where(entries.c.outcome.in_(("callback_answered", "callback_failed")))
        .values(outcome="callback")
    )
    with op.batch_alter_table("queue_entries") as batch:
        batch.drop_index(op.f("ix_queue_entries_callback_number"))
        batch.drop_column("callback_result")
        batch.drop_column("callback_attempts")
        batch.drop_column("callback_number")
        batch.drop_column("caller_number")
    _retype(OLD_OUTCOMES)
    for table, _name in _DISPOSITIONS:
        op.execute(f"UPDATE {table} SET disposition = 'abandoned' WHERE disposition = 'callback'")
    _allow(OLD_DISPOSITIONS)

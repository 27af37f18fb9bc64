"""disposition 'played': a message played by the engine (a playback: route), no IVR, no agent

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 06:55:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = (
    "answered",
    "abandoned",
    "no_answer",
    "busy",
    "failed",
    "voicemail",
    "transferred",
    "rejected",
    "ivr_completed",
)
_AFTER = (*_BEFORE, "played")
_COLUMNS = (("calls", "call_disposition"), ("cdrs", "cdr_disposition"))


def _allow(values: Sequence[str]) -> None:
    listed = ", ".join(f"'{v}'" for v in values)
    for table, name in _COLUMNS:
        with op.batch_alter_table(table) as batch:  # batch: SQLite rebuilds the table
            batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
            batch.create_check_constraint(name, sa.text(f"disposition IN ({listed})"))


def upgrade() -> None:
    _allow(_AFTER)


def downgrade() -> None:
    for table, _name in _COLUMNS:  # what these calls were called before
        op.execute(f"UPDATE {table} SET disposition = 'ivr_completed' WHERE disposition = 'played'")
    _allow(_BEFORE)

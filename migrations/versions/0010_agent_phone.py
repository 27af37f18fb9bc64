"""agents on their phones: per-agent offer settings, PIN lockout, on-demand; 'feature' CDRs

- agents.auto_answer: offers carry ``Call-Info: answer-after=0`` (headsets)
- agents.whisper: what the agent hears before the bridge (a file, or ``queue`` to hear the
  queue's name through the TTS engine); NULL: nothing
- agents.outbound_caller_id: the number an agent's external calls show (NULL: the route's)
- agents.on_demand: available for one call at a time (paused again after each call)
- agents.pin_failures / pin_locked_until: wrong PINs in a row at ``*21``, and the lockout
- disposition 'feature': a feature code dialled from an agent's phone

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 10:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
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
    "played",
)
_AFTER = (*_BEFORE, "feature")
_COLUMNS = (("calls", "call_disposition"), ("cdrs", "cdr_disposition"))


def _allow(values: Sequence[str]) -> None:
    listed = ", ".join(f"'{v}'" for v in values)
    for table, name in _COLUMNS:
        with op.batch_alter_table(table) as batch:  # batch: SQLite rebuilds the table
            batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
            batch.create_check_constraint(name, sa.text(f"disposition IN ({listed})"))


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(
            sa.Column("auto_answer", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("whisper", sa.Text(), nullable=True))
        batch.add_column(sa.Column("outbound_caller_id", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("on_demand", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("pin_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("pin_locked_until", sa.DateTime(timezone=True), nullable=True))
    _allow(_AFTER)


def downgrade() -> None:
    for table, _name in _COLUMNS:
        op.execute(f"UPDATE {table} SET disposition = 'played' WHERE disposition = 'feature'")
    _allow(_BEFORE)
    with op.batch_alter_table("agents") as batch:
        for column in (
            "pin_locked_until", "pin_failures", "on_demand", "outbound_caller_id", "whisper",
            "auto_answer",
        ):  # fmt: skip
            batch.drop_column(column)

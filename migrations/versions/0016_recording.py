"""recording by policy: agent override, queue retention and announcement, the file check

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("recording_policy", sa.String(16), nullable=True))
    with op.batch_alter_table("queues") as batch:
        batch.add_column(sa.Column("recording_keep_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("recording_announcement", sa.Text(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_queues_recording_keep_days_range"),
            "recording_keep_days IS NULL OR recording_keep_days BETWEEN 1 AND 36500",
        )
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="pending")
        )
        batch.add_column(sa.Column("queue", sa.String(64), nullable=True))
        batch.add_column(sa.Column("agent", sa.String(64), nullable=True))
        batch.add_column(sa.Column("channels", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("file_ms", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("paused", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("problem", sa.Text(), nullable=True))
        batch.add_column(sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(op.f("ix_recordings_started_at"), ["started_at"])


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_index(op.f("ix_recordings_started_at"))
        for column in ("checked_at", "problem", "paused", "file_ms", "channels"):
            batch.drop_column(column)
        for column in ("agent", "queue", "status"):
            batch.drop_column(column)
    with op.batch_alter_table("queues") as batch:
        batch.drop_constraint(op.f("ck_queues_recording_keep_days_range"), type_="check")
        batch.drop_column("recording_announcement")
        batch.drop_column("recording_keep_days")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("recording_policy")

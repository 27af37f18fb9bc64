"""agents.role (supervisor), supervision_sessions (who listened to which call, how, when),
recordings.read_at (a voicemail's read flag)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="agent"))
        batch.create_check_constraint(
            op.f("ck_agents_agent_role"), "role IN ('agent', 'supervisor')"
        )
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "supervision_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_uuid", sa.String(64), nullable=False),
        sa.Column("leg_uuid", sa.String(64), nullable=False),
        sa.Column("agent_leg_uuid", sa.String(64), nullable=False),
        sa.Column("supervisor", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("modes", sa.Text(), nullable=False, server_default=""),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_sessions")),
        sa.UniqueConstraint("leg_uuid", name=op.f("uq_supervision_sessions_leg_uuid")),
        sa.CheckConstraint(
            "mode IN ('listen', 'whisper', 'barge')",
            name=op.f("ck_supervision_sessions_supervision_mode"),
        ),
    )
    op.create_index(
        op.f("ix_supervision_sessions_call_uuid"), "supervision_sessions", ["call_uuid"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_supervision_sessions_call_uuid"), table_name="supervision_sessions")
    op.drop_table("supervision_sessions")
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("read_at")
    with op.batch_alter_table("agents") as batch:
        batch.drop_constraint(op.f("ck_agents_agent_role"), type_="check")
        batch.drop_column("role")

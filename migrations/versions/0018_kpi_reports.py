"""KPIs and reports: per-queue SL formula, short-abandon threshold, time zone; report indexes

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("queues") as batch:
        batch.add_column(
            sa.Column("sl_formula", sa.String(16), nullable=False, server_default="offered")
        )
        batch.add_column(
            sa.Column("short_abandon_seconds", sa.Integer(), nullable=False, server_default="5")
        )
        batch.add_column(sa.Column("time_zone", sa.String(64), nullable=True))
        batch.create_check_constraint(
            op.f("ck_queues_short_abandon_range"), "short_abandon_seconds BETWEEN 0 AND 3600"
        )
    # the agents report (CDRs by agent), FCR (calls again by number), time in status
    op.create_index(
        op.f("ix_cdrs_agent_extension_started_at"), "cdrs", ["agent_extension", "started_at"]
    )
    op.create_index(op.f("ix_cdrs_from_number_started_at"), "cdrs", ["from_number", "started_at"])
    op.create_index(op.f("ix_agent_status_history_at"), "agent_status_history", ["at"])
    # agent time per settled UTC day, filled by the reports (the month's history is millions
    # of rows; a day's is read once)
    op.create_table(
        "kpi_agent_days",
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("ms", sa.BigInteger(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_kpi_agent_days_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "day", "agent_id", "status", "state", "reason", name=op.f("pk_kpi_agent_days")
        ),
    )  # fmt: skip
    op.create_table(
        "kpi_rolled_days",
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("rolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_kpi_rolled_days")),
    )


def downgrade() -> None:
    op.drop_table("kpi_rolled_days")
    op.drop_table("kpi_agent_days")
    op.drop_index(op.f("ix_agent_status_history_at"), table_name="agent_status_history")
    op.drop_index(op.f("ix_cdrs_from_number_started_at"), table_name="cdrs")
    op.drop_index(op.f("ix_cdrs_agent_extension_started_at"), table_name="cdrs")
    with op.batch_alter_table("queues") as batch:
        batch.drop_constraint(op.f("ck_queues_short_abandon_range"), type_="check")
        batch.drop_column("time_zone")
        batch.drop_column("short_abandon_seconds")
        batch.drop_column("sl_formula")

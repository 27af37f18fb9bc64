"""KPI totals: each queue's stays and calls per 15-minute UTC interval (summed when first needed), and
agents' occupancy per 15-minute UTC interval (rolled up with their days)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 15:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kpi_queue_waits",
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("whole", sa.Integer(), nullable=False),
        sa.Column("stays", sa.Integer(), nullable=False),
        sa.Column("wait_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["queues.id"], name=op.f("fk_kpi_queue_waits_queue_id_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "bucket", "queue_id", "outcome", "seconds", "whole", name=op.f("pk_kpi_queue_waits")
        ),
    )  # fmt: skip
    op.create_table(
        "kpi_queue_calls",
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(128), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("talk_ms", sa.BigInteger(), nullable=False),
        sa.Column("hold_ms", sa.BigInteger(), nullable=False),
        sa.Column("wrapup_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "queue", name=op.f("pk_kpi_queue_calls")),
    )
    op.create_table(
        "kpi_rolled_buckets",
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("rolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_kpi_rolled_buckets")),
    )
    op.create_table(
        "kpi_agent_quarters",
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("handling_ms", sa.BigInteger(), nullable=False),
        sa.Column("idle_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_kpi_agent_quarters_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bucket", "agent_id", name=op.f("pk_kpi_agent_quarters")),
    )  # fmt: skip
    # days of agent time rolled up before: again, with their quarter hours, when next needed
    op.execute("DELETE FROM kpi_agent_days")
    op.execute("DELETE FROM kpi_rolled_days")
    op.create_index(
        "ix_queue_entries_open", "queue_entries", ["joined_at"],
        postgresql_where=sa.text("outcome IS NULL"), sqlite_where=sa.text("outcome IS NULL"),
    )  # fmt: skip
    # the stays and calls already stored are summed when first needed (the engine's rollup,
    # or the first report over them, which rolls up what its window lacks), as agent days
    # are: a revision never calls the application's code, which moves on after it


def downgrade() -> None:
    op.drop_index("ix_queue_entries_open", table_name="queue_entries")
    op.drop_table("kpi_agent_quarters")
    op.drop_table("kpi_rolled_buckets")
    op.drop_table("kpi_queue_calls")
    op.drop_table("kpi_queue_waits")

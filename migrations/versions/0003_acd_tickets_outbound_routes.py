"""queue entry tickets, outbound routes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:37:47.448667
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbound_routes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("pattern", sa.Text(), nullable=False),
        sa.Column("gateway", sa.String(length=128), nullable=False),
        sa.Column("number_format", sa.String(length=255), nullable=False),
        sa.Column("caller_id_number", sa.String(length=64), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_routes")),
        sa.UniqueConstraint("name", name=op.f("uq_outbound_routes_name")),
    )
    op.create_index(
        op.f("ix_outbound_routes_priority_name"), "outbound_routes", ["priority", "name"]
    )
    with op.batch_alter_table("queue_entries") as batch:  # batch: SQLite rebuilds the table
        batch.add_column(sa.Column("ticket", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f("uq_queue_entries_ticket"), ["ticket"])


def downgrade() -> None:
    with op.batch_alter_table("queue_entries") as batch:
        batch.drop_constraint(op.f("uq_queue_entries_ticket"), type_="unique")
        batch.drop_column("ticket")
    op.drop_index(op.f("ix_outbound_routes_priority_name"), table_name="outbound_routes")
    op.drop_table("outbound_routes")

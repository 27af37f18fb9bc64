"""trunk_groups: trunks an outbound route can name together, with a strategy; an outbound
route names its trunks or one group (outbound_routes.trunk_group)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 15:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trunk_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trunk_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_trunk_groups_name")),
        sa.CheckConstraint(
            "strategy IN ('in-order', 'round-robin', 'least-busy')",
            name=op.f("ck_trunk_groups_strategy"),
        ),
    )
    with op.batch_alter_table("outbound_routes") as batch:
        batch.add_column(sa.Column("trunk_group", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbound_routes") as batch:
        batch.drop_column("trunk_group")
    op.drop_table("trunk_groups")

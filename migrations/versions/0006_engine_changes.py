"""engine_changes: operator changes every running engine applies (LISTEN/NOTIFY or a poll)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 09:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "engine_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("op", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_changes")),
        sqlite_autoincrement=True,  # an id is never given twice, even after a prune
    )
    op.create_index(op.f("ix_engine_changes_at"), "engine_changes", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_engine_changes_at"), table_name="engine_changes")
    op.drop_table("engine_changes")

"""queues.rejoin_window_seconds: a caller who hung up and calls back within it gets its place

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("queues") as batch:
        batch.add_column(
            sa.Column("rejoin_window_seconds", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_check_constraint(
            op.f("ck_queues_rejoin_window_range"), "rejoin_window_seconds BETWEEN 0 AND 86400"
        )


def downgrade() -> None:
    with op.batch_alter_table("queues") as batch:
        batch.drop_constraint(op.f("ck_queues_rejoin_window_range"), type_="check")
        batch.drop_column("rejoin_window_seconds")

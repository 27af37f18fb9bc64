"""the agent status history marks the row that ends an offer the agent's phone rang and did
not answer (a ring-no-answer): a caller who hung up meanwhile, a ring-all lost, a busy or
unreachable phone are not the agent's misses

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08 01:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_status_history") as batch:
        batch.add_column(sa.Column("missed", sa.Boolean(), server_default=sa.false(),
                                   nullable=False))  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("agent_status_history") as batch:
        batch.drop_column("missed")

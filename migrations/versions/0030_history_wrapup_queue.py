"""the agent status history says whose wrap-up a ``wrap_up`` row is: the queue of the call
the agent wraps up (empty: a call of no queue, a campaign's or an extension's), so the
reports add wrap-up time to the agents' totals and to their queues' handle times (the CDR
is written when the call ends, before its wrap-up)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-09 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_status_history") as batch:
        batch.add_column(sa.Column("queue", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agent_status_history") as batch:
        batch.drop_column("queue")

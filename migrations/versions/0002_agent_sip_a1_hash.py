"""agent SIP a1 hash

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:17:10.607332
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:  # batch: SQLite rebuilds, PostgreSQL alters
        batch.add_column(sa.Column("sip_a1_hash", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("sip_a1_hash")

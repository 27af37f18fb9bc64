"""cdrs.ended_by: who hung the call up from outside the call (an operator, the API)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cdrs") as batch:
        batch.add_column(sa.Column("ended_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cdrs") as batch:
        batch.drop_column("ended_by")

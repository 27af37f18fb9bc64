"""cdrs.source: who built the CDR (the engine, or FreeSWITCH's own record)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 06:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cdrs") as batch:  # batch: SQLite rebuilds the table
        batch.add_column(
            sa.Column(
                "source",
                sa.Enum(
                    "engine",
                    "freeswitch",
                    name="cdr_source",
                    native_enum=False,
                    create_constraint=True,
                    length=18,
                ),
                server_default="engine",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("cdrs") as batch:
        batch.drop_constraint(op.f("ck_cdrs_cdr_source"), type_="check")
        batch.drop_column("source")

"""cdr_legs.leg_uuid indexed: the CDR backstop drops FreeSWITCH's CDR of a leg the engine
already keeps as a leg of one of its CDRs (a trunk attempt failed over to the next trunk)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 12:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_cdr_legs_leg_uuid"), "cdr_legs", ["leg_uuid"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cdr_legs_leg_uuid"), table_name="cdr_legs")

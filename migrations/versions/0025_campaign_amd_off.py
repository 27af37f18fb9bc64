"""campaign amd action 'off': no answering-machine detection, every answer a person's

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = ("hangup", "message", "flow")
_AFTER = (*_BEFORE, "off")


def _allow(values: Sequence[str]) -> None:
    listed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table("campaigns") as batch:  # batch: SQLite rebuilds the table
        batch.drop_constraint(op.f("ck_campaigns_amd_action"), type_="check")
        batch.create_check_constraint("amd_action", sa.text(f"amd IN ({listed})"))


def upgrade() -> None:
    _allow(_AFTER)


def downgrade() -> None:
    # the earlier schema has no 'off': such a campaign hangs up on the machines it detects
    op.execute("UPDATE campaigns SET amd = 'hangup' WHERE amd = 'off'")
    _allow(_BEFORE)

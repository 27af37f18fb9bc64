"""dialer audit kind 'number_refused': a due lead whose number is no lead's (premium rate,
stored before the importer refused such numbers) is closed with one

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 21:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = (
    "abandon", "message_played", "dnc_hit", "window_block", "hold_block", "fallback",
    "fallback_cleared", "state",
)  # fmt: skip
_AFTER = (*_BEFORE, "number_refused")


def _allow(values: Sequence[str]) -> None:
    listed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table("dialer_audit") as batch:  # batch: SQLite rebuilds the table
        batch.drop_constraint(op.f("ck_dialer_audit_dialer_audit_kind"), type_="check")
        batch.create_check_constraint("dialer_audit_kind", sa.text(f"kind IN ({listed})"))


def upgrade() -> None:
    _allow(_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM dialer_audit WHERE kind = 'number_refused'")
    _allow(_BEFORE)

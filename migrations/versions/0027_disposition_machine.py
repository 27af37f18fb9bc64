"""the calls' and CDRs' disposition takes `machine`: a campaign's call answered by an
answering machine (hung up on, or left the campaign's message)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 19:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_DISPOSITIONS = (
    "answered", "abandoned", "no_answer", "busy", "failed", "voicemail", "transferred",
    "rejected", "ivr_completed", "played", "feature", "callback",
)  # fmt: skip
NEW_DISPOSITIONS = (*OLD_DISPOSITIONS, "machine")
_DISPOSITIONS = (("calls", "call_disposition"), ("cdrs", "cdr_disposition"))


def _allow(values: Sequence[str]) -> None:
    """The calls' and CDRs' disposition columns take ``values`` (CHECK replaced)."""
    listed = ", ".join(f"'{v}'" for v in values)
    for table, name in _DISPOSITIONS:
        with op.batch_alter_table(table) as batch:  # batch: SQLite rebuilds the table
            batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
            batch.create_check_constraint(name, sa.text(f"disposition IN ({listed})"))


def upgrade() -> None:
    _allow(NEW_DISPOSITIONS)


def downgrade() -> None:
    for table, _ in _DISPOSITIONS:  # what these calls were before: answered, then failed
        rows = sa.table(table, sa.column("disposition", sa.String()))
        op.execute(
            rows.update().where(rows.c.disposition == "machine").values(disposition="failed")
        )
    _allow(OLD_DISPOSITIONS)

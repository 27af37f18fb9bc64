"""a disposition may put the number on the global do-not-call list (`global_dnc`); the
built-in `do_not_call` of every campaign does: a person's "do not call me" binds the
seller, not one campaign

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DISPOSITIONS = sa.table(
    "campaign_dispositions",
    sa.column("code", sa.String()),
    sa.column("dnc", sa.Boolean()),
    sa.column("global_dnc", sa.Boolean()),
)


def upgrade() -> None:
    with op.batch_alter_table("campaign_dispositions") as batch:
        batch.add_column(
            sa.Column("global_dnc", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        _DISPOSITIONS.update()
        .where(_DISPOSITIONS.c.code == "do_not_call", _DISPOSITIONS.c.dnc.is_(True))
        .values(global_dnc=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("campaign_dispositions") as batch:
        batch.drop_column("global_dnc")

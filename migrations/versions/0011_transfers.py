"""transfers: a queue's number (``*8<number>`` from an agent's phone) and the CDR's transfer
chain in figures (``transfers``, ``transferred_by``; each hop is in ``ivr_path``)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 10:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("queues") as batch:
        batch.add_column(sa.Column("number", sa.String(length=16), nullable=True))
        batch.create_unique_constraint("uq_queues_number", ["number"])
    with op.batch_alter_table("cdrs") as batch:
        batch.add_column(sa.Column("transfers", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("transferred_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cdrs") as batch:
        batch.drop_column("transferred_by")
        batch.drop_column("transfers")
    with op.batch_alter_table("queues") as batch:
        batch.drop_constraint("uq_queues_number", type_="unique")
        batch.drop_column("number")

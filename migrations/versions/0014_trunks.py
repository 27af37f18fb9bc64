"""trunks: SIP carriers as first-class objects; trunk_states: the gateway state last seen

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("proxy", sa.String(length=260), nullable=False),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("register", sa.Boolean(), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=True),
        sa.Column("password", sa.String(length=128), nullable=True),
        sa.Column("realm", sa.String(length=260), nullable=True),
        sa.Column("from_domain", sa.String(length=260), nullable=True),
        sa.Column("caller_id_in_from", sa.Boolean(), nullable=False),
        sa.Column("codecs", sa.JSON(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("number_style", sa.String(length=16), nullable=False),
        sa.Column("max_channels", sa.Integer(), nullable=True),
        sa.Column("max_cps", sa.Float(), nullable=True),
        sa.Column("inbound_cidrs", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trunks")),
        sa.UniqueConstraint("name", name=op.f("uq_trunks_name")),
    )
    op.create_table(
        "trunk_states",
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("trunk", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("ping_status", sa.String(length=8), nullable=False),
        sa.Column("detail", sa.String(length=255), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node", "trunk", name=op.f("pk_trunk_states")),
    )


def downgrade() -> None:
    op.drop_table("trunk_states")
    op.drop_table("trunks")

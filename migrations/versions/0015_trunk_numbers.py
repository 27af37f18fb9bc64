"""DID routes match by kind (exact, range, prefix, regex) with a priority; outbound routes
fail over to more trunks on chosen causes; a CDR leg names its trunk

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 12:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("routes") as batch:
        batch.add_column(
            sa.Column("match_kind", sa.String(16), nullable=False, server_default="exact")
        )
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="100"))
        batch.create_check_constraint(
            op.f("ck_routes_match_kind"), "match_kind IN ('exact', 'range', 'prefix', 'regex')"
        )
    with op.batch_alter_table("outbound_routes") as batch:
        batch.add_column(
            sa.Column("failover_gateways", sa.Text(), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("failover_causes", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("cdr_legs") as batch:
        batch.add_column(sa.Column("trunk", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cdr_legs") as batch:
        batch.drop_column("trunk")
    with op.batch_alter_table("outbound_routes") as batch:
        batch.drop_column("failover_causes")
        batch.drop_column("failover_gateways")
    with op.batch_alter_table("routes") as batch:
        batch.drop_constraint(op.f("ck_routes_match_kind"), type_="check")
        batch.drop_column("priority")
        batch.drop_column("match_kind")

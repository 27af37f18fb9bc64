"""routing: the new strategies and outcomes, queues.routing, agents.routing, acd_counters

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STRATEGIES = (
    "ring_all", "longest_idle", "round_robin", "fewest_calls", "least_talk_time", "random",
    "skills_based",
)  # fmt: skip
NEW_STRATEGIES = (
    *OLD_STRATEGIES, "top_down", "sequentially_by_agent_order", "ring_progressively",
    "rrmemory", "linear", "wrandom",
)  # fmt: skip
OLD_OUTCOMES = ("answered", "abandoned", "timeout", "overflow", "callback", "transferred")
NEW_OUTCOMES = (*OLD_OUTCOMES, "no_agent", "exit_key", "full")


def _retype(table: str, column: str, name: str, values: Sequence[str], nullable: bool) -> None:
    """A portable enum column gets new values: its CHECK constraint is replaced."""
    listed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
        batch.alter_column(
            column,
            type_=sa.String(length=max(len(v) for v in values) + 8),
            existing_nullable=nullable,
        )
        batch.create_check_constraint(op.f(f"ck_{table}_{name}"), f"{column} IN ({listed})")


def upgrade() -> None:
    _retype("queues", "strategy", "queue_strategy", NEW_STRATEGIES, False)
    _retype("queue_entries", "outcome", "queue_entry_outcome", NEW_OUTCOMES, True)
    with op.batch_alter_table("queues") as batch:
        batch.add_column(sa.Column("routing", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("routing", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "acd_counters",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "name", name=op.f("pk_acd_counters")),
    )


def downgrade() -> None:
    op.drop_table("acd_counters")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("routing")
    with op.batch_alter_table("queues") as batch:
        batch.drop_column("routing")
    _retype("queue_entries", "outcome", "queue_entry_outcome", OLD_OUTCOMES, True)
    _retype("queues", "strategy", "queue_strategy", OLD_STRATEGIES, False)

"""leads indexed in the dialer's claim order (store.claim_due): callbacks first, then
priority, the longest due; the pick walks it instead of sorting every pending lead. Beside
(campaign_id, state, next_attempt_at), which finds the few due leads of a list mostly
waiting

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 15:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_leads_claim_order", "leads",
        ["campaign_id", "state", sa.text("(callback_at IS NULL)"), sa.text("priority DESC"),
         "next_attempt_at", "id"],
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_leads_claim_order", table_name="leads")

"""dialer: campaigns, dispositions, leads and their attempts, do-not-call lists, the abandon
counts per campaign day, the dialer's compliance audit log

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 15:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SQLITE_AUTOINCREMENT = {"sqlite_autoincrement": True}


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(
        *values,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(v) for v in values) + 8,
    )


OUTCOMES = ("busy", "no_answer", "machine", "failed", "abandoned", "answered")
AUDIT_KINDS = (
    "abandon", "message_played", "dnc_hit", "window_block", "hold_block", "fallback",
    "fallback_cleared", "state",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column(
            "mode",
            _enum("campaign_mode", "preview", "progressive", "predictive", "broadcast"),
            nullable=False,
        ),
        sa.Column("state", _enum("campaign_state", "stopped", "running", "paused"), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("agents", sa.JSON(), nullable=False),
        sa.Column("flow", sa.String(length=128), nullable=True),
        sa.Column("outbound_route", sa.String(length=64), nullable=True),
        sa.Column("trunks", sa.JSON(), nullable=False),
        sa.Column("caller_id", sa.String(length=32), nullable=True),
        sa.Column("caller_id_name", sa.String(length=64), nullable=True),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("window_start", sa.Time(), nullable=False),
        sa.Column("window_end", sa.Time(), nullable=False),
        sa.Column("report_zone", sa.String(length=64), nullable=False),
        sa.Column("retry_rules", sa.JSON(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("redial_hold_seconds", sa.Integer(), nullable=False),
        sa.Column("ring_seconds", sa.Integer(), nullable=False),
        sa.Column("abandon_target", sa.Float(), nullable=False),
        sa.Column("abandon_limit", sa.Float(), nullable=False),
        sa.Column("amd_false_positive", sa.Float(), nullable=False),
        sa.Column("amd", _enum("amd_action", "hangup", "message", "flow"), nullable=False),
        sa.Column("amd_message", sa.String(length=255), nullable=True),
        sa.Column("amd_flow", sa.String(length=128), nullable=True),
        sa.Column("recording_policy", sa.String(length=16), nullable=True),
        sa.Column("safe_harbor_message", sa.String(length=255), nullable=True),
        sa.Column("max_lines", sa.Integer(), nullable=True),
        sa.Column("max_lines_per_agent", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ring_seconds >= 15", name=op.f("ck_campaigns_ring_at_least_15s")),
        sa.CheckConstraint("max_attempts >= 1", name=op.f("ck_campaigns_max_attempts_positive")),
        sa.CheckConstraint(
            "abandon_target > 0 AND abandon_target <= abandon_limit AND abandon_limit <= 1",
            name=op.f("ck_campaigns_abandon_bounds"),
        ),
        sa.CheckConstraint("window_start < window_end", name=op.f("ck_campaigns_window_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_campaigns_name")),
    )
    op.create_table(
        "campaign_dispositions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("key", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("retry_after", sa.Integer(), nullable=True),
        sa.Column("dnc", sa.Boolean(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "key >= 0 AND key <= 99", name=op.f("ck_campaign_dispositions_key_range")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_dispositions_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_dispositions")),
        sa.UniqueConstraint(
            "campaign_id", "code", name=op.f("uq_campaign_dispositions_campaign_id_code")
        ),
        sa.UniqueConstraint(
            "campaign_id", "key", name=op.f("uq_campaign_dispositions_campaign_id_key")
        ),
    )
    op.create_table(
        "lead_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("existing", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_lead_imports_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_imports")),
    )
    op.create_table(
        "leads",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("zones", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", _enum("lead_state", "pending", "dialing", "done"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_outcome", sa.String(length=16), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("callback_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("callback_agent", sa.String(length=64), nullable=True),
        sa.Column("disposition", sa.String(length=32), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("source_line", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["lead_imports.id"],
            name=op.f("fk_leads_import_id_lead_imports"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_leads_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("campaign_id", "phone", name=op.f("uq_leads_campaign_id_phone")),
        **SQLITE_AUTOINCREMENT,
    )
    op.create_index(
        op.f("ix_leads_campaign_id_state_next_attempt_at"),
        "leads",
        ["campaign_id", "state", "next_attempt_at"],
    )
    op.create_table(
        "lead_attempts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("lead_id", BIG_ID, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", _enum("attempt_outcome", *OUTCOMES), nullable=False),
        sa.Column("call_uuid", sa.String(length=64), nullable=True),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("talk_seconds", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_lead_attempts_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_lead_attempts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_attempts")),
        **SQLITE_AUTOINCREMENT,
    )
    op.create_index(op.f("ix_lead_attempts_lead_id"), "lead_attempts", ["lead_id"])
    op.create_index(
        op.f("ix_lead_attempts_phone_outcome_at"), "lead_attempts", ["phone", "outcome", "at"]
    )
    op.create_index(op.f("ix_lead_attempts_campaign_id_at"), "lead_attempts", ["campaign_id", "at"])
    op.create_table(
        "dnc_numbers",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("campaign", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=128), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_numbers")),
        sa.UniqueConstraint("phone", "campaign", name=op.f("uq_dnc_numbers_phone_campaign")),
        **SQLITE_AUTOINCREMENT,
    )
    op.create_table(
        "campaign_days",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dials", sa.Integer(), nullable=False),
        sa.Column("live", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("machine", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_days_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "day", name=op.f("pk_campaign_days")),
    )
    op.create_table(
        "dialer_audit",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("campaign", sa.String(length=64), nullable=False),
        sa.Column("kind", _enum("dialer_audit_kind", *AUDIT_KINDS), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("lead_id", BIG_ID, nullable=True),
        sa.Column("call_uuid", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialer_audit")),
        **SQLITE_AUTOINCREMENT,
    )
    op.create_index(op.f("ix_dialer_audit_campaign_at"), "dialer_audit", ["campaign", "at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_dialer_audit_campaign_at"), table_name="dialer_audit")
    op.drop_table("dialer_audit")
    op.drop_table("campaign_days")
    op.drop_table("dnc_numbers")
    op.drop_index(op.f("ix_lead_attempts_campaign_id_at"), table_name="lead_attempts")
    op.drop_index(op.f("ix_lead_attempts_phone_outcome_at"), table_name="lead_attempts")
    op.drop_index(op.f("ix_lead_attempts_lead_id"), table_name="lead_attempts")
    op.drop_table("lead_attempts")
    op.drop_index(op.f("ix_leads_campaign_id_state_next_attempt_at"), table_name="leads")
    op.drop_table("leads")
    op.drop_table("lead_imports")
    op.drop_table("campaign_dispositions")
    op.drop_table("campaigns")

"""Outbound campaigns, their leads and each lead's attempts, dispositions per campaign,
do-not-call lists, the abandon counts per campaign day and the dialer's compliance audit log."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.dialer.compliance import Outcome
from callcenter.dialer.vocabulary import (
    AmdAction,
    AuditKind,
    CampaignMode,
    CampaignState,
    LeadState,
)
from callcenter.store.base import Base, UTCDateTime, str_enum, utcnow
from callcenter.store.models.calls import UUID_LEN

BIG_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER only
PHONE_LEN = 20  # E.164: "+" and at most 15 digits


class Campaign(Base):
    """One outbound campaign. ``retry_rules``: ``{outcome: {"times": n, "after": seconds}}``
    (``compliance.RetryRule``); calling hours in each lead's own time zone; the abandon
    rates counted per day in ``report_zone``."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    mode: Mapped[CampaignMode] = mapped_column(str_enum(CampaignMode, "campaign_mode"))
    state: Mapped[CampaignState] = mapped_column(
        str_enum(CampaignState, "campaign_state"), default=CampaignState.STOPPED
    )
    queue: Mapped[str | None] = mapped_column(String(64))  # the queue whose agents serve it
    agents: Mapped[list[Any]] = mapped_column(JSON, default=list)  # or these extensions
    flow: Mapped[str | None] = mapped_column(String(128))  # broadcast: answered calls go here
    outbound_route: Mapped[str | None] = mapped_column(String(64))
    trunks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    caller_id: Mapped[str | None] = mapped_column(String(32))
    caller_id_name: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(2), default="US")  # numbers without "+"
    window_start: Mapped[time] = mapped_column(Time, default=time(8, 0))
    window_end: Mapped[time] = mapped_column(Time, default=time(21, 0))
    report_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    retry_rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    redial_hold_seconds: Mapped[int] = mapped_column(Integer, default=72 * 3600)
    ring_seconds: Mapped[int] = mapped_column(Integer, default=20)
    abandon_target: Mapped[float] = mapped_column(Float, default=0.015)
    abandon_limit: Mapped[float] = mapped_column(Float, default=0.03)
    amd_false_positive: Mapped[float] = mapped_column(Float, default=0.0)
    amd: Mapped[AmdAction] = mapped_column(
        str_enum(AmdAction, "amd_action"), default=AmdAction.HANGUP
    )
    amd_message: Mapped[str | None] = mapped_column(String(255))
    amd_flow: Mapped[str | None] = mapped_column(String(128))
    recording_policy: Mapped[str | None] = mapped_column(String(16))
    safe_harbor_message: Mapped[str | None] = mapped_column(String(255))
    max_lines: Mapped[int | None] = mapped_column(Integer)
    max_lines_per_agent: Mapped[int] = mapped_column(Integer, default=3)
    description: Mapped[str] = mapped_column(Text, default="")
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("ring_seconds >= 15", name="ring_at_least_15s"),
        CheckConstraint("max_attempts >= 1", name="max_attempts_positive"),
        CheckConstraint(
            "abandon_target > 0 AND abandon_target <= abandon_limit AND abandon_limit <= 1",
            name="abandon_bounds",
        ),
        CheckConstraint("window_start < window_end", name="window_order"),
    )


class CampaignDisposition(Base):
    """What an agent may say of a call in wrap-up (``*30N`` from the phone: ``key`` N).
    ``retry_after``: seconds before the lead is called again (None: the lead is done);
    ``dnc``: the number goes on the campaign's do-not-call list, ``global_dnc`` on the
    global one instead."""

    __tablename__ = "campaign_dispositions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    key: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(128), default="")
    retry_after: Mapped[int | None] = mapped_column(Integer)
    dnc: Mapped[bool] = mapped_column(Boolean, default=False)
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    global_dnc: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        UniqueConstraint("campaign_id", "code"),
        UniqueConstraint("campaign_id", "key"),
        CheckConstraint("key >= 0 AND key <= 99", name="key_range"),
    )


class LeadImport(Base):
    """One run of ``campaign import``: the file (its name and SHA-256), its columns (the
    custom fields the results export), and what came of its rows."""

    __tablename__ = "lead_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))
    columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    actor: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    existing: Mapped[int] = mapped_column(Integer, default=0)  # already in the campaign
    rejected: Mapped[int] = mapped_column(Integer, default=0)


class Lead(Base):
    """One number to call in one campaign (unique per campaign: a re-import adds nothing).
    ``zones``: the IANA zones its number may be in (``phonenumbers.timezone``), space
    separated; the calling window must be open in every one. ``fields``: the file's other
    columns, passed to the agent's screen pop."""

    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(PHONE_LEN))
    zones: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[LeadState] = mapped_column(
        str_enum(LeadState, "lead_state"), default=LeadState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    callback_agent: Mapped[str | None] = mapped_column(String(64))
    disposition: Mapped[str | None] = mapped_column(String(32))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # where it came from: the import and the line of its file
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("lead_imports.id", ondelete="SET NULL")
    )
    source_line: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("campaign_id", "phone"),
        # the dialer's pick (store.claim_due) walks it in its order: callbacks first, then
        # priority, the longest due; no sort, and a LIMIT stops after the rows it returns
        # (SQLite, without statistics, is told to: ``INDEXED BY``). The one below finds the
        # few due leads of a list mostly waiting (overnight, every lead moved to its next
        # opening: a walk of this one would pass over every pending lead): PostgreSQL's
        # planner takes whichever costs less
        Index(
            "ix_leads_claim_order",
            "campaign_id",
            "state",
            text("(callback_at IS NULL)"),
            text("priority DESC"),
            "next_attempt_at",
            "id",
        ),
        Index(None, "campaign_id", "state", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )


class LeadAttempt(Base):
    """One call placed to a lead and how it ended (``compliance.Outcome``)."""

    __tablename__ = "lead_attempts"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(
        BIG_ID, ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(PHONE_LEN))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome, "attempt_outcome"))
    call_uuid: Mapped[str | None] = mapped_column(String(UUID_LEN))
    agent: Mapped[str | None] = mapped_column(String(64))
    talk_seconds: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        Index(None, "phone", "outcome", "at"),
        Index(None, "campaign_id", "at"),
        {"sqlite_autoincrement": True},
    )


class DncNumber(Base):
    """A number not to call: everywhere (``campaign`` "") or in the named campaign."""

    __tablename__ = "dnc_numbers"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(PHONE_LEN))
    campaign: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(128), default="")
    added_by: Mapped[str] = mapped_column(String(128), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("phone", "campaign"), {"sqlite_autoincrement": True})


class CampaignDay(Base):
    """One campaign's counts of one calendar day in its ``report_zone``
    (``compliance.DayCounts``): what the abandon rates are computed from."""

    __tablename__ = "campaign_days"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dials: Mapped[int] = mapped_column(Integer, default=0)
    live: Mapped[int] = mapped_column(Integer, default=0)  # live answers, abandoned included
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    machine: Mapped[int] = mapped_column(Integer, default=0)


class DialerAuditEntry(Base):
    """One compliance-relevant act of the dialer (``AuditKind``), kept for export."""

    __tablename__ = "dialer_audit"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    campaign: Mapped[str] = mapped_column(String(64))
    kind: Mapped[AuditKind] = mapped_column(str_enum(AuditKind, "dialer_audit_kind"))
    phone: Mapped[str | None] = mapped_column(String(PHONE_LEN))
    lead_id: Mapped[int | None] = mapped_column(BIG_ID)
    call_uuid: Mapped[str | None] = mapped_column(String(UUID_LEN))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index(None, "campaign", "at"), {"sqlite_autoincrement": True})

"""Agents, their skills and status history; queues, membership, required skills, entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callcenter.store.base import Base, UTCDateTime, str_enum, utcnow
from callcenter.store.models.calls import UUID_LEN
from callcenter.vocabulary import (
    AgentState,
    AgentStatus,
    QueueOutcome,
    QueueStrategy,
    RecordingPolicy,
)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    extension: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(Text, default="")
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    # md5("<extension>:<domain>:<password>"): FreeSWITCH's a1-hash, never the password
    sip_a1_hash: Mapped[str | None] = mapped_column(String(32))
    wrapup_seconds: Mapped[int] = mapped_column(Integer, default=10)
    status: Mapped[AgentStatus] = mapped_column(
        str_enum(AgentStatus, "agent_status"), default=AgentStatus.LOGGED_OUT
    )
    state: Mapped[AgentState] = mapped_column(
        str_enum(AgentState, "agent_state"), default=AgentState.IDLE
    )
    pause_reason: Mapped[str | None] = mapped_column(String(64))
    # on the phone (issue 13): offers, external calls, on-demand, the *21 PIN lockout
    auto_answer: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    whisper: Mapped[str | None] = mapped_column(Text)
    outbound_caller_id: Mapped[str | None] = mapped_column(String(32))
    on_demand: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # overrides the queue's recording policy (``recording.policy``): always, sample:N, ...
    recording_policy: Mapped[str | None] = mapped_column(String(16))
    pin_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pin_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # failure policy overrides (``acd.rules.FailurePolicy`` keys), checked by the service
    routing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    role: Mapped[str] = mapped_column(String(16), default="agent", server_default="agent")

    skills: Mapped[list[AgentSkill]] = relationship(
        back_populates="agent", cascade="all, delete-orphan", order_by="AgentSkill.skill"
    )

    __table_args__ = (
        CheckConstraint("wrapup_seconds >= 0", name="wrapup_not_negative"),
        CheckConstraint("role IN ('agent', 'supervisor')", name="agent_role"),
    )


class AgentSkill(Base):
    __tablename__ = "agent_skills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    skill: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer, default=1)

    agent: Mapped[Agent] = relationship(back_populates="skills")

    __table_args__ = (
        UniqueConstraint("agent_id", "skill"),
        CheckConstraint("level BETWEEN 0 AND 100", name="level_range"),
    )


class AgentStatusChange(Base):
    __tablename__ = "agent_status_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    status: Mapped[AgentStatus] = mapped_column(str_enum(AgentStatus, "history_status"))
    state: Mapped[AgentState] = mapped_column(str_enum(AgentState, "history_state"))
    reason: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # this row ends an offer the agent's phone rang and did not answer (a ring-no-answer)
    missed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # state wrap_up: the queue of the call wrapped up (None: a call of no queue)
    queue: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (Index(None, "agent_id", "at"), Index(None, "at"))


class Queue(Base):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    number: Mapped[str | None] = mapped_column(String(16), unique=True)  # *8<number>
    strategy: Mapped[QueueStrategy] = mapped_column(
        str_enum(QueueStrategy, "queue_strategy"), default=QueueStrategy.LONGEST_IDLE
    )
    max_wait_seconds: Mapped[int] = mapped_column(Integer, default=600)
    max_callers: Mapped[int] = mapped_column(Integer, default=0)
    agent_ring_seconds: Mapped[int] = mapped_column(Integer, default=20)
    service_level_seconds: Mapped[int] = mapped_column(Integer, default=20)
    music_on_hold: Mapped[str] = mapped_column(Text, default="local_stream://moh")
    announcements: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    announce_position_seconds: Mapped[int] = mapped_column(Integer, default=0)
    overflow_target: Mapped[str | None] = mapped_column(String(255))
    recording_policy: Mapped[RecordingPolicy] = mapped_column(
        str_enum(RecordingPolicy, "queue_recording_policy"), default=RecordingPolicy.NONE
    )
    recording_sample_percent: Mapped[int] = mapped_column(Integer, default=100)
    recording_keep_days: Mapped[int | None] = mapped_column(Integer)  # None: kept
    recording_announcement: Mapped[str | None] = mapped_column(Text)  # before the recording
    callback_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # relaxation, tier rules, failure policy, exits (``acd.rules.Routing``), checked by the service
    routing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # a caller who hung up and calls again within this many seconds gets its place (0: off)
    rejoin_window_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # KPIs (docs/kpis.md): which service-level definition, what counts as a short abandon,
    # and the zone its reports' intervals are cut in (None: the engine's, settings.time_zone)
    sl_formula: Mapped[str] = mapped_column(String(16), default="offered", server_default="offered")
    short_abandon_seconds: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    time_zone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[QueueMember]] = relationship(
        back_populates="queue", cascade="all, delete-orphan", order_by="QueueMember.tier"
    )
    required_skills: Mapped[list[QueueSkill]] = relationship(
        back_populates="queue", cascade="all, delete-orphan", order_by="QueueSkill.skill"
    )

    __table_args__ = (
        CheckConstraint(
            "max_wait_seconds >= 0 AND max_callers >= 0 AND agent_ring_seconds > 0 "
            "AND service_level_seconds >= 0 AND announce_position_seconds >= 0",
            name="limits_valid",
        ),
        CheckConstraint("recording_sample_percent BETWEEN 0 AND 100", name="sample_percent_range"),
        CheckConstraint("rejoin_window_seconds BETWEEN 0 AND 86400", name="rejoin_window_range"),
        CheckConstraint(
            "recording_keep_days IS NULL OR recording_keep_days BETWEEN 1 AND 36500",
            name="recording_keep_days_range",
        ),
        CheckConstraint("short_abandon_seconds BETWEEN 0 AND 3600", name="short_abandon_range"),
    )


class QueueMember(Base):
    __tablename__ = "queue_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    tier: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=1)

    queue: Mapped[Queue] = relationship(back_populates="members")
    agent: Mapped[Agent] = relationship()

    __table_args__ = (
        UniqueConstraint("queue_id", "agent_id"),
        CheckConstraint("tier >= 1 AND position >= 1", name="tier_position_positive"),
    )


class QueueSkill(Base):
    __tablename__ = "queue_skills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    skill: Mapped[str] = mapped_column(String(64))
    min_level: Mapped[int] = mapped_column(Integer, default=1)

    queue: Mapped[Queue] = relationship(back_populates="required_skills")

    __table_args__ = (
        UniqueConstraint("queue_id", "skill"),
        CheckConstraint("min_level BETWEEN 0 AND 100", name="min_level_range"),
    )


class QueueEntry(Base):
    """One caller's stay in one queue, from joining to leaving."""

    __tablename__ = "queue_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    call_uuid: Mapped[str] = mapped_column(String(UUID_LEN), index=True)
    # the engine's id for this stay: repeated writes (spool replays) update one row
    ticket: Mapped[str | None] = mapped_column(String(UUID_LEN), unique=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    position_at_join: Mapped[int] = mapped_column(Integer, default=1)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offers: Mapped[int] = mapped_column(Integer, default=0)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[QueueOutcome | None] = mapped_column(
        str_enum(QueueOutcome, "queue_entry_outcome")
    )
    reason: Mapped[str | None] = mapped_column(Text)
    # the caller's normalized number (a place kept for a caller who calls again soon)
    caller_number: Mapped[str | None] = mapped_column(String(32))
    # a callback that keeps the place: the number dialled, attempts made, the last one's result
    callback_number: Mapped[str | None] = mapped_column(String(32), index=True)
    callback_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    callback_result: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index(None, "queue_id", "joined_at"),
        # the stays still open: what keeps a 15-minute interval from its totals (kpi)
        Index(
            "ix_queue_entries_open",
            "joined_at",
            postgresql_where=text("outcome IS NULL"),
            sqlite_where=text("outcome IS NULL"),
        ),
    )


class AcdCounter(Base):
    """What the ACD counts and must keep across a restart: a queue's round-robin place, an
    agent's calls answered and talk time (``scope`` queue or agent, ``name`` its key)."""

    __tablename__ = "acd_counters"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

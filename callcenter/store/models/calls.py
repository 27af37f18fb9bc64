"""Calls, their legs, call detail records and recordings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callcenter.store.base import Base, UTCDateTime, str_enum, utcnow
from callcenter.vocabulary import CallState, CdrSource, Direction, Disposition, HangupBy, LegRole

UUID_LEN = 64  # FreeSWITCH UUIDs are 36 chars; origination_uuid may be any token up to this


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(UUID_LEN), unique=True)
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "call_direction"))
    state: Mapped[CallState] = mapped_column(str_enum(CallState, "call_state"))
    node: Mapped[str] = mapped_column(String(64))
    from_number: Mapped[str] = mapped_column(String(128), default="")
    from_name: Mapped[str] = mapped_column(Text, default="")
    to_number: Mapped[str] = mapped_column(String(128), default="")
    did: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bridged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hangup_cause: Mapped[str | None] = mapped_column(String(64))
    disposition: Mapped[Disposition | None] = mapped_column(
        str_enum(Disposition, "call_disposition")
    )

    legs: Mapped[list[CallLeg]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallLeg.id"
    )

    __table_args__ = (
        Index(None, "state"),
        Index(None, "created_at"),
    )


class CallLeg(Base):
    __tablename__ = "call_legs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    uuid: Mapped[str] = mapped_column(String(UUID_LEN), unique=True)
    role: Mapped[LegRole] = mapped_column(str_enum(LegRole, "leg_role"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "leg_direction"))
    channel_name: Mapped[str] = mapped_column(Text, default="")
    from_number: Mapped[str] = mapped_column(String(128), default="")
    to_number: Mapped[str] = mapped_column(String(128), default="")
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bridged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hangup_cause: Mapped[str | None] = mapped_column(String(64))

    call: Mapped[Call] = relationship(back_populates="legs")


class Cdr(Base):
    __tablename__ = "cdrs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_uuid: Mapped[str] = mapped_column(String(UUID_LEN), unique=True)
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "cdr_direction"))
    node: Mapped[str] = mapped_column(String(64))
    from_number: Mapped[str] = mapped_column(String(128), default="")
    from_name: Mapped[str] = mapped_column(Text, default="")
    to_number: Mapped[str] = mapped_column(String(128), default="")
    did: Mapped[str] = mapped_column(String(128), default="")
    queue: Mapped[str | None] = mapped_column(String(128))
    agent_extension: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ring_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    ivr_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    queue_wait_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    talk_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    hold_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    wrapup_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    total_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    hangup_cause: Mapped[str] = mapped_column(String(64))
    hangup_by: Mapped[HangupBy] = mapped_column(str_enum(HangupBy, "cdr_hangup_by"))
    disposition: Mapped[Disposition] = mapped_column(str_enum(Disposition, "cdr_disposition"))
    ivr_path: Mapped[list[Any]] = mapped_column(JSON, default=list)
    source: Mapped[CdrSource] = mapped_column(
        str_enum(CdrSource, "cdr_source"), default=CdrSource.ENGINE, server_default="engine"
    )
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_by: Mapped[str | None] = mapped_column(String(128))  # who hung up from outside
    transfers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    transferred_by: Mapped[str | None] = mapped_column(String(64))  # the last hop's agent

    legs: Mapped[list[CdrLeg]] = relationship(
        back_populates="cdr", cascade="all, delete-orphan", order_by="CdrLeg.id"
    )

    __table_args__ = (
        Index(None, "started_at"),
        Index(None, "queue", "started_at"),
        Index(None, "agent_extension", "started_at"),
        Index(None, "from_number", "started_at"),
        CheckConstraint(
            "ring_ms >= 0 AND ivr_ms >= 0 AND queue_wait_ms >= 0 AND talk_ms >= 0 "
            "AND hold_ms >= 0 AND wrapup_ms >= 0 AND total_ms >= 0",
            name="durations_not_negative",
        ),
    )


class CdrLeg(Base):
    __tablename__ = "cdr_legs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cdr_id: Mapped[int] = mapped_column(ForeignKey("cdrs.id", ondelete="CASCADE"))
    leg_uuid: Mapped[str] = mapped_column(String(UUID_LEN), index=True)  # the CDR backstop
    role: Mapped[LegRole] = mapped_column(str_enum(LegRole, "cdr_leg_role"))
    agent_extension: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hangup_cause: Mapped[str | None] = mapped_column(String(64))
    trunk: Mapped[str | None] = mapped_column(String(128))  # an outbound leg's gateway

    cdr: Mapped[Cdr] = relationship(back_populates="legs")

    __table_args__ = (UniqueConstraint("cdr_id", "leg_uuid"),)


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_uuid: Mapped[str] = mapped_column(String(UUID_LEN), index=True)
    leg_uuid: Mapped[str | None] = mapped_column(String(UUID_LEN))
    path: Mapped[str] = mapped_column(Text, unique=True)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # voicemail: listened to
    # the check after each stop (``recording.wav``): pending, ok, missing, corrupt, deleted
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    queue: Mapped[str | None] = mapped_column(String(64))  # retention: the queue's keep_days
    agent: Mapped[str | None] = mapped_column(String(64))
    channels: Mapped[int | None] = mapped_column(Integer)
    file_ms: Mapped[int | None] = mapped_column(BigInteger)  # measured in the file
    paused: Mapped[list[Any] | None] = mapped_column(JSON)  # PCI: [[from_ms, to_ms], ...]
    problem: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_recordings_started_at", "started_at"),)


class SupervisionSession(Base):
    """A supervisor listening to (whispering to, barging into) an agent's leg of a call."""

    __tablename__ = "supervision_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_uuid: Mapped[str] = mapped_column(String(UUID_LEN), index=True)
    leg_uuid: Mapped[str] = mapped_column(String(UUID_LEN), unique=True)  # the supervisor's
    agent_leg_uuid: Mapped[str] = mapped_column(String(UUID_LEN))
    supervisor: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))  # the mode asked for
    modes: Mapped[str] = mapped_column(Text, default="", server_default="")  # as it went
    source: Mapped[str] = mapped_column(String(16))  # api | cli | phone
    requested_by: Mapped[str] = mapped_column(String(255))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("mode IN ('listen', 'whisper', 'barge')", name="supervision_mode"),
    )

"""Plain values the repositories return: no session, no lazy loading, safe to pass around."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from callcenter.vocabulary import (
    AgentState,
    AgentStatus,
    CallState,
    CdrSource,
    Direction,
    Disposition,
    HangupBy,
    LegRole,
    QueueOutcome,
    QueueStrategy,
    RecordingPolicy,
    RouteTarget,
)


@dataclass(frozen=True, slots=True)
class AgentRecord:
    id: int
    extension: str
    display_name: str
    wrapup_seconds: int
    status: AgentStatus
    state: AgentState
    status_changed_at: datetime
    skills: dict[str, int] = field(default_factory=dict)
    has_pin: bool = False
    pause_reason: str | None = None


@dataclass(frozen=True, slots=True)
class QueueMemberRecord:
    extension: str
    tier: int
    position: int


@dataclass(frozen=True, slots=True)
class QueueRecord:
    id: int
    name: str
    strategy: QueueStrategy
    max_wait_seconds: int
    max_callers: int
    agent_ring_seconds: int
    service_level_seconds: int
    music_on_hold: str
    announcements: dict[str, Any]
    announce_position_seconds: int
    overflow_target: str | None
    recording_policy: RecordingPolicy
    recording_sample_percent: int
    callback_enabled: bool
    members: tuple[QueueMemberRecord, ...] = ()
    required_skills: dict[str, int] = field(default_factory=dict)
    rejoin_window_seconds: int = 0


@dataclass(frozen=True, slots=True)
class QueueEntryRecord:
    id: int
    queue: str
    call_uuid: str
    priority: int
    joined_at: datetime
    offered_at: datetime | None
    offers: int
    answered_at: datetime | None
    agent_extension: str | None
    left_at: datetime | None
    outcome: QueueOutcome | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class QueueStayRecord:
    """The ACD's write of one caller's stay in a queue: the same ticket updates one row."""

    ticket: str
    queue: str
    call_uuid: str
    priority: int
    position_at_join: int
    joined_at: datetime
    offers: int = 0
    offered_at: datetime | None = None
    answered_at: datetime | None = None
    agent_extension: str | None = None
    left_at: datetime | None = None
    outcome: QueueOutcome | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class OpenStaysClosed:
    """The ACD's first write after a start: stays a previous run left open are closed
    (their callers, if still on the line, join again as new stays)."""

    at: datetime
    reason: str
    keep: tuple[str, ...] = ()  # tickets already resumed by this run


@dataclass(frozen=True, slots=True)
class AgentStateRecord:
    """The ACD's write of an agent's state (and a status it changed itself, e.g. a pause)."""

    extension: str
    status: AgentStatus
    state: AgentState
    at: datetime
    reason: str | None = None
    status_changed: bool = False  # False: the status is the operator's, left as stored


@dataclass(frozen=True, slots=True)
class RouteRecord:
    id: int
    did: str
    target_type: RouteTarget
    target: str
    description: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class OutboundRouteRecord:
    id: int
    name: str
    pattern: str
    gateway: str
    number_format: str
    caller_id_number: str | None
    priority: int
    enabled: bool


@dataclass(frozen=True, slots=True)
class LegRecord:
    uuid: str
    role: LegRole
    direction: Direction
    channel_name: str = ""
    from_number: str = ""
    to_number: str = ""
    agent_extension: str | None = None
    created_at: datetime | None = None
    answered_at: datetime | None = None
    bridged_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: str | None = None


@dataclass(frozen=True, slots=True)
class CallRecord:
    uuid: str
    direction: Direction
    state: CallState
    node: str
    from_number: str = ""
    from_name: str = ""
    to_number: str = ""
    did: str = ""
    created_at: datetime | None = None
    answered_at: datetime | None = None
    bridged_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: str | None = None
    disposition: Disposition | None = None
    legs: tuple[LegRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class CdrLegRecord:
    leg_uuid: str
    role: LegRole
    started_at: datetime
    agent_extension: str | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: str | None = None


@dataclass(frozen=True, slots=True)
class CdrRecord:
    call_uuid: str
    direction: Direction
    node: str
    started_at: datetime
    ended_at: datetime
    hangup_cause: str
    hangup_by: HangupBy
    disposition: Disposition
    from_number: str = ""
    from_name: str = ""
    to_number: str = ""
    did: str = ""
    queue: str | None = None
    agent_extension: str | None = None
    answered_at: datetime | None = None
    ring_ms: int = 0
    ivr_ms: int = 0
    queue_wait_ms: int = 0
    talk_ms: int = 0
    hold_ms: int = 0
    wrapup_ms: int = 0
    total_ms: int = 0
    ivr_path: tuple[dict[str, Any], ...] = ()
    legs: tuple[CdrLegRecord, ...] = ()
    source: CdrSource = CdrSource.ENGINE
    ended_by: str | None = None  # who hung up the call from outside: "api:crm", "cli:root"


@dataclass(frozen=True, slots=True)
class RecordingRecord:
    call_uuid: str
    path: str
    started_at: datetime
    leg_uuid: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    duration_ms: int | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IvrFlowVersionRecord:
    name: str
    version: str
    checksum: str
    source_path: str
    loaded_at: datetime


@dataclass(frozen=True, slots=True)
class AuditRecord:
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]

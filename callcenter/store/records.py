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
    auto_answer: bool = False
    whisper: str | None = None
    outbound_caller_id: str | None = None
    on_demand: bool = False
    recording_policy: str | None = None  # overrides the queue's (recording.policy)
    routing: dict[str, Any] = field(default_factory=dict)
    role: str = "agent"  # agent | supervisor (may listen to, whisper to, barge into calls)


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
    number: str | None = None  # what an agent's phone dials after *8 to transfer here
    routing: dict[str, Any] = field(default_factory=dict)
    rejoin_window_seconds: int = 0
    recording_keep_days: int | None = None  # retention of its recordings (None: kept)
    recording_announcement: str | None = None  # played before its recording starts
    sl_formula: str = "offered"  # kpi.formulas.SlFormula
    short_abandon_seconds: int = 5
    time_zone: str | None = None  # None: the engine's


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
    callback_number: str | None = None
    callback_attempts: int = 0
    callback_result: str | None = None


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
    caller_number: str | None = None
    callback_number: str | None = None
    callback_attempts: int = 0
    callback_result: str | None = None


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
    missed: bool = False  # it ends an offer the agent's phone rang and did not answer
    queue: str | None = None  # state wrap_up: the queue of the call wrapped up


@dataclass(frozen=True, slots=True)
class AcdCounterRecord:
    """The ACD's counters of one queue or agent, kept across restarts (an upsert)."""

    scope: str  # "queue" or "agent"
    name: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RouteRecord:
    id: int
    did: str
    target_type: RouteTarget
    target: str
    description: str
    enabled: bool
    match_kind: str = "exact"  # trunks.did.MatchKind
    priority: int = 100


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
    failover_gateways: str = ""  # the trunks tried after ``gateway``, comma-separated
    failover_causes: str = ""  # comma-separated; empty: the defaults (trunks.failover)
    trunk_group: str | None = None  # a trunk group instead of gateway and failover


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
    trunk: str | None = None  # the trunk an outbound leg was dialled through (its gateway)


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
    transfers: int = 0  # transfers from agents' phones (each hop is in ivr_path)
    transferred_by: str | None = None  # the extension of the agent who made the last one


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
    status: str = "pending"  # recording.wav.FileStatus, until the check after the stop
    queue: str | None = None
    agent: str | None = None
    paused: list[list[int]] | None = None  # PCI spans, ms from the start: [[from, to], ...]


@dataclass(frozen=True, slots=True)
class StoredRecording:
    """A recording's row as operators read it: the file's facts, its check, its deletion."""

    id: int
    call_uuid: str
    path: str
    started_at: datetime
    ended_at: datetime | None
    duration_ms: int | None  # what FreeSWITCH reported (record_ms)
    status: str  # recording | pending | ok | missing | corrupt | deleted
    size_bytes: int | None = None
    sha256: str | None = None
    channels: int | None = None
    file_ms: int | None = None  # measured in the file
    queue: str | None = None
    agent: str | None = None
    paused: tuple[tuple[int, int], ...] = ()  # PCI spans, ms from the start
    problem: str | None = None
    checked_at: datetime | None = None
    deleted_at: datetime | None = None
    leg_uuid: str | None = None


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


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event for the outbox (``events``): its ids as columns, the whole event as JSON.
    Written once per ``event_id``, so a spool replay never repeats one."""

    event_id: str
    type: str
    at: datetime
    payload: dict[str, Any]
    call_uuid: str | None = None
    queue: str | None = None
    agent_extension: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookRecord:
    id: int
    url: str
    events: tuple[str, ...]  # empty: every type
    enabled: bool
    created_at: datetime
    created_by: str
    cursor: int  # the last event seq delivered or dead-lettered
    attempts: int  # failed tries of the event after the cursor
    next_attempt_at: datetime | None
    last_error: str | None
    delivered: int
    last_delivered_at: datetime | None
    dead_letters: int = 0  # not replayed yet (the secret is never in a record: shown once)


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    id: int
    webhook_id: int
    event_seq: int
    event_id: str
    event_type: str
    attempts: int
    last_error: str
    dead_at: datetime
    replay_requested_at: datetime | None
    replayed_at: datetime | None
    payload: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """An event as the outbox holds it, for a delivery."""

    seq: int
    event_id: str
    type: str
    at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SupervisionRecord:
    """One supervisor session on a call: who listened to which agent, how, when."""

    id: int
    call_uuid: str
    leg_uuid: str  # the supervisor's leg
    agent_leg_uuid: str
    supervisor: str
    agent: str
    mode: str  # asked for: listen | whisper | barge
    modes: str  # as it went, the keys switching it: "listen,whisper,barge"
    source: str  # api | cli | phone
    requested_by: str
    requested_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None


@dataclass(frozen=True, slots=True)
class VoicemailRecord:
    """A message left in a box (an IVR ``voicemail`` node): a recording of the call."""

    id: int  # the recording's
    box: str
    call_uuid: str
    path: str
    received_at: datetime
    from_number: str = ""
    from_name: str = ""
    duration_ms: int | None = None
    size_bytes: int | None = None
    read_at: datetime | None = None

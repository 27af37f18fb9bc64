"""The engine's events as a CRM sees them: each has an id (uuid4), a type, a time (UTC) and
the ids a CRM matches on (call uuid, queue, agent extension, caller number and name); what
is particular to a type sits under ``data`` once serialized.

Values are plain (str, int, None, and JSON-ready dicts), so an event serializes the same way
for the outbox, the webhooks and the SSE stream.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol, TypeVar

from callcenter.ids import new_uuid
from callcenter.store.codec import encode


class EventType(StrEnum):
    CALL_CREATED = "call.created"
    CALL_ANSWERED = "call.answered"
    IVR_NODE = "ivr.node"
    QUEUE_JOINED = "queue.joined"
    QUEUE_LEFT = "queue.left"
    AGENT_OFFERED = "agent.offered"
    AGENT_ANSWERED = "agent.answered"
    AGENT_STATUS_CHANGED = "agent.status_changed"
    AGENT_STATE_CHANGED = "agent.state_changed"
    CALL_TRANSFERRED = "call.transferred"
    CALL_ENDED = "call.ended"
    RECORDING_STORED = "recording.stored"
    VOICEMAIL_RECEIVED = "voicemail.received"
    TRUNK_STATE_CHANGED = "trunk.state_changed"
    QUEUE_CALLBACK_REQUESTED = "queue.callback_requested"
    QUEUE_CALLBACK_ENDED = "queue.callback_ended"
    RECORDING_FAILED = "recording.failed"
    CAMPAIGN_CHANGED = "campaign.changed"
    CAMPAIGN_LEADS_IMPORTED = "campaign.leads_imported"
    DNC_CHANGED = "dnc.changed"
    CAMPAIGN_CALL_CONNECTED = "campaign.call_connected"
    CAMPAIGN_CALL_ENDED = "campaign.call_ended"
    CAMPAIGN_PREVIEW_OFFERED = "campaign.preview_offered"
    CAMPAIGN_PREVIEW_DECIDED = "campaign.preview_decided"


EVENT_TYPES: tuple[str, ...] = tuple(str(t) for t in EventType)
COMMON = ("id", "type", "at", "call_uuid", "queue", "agent_extension", "caller_number",
          "caller_name")  # fmt: skip


def _new_id() -> str:
    return new_uuid()


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    type: ClassVar[EventType]
    id: str = field(default_factory=_new_id)
    at: datetime = field(default_factory=_now)
    call_uuid: str | None = None
    queue: str | None = None
    agent_extension: str | None = None
    caller_number: str | None = None
    caller_name: str | None = None

    def data(self) -> dict[str, Any]:
        """The fields particular to this type."""
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in COMMON
        }

    def to_dict(self) -> dict[str, Any]:
        """What the outbox stores, a webhook posts and the SSE stream sends."""
        return {
            "id": self.id,
            "type": str(self.type),
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "call_uuid": self.call_uuid,
            "queue": self.queue,
            "agent_extension": self.agent_extension,
            "caller_number": self.caller_number,
            "caller_name": self.caller_name,
            "data": self.data(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CallCreated(Event):
    type = EventType.CALL_CREATED
    direction: str = "inbound"
    did: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAnswered(Event):
    type = EventType.CALL_ANSWERED


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrNode(Event):
    type = EventType.IVR_NODE
    flow: str
    node: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueJoined(Event):
    type = EventType.QUEUE_JOINED
    position: int = 0
    priority: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueLeft(Event):
    type = EventType.QUEUE_LEFT
    outcome: str
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentOffered(Event):
    type = EventType.AGENT_OFFERED
    offer: int = 0  # the caller's offers so far, this one included


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentAnswered(Event):
    type = EventType.AGENT_ANSWERED


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStatusChanged(Event):
    type = EventType.AGENT_STATUS_CHANGED
    status: str
    reason: str | None = None
    by: str = "engine"  # str(Actor) of who changed it


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStateChanged(Event):
    type = EventType.AGENT_STATE_CHANGED
    state: str
    status: str
    missed: bool = False  # it ends an offer the agent's phone rang and did not answer
    reason: str | None = None  # paused: the pause's reason, when the status just changed
    queue: str | None = None  # wrap_up: the queue of the call wrapped up (None: no queue)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTransferred(Event):
    type = EventType.CALL_TRANSFERRED
    target: str  # route-target grammar: queue:X, ivr:X, extension:X, number:X
    by: str = "engine"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded(Event):
    type = EventType.CALL_ENDED
    disposition: str
    hangup_cause: str
    hangup_by: str
    # the CdrRecord, encoded only when the event is sent or stored (most are neither)
    cdr: Any = None

    def data(self) -> dict[str, Any]:
        found = Event.data(self)
        found["cdr"] = {} if self.cdr is None else encode(self.cdr)
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStored(Event):
    type = EventType.RECORDING_STORED
    path: str
    duration_ms: int | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    channels: int | None = None  # 2: stereo, caller left and agent right


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingFailed(Event):
    """The file checked after a stop is missing or corrupt (``recording.wav``)."""

    type = EventType.RECORDING_FAILED
    path: str
    status: str  # missing | corrupt
    problem: str = ""
    duration_ms: int | None = None  # what FreeSWITCH reported


@dataclass(frozen=True, slots=True, kw_only=True)
class VoicemailReceived(Event):
    """A caller left a message in a box (an IVR ``voicemail`` node)."""

    type = EventType.VOICEMAIL_RECEIVED
    box: str
    path: str
    duration_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TrunkStateChanged(Event):
    """A trunk's gateway on one FreeSWITCH node changed state (``sofia::gateway_state``,
    or the status read at connect): ``state`` as FreeSWITCH names it (REGED, FAILED,
    UNREGED, NOREG, DOWN, ...; ABSENT when the node has no such gateway)."""

    type = EventType.TRUNK_STATE_CHANGED
    trunk: str
    node: str
    state: str
    ping_status: str  # UP or DOWN
    previous: str | None = None
    registered: bool = False
    up: bool = False  # registered, or reachable (Ping-Status UP) for a trunk that does not register
    detail: str = ""  # e.g. "503 Service Unavailable"


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallbackRequested(Event):
    """A waiting caller hung up to be called back at ``number``, keeping its place."""

    type = EventType.QUEUE_CALLBACK_REQUESTED
    number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallbackEnded(Event):
    """A callback's last word: ``outcome`` callback_answered or callback_failed."""

    type = EventType.QUEUE_CALLBACK_ENDED
    number: str
    outcome: str
    attempts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignChanged(Event):
    """An operator created, changed, started, paused or stopped a campaign (``op``)."""

    type = EventType.CAMPAIGN_CHANGED
    campaign: str
    op: str  # create | set | start | pause | stop | disposition | fallback | fallback_cleared
    state: str  # stopped | running | paused, after the change
    by: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignLeadsImported(Event):
    """A lead file (or a batch of rows through the API) was imported into a campaign."""

    type = EventType.CAMPAIGN_LEADS_IMPORTED
    campaign: str
    source: str
    rows: int
    added: int
    existing: int  # already in the campaign (a re-import adds nothing)
    rejected: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DncChanged(Event):
    """Numbers added to or removed from a do-not-call list (``campaign`` None: the global
    one); ``number`` for one number, ``count`` for an import."""

    type = EventType.DNC_CHANGED
    op: str  # add | remove | import
    campaign: str | None = None
    number: str | None = None
    count: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignCallConnected(Event):
    """A campaign's call given to an agent (the screen pop): the lead and its file's other
    columns (``fields``); ``caller_number`` is the lead's number."""

    type = EventType.CAMPAIGN_CALL_CONNECTED
    campaign: str
    lead_id: int
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignCallEnded(Event):
    """A campaign's answered call's outcome (``answered``, ``machine``, ``abandoned``,
    ``no_answer`` when the person hung up before the verdict, ``failed``) and the verdict
    of answering-machine detection (``amd``: human, machine, or null when not run). One
    given to an agent is published when it ends (``campaign.call_connected`` is its
    bridge), with its CDR's ``duration_seconds`` and ``talk_seconds`` and the campaign
    disposition entered during it (``disposition``; null when none yet: it usually comes
    in wrap-up, after); any other outcome's when it is decided (the durations null)."""

    type = EventType.CAMPAIGN_CALL_ENDED
    campaign: str
    lead_id: int
    outcome: str
    amd: str | None = None
    amd_reason: str | None = None
    duration_seconds: float | None = None
    talk_seconds: float | None = None
    disposition: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignPreviewOffered(Event):
    """Preview: a lead offered to an agent as the agent's phone starts ringing, before any
    call to the lead (the screen pop the agent reads before pressing 1 to call or 2 to skip):
    ``call_uuid`` is the agent's leg (the call that will dial the lead), ``caller_number``
    the lead's number, ``fields`` its file's other columns."""

    type = EventType.CAMPAIGN_PREVIEW_OFFERED
    campaign: str
    lead_id: int
    fields: dict[str, Any] = field(default_factory=dict)
    ring_seconds: int = 0


class PreviewDecision(StrEnum):
    ACCEPTED = "accepted"  # 1 pressed: the lead is dialled
    SKIPPED = "skipped"  # another key: due again later, not offered to this agent again
    TIMEOUT = "timeout"  # no key within the prompt's time: as skipped
    GONE = "gone"  # the agent hung up during the whisper: as skipped
    NOT_ANSWERED = "not_answered"  # the agent's phone did not take the offer: the lead back
    CANCELLED = "cancelled"  # the campaign stopped, or the lead has no number: the lead back


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignPreviewDecided(Event):
    """Preview: what became of a lead offered to an agent (``decision``); the same
    ``call_uuid`` as its ``campaign.preview_offered``."""

    type = EventType.CAMPAIGN_PREVIEW_DECIDED
    campaign: str
    lead_id: int
    decision: str


class CallFacts(Protocol):
    """What a call is known by (``calls.call.Call`` has these)."""

    @property
    def uuid(self) -> str: ...
    @property
    def from_number(self) -> str: ...
    @property
    def from_name(self) -> str: ...


E = TypeVar("E", bound=Event)


def for_call(kind: type[E], call: CallFacts, **fields: Any) -> E:
    """An event of ``kind`` about ``call``: its uuid and caller filled in."""
    return kind(
        call_uuid=call.uuid,
        caller_number=call.from_number or None,
        caller_name=call.from_name or None,
        **fields,
    )

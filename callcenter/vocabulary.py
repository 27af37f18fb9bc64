"""The engine's own vocabulary: the names that get stored, shown and counted.

FreeSWITCH's vocabulary (channel states, hangup causes) lives in ``callcenter.esl.vocabulary``.
"""

from __future__ import annotations

import re
from enum import StrEnum

# an agent's or internal extension: the SIP user, a directory file name, an IVR target
EXTENSION = re.compile(r"[A-Za-z0-9_.-]{1,32}")


def language_code(language: str) -> str:
    """FreeSWITCH's language code of a sounds path: "fr" of "fr/ca/june" (mod_say's module,
    ``default_language``); a plain code is itself."""
    return language.split("/", 1)[0]


# an agent's or a queue's skill: the same spelling in the CLI, the database and IVR flows
SKILL = re.compile(r"[a-z0-9_-]{1,64}")


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class CallState(StrEnum):
    PARKED = "parked"
    ANSWERED = "answered"
    IVR = "ivr"
    QUEUED = "queued"
    RINGING_AGENT = "ringing_agent"
    BRIDGED = "bridged"
    TRANSFERRED = "transferred"
    ENDED = "ended"


class LegRole(StrEnum):
    CALLER = "caller"
    AGENT = "agent"
    OUTBOUND = "outbound"
    TRANSFER = "transfer"


class HangupBy(StrEnum):
    CALLER = "caller"
    AGENT = "agent"
    SYSTEM = "system"
    UNKNOWN = "unknown"


class CdrSource(StrEnum):
    """Who built a CDR: the engine from the call's events, or FreeSWITCH's own record
    (mod_xml_cdr) for a call the engine never saw end."""

    ENGINE = "engine"
    FREESWITCH = "freeswitch"


class Disposition(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    VOICEMAIL = "voicemail"
    TRANSFERRED = "transferred"
    REJECTED = "rejected"
    IVR_COMPLETED = "ivr_completed"
    PLAYED = "played"


class AgentStatus(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    PAUSED = "paused"


class AgentState(StrEnum):
    IDLE = "idle"
    OFFERING = "offering"
    IN_CALL = "in_call"
    WRAP_UP = "wrap_up"


class QueueStrategy(StrEnum):
    RING_ALL = "ring_all"
    LONGEST_IDLE = "longest_idle"
    ROUND_ROBIN = "round_robin"
    FEWEST_CALLS = "fewest_calls"
    LEAST_TALK_TIME = "least_talk_time"
    RANDOM = "random"
    SKILLS_BASED = "skills_based"


class RecordingPolicy(StrEnum):
    NONE = "none"
    ALL = "all"
    ON_DEMAND = "on_demand"
    SAMPLED = "sampled"


class QueueOutcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    TIMEOUT = "timeout"
    OVERFLOW = "overflow"
    CALLBACK = "callback"
    TRANSFERRED = "transferred"


class RouteTarget(StrEnum):
    IVR = "ivr"
    QUEUE = "queue"
    EXTENSION = "extension"
    PLAYBACK = "playback"
    HANGUP = "hangup"

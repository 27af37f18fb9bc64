"""The engine's own vocabulary: the names that get stored, shown and counted.

FreeSWITCH's hangup causes are here too (IVR flows and operators name them); the rest of its
vocabulary (event names, channel states) lives in ``callcenter.esl.vocabulary``.
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
    FEATURE = "feature"  # a feature code dialled from an agent's phone (*21...)
    CALLBACK = "callback"  # the caller hung up to be called back, its queue place kept
    MACHINE = "machine"  # a campaign's call answered by an answering machine


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
    TOP_DOWN = "top_down"
    SEQUENTIALLY_BY_AGENT_ORDER = "sequentially_by_agent_order"
    RING_PROGRESSIVELY = "ring_progressively"
    RRMEMORY = "rrmemory"
    LINEAR = "linear"
    WRANDOM = "wrandom"


# mod_callcenter's and app_queue's names for the strategies above
STRATEGY_ALIASES = {
    "ring-all": QueueStrategy.RING_ALL,
    "ringall": QueueStrategy.RING_ALL,
    "longest-idle-agent": QueueStrategy.LONGEST_IDLE,
    "leastrecent": QueueStrategy.LONGEST_IDLE,
    "round-robin": QueueStrategy.ROUND_ROBIN,
    "top-down": QueueStrategy.TOP_DOWN,
    "agent-with-least-talk-time": QueueStrategy.LEAST_TALK_TIME,
    "agent-with-fewest-calls": QueueStrategy.FEWEST_CALLS,
    "fewestcalls": QueueStrategy.FEWEST_CALLS,
    "sequentially-by-agent-order": QueueStrategy.SEQUENTIALLY_BY_AGENT_ORDER,
    "ring-progressively": QueueStrategy.RING_PROGRESSIVELY,
    "skills-based": QueueStrategy.SKILLS_BASED,
}


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
    NO_AGENT = "no_agent"
    EXIT_KEY = "exit_key"
    FULL = "full"
    CALLBACK_ANSWERED = "callback_answered"  # called back: the customer answered the agent
    CALLBACK_FAILED = "callback_failed"  # called back: every attempt failed


class RouteTarget(StrEnum):
    IVR = "ivr"
    QUEUE = "queue"
    EXTENSION = "extension"
    PLAYBACK = "playback"
    HANGUP = "hangup"


class HangupCause(StrEnum):
    NONE = "NONE"
    UNALLOCATED_NUMBER = "UNALLOCATED_NUMBER"
    NO_ROUTE_TRANSIT_NET = "NO_ROUTE_TRANSIT_NET"
    NO_ROUTE_DESTINATION = "NO_ROUTE_DESTINATION"
    CHANNEL_UNACCEPTABLE = "CHANNEL_UNACCEPTABLE"
    CALL_AWARDED_DELIVERED = "CALL_AWARDED_DELIVERED"
    NORMAL_CLEARING = "NORMAL_CLEARING"
    USER_BUSY = "USER_BUSY"
    NO_USER_RESPONSE = "NO_USER_RESPONSE"
    NO_ANSWER = "NO_ANSWER"
    SUBSCRIBER_ABSENT = "SUBSCRIBER_ABSENT"
    CALL_REJECTED = "CALL_REJECTED"
    NUMBER_CHANGED = "NUMBER_CHANGED"
    REDIRECTION_TO_NEW_DESTINATION = "REDIRECTION_TO_NEW_DESTINATION"
    EXCHANGE_ROUTING_ERROR = "EXCHANGE_ROUTING_ERROR"
    DESTINATION_OUT_OF_ORDER = "DESTINATION_OUT_OF_ORDER"
    INVALID_NUMBER_FORMAT = "INVALID_NUMBER_FORMAT"
    FACILITY_REJECTED = "FACILITY_REJECTED"
    RESPONSE_TO_STATUS_ENQUIRY = "RESPONSE_TO_STATUS_ENQUIRY"
    NORMAL_UNSPECIFIED = "NORMAL_UNSPECIFIED"
    NORMAL_CIRCUIT_CONGESTION = "NORMAL_CIRCUIT_CONGESTION"
    NETWORK_OUT_OF_ORDER = "NETWORK_OUT_OF_ORDER"
    NORMAL_TEMPORARY_FAILURE = "NORMAL_TEMPORARY_FAILURE"
    SWITCH_CONGESTION = "SWITCH_CONGESTION"
    ACCESS_INFO_DISCARDED = "ACCESS_INFO_DISCARDED"
    REQUESTED_CHAN_UNAVAIL = "REQUESTED_CHAN_UNAVAIL"
    PRE_EMPTED = "PRE_EMPTED"
    FACILITY_NOT_SUBSCRIBED = "FACILITY_NOT_SUBSCRIBED"
    OUTGOING_CALL_BARRED = "OUTGOING_CALL_BARRED"
    INCOMING_CALL_BARRED = "INCOMING_CALL_BARRED"
    BEARERCAPABILITY_NOTAUTH = "BEARERCAPABILITY_NOTAUTH"
    BEARERCAPABILITY_NOTAVAIL = "BEARERCAPABILITY_NOTAVAIL"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    BEARERCAPABILITY_NOTIMPL = "BEARERCAPABILITY_NOTIMPL"
    CHAN_NOT_IMPLEMENTED = "CHAN_NOT_IMPLEMENTED"
    FACILITY_NOT_IMPLEMENTED = "FACILITY_NOT_IMPLEMENTED"
    SERVICE_NOT_IMPLEMENTED = "SERVICE_NOT_IMPLEMENTED"
    INVALID_CALL_REFERENCE = "INVALID_CALL_REFERENCE"
    INCOMPATIBLE_DESTINATION = "INCOMPATIBLE_DESTINATION"
    INVALID_MSG_UNSPECIFIED = "INVALID_MSG_UNSPECIFIED"
    MANDATORY_IE_MISSING = "MANDATORY_IE_MISSING"
    MESSAGE_TYPE_NONEXIST = "MESSAGE_TYPE_NONEXIST"
    WRONG_MESSAGE = "WRONG_MESSAGE"
    IE_NONEXIST = "IE_NONEXIST"
    INVALID_IE_CONTENTS = "INVALID_IE_CONTENTS"
    WRONG_CALL_STATE = "WRONG_CALL_STATE"
    RECOVERY_ON_TIMER_EXPIRE = "RECOVERY_ON_TIMER_EXPIRE"
    MANDATORY_IE_LENGTH_ERROR = "MANDATORY_IE_LENGTH_ERROR"
    PROTOCOL_ERROR = "PROTOCOL_ERROR"
    INTERWORKING = "INTERWORKING"
    SUCCESS = "SUCCESS"
    ORIGINATOR_CANCEL = "ORIGINATOR_CANCEL"
    CRASH = "CRASH"
    SYSTEM_SHUTDOWN = "SYSTEM_SHUTDOWN"
    LOSE_RACE = "LOSE_RACE"
    MANAGER_REQUEST = "MANAGER_REQUEST"
    BLIND_TRANSFER = "BLIND_TRANSFER"
    ATTENDED_TRANSFER = "ATTENDED_TRANSFER"
    ALLOTTED_TIMEOUT = "ALLOTTED_TIMEOUT"
    USER_CHALLENGE = "USER_CHALLENGE"
    MEDIA_TIMEOUT = "MEDIA_TIMEOUT"
    PICKED_OFF = "PICKED_OFF"
    USER_NOT_REGISTERED = "USER_NOT_REGISTERED"
    PROGRESS_TIMEOUT = "PROGRESS_TIMEOUT"
    INVALID_GATEWAY = "INVALID_GATEWAY"
    GATEWAY_DOWN = "GATEWAY_DOWN"
    INVALID_URL = "INVALID_URL"
    INVALID_PROFILE = "INVALID_PROFILE"
    NO_PICKUP = "NO_PICKUP"
    SRTP_READ_ERROR = "SRTP_READ_ERROR"
    BOWOUT = "BOWOUT"
    BUSY_EVERYWHERE = "BUSY_EVERYWHERE"
    DECLINE = "DECLINE"
    DOES_NOT_EXIST_ANYWHERE = "DOES_NOT_EXIST_ANYWHERE"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    UNWANTED = "UNWANTED"
    NO_IDENTITY = "NO_IDENTITY"
    BAD_IDENTITY_INFO = "BAD_IDENTITY_INFO"
    UNSUPPORTED_CERTIFICATE = "UNSUPPORTED_CERTIFICATE"
    INVALID_IDENTITY = "INVALID_IDENTITY"
    STALE_DATE = "STALE_DATE"
    REJECT_ALL = "REJECT_ALL"

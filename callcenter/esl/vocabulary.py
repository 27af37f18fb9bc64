"""FreeSWITCH's own vocabulary, names kept verbatim (switch_types.h, switch_channel.c)."""

from __future__ import annotations

from enum import StrEnum

from callcenter.vocabulary import HangupCause as HangupCause  # re-exported: the engine owns it


class EventName(StrEnum):
    CHANNEL_CREATE = "CHANNEL_CREATE"
    CHANNEL_DESTROY = "CHANNEL_DESTROY"
    CHANNEL_STATE = "CHANNEL_STATE"
    CHANNEL_CALLSTATE = "CHANNEL_CALLSTATE"
    CHANNEL_ANSWER = "CHANNEL_ANSWER"
    CHANNEL_HANGUP = "CHANNEL_HANGUP"
    CHANNEL_HANGUP_COMPLETE = "CHANNEL_HANGUP_COMPLETE"
    CHANNEL_EXECUTE = "CHANNEL_EXECUTE"
    CHANNEL_EXECUTE_COMPLETE = "CHANNEL_EXECUTE_COMPLETE"
    CHANNEL_BRIDGE = "CHANNEL_BRIDGE"
    CHANNEL_UNBRIDGE = "CHANNEL_UNBRIDGE"
    CHANNEL_PROGRESS = "CHANNEL_PROGRESS"
    CHANNEL_PROGRESS_MEDIA = "CHANNEL_PROGRESS_MEDIA"
    CHANNEL_OUTGOING = "CHANNEL_OUTGOING"
    CHANNEL_ORIGINATE = "CHANNEL_ORIGINATE"
    CHANNEL_PARK = "CHANNEL_PARK"
    CHANNEL_UNPARK = "CHANNEL_UNPARK"
    CHANNEL_HOLD = "CHANNEL_HOLD"
    CHANNEL_UNHOLD = "CHANNEL_UNHOLD"
    CHANNEL_DATA = "CHANNEL_DATA"
    CALL_UPDATE = "CALL_UPDATE"
    DTMF = "DTMF"
    PLAYBACK_START = "PLAYBACK_START"
    PLAYBACK_STOP = "PLAYBACK_STOP"
    RECORD_START = "RECORD_START"
    RECORD_STOP = "RECORD_STOP"
    BACKGROUND_JOB = "BACKGROUND_JOB"
    CODEC = "CODEC"
    PRIVATE_COMMAND = "PRIVATE_COMMAND"
    API = "API"
    HEARTBEAT = "HEARTBEAT"
    RE_SCHEDULE = "RE_SCHEDULE"
    CUSTOM = "CUSTOM"
    ALL = "ALL"


class ChannelState(StrEnum):
    CS_NEW = "CS_NEW"
    CS_INIT = "CS_INIT"
    CS_ROUTING = "CS_ROUTING"
    CS_SOFT_EXECUTE = "CS_SOFT_EXECUTE"
    CS_EXECUTE = "CS_EXECUTE"
    CS_EXCHANGE_MEDIA = "CS_EXCHANGE_MEDIA"
    CS_PARK = "CS_PARK"
    CS_CONSUME_MEDIA = "CS_CONSUME_MEDIA"
    CS_HIBERNATE = "CS_HIBERNATE"
    CS_RESET = "CS_RESET"
    CS_HANGUP = "CS_HANGUP"
    CS_REPORTING = "CS_REPORTING"
    CS_DESTROY = "CS_DESTROY"
    CS_NONE = "CS_NONE"


class CallState(StrEnum):
    """``Channel-Call-State`` values."""

    DOWN = "DOWN"
    DIALING = "DIALING"
    RINGING = "RINGING"
    EARLY = "EARLY"
    ACTIVE = "ACTIVE"
    HELD = "HELD"
    RING_WAIT = "RING_WAIT"
    HANGUP = "HANGUP"
    UNHELD = "UNHELD"


class AnswerState(StrEnum):
    RINGING = "ringing"
    EARLY = "early"
    ANSWERED = "answered"
    HANGUP = "hangup"


class ContentType(StrEnum):
    AUTH_REQUEST = "auth/request"
    COMMAND_REPLY = "command/reply"
    API_RESPONSE = "api/response"
    EVENT_JSON = "text/event-json"
    EVENT_PLAIN = "text/event-plain"
    DISCONNECT_NOTICE = "text/disconnect-notice"
    RUDE_REJECTION = "text/rude-rejection"
    LOG_DATA = "log/data"


# Only what the engine reads: every event FreeSWITCH sends costs it 1-10 KB of JSON to
# build and us a parse. CHANNEL_STATE/CALLSTATE, CHANNEL_EXECUTE, PLAYBACK_* and
# CALL_UPDATE (a third of a call's events) feed nothing and are not asked for; a feature
# that needs one adds it here.
DEFAULT_EVENTS: tuple[EventName, ...] = (
    EventName.CHANNEL_CREATE,
    EventName.CHANNEL_PARK,
    EventName.CHANNEL_ANSWER,
    EventName.CHANNEL_BRIDGE,
    EventName.CHANNEL_UNBRIDGE,
    EventName.CHANNEL_HOLD,
    EventName.CHANNEL_UNHOLD,
    EventName.CHANNEL_EXECUTE_COMPLETE,
    EventName.CHANNEL_HANGUP,
    EventName.CHANNEL_HANGUP_COMPLETE,
    EventName.CHANNEL_DESTROY,
    EventName.RECORD_START,
    EventName.RECORD_STOP,
    EventName.DTMF,
    EventName.BACKGROUND_JOB,
)

"""The only package that talks to FreeSWITCH (and the only one that imports greenswitch)."""

from callcenter.esl.backoff import Backoff
from callcenter.esl.connection import ESLConnection, ESLNodeConfig
from callcenter.esl.events import Event, parse_event
from callcenter.esl.router import EventRouter
from callcenter.esl.wire import FrameParser, Message

__all__ = [
    "Backoff",
    "ESLConnection",
    "ESLNodeConfig",
    "Event",
    "EventRouter",
    "FrameParser",
    "Message",
    "parse_event",
]

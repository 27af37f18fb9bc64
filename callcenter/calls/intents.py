"""What others ask of a live call: hang it up, transfer it, bridge it to an agent.

The call's actor is its only writer: the API, the CLI (through the change feed), the ACD and
the dialer put an intent in its mailbox (``CallManager.send_intent``) and the actor carries it
out at its next step. ``by`` is who asked (``str(Actor)``, e.g. ``api:crm``); the CDR keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass

from callcenter.calls.routing import Target, parse_target
from callcenter.errors import ConfigError
from callcenter.grammar import cause as check_cause
from callcenter.vocabulary import EXTENSION, RouteTarget


@dataclass(frozen=True)
class Hangup:
    cause: str
    by: str


@dataclass(frozen=True)
class Transfer:
    target: str  # route-target grammar: queue:X, ivr:X, extension:X, number:X
    by: str


@dataclass(frozen=True)
class BridgeAgent:
    extension: str
    by: str


@dataclass(frozen=True)
class PhoneTransfer:
    """An agent's phone transferred the caller (a REFER: ``calls.transfers``); posted by the
    call manager when FreeSWITCH parks the caller again. ``destination`` is what the phone
    dialled (``1002``, ``*85``, ``0049301234``); ``source`` is FreeSWITCH's
    ``transfer_source`` (one per REFER); ``by`` is ``agent:<extension>``."""

    destination: str
    by: str
    kind: str  # blind | attended
    source: str
    at_us: int
    agent: str = ""  # the transferring agent's extension (Referred-By)
    leg: LegSnapshot | None = None  # attended: the target's leg, now bridged to the caller


@dataclass(frozen=True)
class LegSnapshot:
    """An attended transfer's target leg as the consult call knew it, handed to the caller's
    call (``calls.transfers``)."""

    uuid: str
    extension: str | None
    to_number: str
    created_us: int | None
    answered_us: int | None


@dataclass(frozen=True)
class LegMoved:
    """To the consult call of an attended transfer: ``leg`` now belongs to ``to_call``
    (FreeSWITCH bridged it to that caller); its events no longer come here."""

    leg: str
    to_call: str
    at_us: int


@dataclass(frozen=True)
class Supervise:
    """A supervisor joins the call's agent leg (``services.supervision``). Not the actor's:
    the call manager holding the call runs it beside the call (``supervision.run``)."""

    session: int
    supervisor: str
    mode: str  # listen | whisper | barge
    leg: str  # the supervisor's leg, to originate
    agent_leg: str
    by: str


CallIntent = Hangup | Transfer | BridgeAgent | PhoneTransfer
INTENTS = (Hangup, Transfer, BridgeAgent, PhoneTransfer)

# transfer targets (``number:`` dials out through the outbound routes)
TRANSFER_KINDS = frozenset({RouteTarget.QUEUE, RouteTarget.IVR, RouteTarget.EXTENSION})
NUMBER = "number"


class IntentArrived(Exception):
    """Raised inside the actor's current step so that it unwinds (closing a queue stay, a
    ringing agent) and the actor carries the intent out."""

    def __init__(self, intent: CallIntent) -> None:
        super().__init__(f"{type(intent).__name__} by {intent.by}")
        self.intent = intent


def transfer_target(text: str) -> Target | str:
    """A transfer's destination: a route ``Target`` (queue, ivr, extension) or, for
    ``number:<digits>``, the number to dial out. Raises ``ConfigError`` naming the value."""
    kind, _, arg = text.partition(":")
    if kind == NUMBER:
        digits = arg.removeprefix("+")
        if not (digits.isascii() and digits.isdigit() and 1 <= len(digits) <= 32):
            raise ConfigError(f"transfer target {text!r}: number:<digits> expected")
        return arg
    target = parse_target(text, "transfer target")
    if target.kind not in TRANSFER_KINDS:
        raise ConfigError(f"transfer target {text!r}: queue:, ivr:, extension: or number: expected")
    return target


def check(intent: CallIntent) -> CallIntent:
    """Refuse a malformed intent before it reaches a call (``ConfigError`` / ``UnsafeValue``)."""
    if isinstance(intent, Hangup):
        check_cause("hangup cause", intent.cause)
    elif isinstance(intent, Transfer):
        transfer_target(intent.target)
    elif isinstance(intent, PhoneTransfer):
        raise ConfigError("a phone transfer comes from FreeSWITCH, not from an operator")
    elif not EXTENSION.fullmatch(intent.extension):
        raise ConfigError(f"bridge: {intent.extension!r} is not an extension")
    return intent

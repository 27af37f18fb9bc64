"""What callers' actors and the engine send the ACD dispatcher, and what it answers.

Every value is frozen: a message is read by its sender and by the dispatcher, so neither may
change it. Requests that expect an answer carry the asker's ``reply`` port (a call's
``Mailbox``, or a ``OneShot`` for a greenlet without one); the answer names the request's
ticket or reservation id so that an asker can tell a late answer to an old request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from gevent.event import AsyncResult

from callcenter.acd.board import QueueSpec
from callcenter.store.records import AgentRecord, QueueRecord
from callcenter.vocabulary import QueueOutcome


class Reply(Protocol):
    """Where an answer goes: ``calls.mailbox.Mailbox.post`` or ``OneShot.post``."""

    def post(self, message: object) -> None: ...


class OneShot:
    """A one-answer mailbox for a greenlet that has none (an announcement's position)."""

    __slots__ = ("_result",)

    def __init__(self) -> None:
        self._result: AsyncResult[Any] = AsyncResult()

    def post(self, message: object) -> None:
        if not self._result.ready():
            self._result.set(message)

    def get(self, timeout: float) -> object | None:
        """The answer, or None if none came within ``timeout`` (an answer may be falsy:
        an empty view, hence no test of ``wait()``'s value)."""
        if not self._result.wait(timeout) and not self._result.ready():
            return None
        answer: object = self._result.get(block=False)
        return answer


# -- requests ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Join:
    ticket: str
    call_uuid: str
    queue: str
    reply: Reply
    priority: int = 0
    skills: tuple[tuple[str, int], ...] = ()
    since_us: int = 0  # a stay resumed after a restart: its own join time
    first_us: int = 0  # an overflow from another queue: when the caller entered the first


@dataclass(frozen=True, slots=True)
class Leave:
    ticket: str
    outcome: QueueOutcome
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Suspend:
    """The engine stops with this caller waiting: forget it, write nothing (the stay stays
    open; the caller's channel knows its place)."""

    ticket: str


@dataclass(frozen=True, slots=True)
class OfferFailed:
    ticket: str
    extension: str
    cause: str  # FreeSWITCH's, or ORIGINATOR_CANCEL / LOSE_RACE / ENGINE_DISCONNECTED
    caller_gone: bool = False  # the caller hung up: not to be offered again


@dataclass(frozen=True, slots=True)
class OfferAnswered:
    """The agent answered and is bridged to the caller: the stay ends answered."""

    ticket: str
    extension: str
    call_uuid: str


@dataclass(frozen=True, slots=True)
class AgentReleased:
    """The agent's leg of a live call ended (a transfer took the caller away): wrap-up."""

    call_uuid: str
    extension: str


@dataclass(frozen=True, slots=True)
class AgentBusy:
    """The agent's phone is on ``call_uuid`` outside the queues (a direct call, a leg adopted
    after a restart): no offers until that call ends."""

    extension: str
    call_uuid: str


@dataclass(frozen=True, slots=True)
class CallEnded:
    """Every leg of the call hung up: agents it held go to wrap-up (queue calls) or idle."""

    call_uuid: str


@dataclass(frozen=True, slots=True)
class Claim:
    """An agent's phone is dialled directly (another agent calling it): take it for
    ``call_uuid`` unless it is offering or on a call; answered with ``Reservation`` (id: the
    call's uuid). Held like ``AgentBusy`` until ``CallEnded``."""

    extension: str
    call_uuid: str
    reply: Reply


@dataclass(frozen=True, slots=True)
class EndWrapUp:
    """The agent ended its wrap-up (``*25``): idle now."""

    extension: str


@dataclass(frozen=True, slots=True)
class Reserve:
    """Hold an idle, available agent for a call that may not exist yet (a bridge asked by an
    operator, the dialer's next call) for at most ``seconds``; then ``Bind`` or ``Release``."""

    id: str
    extension: str
    reply: Reply
    seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class Bind:
    """The reserved agent is now on ``call_uuid``: held until that call ends (then, with
    ``wrapup``, in wrap-up for the agent's wrap-up time, as after a queue call)."""

    id: str
    call_uuid: str
    wrapup: bool = False


@dataclass(frozen=True, slots=True)
class Release:
    """The reservation given back; ``cause``: the agent's phone failed the call (FreeSWITCH's
    cause: rested and counted as a failed offer of ``queue``, ``Board.reservation_failed``)."""

    id: str
    cause: str = ""
    queue: str | None = None


@dataclass(frozen=True, slots=True)
class AskPosition:
    ticket: str
    reply: Reply


@dataclass(frozen=True, slots=True)
class AskFigures:
    """The metrics' scrape: answered with ``acd.metrics.BoardFigures``."""

    reply: Reply


@dataclass(frozen=True, slots=True)
class AskRead:
    """A read of the board done by the dispatcher's greenlet (the API's live view): ``read``
    takes the board and the dispatcher's clock and returns frozen values; it changes nothing."""

    read: Callable[[Any, float], object]
    reply: Reply


@dataclass(frozen=True, slots=True)
class AgentChanged:
    """One agent as stored now (None: deleted), read by whoever learnt of the change."""

    extension: str
    record: AgentRecord | None


@dataclass(frozen=True, slots=True)
class QueueChanged:
    """One queue as stored now (None: deleted)."""

    name: str
    record: QueueRecord | None


@dataclass(frozen=True, slots=True)
class Reload:
    pass


# -- answers ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seat:
    """The answer to ``Join``: taken (with the queue's spec as it was) or refused (why)."""

    ticket: str
    spec: QueueSpec | None
    refused: str | None = None
    position: int = 0
    since_us: int = 0
    deadline: float | None = None  # on the dispatcher's clock

    @property
    def accepted(self) -> bool:
        return self.refused is None


@dataclass(frozen=True, slots=True)
class Offer:
    """Ring these agents for the caller; offers are numbered, each is rung once."""

    ticket: str
    number: int
    agents: tuple[str, ...]
    stagger: float = 0.0  # ring-progressively: seconds between one phone and the next


@dataclass(frozen=True, slots=True)
class QueueGone:
    ticket: str


@dataclass(frozen=True, slots=True)
class Reservation:
    id: str
    extension: str
    refused: str | None = None  # why not: unknown, logged_out, paused, busy...

    @property
    def granted(self) -> bool:
        return self.refused is None


@dataclass(frozen=True, slots=True)
class Position:
    ticket: str
    position: int


@dataclass(frozen=True, slots=True)
class Exit:
    """The queue sends the caller away (no agent logged in for too long, nobody present):
    leave with ``outcome`` to the queue's overflow target."""

    ticket: str
    outcome: QueueOutcome
    reason: str


# -- while waiting (estimated wait time) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class AskWait:
    """The caller's place and estimated wait now: answered with ``Wait``."""

    ticket: str
    reply: Reply


@dataclass(frozen=True, slots=True)
class Wait:
    ticket: str
    position: int  # 0: not waiting any more
    seconds: float | None  # acd.ewt's estimate; None when it cannot be told


@dataclass(frozen=True, slots=True)
class Returning:
    """Posted just before the caller's ``Join``: its number, so that a caller who hung up
    and calls again within the queue's rejoin window gets its place back (``acd.rejoin``)."""

    ticket: str
    queue: str
    number: str


# -- callbacks that keep the caller's place (acd.callback) --------------------------------


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """The waiting caller confirmed ``number``: it hangs up and stays in line as a virtual
    caller. Answered with ``CallbackTaken``."""

    ticket: str
    number: str
    reply: Reply


@dataclass(frozen=True, slots=True)
class CallbackTaken:
    ticket: str
    refused: str | None = None  # why not: the caller is no longer waiting

    @property
    def accepted(self) -> bool:
        return self.refused is None


@dataclass(frozen=True, slots=True)
class CallbackOffer:
    """The virtual caller is at the front with ``extension`` free: ring the agent first."""

    ticket: str
    queue: str
    number: str
    extension: str
    attempt: int  # 1 for the first attempt
    ring_seconds: int


@dataclass(frozen=True, slots=True)
class CallbackAnswered:
    """The agent answered the callback's leg, now the call ``call_uuid``; answered with a
    ``Reservation`` (id: the ticket; refused: the callback is no longer this agent's)."""

    ticket: str
    extension: str
    call_uuid: str
    reply: Reply


@dataclass(frozen=True, slots=True)
class CallbackDialled:
    """The customer's side of one attempt: ``cause`` None when it answered (bridged to the
    agent), else FreeSWITCH's hangup cause."""

    ticket: str
    call_uuid: str
    cause: str | None


@dataclass(frozen=True, slots=True)
class BridgedBefore:
    """A queue caller found bridged to an agent after a restart: its stay is answered."""

    ticket: str
    queue: str
    call_uuid: str
    extension: str
    joined_us: int
    priority: int = 0

"""The engine's live ACD state, read-only, for the API: agents' states and waiting callers.

The dispatcher's greenlet is the only writer of its ``Board``. A snapshot copies what the
API shows into frozen values in one go, without yielding to another greenlet, so it never
sees a half-applied message and never changes anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from callcenter.acd import ewt
from callcenter.acd.board import AgentSlot, Board, Ticket
from callcenter.acd.ewt import HandleTimes
from callcenter.errors import CallCenterError
from callcenter.vocabulary import AgentState, AgentStatus

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AgentLive:
    extension: str
    status: AgentStatus
    state: AgentState
    status_since: datetime | None
    state_seconds: float  # in this state (idle, offering, in_call, wrap_up) for
    ready_in_seconds: float  # resting after a failed offer or in wrap-up: offered again in
    calls_answered: int
    talk_seconds: float
    offered_call: str | None  # the call it is being offered (ringing), if any
    current_call: str | None = None  # the queue call it is offered or talks with, if any


@dataclass(frozen=True, slots=True)
class CallerLive:
    call_uuid: str
    queue: str
    position: int  # 1: next to be offered
    waited_seconds: float
    priority: int
    offered_to: tuple[str, ...]
    expected_wait_seconds: float | None = None  # acd.ewt; None: cannot be told
    skills: Mapping[str, int] = field(default_factory=dict)  # what it needs (skill: level)


class LiveState(Protocol):
    def agents(self) -> dict[str, AgentLive]: ...

    def callers(self, queue: str) -> list[CallerLive]: ...


class BoardRead(Protocol):
    """The dispatcher's ``read``: a function of its board and clock, run by its greenlet."""

    def __call__(self, read: Callable[[Board, float], T], timeout: float = ...) -> T | None: ...


class BoardReader:
    """``LiveState`` over the dispatcher's board: each view is taken by the dispatcher's own
    greenlet (``Dispatcher.read``), the board's only reader and writer; its monotonic clock
    is the one the board's times are in. ``handle_times``: the dispatcher's recent handle
    times per queue (``acd.ewt``), read in that greenlet too."""

    def __init__(
        self,
        read: BoardRead,
        wall: Callable[[], float] = time.time,
        handle_times: HandleTimes | None = None,
    ) -> None:
        self._read = read
        self._wall = wall
        self._handle_times = handle_times

    def agents(self) -> dict[str, AgentLive]:
        return _answered(self._read(_agents))

    def callers(self, queue: str) -> list[CallerLive]:
        wall_us = int(self._wall() * 1_000_000)
        times = self._handle_times
        return _answered(self._read(lambda board, now: _callers(board, queue, wall_us, times, now)))


def _answered(view: T | None) -> T:
    if view is None:
        raise CallCenterError("the ACD did not answer in time", code="acd_busy")
    return view


def _agents(board: Board, now: float) -> dict[str, AgentLive]:
    return {ext: _agent(slot, board, now) for ext, slot in board.agents.items()}


def _callers(
    board: Board, queue: str, wall_us: int, times: HandleTimes | None, now: float
) -> list[CallerLive]:
    wait = _estimator(board, queue, times, now)
    return [
        CallerLive(
            call_uuid=t.call_uuid,
            queue=t.queue,
            position=index,
            waited_seconds=round(max(0, wall_us - t.since_us) / 1e6, 3),
            priority=t.priority,
            offered_to=tuple(t.offer or ()),
            expected_wait_seconds=wait(index, t),
            skills=dict(t.skills),
        )
        for index, t in enumerate(board.waiting(queue), start=1)
    ]


def _estimator(
    board: Board, queue: str, times: HandleTimes | None, now: float
) -> Callable[[int, Ticket], float | None]:
    """The estimated wait of the caller at a position (``acd.ewt``), staffing counted once
    per distinct skill need."""
    if times is None or queue not in board.queues:
        return lambda _position, _ticket: None
    mean = times.mean(queue)
    seen: dict[tuple[tuple[str, int], ...], tuple[int, int]] = {}

    def wait(position: int, ticket: Ticket) -> float | None:
        need = tuple(sorted(ticket.skills.items()))
        if need not in seen:
            seen[need] = ewt.staffing(board, queue, ticket.skills, now)
        seconds = ewt.estimate(position, *seen[need], mean)
        return None if seconds is None else round(seconds, 1)

    return wait


def _agent(slot: AgentSlot, board: Board, now: float) -> AgentLive:
    ticket = board.tickets.get(slot.ticket) if slot.ticket else None
    return AgentLive(
        extension=slot.extension,
        status=slot.status,
        state=slot.state,
        status_since=slot.status_at,
        state_seconds=round(max(0.0, now - slot.state_since), 3),
        ready_in_seconds=round(max(0.0, slot.ready_at - now), 3),
        calls_answered=slot.calls_answered,
        talk_seconds=round(slot.talk_seconds, 3),
        offered_call=ticket.call_uuid if ticket is not None else None,
        current_call=ticket.call_uuid if ticket is not None else slot.talking_with,
    )

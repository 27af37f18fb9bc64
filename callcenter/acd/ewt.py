"""Estimated wait time (EWT): the model, and how it is said to the caller.

Pure: numbers in, numbers out. The dispatcher owns the one ``HandleTimes`` (recorded when an
agent's queue call ends) and answers ``AskWait`` with ``estimate``'s figure for the caller.

The model (docs/queues.md, "Estimated wait time"): a caller at position ``k`` of a queue
with ``free`` agents able to take it now waits for nothing if ``k <= free``; otherwise for
the ``k - free``-th of the busy agents' calls to end. With ``busy`` staffed agents each
ending a call every ``mean handle time`` seconds on average (talk plus wrap-up, the last
``HandleTimes.KEEP`` calls of the queue), calls end every ``mean / busy`` seconds, and
the wait is ``(k - free - 1/2) * mean / busy``: the half is the residual of the call in
progress when ``k`` is small. Erlang C (``erlang_c_wait``) gives the mean wait of a caller
who knows nothing of the queue; the position model conditions on what the dispatcher
knows now, and measured better on the simulator (``tests/benchmarks/bench_ewt.py``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from callcenter.acd.board import AgentSlot, Board, Ticket
from callcenter.vocabulary import AgentStatus

KEEP = 20  # handle times kept per queue


class Said(StrEnum):
    LESS = "less"  # "less than 1 minute"
    ABOUT = "about"  # "about 2 minutes"
    MORE = "more"  # "more than 10 minutes"


@dataclass(frozen=True, slots=True)
class Spoken:
    """An estimate as people say it: ``about 2 minutes``."""

    said: Said
    minutes: int

    @property
    def seconds(self) -> int:
        """For ``say <lang> TIME_MEASUREMENT pronounced <seconds>`` ("2 minutes")."""
        return self.minutes * 60

    @property
    def text(self) -> str:
        unit = "minute" if self.minutes == 1 else "minutes"
        prefix = {Said.LESS: "less than", Said.ABOUT: "about", Said.MORE: "more than"}
        return f"{prefix[self.said]} {self.minutes} {unit}"


def spoken(seconds: float) -> Spoken:
    """Round the way people say it: under 45 s "less than 1 minute"; then the nearest minute
    up to 5; then 5 or 10; past 10 and a half minutes "more than 10 minutes"."""
    if seconds < 45:
        return Spoken(Said.LESS, 1)
    minutes = seconds / 60
    if minutes < 5.5:
        return Spoken(Said.ABOUT, max(1, math.floor(minutes + 0.5)))
    if minutes < 7.5:
        return Spoken(Said.ABOUT, 5)
    if minutes < 10.5:
        return Spoken(Said.ABOUT, 10)
    return Spoken(Said.MORE, 10)


class HandleTimes:
    """The last ``KEEP`` handle times (talk + wrap-up) of each queue; the dispatcher's."""

    def __init__(self, keep: int = KEEP) -> None:
        self._keep = keep
        self._times: dict[str, deque[float]] = {}

    def record(self, queue: str, seconds: float) -> None:
        times = self._times.get(queue)
        if times is None:
            times = self._times[queue] = deque(maxlen=self._keep)
        times.append(max(0.0, seconds))

    def mean(self, queue: str) -> float | None:
        times = self._times.get(queue)
        return sum(times) / len(times) if times else None


def estimate(position: int, staffed: int, free: int, mean_handle: float | None) -> float | None:
    """Seconds the caller at ``position`` (1: next) should wait; None when it cannot be told
    (no agent staffed, no call handled yet)."""
    if position <= free:
        return 0.0
    busy = staffed - free
    if busy <= 0 or mean_handle is None:
        return None
    return (position - free - 0.5) * mean_handle / busy


def erlang_c_wait(agents: int, arrivals_per_second: float, mean_handle: float) -> float | None:
    """Erlang C's mean wait of all callers (None: the load is at or over the agents)."""
    load = arrivals_per_second * mean_handle  # erlangs
    if agents <= 0 or load >= agents:
        return None
    if load <= 0:
        return 0.0
    return erlang_c(agents, load) * mean_handle / (agents - load)


def erlang_c(agents: int, load: float) -> float:
    """Erlang C: the probability that a caller waits, with ``load`` erlangs offered to
    ``agents`` (1.0 when the load is at or over the agents: everybody waits).

    ``P(wait) = (A^N/N! * N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! * N/(N-A))``, built by the
    Erlang B recursion ``B(k) = A*B(k-1) / (k + A*B(k-1))`` so no factorial overflows."""
    if agents <= 0 or load >= agents:
        return 1.0
    if load <= 0:
        return 0.0
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return agents * blocking / (agents - load * (1 - blocking))


def for_ticket(board: Board, ticket: Ticket, times: HandleTimes, now: float) -> float | None:
    """``estimate`` for a waiting caller, from the board as it is now: the queue's members
    logged in and available (any state) who could take this caller are staffed."""
    if ticket.queue not in board.queues or not ticket.waiting:
        return None
    staffed, free = staffing(board, ticket.queue, ticket.skills, now)
    return estimate(board.position(ticket), staffed, free, times.mean(ticket.queue))


def staffing(board: Board, queue: str, skills: Mapping[str, int], now: float) -> tuple[int, int]:
    """(staffed, free now) among the queue's members who could take a caller needing
    ``skills``."""
    spec = board.queues[queue]
    staffed = free = 0
    for member in spec.members:
        agent = board.agents.get(member.extension)
        if agent is None or agent.removed or agent.status is not AgentStatus.AVAILABLE:
            continue
        if not (_able(agent, spec.required_skills) and _able(agent, skills)):
            continue
        staffed += 1
        free += agent.free(now)
    return staffed, free


def _able(agent: AgentSlot, needed: Mapping[str, int]) -> bool:
    return all(agent.skills.get(skill, -1) >= level for skill, level in needed.items())

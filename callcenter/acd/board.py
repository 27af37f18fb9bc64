"""The ACD's state, as plain data: queues, agents, waiting callers, and who gets offered to whom.

Pure: no I/O, no clock of its own (``now`` is passed in, monotonic seconds). The dispatcher
owns the one ``Board`` and is the only code that changes it, so no two callers can be
offered one agent.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from callcenter.acd.strategies import rank
from callcenter.vocabulary import AgentState, AgentStatus, QueueOutcome, QueueStrategy

# FreeSWITCH causes that mean "the phone is not there" rather than "nobody picked up"
UNREACHABLE = frozenset(
    {"SUBSCRIBER_ABSENT", "USER_NOT_REGISTERED", "UNALLOCATED_NUMBER", "NO_ROUTE_DESTINATION"}
)
BUSY = frozenset({"USER_BUSY", "CALL_REJECTED"})
# offers that ended for reasons that are not the agent's: no rest, no count toward a pause
DISCONNECTED = "ENGINE_DISCONNECTED"  # the originate was not sent: ESL was down
NO_FAULT = frozenset({"ORIGINATOR_CANCEL", "LOSE_RACE", DISCONNECTED})


@dataclass(frozen=True, slots=True)
class Member:
    extension: str
    tier: int = 1
    position: int = 1


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    strategy: QueueStrategy = QueueStrategy.LONGEST_IDLE
    members: tuple[Member, ...] = ()
    required_skills: Mapping[str, int] = field(default_factory=dict)
    max_wait_seconds: int = 600  # 0: no limit
    max_callers: int = 0  # 0: no limit
    agent_ring_seconds: int = 20
    music_on_hold: str = "local_stream://moh"
    overflow_target: str | None = None
    announce_every: int = 0  # seconds between announcements to waiting callers (0: none)
    announcements: Mapping[str, str] = field(default_factory=dict)  # periodic, position
    rejoin_window: int = 0  # seconds a caller who hung up keeps its place (acd.rejoin)


@dataclass(frozen=True, slots=True)
class Pacing:
    """How long an agent rests after an offer that failed, and when they get paused."""

    no_answer_delay: float = 10.0
    busy_delay: float = 30.0
    unreachable_delay: float = 30.0
    # the caller's node was not connected: no one's fault, but offered again at once the
    # agent would be rung in a loop as fast as the originates fail (every drop of ESL)
    disconnected_delay: float = 2.0
    max_no_answer: int = 3  # consecutive failed offers before the agent is paused; 0: never


@dataclass(slots=True)
class AgentSlot:
    extension: str
    status: AgentStatus = AgentStatus.LOGGED_OUT
    state: AgentState = AgentState.IDLE
    skills: dict[str, int] = field(default_factory=dict)
    wrapup_seconds: int = 10
    idle_since: float = 0.0
    ready_at: float = 0.0  # not offered before this (rest after a failed offer, wrap-up)
    calls_answered: int = 0
    talk_seconds: float = 0.0
    failed_offers: int = 0  # in a row
    ticket: str | None = None  # the ticket being offered to or talking with
    holds: set[str] = field(default_factory=set)  # calls outside the queues on this phone
    removed: bool = False  # deleted from the database while busy: dropped once free
    status_at: datetime | None = None  # when the status last changed (wall clock)

    def free(self, now: float) -> bool:
        return (
            self.status is AgentStatus.AVAILABLE
            and self.state is AgentState.IDLE
            and self.ticket is None
            and not self.holds
            and not self.removed
            and self.ready_at <= now
        )


@dataclass(slots=True)
class Ticket:
    """One caller's stay in one queue; the caller's actor reads it, the dispatcher writes it."""

    id: str
    call_uuid: str
    queue: str
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)
    joined_at: float = 0.0
    seq: int = 0
    since_us: int = 0  # wall clock of joining (kept across an engine restart); orders callers
    deadline: float | None = None
    position_at_join: int = 0
    accepted: bool = False
    refused: str | None = None  # why the queue would not take the caller
    offer: tuple[str, ...] | None = None  # the agents ringing for this caller now
    offers: int = 0
    agent: str | None = None  # who answered
    outcome: QueueOutcome | None = None

    @property
    def decided(self) -> bool:
        return self.accepted or self.refused is not None

    @property
    def waiting(self) -> bool:
        return self.accepted and self.outcome is None and self.agent is None


@dataclass(frozen=True, slots=True)
class AgentChange:
    """What the dispatcher persists and counts after a board change."""

    extension: str
    status: AgentStatus
    state: AgentState
    reason: str | None = None


class Board:
    def __init__(self, pacing: Pacing | None = None, rng: random.Random | None = None) -> None:
        self.pacing = pacing or Pacing()
        self.rng = rng or random.Random()
        self.queues: dict[str, QueueSpec] = {}
        self.agents: dict[str, AgentSlot] = {}
        self.tickets: dict[str, Ticket] = {}
        self.last_position: dict[str, int] = {}  # round robin: the position last offered
        self._seq = itertools.count(1)

    # -- configuration ------------------------------------------------------------------

    def configure(
        self, queues: Iterable[QueueSpec], agents: Iterable[AgentSlot], now: float
    ) -> list[AgentChange]:
        """Take the configuration as stored; agents keep their live state and counters."""
        self.queues = {q.name: q for q in queues}
        changes: list[AgentChange] = []
        seen: set[str] = set()
        for new in agents:
            seen.add(new.extension)
            changes.extend(self.set_agent(new.extension, new, now))
        for ext in set(self.agents) - seen:
            self.set_agent(ext, None, now)
        return changes

    def set_queue(self, name: str, spec: QueueSpec | None) -> None:
        """One queue as stored now (None: deleted); its waiting callers are not touched."""
        if spec is None:
            self.queues.pop(name, None)
        else:
            self.queues[name] = spec

    def set_agent(self, extension: str, new: AgentSlot | None, now: float) -> list[AgentChange]:
        """One agent as stored now (None: deleted). Live state and counters are kept; an agent
        deleted while on a call is dropped once that call ends."""
        slot = self.agents.get(extension)
        if new is None:
            if slot is not None:
                if slot.ticket is None and not slot.holds:
                    del self.agents[extension]
                else:
                    slot.removed = True
            return []
        if slot is None:
            new.idle_since = new.ready_at = now
            new.state = AgentState.IDLE
            self.agents[new.extension] = new
            return [AgentChange(new.extension, new.status, new.state)]
        stale = (
            slot.status_at is not None
            and new.status_at is not None
            and new.status_at < slot.status_at
        )  # the engine's own newer change (a pause) is still on its way to the database
        if slot.status is not new.status and not stale:
            slot.failed_offers = 0
            if new.status is AgentStatus.AVAILABLE and slot.state is AgentState.IDLE:
                slot.idle_since = now
            slot.status, slot.status_at = new.status, new.status_at
        slot.skills, slot.wrapup_seconds = new.skills, new.wrapup_seconds
        slot.removed = False
        return []

    # -- callers ------------------------------------------------------------------------

    def join(self, ticket: Ticket, now: float, *, waited: float = 0.0) -> None:
        """``waited``: seconds the caller already waited for this stay (a resumed stay)."""
        spec = self.queues.get(ticket.queue)
        if spec is None:
            ticket.refused = "unknown_queue"
            return
        waiting = self.waiting(ticket.queue)
        if spec.max_callers and len(waiting) >= spec.max_callers:
            ticket.refused = "full"
            return
        ticket.joined_at = now - waited
        ticket.seq = next(self._seq)
        limit = spec.max_wait_seconds
        ticket.deadline = ticket.joined_at + limit if limit else None
        ticket.position_at_join = 1 + sum(1 for t in waiting if _before(t, ticket))
        ticket.accepted = True
        self.tickets[ticket.id] = ticket

    def leave(self, ticket: Ticket, outcome: QueueOutcome) -> None:
        if ticket.outcome is None:
            ticket.outcome = outcome
        self.tickets.pop(ticket.id, None)

    def waiting(self, queue: str) -> list[Ticket]:
        """The queue's callers still waiting for an agent, first served first."""
        found = [t for t in self.tickets.values() if t.queue == queue and t.waiting]
        return sorted(found, key=_order)

    def position(self, ticket: Ticket) -> int:
        return 1 + sum(1 for t in self.waiting(ticket.queue) if _before(t, ticket))

    # -- matching -----------------------------------------------------------------------

    def match(self, now: float) -> list[Ticket]:
        """Offer free agents to waiting callers, by priority then arrival; the tickets offered."""
        offered: list[Ticket] = []
        free = {a.extension for a in self.agents.values() if a.free(now)}
        if not free or not self.tickets:
            return offered  # the usual busy hour: nobody free, nothing to sort
        open_queues = {
            name for name, spec in self.queues.items()
            if any(m.extension in free for m in spec.members)
        }  # fmt: skip
        pools: dict[str, list[AgentSlot]] = {}  # free members meeting the queue's skills
        for ticket in sorted(self.tickets.values(), key=_order):
            if ticket.queue not in open_queues or not ticket.waiting or ticket.offer is not None:
                continue
            spec = self.queues[ticket.queue]
            pool = pools.get(spec.name)
            if pool is None:
                pool = pools[spec.name] = self._eligible(spec, now)
            pool[:] = [a for a in pool if a.free(now)]  # some were offered meanwhile
            if not pool:
                open_queues.discard(spec.name)  # the rest of this queue's callers wait too
                continue
            candidates = [a for a in pool if _meets(a, ticket.skills)] if ticket.skills else pool
            if not candidates:
                continue
            ring_all = spec.strategy is QueueStrategy.RING_ALL
            last = self.last_position.get(spec.name, 0)
            chosen = rank(spec, candidates, last, self.rng, best_only=not ring_all)
            for agent in chosen:
                agent.state, agent.ticket = AgentState.OFFERING, ticket.id
            member = _member(spec, chosen[0].extension)
            if member is not None:
                self.last_position[spec.name] = member.position
            ticket.offer = tuple(a.extension for a in chosen)
            ticket.offers += 1
            offered.append(ticket)
            free.difference_update(ticket.offer)
            if not free:
                break
        return offered

    def _eligible(self, spec: QueueSpec, now: float) -> list[AgentSlot]:
        out = []
        for member in spec.members:
            agent = self.agents.get(member.extension)
            if agent is not None and agent.free(now) and _meets(agent, spec.required_skills):
                out.append(agent)
        return out

    def next_ready(self, now: float) -> float | None:
        """When the next resting agent becomes free again (for the dispatcher's timer)."""
        later = [a.ready_at for a in self.agents.values() if a.ready_at > now]
        return min(later) if later else None

    # -- offers -------------------------------------------------------------------------

    def offer_failed(
        self, ticket: Ticket, extension: str, cause: str, now: float
    ) -> list[AgentChange]:
        """An agent's phone did not answer (or the caller left while it rang)."""
        changes: list[AgentChange] = []
        agent = self.agents.get(extension)
        if agent is not None and agent.ticket == ticket.id:
            agent.state = AgentState.IN_CALL if agent.holds else AgentState.IDLE
            agent.ticket = None
            if cause not in NO_FAULT and not agent.holds:  # holds: on another call
                agent.failed_offers += 1
                agent.ready_at = now + self._rest(cause)
            elif cause == DISCONNECTED:
                agent.ready_at = max(agent.ready_at, now + self.pacing.disconnected_delay)
            reason = None
            limit = self.pacing.max_no_answer
            if limit and agent.failed_offers >= limit and agent.status is AgentStatus.AVAILABLE:
                agent.status = AgentStatus.PAUSED
                reason = f"{agent.failed_offers} offers not answered (last: {cause})"
                agent.failed_offers = 0
            changes.append(AgentChange(extension, agent.status, agent.state, reason))
            self._drop_if_removed(agent)
        if ticket.offer is not None and extension in ticket.offer:
            rest = tuple(e for e in ticket.offer if e != extension)
            ticket.offer = rest or None
        return changes

    def _rest(self, cause: str) -> float:
        if cause in UNREACHABLE:
            return self.pacing.unreachable_delay
        if cause in BUSY:
            return self.pacing.busy_delay
        return self.pacing.no_answer_delay

    def answered(self, ticket: Ticket, extension: str) -> list[AgentChange]:
        ticket.agent, ticket.offer = extension, None
        self.tickets.pop(ticket.id, None)
        if ticket.outcome is None:
            ticket.outcome = QueueOutcome.ANSWERED
        agent = self.agents.get(extension)
        if agent is None:
            return []
        agent.state, agent.ticket, agent.failed_offers = AgentState.IN_CALL, ticket.id, 0
        agent.calls_answered += 1
        return [AgentChange(extension, agent.status, agent.state)]

    def released(
        self, ticket: Ticket, extension: str, talk_seconds: float, now: float, *, wrapup: bool
    ) -> list[AgentChange]:
        """The agent's call ended (wrap-up follows) or the bridge never happened (no wrap-up)."""
        agent = self.agents.get(extension)
        if agent is None or agent.ticket != ticket.id:
            return []
        agent.ticket = None
        agent.talk_seconds += talk_seconds
        if agent.holds:
            agent.state = AgentState.IN_CALL  # still on another call
        elif wrapup and agent.wrapup_seconds > 0:
            agent.state = AgentState.WRAP_UP
            agent.ready_at = now + agent.wrapup_seconds
        else:
            agent.state = AgentState.IDLE
            agent.idle_since = now
        changes = [AgentChange(extension, agent.status, agent.state)]
        self._drop_if_removed(agent)
        return changes

    def occupy(self, extension: str, hold: str) -> list[AgentChange]:
        """The agent is on a call the ACD did not place (a direct extension call, or a call
        adopted after a restart): no offers until ``vacate`` with the same ``hold``. An offer
        already ringing goes on (it will fail busy, without counting against the agent)."""
        agent = self.agents.get(extension)
        if agent is None:
            return []
        agent.holds.add(hold)
        if agent.ticket is not None or agent.state is AgentState.IN_CALL:
            return []
        agent.state = AgentState.IN_CALL
        return [AgentChange(extension, agent.status, agent.state)]

    def vacate(self, extension: str, hold: str, now: float) -> list[AgentChange]:
        agent = self.agents.get(extension)
        if agent is None or hold not in agent.holds:
            return []
        agent.holds.discard(hold)
        if agent.holds or agent.ticket is not None or agent.state is not AgentState.IN_CALL:
            return []
        agent.state, agent.idle_since = AgentState.IDLE, now
        changes = [AgentChange(extension, agent.status, agent.state)]
        self._drop_if_removed(agent)
        return changes

    def wrapups_done(self, now: float) -> list[AgentChange]:
        changes = []
        for agent in self.agents.values():
            if agent.state is AgentState.WRAP_UP and agent.ready_at <= now:
                agent.state, agent.idle_since = AgentState.IDLE, now
                changes.append(AgentChange(agent.extension, agent.status, agent.state))
        return changes

    def _drop_if_removed(self, agent: AgentSlot) -> None:
        if agent.removed and agent.ticket is None and not agent.holds:
            self.agents.pop(agent.extension, None)


def _meets(agent: AgentSlot, needed: Mapping[str, int]) -> bool:
    if not needed:
        return True
    skills = agent.skills
    return all(skills.get(skill, -1) >= level for skill, level in needed.items())


def _order(ticket: Ticket) -> tuple[int, int, int]:
    return (-ticket.priority, ticket.since_us, ticket.seq)


def _before(a: Ticket, b: Ticket) -> bool:
    """Whether ``a`` is served before ``b``."""
    return _order(a) < _order(b)


def _member(spec: QueueSpec, extension: str) -> Member | None:
    return next((m for m in spec.members if m.extension == extension), None)

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

from callcenter.acd.rules import FailurePolicy, Routing, next_relaxation, relaxed
from callcenter.acd.strategies import PER_CALLER, RING_MANY, Order, rank
from callcenter.recording.on_call import QueueRecording
from callcenter.vocabulary import AgentState, AgentStatus, QueueOutcome, QueueStrategy

# FreeSWITCH causes that mean "the phone is not there" rather than "nobody picked up"
UNREACHABLE = frozenset(
    {"SUBSCRIBER_ABSENT", "USER_NOT_REGISTERED", "UNALLOCATED_NUMBER", "NO_ROUTE_DESTINATION"}
)
BUSY = frozenset({"USER_BUSY", "NORMAL_CIRCUIT_CONGESTION", "CALL_REJECTED"})
REJECTED = "CALL_REJECTED"
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
    routing: Routing = field(default_factory=Routing)
    rejoin_window: int = 0  # seconds a caller who hung up keeps its place (acd.rejoin)
    recording: QueueRecording = field(default_factory=QueueRecording)  # its policy and announcement


@dataclass(frozen=True, slots=True)
class Pacing:
    """The engine's own rest after an offer that failed at no one's fault (the queue's and
    the agent's failure policy, ``rules.FailurePolicy``, covers the agent's failures)."""

    # the caller's node was not connected: no one's fault, but offered again at once the
    # agent would be rung in a loop as fast as the originates fail (every drop of ESL)
    disconnected_delay: float = 2.0


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
    last_offered: float = 0.0  # when last offered a call (monotonic)
    failure: Mapping[str, object] = field(default_factory=dict)  # its failure policy overrides
    failed_offers: int = 0  # no-answers in a row
    ticket: str | None = None  # the ticket being offered to or talking with
    holds: set[str] = field(default_factory=set)  # calls outside the queues on this phone
    removed: bool = False  # deleted from the database while busy: dropped once free
    status_at: datetime | None = None  # when the status last changed (wall clock)
    on_demand: bool = False  # paused again after each queue call (*26)
    wrapup_due: bool = False  # a queue call ended while on another call: wrap-up after it
    wrapup_queue: str | None = None  # the queue of the call wrapped up (or due to be)
    state_since: float = 0.0  # when the state last changed (the dispatcher's clock)
    talking_with: str | None = None  # the queue call it answered (its uuid), until released
    pause_reason: str | None = None  # as last loaded (the live KPIs' pause time by reason)

    def enter(self, state: AgentState, now: float) -> None:
        """Every state change goes through here, so the time in state is always known."""
        if state is not self.state:
            self.state, self.state_since = state, now
            if state is not AgentState.WRAP_UP and not self.wrapup_due:
                self.wrapup_queue = None

    def change(self, reason: str | None = None, missed: bool = False) -> AgentChange:
        """Its status and state now, as the history stores them."""
        queue = self.wrapup_queue if self.state is AgentState.WRAP_UP else None
        return AgentChange(self.extension, self.status, self.state, reason, missed, queue)

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
    first_us: int = 0  # wall clock of entering the first queue (an overflow keeps it)
    first_at: float = 0.0  # the same, on the board's clock: relaxation and tiers count from it
    deadline: float | None = None
    position_at_join: int = 0
    accepted: bool = False
    refused: str | None = None  # why the queue would not take the caller
    offer: tuple[str, ...] | None = None  # the agents ringing for this caller now
    offers: int = 0
    agent: str | None = None  # who answered
    outcome: QueueOutcome | None = None
    last_offered: str | None = None  # the member this caller was offered last
    exiting: QueueOutcome | None = None  # told to leave (no agent, empty): no more offers
    gone: bool = False  # the caller hung up while an agent rang: no more offers (Leave follows)
    callback: str | None = None  # a virtual caller waiting to be called back at this number
    callback_attempts: int = 0
    callback_result: str | None = None  # the last attempt's (acd.callback.Attempt)

    @property
    def decided(self) -> bool:
        return self.accepted or self.refused is not None

    @property
    def waiting(self) -> bool:
        return (
            self.accepted
            and self.outcome is None
            and self.agent is None
            and self.exiting is None
            and not self.gone
        )


@dataclass(frozen=True, slots=True)
class AgentChange:
    """What the dispatcher persists and counts after a board change."""

    extension: str
    status: AgentStatus
    state: AgentState
    reason: str | None = None
    missed: bool = False  # it ends an offer the agent's phone rang and did not answer
    queue: str | None = None  # state wrap_up: the queue of the call wrapped up


class Board:
    def __init__(self, pacing: Pacing | None = None, rng: random.Random | None = None) -> None:
        self.pacing = pacing or Pacing()
        self.rng = rng or random.Random()
        self.queues: dict[str, QueueSpec] = {}
        self.agents: dict[str, AgentSlot] = {}
        self.tickets: dict[str, Ticket] = {}
        self.last_offered: dict[str, str] = {}  # queue -> the member it offered last
        self.agent_seen: dict[str, float] = {}  # queue -> when a member was last logged in
        self._orders: dict[str, Order] = {}
        self._tiers: dict[str, list[int]] = {}  # queue -> its members' tiers, ascending
        self._floors: dict[str, dict[str, int]] = {}  # queue -> skills asked once all relaxed
        self._seq = itertools.count(1)

    # -- configuration ------------------------------------------------------------------

    def configure(
        self, queues: Iterable[QueueSpec], agents: Iterable[AgentSlot], now: float
    ) -> list[AgentChange]:
        """Take the configuration as stored; agents keep their live state and counters."""
        named: set[str] = set()
        for spec in queues:
            named.add(spec.name)
            self.set_queue(spec.name, spec, now)
        for name in set(self.queues) - named:
            self.set_queue(name, None)
        changes: list[AgentChange] = []
        seen: set[str] = set()
        for new in agents:
            seen.add(new.extension)
            changes.extend(self.set_agent(new.extension, new, now))
        for ext in set(self.agents) - seen:
            self.set_agent(ext, None, now)
        return changes

    def set_queue(self, name: str, spec: QueueSpec | None, now: float = 0.0) -> None:
        """One queue as stored now (None: deleted); its waiting callers are not touched.
        ``now``: a new queue's no-agent clock starts then (not before it existed)."""
        if spec is None:
            self.queues.pop(name, None)
            self._orders.pop(name, None)
            return
        before = self.queues.get(name)
        if before is None or not before.routing.max_wait_no_agent:
            self.agent_seen[name] = now  # watched from now on: nobody was known absent before
        self.queues[name] = spec
        ordered = sorted(spec.members, key=lambda m: (m.tier, m.position, m.extension))
        self._orders[name] = {m.extension: (i, m) for i, m in enumerate(ordered)}
        self._tiers[name] = sorted({m.tier for m in spec.members})
        self._floors[name] = relaxed(spec.required_skills, spec.routing.relax, float("inf"))

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
            new.idle_since = new.ready_at = new.state_since = now
            new.state = AgentState.IDLE
            self.agents[new.extension] = new
            return [new.change()]
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
        slot.on_demand = new.on_demand
        slot.pause_reason = new.pause_reason
        slot.failure = new.failure
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
        ticket.refused = self._refusal(spec, ticket, waiting)
        if ticket.refused is not None:
            return
        ticket.joined_at = now - waited
        if ticket.first_us and ticket.since_us:
            ticket.first_us = min(ticket.first_us, ticket.since_us)
        else:
            ticket.first_us = ticket.since_us
        ticket.first_at = ticket.joined_at - (ticket.since_us - ticket.first_us) / 1e6
        ticket.seq = next(self._seq)
        limit = spec.max_wait_seconds
        ticket.deadline = ticket.joined_at + limit if limit else None
        ticket.position_at_join = 1 + sum(1 for t in waiting if _before(t, ticket))
        ticket.accepted = True
        self.tickets[ticket.id] = ticket

    def _refusal(self, spec: QueueSpec, ticket: Ticket, waiting: list[Ticket]) -> str | None:
        if ticket.callback is not None:
            return None  # a callback loaded back after a restart keeps its place
        if spec.max_callers and len(waiting) >= spec.max_callers:
            return "full"
        if spec.routing.join_empty and not self._present(spec, spec.routing.join_empty):
            return "join_empty"
        return None

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
        if not any(t.offer is None and t.waiting for t in self.tickets.values()):
            return offered  # nobody to offer to (a quiet hour: no scan of every agent)
        free = {a.extension for a in self.agents.values() if a.free(now)}
        if not free:
            return offered  # the usual busy hour: nobody free, nothing to sort
        open_queues = {
            name for name, spec in self.queues.items()
            if any(m.extension in free for m in spec.members)
        }  # fmt: skip
        # free members of each queue, and how many agents were taken when it was last sifted
        pools: dict[str, tuple[int, list[AgentSlot]]] = {}
        taken: set[str] = set()  # offered during this match
        dead: set[tuple[object, ...]] = set()  # (queue, skills asked, tier cap): nobody fits
        for ticket in sorted(self.tickets.values(), key=_order):
            if ticket.queue not in open_queues or not ticket.waiting or ticket.offer is not None:
                continue
            spec = self.queues[ticket.queue]
            sifted = pools.get(spec.name)
            if sifted is None:
                pool = self._free_members(spec, free)
            elif sifted[0] != len(taken):  # some were offered meanwhile
                pool = [a for a in sifted[1] if a.extension not in taken]
            else:
                pool = sifted[1]
            pools[spec.name] = (len(taken), pool)
            if not pool:
                open_queues.discard(spec.name)  # the rest of this queue's callers wait too
                continue
            chosen = self._choose(spec, ticket, pool, now, dead)
            if not chosen:
                continue
            if ticket.callback is not None:
                chosen = chosen[:1]  # a callback rings one agent first (ring-all: the first)
            for agent in chosen:
                agent.enter(AgentState.OFFERING, now)
                agent.ticket, agent.last_offered = ticket.id, now
            self.last_offered[spec.name] = ticket.last_offered = chosen[0].extension
            ticket.offer = tuple(a.extension for a in chosen)
            ticket.offers += 1
            offered.append(ticket)
            free.difference_update(ticket.offer)
            taken.update(ticket.offer)
            if not free:
                break
        return offered

    def _choose(
        self,
        spec: QueueSpec,
        ticket: Ticket,
        pool: list[AgentSlot],
        now: float,
        dead: set[tuple[object, ...]],
    ) -> list[AgentSlot]:
        """The agents to ring for this caller now: its tiers reached, its skills as relaxed.
        ``dead``: what found nobody earlier in this match (the pool only shrinks)."""
        order = self._orders[spec.name]
        waited = now - ticket.first_at
        cap = self.tier_cap(spec, waited)
        stage = sum(1 for rule in spec.routing.relax if rule.after <= waited)
        key = (spec.name, _skills_key(ticket.skills), stage, cap)
        if key in dead:
            return []
        asked = self.asked(spec, ticket, now)
        candidates = [a for a in pool if order[a.extension][1].tier <= cap and _meets(a, asked)]
        if not candidates:
            dead.add(key)
            return []
        per_caller = spec.strategy in PER_CALLER
        last = ticket.last_offered if per_caller else self.last_offered.get(spec.name)
        return rank(
            spec, candidates, order, self.rng, last=last, asked=ticket.skills or None,
            best_only=spec.strategy not in RING_MANY,
        )  # fmt: skip

    def asked(self, spec: QueueSpec, ticket: Ticket, now: float) -> Mapping[str, int]:
        """The skill levels asked of an agent for this caller now: the queue's and the
        caller's own, the higher of both, relaxed by the time waited."""
        rules = spec.routing.relax
        if not ticket.skills and not rules:
            return spec.required_skills
        asked = dict(spec.required_skills)
        for skill, level in ticket.skills.items():
            asked[skill] = max(level, asked.get(skill, level))
        return relaxed(asked, rules, now - ticket.first_at) if rules else asked

    def tier_cap(self, spec: QueueSpec, waited: float) -> int:
        """The highest tier a caller who waited this long may be offered (mod_callcenter's
        tier rules; without them every tier, the lower preferred)."""
        rules = spec.routing.tiers
        tiers = self._tiers.get(spec.name) or sorted({m.tier for m in spec.members})
        if not rules.wait or not tiers:
            return tiers[-1] if tiers else 0
        cap = tiers[0]
        for tier in tiers[1:]:
            due = rules.wait * tier if rules.multiply else rules.wait
            empty_below = rules.no_agent_no_wait and not self._logged_in(spec, cap)
            if not empty_below and waited < due:
                break
            cap = tier
        return cap

    def _logged_in(self, spec: QueueSpec, tier: int) -> bool:
        for member in spec.members:
            if member.tier == tier:
                agent = self.agents.get(member.extension)
                logged_out = agent is None or agent.removed
                if not logged_out and agent.status is not AgentStatus.LOGGED_OUT:  # type: ignore[union-attr]
                    return True
        return False

    def _free_members(self, spec: QueueSpec, free: set[str]) -> list[AgentSlot]:
        """Free members (``free``: the match's extensions free and not yet offered) with the
        skills the queue asks once every rule has relaxed them."""
        floor = self._floors.get(spec.name, spec.required_skills)
        agents = self.agents
        members = [agents[m.extension] for m in spec.members if m.extension in free]
        return [agent for agent in members if _meets(agent, floor)] if floor else members

    def next_ready(self, now: float) -> float | None:
        """When the board must be looked at again with no message: a resting agent becomes
        free, a caller's skills relax or a tier opens (while someone is free), a no-agent
        exit falls due."""
        later = [a.ready_at for a in self.agents.values() if a.ready_at > now]
        if self.tickets and any(a.free(now) for a in self.agents.values()):
            later += self._next_openings(now)  # (it reads the tickets only)
        later += self._next_exits(now)
        return min(later) if later else None

    def _next_openings(self, now: float) -> list[float]:
        times = []
        for ticket in self.tickets.values():
            spec = self.queues.get(ticket.queue)
            if spec is None or not ticket.waiting:
                continue
            waited = now - ticket.first_at
            relax = next_relaxation(spec.routing.relax, waited)
            if relax is not None:
                times.append(ticket.first_at + relax)
            tiers = spec.routing.tiers
            if tiers.wait:
                lowest = min(m.tier for m in spec.members)
                steps = [
                    tiers.wait * m.tier if tiers.multiply else tiers.wait
                    for m in spec.members
                    if m.tier > lowest
                ]
                opening = min((s for s in steps if s > waited), default=None)
                if opening is not None:
                    times.append(ticket.first_at + opening)
        return times

    # -- exits --------------------------------------------------------------------------

    def exits(self, now: float) -> list[tuple[Ticket, str]]:
        """Callers the queue sends away now: no member logged in for too long
        (mod_callcenter's max-wait-time-with-no-agent, with its grace after joining), or
        nobody present (app_queue's leavewhenempty). Marked ``exiting``; each leaves once."""
        out: list[tuple[Ticket, str]] = []
        for name, spec in self.queues.items():
            routing = spec.routing
            if not routing.max_wait_no_agent and not routing.leave_empty:
                continue
            if self._present(spec, frozenset({"unavailable"})):
                self.agent_seen[name] = now
            why = self._exit_reason(spec, now)
            if why is None:
                continue
            for ticket in self.waiting(name):
                if ticket.offer is not None or ticket.callback is not None:
                    continue  # a callback is not sent away: nobody is on the line
                if why == "leave_empty" or self._no_agent_due(spec, ticket, now):
                    ticket.exiting = QueueOutcome.NO_AGENT
                    out.append((ticket, why))
        return out

    def _exit_reason(self, spec: QueueSpec, now: float) -> str | None:
        routing = spec.routing
        if routing.leave_empty and not self._present(spec, routing.leave_empty):
            return "leave_empty"
        unseen = now - self.agent_seen.get(spec.name, now)
        if routing.max_wait_no_agent and unseen >= routing.max_wait_no_agent:
            return "max_wait_no_agent"
        return None

    def _no_agent_due(self, spec: QueueSpec, ticket: Ticket, now: float) -> bool:
        grace = spec.routing.no_agent_grace
        return not grace or now - ticket.joined_at >= spec.routing.max_wait_no_agent + grace

    def _next_exits(self, now: float) -> list[float]:
        times = []
        for name, spec in self.queues.items():
            limit = spec.routing.max_wait_no_agent
            if not limit or self._present(spec, frozenset({"unavailable"})):
                continue
            due = self.agent_seen.get(name, now) + limit
            grace = spec.routing.no_agent_grace
            for ticket in self.waiting(name):
                at = max(due, ticket.joined_at + limit + grace) if grace else due
                if at > now:
                    times.append(at)
        return times

    def _present(self, spec: QueueSpec, absent: frozenset[str]) -> bool:
        """Whether some member is in none of the ``absent`` conditions (app_queue's
        joinempty/leavewhenempty: paused, unavailable, inuse, ringing, wrapup)."""
        for member in spec.members:
            agent = self.agents.get(member.extension)
            if agent is not None and not agent.removed and _condition(agent) not in absent:
                return True
        return False

    # -- offers -------------------------------------------------------------------------

    def offer_failed(
        self, ticket: Ticket, extension: str, cause: str, now: float, *, caller_gone: bool = False
    ) -> list[AgentChange]:
        """An agent's phone did not answer (or the caller left while it rang: not offered
        again, to this agent or another, before its leaving is known). The change that ends
        the offer says whether it was the agent's miss (``missed``: a ring-no-answer)."""
        ticket.gone = ticket.gone or caller_gone
        changes: list[AgentChange] = []
        agent = self.agents.get(extension)
        if agent is not None and agent.ticket == ticket.id:
            agent.enter(AgentState.IN_CALL if agent.holds else AgentState.IDLE, now)
            agent.ticket = None
            spec = self.queues.get(ticket.queue)
            policy = (spec.routing.failure if spec else FailurePolicy()).merged(agent.failure)
            reason = None
            missed = False
            if cause not in NO_FAULT and not agent.holds:  # holds: on another call
                reason = _failed(agent, policy, cause, now)
                missed = no_answer(cause)
            elif cause == DISCONNECTED:
                agent.ready_at = max(agent.ready_at, now + self.pacing.disconnected_delay)
            changes.append(agent.change(reason, missed))
            self._drop_if_removed(agent)
        if ticket.offer is not None and extension in ticket.offer:
            rest_of = tuple(e for e in ticket.offer if e != extension)
            ticket.offer = rest_of or None
        return changes

    def reservation_failed(
        self, extension: str, queue: str | None, cause: str, now: float
    ) -> list[AgentChange]:
        """A reserved agent's phone failed the call it was reserved for (the dialer's agent
        leg: unregistered, no answer, rejected), the reservation given back: as a failed
        offer of ``queue`` (its failure policy: a rest, a count, a pause after
        ``max_no_answer``). A cause that is not the agent's (or none) changes nothing."""
        agent = self.agents.get(extension)
        if agent is None or not cause or cause in NO_FAULT or cause == DISCONNECTED:
            return []
        if agent.holds or agent.ticket is not None:  # on another call meanwhile
            return []
        spec = self.queues.get(queue) if queue else None
        policy = (spec.routing.failure if spec else FailurePolicy()).merged(agent.failure)
        reason = _failed(agent, policy, cause, now)
        return [agent.change(reason)]

    def answered(self, ticket: Ticket, extension: str, now: float) -> list[AgentChange]:
        ticket.agent, ticket.offer = extension, None
        self.tickets.pop(ticket.id, None)
        if ticket.outcome is None:
            ticket.outcome = QueueOutcome.ANSWERED
        agent = self.agents.get(extension)
        if agent is None:
            return []
        agent.enter(AgentState.IN_CALL, now)
        agent.ticket, agent.failed_offers = ticket.id, 0
        agent.talking_with = ticket.call_uuid
        agent.calls_answered += 1
        return [agent.change()]

    def released(
        self, ticket: Ticket, extension: str, talk_seconds: float, now: float, *, wrapup: bool
    ) -> list[AgentChange]:
        """The agent's call ended (wrap-up follows) or the bridge never happened (no wrap-up)."""
        agent = self.agents.get(extension)
        if agent is None or agent.ticket != ticket.id:
            return []
        agent.ticket, agent.talking_with = None, None
        agent.talk_seconds += talk_seconds
        if wrapup and agent.wrapup_seconds > 0:
            agent.wrapup_queue = ticket.queue
        if agent.holds:
            agent.wrapup_due = agent.wrapup_due or (wrapup and agent.wrapup_seconds > 0)
            agent.enter(AgentState.IN_CALL, now)  # still on another call (a consult call)
        elif wrapup and agent.wrapup_seconds > 0:
            agent.enter(AgentState.WRAP_UP, now)
            agent.ready_at = now + agent.wrapup_seconds
        else:
            agent.enter(AgentState.IDLE, now)
            agent.idle_since = now
        reason = None
        if agent.on_demand and agent.status is AgentStatus.AVAILABLE:
            agent.status, reason = AgentStatus.PAUSED, "on demand: call taken"
        changes = [agent.change(reason)]
        self._drop_if_removed(agent)
        return changes

    def end_wrapup(self, extension: str, now: float) -> list[AgentChange]:
        """The agent ends its wrap-up early (``*25``)."""
        agent = self.agents.get(extension)
        if agent is None or agent.state is not AgentState.WRAP_UP:
            return []
        agent.enter(AgentState.IDLE, now)
        agent.idle_since, agent.ready_at = now, now
        return [agent.change()]

    def claim(self, extension: str, hold: str, now: float) -> tuple[str | None, list[AgentChange]]:
        """Take the agent's phone for a direct call unless it is offering or on a call:
        (why not, or None and the changes of holding it as ``occupy`` holds). A phone the
        ACD does not know is not refused."""
        agent = self.agents.get(extension)
        if agent is None:
            return None, []
        if agent.ticket is not None or agent.holds or agent.state is AgentState.IN_CALL:
            return ("busy" if agent.state is AgentState.IN_CALL else str(agent.state)), []
        return None, self.occupy(extension, hold, now)

    def occupy(self, extension: str, hold: str, now: float) -> list[AgentChange]:
        """The agent is on a call the ACD did not place (a direct extension call, or a call
        adopted after a restart): no offers until ``vacate`` with the same ``hold``. An offer
        already ringing goes on (it will fail busy, without counting against the agent)."""
        agent = self.agents.get(extension)
        if agent is None:
            return []
        agent.holds.add(hold)
        if agent.ticket is not None or agent.state is AgentState.IN_CALL:
            return []
        agent.enter(AgentState.IN_CALL, now)
        return [agent.change()]

    def vacate(self, extension: str, hold: str, now: float) -> list[AgentChange]:
        agent = self.agents.get(extension)
        if agent is None or hold not in agent.holds:
            return []
        agent.holds.discard(hold)
        if agent.holds or agent.ticket is not None or agent.state is not AgentState.IN_CALL:
            return []
        if agent.wrapup_due:  # the queue call's wrap-up, once the agent is off every call
            agent.wrapup_due = False
            agent.enter(AgentState.WRAP_UP, now)
            agent.ready_at = now + agent.wrapup_seconds
        else:
            agent.enter(AgentState.IDLE, now)
            agent.idle_since = now
        changes = [agent.change()]
        self._drop_if_removed(agent)
        return changes

    def wrapups_done(self, now: float, *, all_of_them: bool = False) -> list[AgentChange]:
        """Wrap-ups over by ``now`` end (``all_of_them``: every one, the engine stopping)."""
        changes = []
        for agent in self.agents.values():
            if agent.state is AgentState.WRAP_UP and (all_of_them or agent.ready_at <= now):
                agent.enter(AgentState.IDLE, now)
                agent.idle_since = now
                changes.append(agent.change())
        return changes

    def _drop_if_removed(self, agent: AgentSlot) -> None:
        if agent.removed and agent.ticket is None and not agent.holds:
            self.agents.pop(agent.extension, None)


def _failed(agent: AgentSlot, policy: FailurePolicy, cause: str, now: float) -> str | None:
    """An offer (or a reservation) the agent's phone failed: rested, counted, paused with
    the policy's reason (returned) after ``max_no_answer`` in a row."""
    rest, counts = _rest(policy, cause)
    agent.ready_at = now + rest
    if counts:
        agent.failed_offers += 1
    reason = None
    limit = policy.max_no_answer
    if limit and agent.failed_offers >= limit:
        if agent.status is AgentStatus.AVAILABLE:
            agent.status = AgentStatus.PAUSED
            reason = policy.pause_reason
        agent.failed_offers = 0
    return reason


def no_answer(cause: str) -> bool:
    """Whether a failed offer's cause is a ring-no-answer: the phone was reached and rang,
    free, and nobody took the call (not busy, rejected, unreachable, nor anyone's cancel)."""
    return not (cause in UNREACHABLE or cause in BUSY or cause in NO_FAULT or cause == DISCONNECTED)


def _rest(policy: FailurePolicy, cause: str) -> tuple[float, bool]:
    """(seconds of rest, whether it counts as a no-answer), as mod_callcenter sorts causes."""
    if cause in UNREACHABLE:
        return float(policy.unregistered_delay), True
    if cause == REJECTED:
        return float(policy.reject_delay), False
    if cause in BUSY:
        return float(policy.busy_delay), False
    return float(policy.no_answer_delay), True


def _condition(agent: AgentSlot) -> str | None:
    """The agent in app_queue's words (None: available)."""
    if agent.status is AgentStatus.LOGGED_OUT:
        return "unavailable"
    if agent.status is AgentStatus.PAUSED:
        return "paused"
    if agent.state is AgentState.OFFERING:
        return "ringing"
    if agent.state is AgentState.WRAP_UP:
        return "wrapup"
    if agent.state is AgentState.IN_CALL or agent.holds or agent.ticket is not None:
        return "inuse"
    return None


def _skills_key(skills: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(skills.items())) if skills else ()


def _meets(agent: AgentSlot, needed: Mapping[str, int]) -> bool:
    if not needed:
        return True
    skills = agent.skills
    return all(skills.get(skill, -1) >= level for skill, level in needed.items())


def _order(ticket: Ticket) -> tuple[int, int, int]:
    return (-ticket.priority, ticket.first_us or ticket.since_us, ticket.seq)


def _before(a: Ticket, b: Ticket) -> bool:
    """Whether ``a`` is served before ``b``."""
    return _order(a) < _order(b)

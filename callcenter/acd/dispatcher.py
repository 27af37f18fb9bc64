"""The ACD dispatcher: the single writer of queue and agent state.

Callers' actors and the operator (through a reload) post messages; one greenlet applies them
to the ``Board`` in order, then offers free agents to waiting callers and wakes the callers
concerned. It reacts to messages and to one timer (the next agent coming out of a rest or a
wrap-up); it never polls. What changed goes to the durable writer: queue stays by ticket and
agent states, so PostgreSQL being away costs nothing but delay.
"""

from __future__ import annotations

import logging
import time
import uuid as uuidlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import gevent
from gevent.queue import Empty, Queue

from callcenter.acd.board import (
    BUSY,
    UNREACHABLE,
    AgentChange,
    AgentSlot,
    Board,
    Member,
    Pacing,
    QueueSpec,
    Ticket,
)
from callcenter.acd.metrics import AcdMetrics
from callcenter.calls.call import Call
from callcenter.errors import DatabaseUnavailable, MigrationError
from callcenter.events.bus import EventBus
from callcenter.events.types import AgentStateChanged, AgentStatusChanged
from callcenter.store.cache import LocalCache
from callcenter.store.database import Database
from callcenter.store.records import (
    AgentRecord,
    AgentStateRecord,
    OpenStaysClosed,
    QueueRecord,
    QueueStayRecord,
)
from callcenter.store.repos import AgentRepository, QueueRepository
from callcenter.store.writer import DurableWriter
from callcenter.vocabulary import QueueOutcome

log = logging.getLogger(__name__)

Wake = Callable[[], None]
RETRY_LOAD_SECONDS = 5.0


@dataclass(slots=True)
class _Stay:
    """Wall-clock facts of a ticket, for its queue_entries row."""

    joined: datetime
    offered: datetime | None = None
    answered: datetime | None = None


def spec_of(queue: QueueRecord) -> QueueSpec:
    return QueueSpec(
        name=queue.name,
        strategy=queue.strategy,
        members=tuple(Member(m.extension, m.tier, m.position) for m in queue.members),
        required_skills=dict(queue.required_skills),
        max_wait_seconds=queue.max_wait_seconds,
        max_callers=queue.max_callers,
        agent_ring_seconds=queue.agent_ring_seconds,
        music_on_hold=queue.music_on_hold,
        overflow_target=queue.overflow_target,
        announce_every=queue.announce_position_seconds,
        announcements={k: str(v) for k, v in queue.announcements.items() if v},
    )


class Dispatcher:
    def __init__(
        self,
        database: Database,
        writer: DurableWriter,
        metrics: AcdMetrics,
        *,
        pacing: Pacing | None = None,
        clock: Callable[[], float] = time.monotonic,
        service_levels: Mapping[str, int] | None = None,
        cache: LocalCache | None = None,
        events: EventBus | None = None,
    ) -> None:
        self.database = database
        self.events = events or EventBus()
        self.cache = cache
        self.writer = writer
        self.metrics = metrics
        self.clock = clock
        self.board = Board(pacing)
        self._service_level: dict[str, int] = dict(service_levels or {})
        self._inbox: Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = Queue()
        self._wake: dict[str, Wake] = {}
        self._stays: dict[str, _Stay] = {}
        self._loaded = False  # the first load closes the stays a previous run left open
        self._from_db = False  # loaded from the database (not only from the local cache)
        self._held: list[Ticket] = []  # joins that came before the first load
        self._last_since = 0
        self._greenlet: gevent.Greenlet[Any] | None = None
        metrics.watch(self.board, clock)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if not self._reload():  # queues known before the first call can ask
            gevent.spawn_later(RETRY_LOAD_SECONDS, self._retry_load)
        self._greenlet = gevent.spawn(self._run)
        self._greenlet.link_exception(self._crashed)

    def _retry_load(self) -> None:
        """The database was away at start: load the configuration as soon as it answers
        (until then, the local cache's, if any, serves)."""
        if not self._from_db:
            self._post(self._load_or_retry)

    def _load_or_retry(self) -> None:
        if not self._from_db and not self._reload():
            gevent.spawn_later(RETRY_LOAD_SECONDS, self._retry_load)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=True, timeout=5)
            self._greenlet = None

    def _crashed(self, greenlet: gevent.Greenlet[Any]) -> None:
        log.error("ACD dispatcher died: %r; restarting", greenlet.exception)
        self._greenlet = gevent.spawn_later(1.0, self._run)
        self._greenlet.link_exception(self._crashed)

    # -- what callers and operators post --------------------------------------------------

    def request_reload(self) -> None:
        self._post(self._reload)

    def agent_changed(self, extension: str) -> None:
        """An operator changed agent ``extension`` (the change feed says so)."""
        self.request_reload()

    def queue_changed(self, name: str) -> None:
        """An operator changed queue ``name`` (the change feed says so)."""
        self.request_reload()

    def enter(
        self,
        call_uuid: str,
        queue: str,
        *,
        priority: int = 0,
        skills: Mapping[str, int] | None = None,
        wake: Wake,
        ticket_id: str | None = None,
        since_us: int = 0,
    ) -> Ticket:
        """Join a queue; a stay resumed after a restart passes its ticket and join time."""
        ticket = Ticket(
            ticket_id or str(uuidlib.uuid4()), call_uuid, queue, priority, dict(skills or {})
        )
        ticket.since_us = since_us
        self._wake[ticket.id] = wake
        self._post(self._join, ticket)
        return ticket

    def offer_failed(self, ticket: Ticket, extension: str, cause: str) -> None:
        self._post(self._offer_failed, ticket, extension, cause)

    def answered(self, ticket: Ticket, extension: str) -> None:
        self._post(self._answered, ticket, extension)

    def released(
        self, ticket: Ticket, extension: str, talk_seconds: float, *, wrapup: bool
    ) -> None:
        self._post(self._released, ticket, extension, talk_seconds, wrapup)

    def leave(self, ticket: Ticket, outcome: QueueOutcome, reason: str | None = None) -> None:
        self._post(self._leave, ticket, outcome, reason)

    def suspend(self, ticket: Ticket) -> None:
        """The engine is stopping with this caller still waiting: forget the ticket, write
        nothing (the stay stays open; the caller's channel knows its place)."""
        self._post(self._suspend, ticket)

    def busy(self, call: Call, extension: str) -> None:
        """An agent is on ``call`` outside the queues (``calls.control.AgentPresence``)."""
        hold = f"call:{call.uuid}"
        self._post(self._occupy, extension, hold)
        call.on_finished.append(lambda: self._post(self._vacate, extension, hold))

    def position(self, ticket: Ticket) -> int:
        """The caller's place in its queue now (1: next), for announcements."""
        return self.board.position(ticket)

    def spec(self, queue: str) -> QueueSpec | None:
        return self.board.queues.get(queue)

    def _post(self, handler: Callable[..., Any], *args: Any) -> None:
        self._inbox.put((handler, args))

    # -- the dispatcher greenlet ----------------------------------------------------------

    def _run(self) -> None:
        while True:
            now = self.clock()
            ready = self.board.next_ready(now)
            timeout = None if ready is None else max(0.0, ready - now) + 0.001
            try:
                item = self._inbox.get(timeout=timeout)
            except Empty:
                item = None
            while item is not None:
                handler, args = item
                handler(*args)
                item = self._inbox.get_nowait() if not self._inbox.empty() else None
            self._step()

    def _step(self) -> None:
        now = self.clock()
        self._save_agents(self.board.wrapups_done(now))
        for ticket in self.board.match(now):
            stay = self._stays.get(ticket.id)
            if stay is not None and stay.offered is None:
                stay.offered = _wall()
            for extension in ticket.offer or ():
                agent = self.board.agents[extension]
                self._save_agents([AgentChange(extension, agent.status, agent.state)])
            self._save_stay(ticket)
            self._wake_caller(ticket)

    def drain(self) -> None:
        """Apply everything posted so far, now, in the caller's greenlet (for tests)."""
        while not self._inbox.empty():
            handler, args = self._inbox.get_nowait()
            handler(*args)
        self._step()

    # -- handlers (run in the dispatcher greenlet only) -------------------------------------

    def _reload(self) -> bool:
        """Load queues and agents from the database; True when it answered. A first load
        that finds it away takes the local cache of the last run instead, if there is one."""
        try:
            with self.database.session_scope() as session:
                queues = QueueRepository(session).all()
                agents = AgentRepository(session).all()
        except (DatabaseUnavailable, MigrationError) as exc:
            if not self._loaded and self._configure_from_cache():
                log.warning("ACD configuration from the local cache of the last run: %s", exc)
            else:
                log.warning("ACD configuration not reloaded, keeping the current one: %s", exc)
            return False
        self._from_db = True
        if self.cache is not None:
            self.cache.save_acd(queues, agents)
        self._configure(queues, agents)
        return True

    def _configure_from_cache(self) -> bool:
        cached = self.cache.load_acd() if self.cache is not None else None
        if cached is None:
            return False
        self._configure(cached.queues, cached.agents)
        return True

    def _configure(self, queues: Sequence[QueueRecord], agents: Sequence[AgentRecord]) -> None:
        slots = [
            AgentSlot(
                a.extension,
                a.status,
                skills=dict(a.skills),
                wrapup_seconds=a.wrapup_seconds,
                status_at=a.status_changed_at,
            )
            for a in agents
        ]
        changes = self.board.configure([spec_of(q) for q in queues], slots, self.clock())
        self._service_level = {q.name: q.service_level_seconds for q in queues}
        self._save_agents(changes)
        for ticket in self.board.tickets.values():
            if ticket.queue not in self.board.queues:  # deleted: its callers must move on
                self._wake_caller(ticket)
        if not self._loaded:
            self._loaded = True
            live = tuple(sorted(t.id for t in self._held))  # resumed meanwhile: kept open
            self.writer.write_acd(OpenStaysClosed(at=_wall(), reason="engine restarted", keep=live))
            held, self._held = self._held, []
            for ticket in held:
                self._join(ticket)
        log.info("ACD: %d queue(s), %d agent(s) loaded", len(queues), len(agents))

    def _join(self, ticket: Ticket) -> None:
        if not self._loaded:  # the database was away at start: joins wait for the queues
            self._held.append(ticket)
            return
        now_us = int(_wall().timestamp() * 1_000_000)
        if ticket.since_us:  # resumed: its own join time, never in the future (clock skew)
            ticket.since_us = min(ticket.since_us, now_us)
        else:  # strictly increasing, even if the wall clock steps back
            ticket.since_us = max(now_us, self._last_since + 1)
            self._last_since = ticket.since_us
        waited = max(0.0, (now_us - ticket.since_us) / 1e6)
        self.board.join(ticket, self.clock(), waited=waited)
        if ticket.refused is not None:
            log.info(
                "call %s: queue %s refused the caller: %s",
                ticket.call_uuid, ticket.queue, ticket.refused,
            )  # fmt: skip
        else:
            self._stays[ticket.id] = _Stay(datetime.fromtimestamp(ticket.since_us / 1e6, UTC))
            self._save_stay(ticket)
            log.info(
                "call %s: joined queue %s at position %d (priority %d)",
                ticket.call_uuid, ticket.queue, ticket.position_at_join, ticket.priority,
            )  # fmt: skip
        self._wake_caller(ticket)

    def _offer_failed(self, ticket: Ticket, extension: str, cause: str) -> None:
        self._save_agents(self.board.offer_failed(ticket, extension, cause, self.clock()))
        self.metrics.offers.labels(queue=ticket.queue, result=_result(cause)).inc()
        self._wake_caller(ticket)

    def _answered(self, ticket: Ticket, extension: str) -> None:
        self._withdraw(ticket, keep=extension)  # ring-all: the phones that lost the race
        self._save_agents(self.board.answered(ticket, extension))
        stay = self._stays.get(ticket.id)
        if stay is not None:
            stay.answered = _wall()
        waited = self.clock() - ticket.joined_at
        self.metrics.offers.labels(queue=ticket.queue, result="answered").inc()
        self._count(ticket, QueueOutcome.ANSWERED, waited)
        if waited <= self._service_level.get(ticket.queue, 0):
            self.metrics.answered_in_sla.labels(queue=ticket.queue).inc()
        self._save_stay(ticket)
        self._forget(ticket)

    def _occupy(self, extension: str, hold: str) -> None:
        self._save_agents(self.board.occupy(extension, hold))

    def _vacate(self, extension: str, hold: str) -> None:
        self._save_agents(self.board.vacate(extension, hold, self.clock()))

    def _released(self, ticket: Ticket, extension: str, talk: float, wrapup: bool) -> None:
        self._save_agents(self.board.released(ticket, extension, talk, self.clock(), wrapup=wrapup))

    def _withdraw(self, ticket: Ticket, keep: str | None = None) -> None:
        """Free the phones still offered this caller (but ``keep``), at no fault of theirs."""
        for extension in ticket.offer or ():
            if extension != keep:
                changes = self.board.offer_failed(ticket, extension, "ORIGINATOR_CANCEL", 0.0)
                self._save_agents(changes)

    def _unhold(self, ticket: Ticket) -> None:
        if ticket in self._held:
            self._held.remove(ticket)  # gave up before the queues were loaded

    def _leave(self, ticket: Ticket, outcome: QueueOutcome, reason: str | None) -> None:
        self._unhold(ticket)
        self._withdraw(ticket)
        if ticket.accepted and ticket.outcome is None:
            self.board.leave(ticket, outcome)
            self._count(ticket, outcome, self.clock() - ticket.joined_at)
            self._save_stay(ticket, reason)
            log.info("call %s: left queue %s: %s", ticket.call_uuid, ticket.queue, outcome)
        self._forget(ticket)

    def _suspend(self, ticket: Ticket) -> None:
        self._unhold(ticket)
        self._withdraw(ticket)
        self.board.tickets.pop(ticket.id, None)
        self._forget(ticket)

    # -- helpers --------------------------------------------------------------------------

    def _count(self, ticket: Ticket, outcome: QueueOutcome, waited: float) -> None:
        self.metrics.calls.labels(queue=ticket.queue, outcome=str(outcome)).inc()
        self.metrics.wait.labels(queue=ticket.queue, outcome=str(outcome)).observe(waited)

    def _wake_caller(self, ticket: Ticket) -> None:
        wake = self._wake.get(ticket.id)
        if wake is not None:
            wake()

    def _forget(self, ticket: Ticket) -> None:
        self._wake.pop(ticket.id, None)
        self._stays.pop(ticket.id, None)

    def _save_stay(self, ticket: Ticket, reason: str | None = None) -> None:
        stay = self._stays.get(ticket.id)
        if stay is None:
            return
        left = _wall() if ticket.outcome is not None and ticket.agent is None else None
        self.writer.write_acd(
            QueueStayRecord(
                ticket=ticket.id,
                queue=ticket.queue,
                call_uuid=ticket.call_uuid,
                priority=ticket.priority,
                position_at_join=ticket.position_at_join,
                joined_at=stay.joined,
                offers=ticket.offers,
                offered_at=stay.offered,
                answered_at=stay.answered,
                agent_extension=ticket.agent,
                left_at=left or stay.answered,
                outcome=ticket.outcome,
                reason=reason,
            )
        )

    def _save_agents(self, changes: list[AgentChange]) -> None:
        at = _wall()
        for change in changes:
            self.writer.write_acd(
                AgentStateRecord(
                    extension=change.extension,
                    status=change.status,
                    state=change.state,
                    at=at,
                    reason=change.reason,
                    status_changed=change.reason is not None,
                )
            )
            self._announce(change)
            if change.reason is not None:
                log.warning("agent %s: %s: %s", change.extension, change.status, change.reason)
                slot = self.board.agents.get(change.extension)
                if slot is not None:
                    slot.status_at = at  # newer than the database until the write lands

    def _announce(self, change: AgentChange) -> None:
        ext, status = change.extension, str(change.status)
        self.events.publish(
            AgentStateChanged(agent_extension=ext, state=str(change.state), status=status)
        )
        if change.reason is not None:  # the engine changed the status (e.g. no answer: paused)
            self.events.publish(
                AgentStatusChanged(agent_extension=ext, status=status, reason=change.reason)
            )


def _wall() -> datetime:
    return datetime.now(UTC)


def _result(cause: str) -> str:
    if cause == "ORIGINATOR_CANCEL":
        return "caller_gone"
    if cause == "LOSE_RACE":
        return "lost_race"
    if cause == "ENGINE_DISCONNECTED":
        return "error"
    if cause in UNREACHABLE:
        return "unreachable"
    if cause in BUSY:
        return "busy"
    if cause in ("NO_ANSWER", "ALLOTTED_TIMEOUT", "NO_USER_RESPONSE"):
        return "no_answer"
    return "error"

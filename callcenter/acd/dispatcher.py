"""The ACD dispatcher: the single writer of queue and agent state.

Callers' actors, the engine and operators' changes post messages (``acd.messages``, frozen);
one greenlet applies them to the ``Board`` in order, then offers free agents to waiting
callers and answers through each asker's mailbox (a ``Seat``, an ``Offer``...). The board and
its tickets are this greenlet's alone: no other greenlet reads them. It reacts to messages and
to one timer (the next agent coming out of a rest or a wrap-up, a reservation expiring); it
never polls. What changed goes to the durable writer: queue stays by ticket and agent states,
so PostgreSQL being away costs nothing but delay.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import gevent
from gevent.queue import Empty, Queue

from callcenter.acd import callback, ewt
from callcenter.acd import messages as m
from callcenter.acd.auditor import Auditor
from callcenter.acd.board import (
    BUSY,
    REJECTED,
    UNREACHABLE,
    AgentChange,
    AgentSlot,
    Board,
    Member,
    Pacing,
    QueueSpec,
    Ticket,
)
from callcenter.acd.metrics import AcdMetrics, BoardFigures, figures
from callcenter.acd.rejoin import LONGEST, Rejoins
from callcenter.acd.rules import CallbackRules, Routing, RuleError, agent_overrides
from callcenter.errors import DatabaseUnavailable, MigrationError, NotFound
from callcenter.events.bus import EventBus
from callcenter.events.types import (
    AgentStateChanged,
    AgentStatusChanged,
    QueueCallbackEnded,
    QueueCallbackRequested,
)
from callcenter.ids import new_uuid
from callcenter.recording import policy
from callcenter.recording.on_call import QueueRecording
from callcenter.store.cache import LocalCache
from callcenter.store.database import Database
from callcenter.store.records import (
    AcdCounterRecord,
    AgentRecord,
    AgentStateRecord,
    OpenStaysClosed,
    QueueRecord,
    QueueStayRecord,
)
from callcenter.store.repos import AgentRepository, QueueRepository
from callcenter.store.repos.acd_state import AcdStateRepository
from callcenter.store.writer import DurableWriter
from callcenter.vocabulary import AgentState, AgentStatus, QueueOutcome, QueueStrategy

T = TypeVar("T")
log = logging.getLogger(__name__)

RETRY_LOAD_SECONDS = 5.0


@dataclass(slots=True)
class _Stay:
    """Wall-clock facts of a ticket, for its queue_entries row."""

    joined: datetime
    offered: datetime | None = None
    answered: datetime | None = None


# why a queue refused a caller -> the outcome its stay is recorded with
REFUSALS = {"full": QueueOutcome.FULL, "join_empty": QueueOutcome.NO_AGENT}


def spec_of(queue: QueueRecord) -> QueueSpec:
    try:
        routing = Routing.parse(queue.routing)
    except RuleError as exc:  # written around the service: the defaults, said loudly
        log.error("queue %s: routing settings ignored: %s", queue.name, exc)
        routing = Routing()
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
        routing=routing,
        rejoin_window=queue.rejoin_window_seconds,
        recording=QueueRecording(
            policy.of_queue(queue.recording_policy, queue.recording_sample_percent),
            queue.recording_announcement,
            tuple(m.extension for m in queue.members),
        ),
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
        self.auditor = Auditor(metrics.invariant_violations)
        self._service_level: dict[str, int] = dict(service_levels or {})
        self._inbox: Queue[object] = Queue()
        self._tickets: dict[str, Ticket] = {}  # every stay not yet closed, by ticket id
        self._replies: dict[str, m.Reply] = {}  # ticket id -> its caller's mailbox
        self._stays: dict[str, _Stay] = {}
        self._talking: dict[str, list[_Talk]] = {}  # call uuid -> agents answered for it
        self._reserved: dict[str, tuple[str, float]] = {}  # reservation -> extension, until
        self._loaded = False  # the first load closes the stays a previous run left open
        self._from_db = False  # loaded from the database (not only from the local cache)
        self._held: list[Ticket] = []  # joins that came before the first load
        self._last_since = 0
        self._greenlet: gevent.Greenlet[Any] | None = None
        self.handle_times = ewt.HandleTimes()  # this greenlet's; the API only reads means
        self.rejoins = Rejoins()
        self.callback_port: m.Reply | None = None  # rings agents for callbacks (app.py)
        self._retry_at: dict[str, float] = {}  # callback ticket -> when it stands in line again
        self._restored = False  # pending callbacks and kept places loaded from the database
        self._handlers: dict[type, Callable[[Any], None]] = {
            m.Join: self._join,
            m.Leave: self._leave,
            m.Suspend: self._suspend,
            m.OfferFailed: self._offer_failed,
            m.OfferAnswered: self._answered,
            m.AgentReleased: self._agent_released,
            m.AgentBusy: self._occupy,
            m.CallEnded: self._call_ended,
            m.Claim: self._claim,
            m.EndWrapUp: self._end_wrapup,
            m.Reserve: self._reserve,
            m.Bind: self._bind,
            m.Release: self._release,
            m.AskPosition: self._position,
            m.AskFigures: lambda ask: ask.reply.post(figures(self.board, self.clock())),
            m.AskRead: lambda ask: ask.reply.post(ask.read(self.board, self.clock())),
            m.AgentChanged: self._agent_changed,
            m.QueueChanged: self._queue_changed,
            m.Reload: self._reload_all,
            m.AskWait: self._wait,
            m.Returning: lambda r: self.rejoins.expect(r.ticket, r.queue, r.number),
            m.CallbackRequested: self._callback_requested,
            m.CallbackAnswered: self._callback_answered,
            m.CallbackDialled: self._callback_dialled,
            m.BridgedBefore: self._bridged_before,
        }
        metrics.watch(self.figures)

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
            self.post(_Call(self._load_or_retry))

    def _load_or_retry(self) -> None:
        if not self._from_db and not self._reload():
            gevent.spawn_later(RETRY_LOAD_SECONDS, self._retry_load)

    def stop(self) -> None:
        """Stop taking messages; agents whose wrap-up was running are written idle (a
        wrap-up does not outlive the engine: left as it was, the database showed them in
        wrap-up until the next start). Agents on calls left up for adoption stay in_call."""
        if self._greenlet is not None:
            self._greenlet.kill(block=True, timeout=5)
            self._greenlet = None
        self._save_agents(self.board.wrapups_done(self.clock(), all_of_them=True))

    def _crashed(self, greenlet: gevent.Greenlet[Any]) -> None:
        log.error("ACD dispatcher died: %r; restarting", greenlet.exception)
        self._greenlet = gevent.spawn_later(1.0, self._run)
        self._greenlet.link_exception(self._crashed)

    # -- what callers, the engine and operators post ----------------------------------------

    def post(self, message: object) -> None:
        """Any ``acd.messages`` request; answers go to its ``reply``."""
        self._inbox.put(message)

    def request_reload(self) -> None:
        """Everything again from the database (SIGHUP)."""
        self.post(m.Reload())

    def agent_changed(self, extension: str) -> None:
        """One agent was changed by an operator: read it (here, in the caller's greenlet: the
        dispatcher never waits on the database for it) and hand it to the board alone."""
        found, record = self._load_one("agent", extension)
        if found:
            self.post(m.AgentChanged(extension, record))

    def queue_changed(self, name: str) -> None:
        """One queue was changed by an operator: read it and hand it to the board alone."""
        found, record = self._load_one("queue", name)
        if found:
            self.post(m.QueueChanged(name, record))

    def busy(self, call_uuid: str, extension: str) -> None:
        """An agent is on ``call_uuid`` outside the queues (``calls.control.AgentPresence``)."""
        self.post(m.AgentBusy(extension, call_uuid))

    def claim(self, call_uuid: str, extension: str, reply: m.Reply) -> None:
        """Ring ``extension`` directly for ``call_uuid`` if it is free of calls and offers;
        the answer (``Reservation``, id: the call uuid) goes to ``reply``."""
        self.post(m.Claim(extension, call_uuid, reply))

    def end_wrapup(self, extension: str) -> None:
        """The agent ended its wrap-up (``*25``, through the change feed)."""
        self.post(m.EndWrapUp(extension))

    def call_ended(self, call_uuid: str) -> None:
        """The call is over (``calls.control.AgentPresence``): its agents are free again."""
        self.post(m.CallEnded(call_uuid))

    def released(self, call_uuid: str, extension: str) -> None:
        """The agent's leg left a live call (a transfer): wrap-up (``AgentPresence``)."""
        self.post(m.AgentReleased(call_uuid, extension))

    def bind(self, reservation: str, call_uuid: str, *, wrapup: bool = False) -> None:
        self.post(m.Bind(reservation, call_uuid, wrapup))

    def bridged_before(
        self, ticket: str, queue: str, call_uuid: str, extension: str, joined_us: int,
        priority: int = 0,
    ) -> None:  # fmt: skip
        """A queue caller found bridged after a restart (``AgentPresence``): answered."""
        self.post(m.BridgedBefore(ticket, queue, call_uuid, extension, joined_us, priority))

    def release(self, reservation: str, cause: str = "", queue: str | None = None) -> None:
        """Give the reservation back; ``cause``: why the agent's phone failed the call it
        was reserved for (rested as after a failed offer of ``queue``)."""
        self.post(m.Release(reservation, cause, queue))

    def reserve(self, extension: str, reply: m.Reply, seconds: float = 30.0) -> str:
        """Ask for ``extension``, idle and available, held for a call to come; the answer
        (``Reservation``) goes to ``reply``. Returns the reservation's id."""
        reservation = new_uuid()
        self.post(m.Reserve(reservation, extension, reply, seconds))
        return reservation

    def position(self, ticket: str, timeout: float = 2.0) -> int | None:
        """The caller's place in its queue now (1: next), asked and answered by message;
        None if the dispatcher did not answer in time."""
        answer = m.OneShot()
        self.post(m.AskPosition(ticket, answer))
        found = answer.get(timeout)
        return found.position if isinstance(found, m.Position) else None

    def wait(self, ticket: str, timeout: float = 2.0) -> m.Wait | None:
        """The caller's place and estimated wait now (``acd.ewt``), asked by message; None
        if the dispatcher did not answer in time."""
        answer = m.OneShot()
        self.post(m.AskWait(ticket, answer))
        found = answer.get(timeout)
        return found if isinstance(found, m.Wait) else None

    def figures(self, timeout: float = 2.0) -> BoardFigures | None:
        """The board's gauges, taken by the dispatcher's greenlet (asked by message); when
        it does not run (tests apply messages with ``drain``), taken here."""
        if self._greenlet is None or self._greenlet.dead:
            return figures(self.board, self.clock())
        answer = m.OneShot()
        self.post(m.AskFigures(answer))
        found = answer.get(timeout)
        return found if isinstance(found, BoardFigures) else None

    def read(self, read: Callable[[Board, float], T], timeout: float = 2.0) -> T | None:
        """``read(board, now)`` done by the dispatcher's greenlet, so no other greenlet reads
        the board it writes (when it does not run, as in tests applying messages with
        ``drain``, done here); None if it did not answer in time."""
        if self._greenlet is None or self._greenlet.dead:
            return read(self.board, self.clock())
        answer = m.OneShot()
        self.post(m.AskRead(read, answer))
        found = answer.get(timeout)
        return cast(T, found) if found is not None else None

    # -- the dispatcher greenlet ----------------------------------------------------------

    def _run(self) -> None:
        while True:
            now = self.clock()
            ready = self._next_timer(now)
            timeout = None if ready is None else max(0.0, ready - now) + 0.001
            try:
                item: object | None = self._inbox.get(timeout=timeout)
            except Empty:
                item = None
            while item is not None:
                self._handle(item)
                item = self._inbox.get_nowait() if not self._inbox.empty() else None
            self._step()

    def _handle(self, message: object) -> None:
        if isinstance(message, _Call):
            message.fn()
            return
        handler = self._handlers.get(type(message))
        if handler is None:
            log.error("ACD: unknown message %r dropped", message)
            return
        handler(message)

    def _next_timer(self, now: float) -> float | None:
        ready = self.board.next_ready(now)
        if self._reserved:
            until = min(deadline for _, deadline in self._reserved.values())
            ready = until if ready is None else min(ready, until)
        if self._retry_at:
            due = min(self._retry_at.values())
            ready = due if ready is None else min(ready, due)
        return ready

    def _step(self) -> None:
        now = self.clock()
        self._expire_reservations(now)
        self._retry_due(now)
        self._save_agents(self.board.wrapups_done(now))
        offered = self.board.match(now)
        for ticket in offered:
            if ticket.callback is not None:
                self._offer_callback(ticket)
                continue
            stay = self._stays.get(ticket.id)
            if stay is not None and stay.offered is None:
                stay.offered = _wall()
            for extension in ticket.offer or ():
                agent = self.board.agents[extension]
                self._save_agents([agent.change()])
            self._save_stay(ticket)
            spec = self.board.queues.get(ticket.queue)
            stagger = 0.0
            if spec is not None and spec.strategy is QueueStrategy.RING_PROGRESSIVELY:
                stagger = float(spec.routing.ring_progressively_delay)
            offer = m.Offer(ticket.id, ticket.offers, ticket.offer or (), stagger)
            self._answer(ticket.id, offer)
            self._save_queue_counter(ticket.queue)
            for extension in ticket.offer or ():
                self._save_agent_counter(extension)
        for ticket, why in self.board.exits(now):
            log.info(
                "call %s: queue %s sends the caller away: %s", ticket.call_uuid, ticket.queue, why
            )
            self._answer(ticket.id, m.Exit(ticket.id, QueueOutcome.NO_AGENT, why))
        talking = {t.ticket.id for talks in self._talking.values() for t in talks}
        self.auditor.after_step(self.board, offered, now, self._tickets.keys(), talking)

    def drain(self) -> None:
        """Apply everything posted so far, now, in the caller's greenlet (for tests)."""
        while not self._inbox.empty():
            self._handle(self._inbox.get_nowait())
        self._step()

    # -- configuration (run in the dispatcher greenlet only) --------------------------------

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
        first = not self._loaded
        self._configure(queues, agents)
        if first:
            self._restore_counters()
        if not self._restored:
            self._restore_waiting()
        return True

    def _restore_counters(self) -> None:
        """The round-robin places and agents' counters the last run left (a restart)."""
        try:
            with self.database.session_scope() as session:
                counters = AcdStateRepository(session).counters()
        except (DatabaseUnavailable, MigrationError) as exc:
            log.warning("ACD counters not restored: %s", exc)
            return
        now, wall = self.clock(), _wall()
        for counter in counters:
            data = counter.data
            if counter.scope == "queue" and isinstance(data.get("last_offered"), str):
                self.board.last_offered[counter.name] = data["last_offered"]
            agent = self.board.agents.get(counter.name) if counter.scope == "agent" else None
            if agent is None:
                continue
            agent.calls_answered = int(data.get("calls_answered", 0))
            agent.talk_seconds = float(data.get("talk_seconds", 0.0))
            offered_at = data.get("last_offered_at")
            if isinstance(offered_at, str):
                ago = (wall - datetime.fromisoformat(offered_at)).total_seconds()
                agent.last_offered = now - max(0.0, ago)
        log.info("ACD: %d counter(s) restored", len(counters))

    def _reload_all(self, _message: m.Reload) -> None:
        self._reload()

    def _configure_from_cache(self) -> bool:
        cached = self.cache.load_acd() if self.cache is not None else None
        if cached is None:
            return False
        self._configure(cached.queues, cached.agents)
        return True

    def _configure(self, queues: Sequence[QueueRecord], agents: Sequence[AgentRecord]) -> None:
        slots = [_slot(a) for a in agents]
        changes = self.board.configure([spec_of(q) for q in queues], slots, self.clock())
        self._service_level = {q.name: q.service_level_seconds for q in queues}
        self.metrics.queues_loaded(queues)
        self._save_agents(changes)
        for ticket in list(self.board.tickets.values()):
            if ticket.queue not in self.board.queues:  # deleted: its callers must move on
                self._queue_gone(ticket)
        if not self._loaded:
            self._loaded = True
            live = tuple(sorted(t.id for t in self._held))  # resumed meanwhile: kept open
            self.writer.write_acd(OpenStaysClosed(at=_wall(), reason="engine restarted", keep=live))
            held, self._held = self._held, []
            for ticket in held:
                self._enter(ticket)
        log.info("ACD: %d queue(s), %d agent(s) loaded", len(queues), len(agents))

    def _load_one(self, what: str, key: str) -> tuple[bool, Any]:
        """(answered by the database or the cache, the record or None when deleted)."""
        try:
            with self.database.session_scope() as session:
                if what == "agent":
                    return True, _or_none(AgentRepository(session).get, key)
                return True, _or_none(QueueRepository(session).get, key)
        except (DatabaseUnavailable, MigrationError) as exc:
            cached = self.cache.load_acd() if self.cache is not None else None
            if cached is None:
                log.warning("ACD: %s %s not reloaded (%s), no local cache", what, key, exc)
                return False, None
            log.warning("ACD: %s %s from the local cache: %s", what, key, exc)
            if what == "agent":
                return True, next((a for a in cached.agents if a.extension == key), None)
            return True, next((q for q in cached.queues if q.name == key), None)

    def _agent_changed(self, message: m.AgentChanged) -> None:
        record = message.record
        slot = _slot(record) if record is not None else None
        known = self.board.agents.get(message.extension)
        before = (known.status, known.pause_reason) if known is not None else None
        changes = self.board.set_agent(message.extension, slot, self.clock())
        self._save_agents(changes)
        now = self.board.agents.get(message.extension)
        if now is not None and before not in (None, (now.status, now.pause_reason)):
            # an operator's pause or ready, stored with its history row: told at once to
            # the live KPIs (and the bus), not left for their next look at the board
            self._announce(now.change(), now.pause_reason)
        log.info("ACD: agent %s %s", message.extension, "reloaded" if slot else "removed")

    def _queue_changed(self, message: m.QueueChanged) -> None:
        record = message.record
        if record is not None:
            self.board.set_queue(message.name, spec_of(record), self.clock())
            self._service_level[message.name] = record.service_level_seconds
            self.metrics.queue_changed(message.name, record)
            log.info("ACD: queue %s reloaded", message.name)
            return
        self.board.set_queue(message.name, None)
        self._service_level.pop(message.name, None)
        self.metrics.queue_changed(message.name, None)
        log.info("ACD: queue %s removed", message.name)
        for ticket in list(self.board.tickets.values()):
            if ticket.queue == message.name:
                self._queue_gone(ticket)

    # -- callers ----------------------------------------------------------------------------

    def _join(self, message: m.Join) -> None:
        ticket = Ticket(
            message.ticket, message.call_uuid, message.queue, message.priority,
            dict(message.skills),
        )  # fmt: skip
        ticket.since_us = message.since_us or self._rejoined(ticket)
        ticket.first_us = message.first_us
        self._tickets[ticket.id] = ticket
        self._replies[ticket.id] = message.reply
        self._enter(ticket)

    def _enter(self, ticket: Ticket) -> None:
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
            self._refused(ticket)
        else:
            self._stays[ticket.id] = _Stay(datetime.fromtimestamp(ticket.since_us / 1e6, UTC))
            self._save_stay(ticket)
            log.info(
                "call %s: joined queue %s at position %d (priority %d)",
                ticket.call_uuid, ticket.queue, ticket.position_at_join, ticket.priority,
            )  # fmt: skip
        seat = m.Seat(
            ticket.id, self.board.queues.get(ticket.queue), ticket.refused,
            ticket.position_at_join, ticket.since_us, ticket.deadline,
        )  # fmt: skip
        self._answer(ticket.id, seat)
        if ticket.refused is not None:
            self._forget(ticket)

    def _refused(self, ticket: Ticket) -> None:
        """A refusal of a queue that exists is a stay of its own: joined and left at once."""
        outcome = REFUSALS.get(ticket.refused or "")
        if outcome is None:
            return
        ticket.outcome = outcome
        self._stays[ticket.id] = _Stay(datetime.fromtimestamp(ticket.since_us / 1e6, UTC))
        self._count(ticket, outcome, 0.0)
        self._save_stay(ticket, ticket.refused)

    def _rejoined(self, ticket: Ticket) -> int:
        """The join time of the caller's stay abandoned within the queue's rejoin window."""
        spec = self.board.queues.get(ticket.queue)
        window = spec.rejoin_window if spec is not None else 0
        since = self.rejoins.place(ticket.id, window, self.clock())
        if since is None:
            return 0
        log.info("call %s: called again: back in queue %s at its place", ticket.call_uuid,
                 ticket.queue)  # fmt: skip
        return since

    def _offer_failed(self, message: m.OfferFailed) -> None:
        ticket = self._tickets.get(message.ticket)
        if ticket is None:
            return
        changes = self.board.offer_failed(ticket, message.extension, message.cause, self.clock(),
                                          caller_gone=message.caller_gone)  # fmt: skip
        self._save_agents(changes)
        result = _result(message.cause)
        if message.cause in BUSY and not _held_elsewhere(changes):
            result = "rejected"  # the phone was free: its user pressed reject (busy button)
        self.metrics.offers_by(ticket.queue, result).inc()

    def _answered(self, message: m.OfferAnswered) -> None:
        ticket = self._tickets.get(message.ticket)
        if ticket is None:
            return
        extension = message.extension
        self._withdraw(ticket, keep=extension)  # ring-all: the phones that lost the race
        now = self.clock()
        self._save_agents(self.board.answered(ticket, extension, now))
        self._save_agent_counter(extension)
        self._talking.setdefault(message.call_uuid, []).append(_Talk(ticket, extension, now))
        stay = self._stays.get(ticket.id)
        if stay is not None:
            stay.answered = _wall()
        waited = self.clock() - ticket.joined_at
        self.metrics.offers_by(ticket.queue, "answered").inc()
        self._count(ticket, QueueOutcome.ANSWERED, waited)
        if waited <= self._service_level.get(ticket.queue, 0):
            self.metrics.answered_in_sla_by(ticket.queue).inc()
        self._save_stay(ticket)
        self._forget(ticket)

    def _leave(self, message: m.Leave) -> None:
        ticket = self._tickets.get(message.ticket)
        if ticket is None:
            return
        self._unhold(ticket)
        self._withdraw(ticket)
        if ticket.accepted and ticket.outcome is None:
            self.board.leave(ticket, message.outcome)
            self._count(ticket, message.outcome, self.clock() - ticket.joined_at)
            self._save_stay(ticket, message.reason)
            log.info("call %s: left queue %s: %s", ticket.call_uuid, ticket.queue, message.outcome)
        self._forget(ticket)

    def _suspend(self, message: m.Suspend) -> None:
        ticket = self._tickets.get(message.ticket)
        if ticket is None:
            return
        self._unhold(ticket)
        self._withdraw(ticket)
        if ticket.callback is not None:
            return  # the caller handed its place to a callback: it waits on without it
        self.board.tickets.pop(ticket.id, None)
        self._forget(ticket, suspended=True)

    def _position(self, message: m.AskPosition) -> None:
        ticket = self._tickets.get(message.ticket)
        place = self.board.position(ticket) if ticket is not None and ticket.waiting else 0
        message.reply.post(m.Position(message.ticket, place))

    def _wait(self, message: m.AskWait) -> None:
        ticket = self._tickets.get(message.ticket)
        if ticket is None or not ticket.waiting:
            message.reply.post(m.Wait(message.ticket, 0, None))
            return
        seconds = ewt.for_ticket(self.board, ticket, self.handle_times, self.clock())
        message.reply.post(m.Wait(message.ticket, self.board.position(ticket), seconds))

    # -- agents on calls ----------------------------------------------------------------------

    def _occupy(self, message: m.AgentBusy) -> None:
        hold = _hold(message.call_uuid)
        self._save_agents(self.board.occupy(message.extension, hold, self.clock()))

    def _claim(self, message: m.Claim) -> None:
        refused, changes = self.board.claim(
            message.extension, _hold(message.call_uuid), self.clock()
        )
        self._save_agents(changes)
        message.reply.post(m.Reservation(message.call_uuid, message.extension, refused))

    def _end_wrapup(self, message: m.EndWrapUp) -> None:
        self._save_agents(self.board.end_wrapup(message.extension, self.clock()))

    def _agent_released(self, message: m.AgentReleased) -> None:
        talks = self._talking.get(message.call_uuid, [])
        for talk in [t for t in talks if t.extension == message.extension]:
            talks.remove(talk)
            self._wrap_up(talk)
        hold = _hold(message.call_uuid)
        self._save_agents(self.board.vacate(message.extension, hold, self.clock()))

    def _call_ended(self, message: m.CallEnded) -> None:
        for talk in self._talking.pop(message.call_uuid, []):
            self._wrap_up(talk)
        hold = _hold(message.call_uuid)
        for agent in [a for a in self.board.agents.values() if hold in a.holds]:
            self._save_agents(self.board.vacate(agent.extension, hold, self.clock()))

    def _wrap_up(self, talk: _Talk) -> None:
        now = self.clock()
        seconds = max(0.0, now - talk.since)
        agent = self.board.agents.get(talk.extension)
        wrapup = agent.wrapup_seconds if agent is not None else 0
        self.handle_times.record(talk.ticket.queue, seconds + wrapup)
        changes = self.board.released(talk.ticket, talk.extension, seconds, now, wrapup=True)
        self._save_agents(changes)
        self._save_agent_counter(talk.extension)

    def _reserve(self, message: m.Reserve) -> None:
        agent = self.board.agents.get(message.extension)
        now = self.clock()
        refused = _refusal(agent, now)
        if refused is None:
            reserved = self.board.occupy(message.extension, _reservation(message.id), now)
            self._save_agents(reserved)
            self._reserved[message.id] = (message.extension, now + message.seconds)
            log.info("agent %s reserved (%s)", message.extension, message.id)
        message.reply.post(m.Reservation(message.id, message.extension, refused))

    def _bind(self, message: m.Bind) -> None:
        held = self._reserved.pop(message.id, None)
        if held is None:
            return  # expired or released meanwhile
        extension = held[0]
        agent = self.board.agents.get(extension)
        if message.wrapup and agent is not None and agent.wrapup_seconds > 0:
            agent.wrapup_due = True  # vacate() puts it in wrap-up when the call ends
        self._save_agents(self.board.occupy(extension, _hold(message.call_uuid), self.clock()))
        self._save_agents(self.board.vacate(extension, _reservation(message.id), self.clock()))

    def _release(self, message: m.Release) -> None:
        held = self._reserved.pop(message.id, None)
        if held is not None:
            now = self.clock()
            vacated = self.board.vacate(held[0], _reservation(message.id), now)
            self._save_agents(vacated)
            if message.cause:
                failed = self.board.reservation_failed(held[0], message.queue, message.cause, now)
                self._save_agents(failed)

    def _expire_reservations(self, now: float) -> None:
        for reservation, (extension, until) in list(self._reserved.items()):
            if until <= now:
                log.info("agent %s: reservation %s expired", extension, reservation)
                self._release(m.Release(reservation))

    # -- callbacks that keep the caller's place (acd.callback) -------------------------

    def _callback_requested(self, message: m.CallbackRequested) -> None:
        ticket = self._tickets.get(message.ticket)
        if ticket is None or not ticket.waiting or ticket.callback is not None:
            message.reply.post(m.CallbackTaken(message.ticket, "not waiting"))
            return
        self._withdraw(ticket)  # an offer that came during the caller's choice: not rung
        ticket.callback = message.number
        self._replies.pop(ticket.id, None)  # the caller hangs up: its offers go to the port
        self._save_stay(ticket, "callback requested")
        message.reply.post(m.CallbackTaken(ticket.id))
        self.events.publish(
            QueueCallbackRequested(call_uuid=ticket.call_uuid, queue=ticket.queue,
                                   number=message.number)
        )  # fmt: skip
        log.info("call %s: queue %s will call back %s at its place", ticket.call_uuid,
                 ticket.queue, message.number)  # fmt: skip

    def _offer_callback(self, ticket: Ticket) -> None:
        """Ring the agent the board chose (one: ``Board.match``) for the callback."""
        first = (ticket.offer or ("",))[0]
        stay = self._stays.get(ticket.id)
        if stay is not None and stay.offered is None:
            stay.offered = _wall()
        agent = self.board.agents[first]
        self._save_agents([agent.change()])
        self._save_stay(ticket, "callback: ringing the agent")
        self._save_agent_counter(first)
        spec = self.board.queues.get(ticket.queue)
        rules = spec.routing.callback if spec is not None else CallbackRules()
        offer = m.CallbackOffer(
            ticket.id, ticket.queue, ticket.callback or "", first,
            ticket.callback_attempts + 1, rules.ring_seconds,
        )  # fmt: skip
        if self.callback_port is None:
            log.error("call %s: no callback dialler: agent %s not rung", ticket.call_uuid, first)
            self._offer_failed(m.OfferFailed(ticket.id, first, "ENGINE_DISCONNECTED"))
            return
        self.callback_port.post(offer)

    def _callback_answered(self, message: m.CallbackAnswered) -> None:
        """The agent took the callback's leg: in a call now, the customer dialled next."""
        ticket = self._tickets.get(message.ticket)
        offered = ticket is not None and message.extension in (ticket.offer or ())
        if ticket is None or not offered:
            message.reply.post(m.Reservation(message.ticket, message.extension, "not offered"))
            return
        now = self.clock()
        self._save_agents(self.board.answered(ticket, message.extension, now))
        ticket.outcome = None  # answered by the agent; the customer's answer decides
        self._talking.setdefault(message.call_uuid, []).append(
            _Talk(ticket, message.extension, now)
        )
        self._save_stay(ticket, f"callback attempt {ticket.callback_attempts + 1}: dialling")
        message.reply.post(m.Reservation(message.ticket, message.extension))

    def _callback_dialled(self, message: m.CallbackDialled) -> None:
        ticket = self._tickets.get(message.ticket)
        talks = self._talking.get(message.call_uuid, [])
        talk = next((t for t in talks if t.ticket.id == message.ticket), None)
        if ticket is None or talk is None:
            return
        spec = self.board.queues.get(ticket.queue)
        rules = spec.routing.callback if spec is not None else CallbackRules()
        result = callback.result_of(message.cause)
        step = callback.after_attempt(result, ticket.callback_attempts, rules)
        ticket.callback_attempts, ticket.callback_result = step.attempts, str(result)
        now = self.clock()
        if step.outcome is QueueOutcome.CALLBACK_ANSWERED:
            stay = self._stays.get(ticket.id)
            if stay is not None:
                stay.answered = _wall()
            self._close_callback(ticket, step.outcome, "customer answered")
            return
        talks.remove(talk)  # the agent goes back to idle (or wrap-up, as the queue says)
        seconds = max(0.0, now - talk.since)
        released = self.board.released(ticket, talk.extension, seconds, now, wrapup=rules.wrapup)
        self._save_agents(released)
        ticket.agent, ticket.outcome, ticket.offer = None, None, None
        why = f"callback attempt {step.attempts}: {result}"
        if step.outcome is not None:
            self._close_callback(ticket, step.outcome, why)
            return
        self._retry_at[ticket.id] = now + step.retry_in
        self._save_stay(ticket, f"{why}; again in {step.retry_in:.0f} s")
        log.info("call %s: %s, again in %.0f s", ticket.call_uuid, why, step.retry_in)

    def _close_callback(self, ticket: Ticket, outcome: QueueOutcome, why: str) -> None:
        self._withdraw(ticket)  # an agent still rung for it is freed (its answer is refused)
        ticket.outcome = outcome
        self.board.tickets.pop(ticket.id, None)
        self._count(ticket, outcome, max(0.0, _wall().timestamp() - ticket.since_us / 1e6))
        self._save_stay(ticket, why)
        self.events.publish(
            QueueCallbackEnded(call_uuid=ticket.call_uuid, queue=ticket.queue,
                               number=ticket.callback or "", outcome=str(outcome),
                               attempts=ticket.callback_attempts)
        )  # fmt: skip
        log.info("call %s: callback of queue %s: %s (%s)", ticket.call_uuid, ticket.queue,
                 outcome, why)  # fmt: skip
        self._forget(ticket)

    def _queue_gone(self, ticket: Ticket) -> None:
        """The caller's queue was deleted: a caller moves on, a callback fails."""
        if ticket.callback is None:
            self._answer(ticket.id, m.QueueGone(ticket.id))
        elif ticket.agent is None:  # not while its agent dials the customer
            self._close_callback(ticket, QueueOutcome.CALLBACK_FAILED, "queue deleted")

    def _retry_due(self, now: float) -> None:
        """Callbacks whose retry delay is over stand in line again, at their place."""
        for ticket_id, due in list(self._retry_at.items()):
            ticket = self._tickets.get(ticket_id)
            if ticket is None:
                del self._retry_at[ticket_id]
            elif ticket.queue not in self.board.queues:
                del self._retry_at[ticket_id]
                self._queue_gone(ticket)
            elif due <= now:
                del self._retry_at[ticket_id]
                self.board.tickets[ticket.id] = ticket

    def resume_callbacks(self, pending: Sequence[QueueStayRecord]) -> None:
        """Callbacks the last run took and did not end: in line again, each at its place
        (its join time), to be offered like any caller (in the dispatcher's greenlet)."""
        for stay in pending:
            if stay.ticket in self._tickets or stay.callback_number is None:
                continue
            ticket = Ticket(stay.ticket, stay.call_uuid, stay.queue, stay.priority)
            ticket.since_us = int(stay.joined_at.timestamp() * 1_000_000)
            ticket.callback, ticket.callback_attempts = stay.callback_number, stay.callback_attempts
            ticket.callback_result = stay.callback_result
            self._tickets[ticket.id] = ticket
            self._stays[ticket.id] = _Stay(stay.joined_at, stay.offered_at)
            self._enter(ticket)

    def _bridged_before(self, message: m.BridgedBefore) -> None:
        if message.ticket in self._tickets:
            return  # this run knows the stay (resumed, then bridged)
        joined = datetime.fromtimestamp(message.joined_us / 1e6, UTC) if message.joined_us else None
        at = _wall()
        self.writer.write_acd(
            QueueStayRecord(
                ticket=message.ticket, queue=message.queue, call_uuid=message.call_uuid,
                priority=message.priority, position_at_join=1, joined_at=joined or at, offers=1,
                offered_at=joined or at, answered_at=at, agent_extension=message.extension,
                left_at=at, outcome=QueueOutcome.ANSWERED,
                reason="bridged when the engine restarted",
            )
        )  # fmt: skip
        log.info("call %s: bridged to agent %s across a restart: stay answered",
                 message.call_uuid, message.extension)  # fmt: skip

    def _restore_waiting(self) -> None:
        """After a restart: the callbacks still to make, back in line at their place, and
        the places kept for callers who hung up (``acd.rejoin``)."""
        try:
            with self.database.session_scope() as session:
                repo = AcdStateRepository(session)
                pending = repo.pending_callbacks()
                places = repo.kept_places(_wall() - timedelta(seconds=LONGEST))
        except (DatabaseUnavailable, MigrationError) as exc:
            log.warning("ACD: callbacks and kept places not loaded yet: %s", exc)
            return
        self._restored = True
        self.resume_callbacks(pending)
        now, wall = self.clock(), _wall()
        for place in places:
            ago = max(0.0, (wall - place.left_at).total_seconds())
            self.rejoins.restore(place.queue, place.number, place.since_us, now - ago)
        log.info("ACD: %d callback(s), %d kept place(s) loaded", len(pending), len(places))

    # -- helpers --------------------------------------------------------------------------

    def _withdraw(self, ticket: Ticket, keep: str | None = None) -> None:
        """Free the phones still offered this caller (but ``keep``), at no fault of theirs."""
        for extension in ticket.offer or ():
            if extension != keep:
                changes = self.board.offer_failed(
                    ticket, extension, "ORIGINATOR_CANCEL", self.clock()
                )
                self._save_agents(changes)

    def _unhold(self, ticket: Ticket) -> None:
        if ticket in self._held:
            self._held.remove(ticket)  # gave up before the queues were loaded

    def _count(self, ticket: Ticket, outcome: QueueOutcome, waited: float) -> None:
        self.auditor.closed(ticket.id)
        self.metrics.calls_by(ticket.queue, outcome).inc()
        self.metrics.wait_by(ticket.queue, outcome).observe(waited)
        self.metrics.stay_closed(ticket.queue, outcome, waited)

    def _answer(self, ticket: str, message: object) -> None:
        reply = self._replies.get(ticket)
        if reply is not None:
            reply.post(message)

    def _forget(self, ticket: Ticket, *, suspended: bool = False) -> None:
        if ticket.accepted and ticket.outcome is None and not suspended:
            self.auditor.report([("no_outcome", f"stay {ticket.id} closed without an outcome")])
        abandoned = ticket.outcome is QueueOutcome.ABANDONED
        self.rejoins.closed(ticket.id, abandoned=abandoned, since_us=ticket.since_us,
                            now=self.clock())  # fmt: skip
        self._tickets.pop(ticket.id, None)
        self._replies.pop(ticket.id, None)
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
                caller_number=self.rejoins.number_of(ticket.id),
                callback_number=ticket.callback,
                callback_attempts=ticket.callback_attempts,
                callback_result=ticket.callback_result,
            )
        )

    def _save_queue_counter(self, queue: str) -> None:
        last = self.board.last_offered.get(queue)
        if last is not None:
            self.writer.write_acd(AcdCounterRecord("queue", queue, {"last_offered": last}))

    def _save_agent_counter(self, extension: str) -> None:
        agent = self.board.agents.get(extension)
        if agent is None:
            return
        ago = max(0.0, self.clock() - agent.last_offered) if agent.last_offered else None
        data: dict[str, Any] = {
            "calls_answered": agent.calls_answered,
            "talk_seconds": round(agent.talk_seconds, 3),
        }
        if ago is not None:
            data["last_offered_at"] = (_wall() - timedelta(seconds=ago)).isoformat()
        self.writer.write_acd(AcdCounterRecord("agent", extension, data))

    def _save_agents(self, changes: list[AgentChange]) -> None:
        if not changes:
            return
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
                    missed=change.missed,
                    queue=change.queue,
                )
            )
            self._announce(change, at=at)
            if change.reason is not None:
                log.warning("agent %s: %s: %s", change.extension, change.status, change.reason)
                slot = self.board.agents.get(change.extension)
                if slot is not None:
                    slot.status_at = at  # newer than the database until the write lands

    def _announce(
        self, change: AgentChange, reason: str | None = None, at: datetime | None = None
    ) -> None:
        """``reason``: an operator's pause reason (its own event is already in the outbox);
        ``at``: the time of its history row (the live KPIs count from the same moment)."""
        ext, status = change.extension, str(change.status)
        paused = change.status is AgentStatus.PAUSED
        changed = AgentStateChanged(
            agent_extension=ext, state=str(change.state), status=status, missed=change.missed,
            reason=(change.reason or reason) if paused else None, queue=change.queue,
            at=at or _wall(),
        )  # fmt: skip
        self.events.publish(changed)
        if change.reason is not None:  # the engine changed the status (e.g. no answer: paused)
            self.events.publish(
                AgentStatusChanged(agent_extension=ext, status=status, reason=change.reason)
            )


@dataclass(frozen=True, slots=True)
class _Call:
    """A function to run in the dispatcher greenlet (its own retries)."""

    fn: Callable[[], None]


@dataclass(slots=True)
class _Talk:
    """An agent who answered a queue caller, until the agent's leg or the call ends."""

    ticket: Ticket
    extension: str
    since: float


def _slot(agent: AgentRecord) -> AgentSlot:
    try:
        failure = agent_overrides(agent.routing)
    except RuleError as exc:
        log.error("agent %s: failure policy ignored: %s", agent.extension, exc)
        failure = {}
    return AgentSlot(
        agent.extension,
        agent.status,
        skills=dict(agent.skills),
        wrapup_seconds=agent.wrapup_seconds,
        status_at=agent.status_changed_at,
        on_demand=agent.on_demand,
        failure=failure,
        pause_reason=agent.pause_reason,
    )


def _held_elsewhere(changes: list[AgentChange]) -> bool:
    """The agent whose offer failed is on another call (its phone was busy for real)."""
    return any(change.state is AgentState.IN_CALL for change in changes)


def _or_none(get: Callable[[str], Any], key: str) -> Any:
    try:
        return get(key)
    except NotFound:
        return None


def _hold(call_uuid: str) -> str:
    return f"call:{call_uuid}"


def _reservation(reservation: str) -> str:
    return f"reserve:{reservation}"


def _refusal(agent: AgentSlot | None, now: float) -> str | None:
    if agent is None or agent.removed:
        return "unknown_agent"
    if agent.status is not AgentStatus.AVAILABLE:
        return str(agent.status)
    if not agent.free(now):
        return "busy" if agent.state is AgentState.IDLE else str(agent.state)
    return None


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
    if cause == REJECTED:
        return "rejected"
    if cause in BUSY:
        return "busy"
    if cause in ("NO_ANSWER", "ALLOTTED_TIMEOUT", "NO_USER_RESPONSE"):
        return "no_answer"
    return "error"

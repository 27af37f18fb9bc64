"""The dispatcher and its board under random traffic: a hypothesis state machine.

Callers join (priorities, skills), leave, are offered agents who answer or fail in every way
FreeSWITCH fails; agents log in, pause, log out; the configuration reloads; the engine
restarts (waiting callers resume their stays, callbacks are loaded back); callers hang up
for a callback that keeps their place, whose agent answers or not, whose customer answers
or not (``acd.callback``). After every step the auditor's checks run
on the whole board (``acd.auditor``): no agent offered two calls, no agent offering or in a
call without the live call, no caller passed over by a later caller of equal or lower
priority while an agent was free for both. At the end every stay has exactly one outcome.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from prometheus_client import CollectorRegistry

from callcenter.acd import messages as m
from callcenter.acd.auditor import board_violations
from callcenter.acd.dispatcher import Dispatcher
from callcenter.acd.metrics import AcdMetrics
from callcenter.store.records import AgentRecord, QueueMemberRecord, QueueRecord, QueueStayRecord
from callcenter.vocabulary import AgentState, AgentStatus, QueueOutcome, QueueStrategy

AGENTS = ("a0", "a1", "a2", "a3", "a4")
QUEUES = ("q0", "q1")
CAUSES = ("NO_ANSWER", "USER_BUSY", "CALL_REJECTED", "USER_NOT_REGISTERED", "ORIGINATOR_CANCEL",
          "ENGINE_DISCONNECTED")  # fmt: skip
ROUTINGS = (
    {},
    {"relax": "after 20s: en >= 1; after 40s: drop en", "tier_wait_seconds": 15},
    {"tier_wait_seconds": 10, "tier_wait_multiply": True, "tier_no_agent_no_wait": True},
    {"max_wait_no_agent_seconds": 30, "no_agent_grace_seconds": 5, "leave_empty": "unavailable"},
    {"join_empty": "paused,unavailable", "max_no_answer": 1, "no_answer_delay": 3},
    {"callback_key": "5", "callback_attempts": 2, "callback_retry_seconds": 5},
)
CUSTOMER = (None, "NO_ANSWER", "USER_BUSY", "NO_ROUTE_DESTINATION", "AGENT_LEFT")


class Writer:
    def __init__(self) -> None:
        self.records: list[Any] = []

    def write_acd(self, record: Any) -> None:
        self.records.append(record)


class Caller:
    """A caller's mailbox, and what it does with what the dispatcher says."""

    def __init__(self, ticket: str) -> None:
        self.ticket = ticket
        self.messages: list[object] = []

    def post(self, message: object) -> None:
        self.messages.append(message)


def agent_record(ext: str, status: AgentStatus, skills: dict[str, int]) -> AgentRecord:
    return AgentRecord(
        id=AGENTS.index(ext) + 1, extension=ext, display_name=ext, wrapup_seconds=2,
        status=status, state=AgentState.IDLE, status_changed_at=datetime.now(UTC),
        skills=skills,
    )  # fmt: skip


def queue_record(
    name: str, strategy: QueueStrategy, members: list[tuple[str, int, int]], routing: dict[str, Any]
) -> QueueRecord:
    return QueueRecord(
        id=QUEUES.index(name) + 1, name=name, strategy=strategy, max_wait_seconds=0,
        max_callers=4, agent_ring_seconds=5, service_level_seconds=20, music_on_hold="moh",
        announcements={}, announce_position_seconds=0, overflow_target=None,
        recording_policy="none", recording_sample_percent=100,  # type: ignore[arg-type]
        callback_enabled=False, members=tuple(QueueMemberRecord(*m) for m in members),
        required_skills={"en": 2} if routing.get("relax") else {}, routing=routing,
    )  # fmt: skip


class AcdMachine(RuleBasedStateMachine):
    tickets = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self.now = 1000.0
        self.writer = Writer()
        self.callers: dict[str, Caller] = {}
        self.in_call: dict[str, str] = {}  # call uuid -> ticket, answered and talking
        self.port = Caller("callbacks")  # the dispatcher's callback port: CallbackOffers
        self.dialling: dict[str, str] = {}  # a callback's call -> ticket: the customer rings
        self.seq = 0
        self.dispatcher = self._new_dispatcher()

    def _new_dispatcher(self) -> Dispatcher:
        dispatcher = Dispatcher(
            None,  # type: ignore[arg-type]  # configured below, never loaded
            self.writer,  # type: ignore[arg-type]
            AcdMetrics(CollectorRegistry()),
            clock=lambda: self.now,
        )
        dispatcher.auditor.interval = 0.0  # the whole sweep after every step
        dispatcher.board.rng = random.Random(0)  # random strategies: the same on a replay
        dispatcher.callback_port = self.port
        return dispatcher

    @initialize(
        strategies=st.lists(st.sampled_from(list(QueueStrategy)), min_size=2, max_size=2),
        routings=st.lists(st.sampled_from(ROUTINGS), min_size=2, max_size=2),
        tiers=st.lists(st.integers(1, 3), min_size=len(AGENTS), max_size=len(AGENTS)),
        skills=st.lists(st.integers(0, 3), min_size=len(AGENTS), max_size=len(AGENTS)),
    )
    def configure(
        self, strategies: list[QueueStrategy], routings: list[dict[str, Any]],
        tiers: list[int], skills: list[int],
    ) -> None:  # fmt: skip
        self.queues = [
            queue_record(
                name, strategies[i],
                [(ext, tiers[j], j + 1) for j, ext in enumerate(AGENTS) if (i + j) % 3 != 2],
                routings[i],
            )
            for i, name in enumerate(QUEUES)
        ]  # fmt: skip
        self.agents = {
            ext: agent_record(ext, AgentStatus.AVAILABLE, {"en": skills[j]})
            for j, ext in enumerate(AGENTS)
        }
        self.dispatcher._configure(self.queues, list(self.agents.values()))
        self.dispatcher.drain()

    # -- what happens ---------------------------------------------------------------------

    def step(self) -> None:
        self.dispatcher.drain()
        for caller in list(self.callers.values()):
            for message in caller.messages:
                if isinstance(message, m.Seat) and not message.accepted:
                    self.callers.pop(caller.ticket, None)
                elif isinstance(message, m.Exit):  # the caller goes to the overflow target
                    self.dispatcher.post(m.Leave(caller.ticket, message.outcome, message.reason))
                    self.callers.pop(caller.ticket, None)
            caller.messages.clear()
        self.dispatcher.drain()

    @rule(target=tickets, queue=st.sampled_from(QUEUES), priority=st.integers(0, 2),
          en=st.sampled_from([None, 1, 3]))  # fmt: skip
    def join(self, queue: str, priority: int, en: int | None) -> str:
        self.seq += 1
        ticket = f"t{self.seq}"
        self.callers[ticket] = caller = Caller(ticket)
        skills = (("en", en),) if en is not None else ()
        self.dispatcher.post(m.Join(ticket, f"call-{ticket}", queue, caller, priority, skills))
        self.step()
        return ticket

    @rule(ticket=tickets)
    def hang_up(self, ticket: str) -> None:
        if ticket in self.callers:
            self.callers.pop(ticket)
            self.dispatcher.post(m.Leave(ticket, QueueOutcome.ABANDONED, "caller hung up"))
            self.step()

    def _ringing(self) -> list[tuple[str, str]]:
        board = self.dispatcher.board
        return sorted(
            (t.id, ext) for t in board.tickets.values() for ext in t.offer or ()
            if t.id in self.callers
        )  # fmt: skip

    @precondition(lambda self: bool(self._ringing()))
    @rule(data=st.data())
    def answer(self, data: st.DataObject) -> None:
        ticket, ext = data.draw(st.sampled_from(self._ringing()))
        self.callers.pop(ticket)
        self.dispatcher.post(m.OfferAnswered(ticket, ext, f"call-{ticket}"))
        self.in_call[f"call-{ticket}"] = ticket
        self.step()

    @precondition(lambda self: bool(self._ringing()))
    @rule(data=st.data(), cause=st.sampled_from(CAUSES))
    def fail(self, data: st.DataObject, cause: str) -> None:
        ticket, ext = data.draw(st.sampled_from(self._ringing()))
        self.dispatcher.post(m.OfferFailed(ticket, ext, cause))
        self.step()

    @precondition(lambda self: bool(self.in_call))
    @rule(data=st.data())
    def call_ends(self, data: st.DataObject) -> None:
        call = data.draw(st.sampled_from(sorted(self.in_call)))
        self.in_call.pop(call)
        self.dispatcher.post(m.CallEnded(call))
        self.step()

    # -- callbacks --------------------------------------------------------------------------

    def _waiting(self) -> list[str]:
        board = self.dispatcher.board
        return sorted(t for t in self.callers if t in board.tickets and board.tickets[t].waiting)

    @precondition(lambda self: bool(self._waiting()))
    @rule(data=st.data())
    def ask_callback(self, data: st.DataObject) -> None:
        """The caller presses the callback key, confirms its number and hangs up."""
        ticket = data.draw(st.sampled_from(self._waiting()))
        caller = self.callers[ticket]
        self.dispatcher.post(m.CallbackRequested(ticket, "15550100000", caller))
        self.dispatcher.drain()
        if any(isinstance(x, m.CallbackTaken) and x.accepted for x in caller.messages):
            self.callers.pop(ticket)
        self.step()

    def _callback_offers(self) -> list[tuple[str, str]]:
        """Callback offers whose agent is still offered that ticket."""
        board = self.dispatcher.board
        return sorted(
            (o.ticket, o.extension) for o in self.port.messages
            if isinstance(o, m.CallbackOffer) and o.ticket in board.tickets
            and o.extension in (board.tickets[o.ticket].offer or ())
        )  # fmt: skip

    @precondition(lambda self: bool(self._callback_offers()))
    @rule(
        data=st.data(), answered=st.booleans(), cause=st.sampled_from(CAUSES),
        customer=st.sampled_from(("later", *CUSTOMER)),
    )  # fmt: skip
    def callback_agent(
        self, data: st.DataObject, answered: bool, cause: str, customer: str | None
    ) -> None:
        ticket, ext = data.draw(st.sampled_from(self._callback_offers()))
        if not answered:
            self.dispatcher.post(m.OfferFailed(ticket, ext, cause))
            self.step()
            return
        self.seq += 1
        call, reply = f"cb-{ticket}-{self.seq}", Caller(ticket)
        self.dispatcher.post(m.CallbackAnswered(ticket, ext, call, reply))
        self.dispatcher.drain()
        [granted] = reply.messages
        assert isinstance(granted, m.Reservation) and granted.granted
        self.dialling[call] = ticket
        self.step()
        if customer != "later":  # the customer answers, or not, before anything else
            self._customer(call, customer)

    @precondition(lambda self: bool(self.dialling))
    @rule(data=st.data(), cause=st.sampled_from(CUSTOMER))
    def customer(self, data: st.DataObject, cause: str | None) -> None:
        self._customer(data.draw(st.sampled_from(sorted(self.dialling))), cause)

    def _customer(self, call: str, cause: str | None) -> None:
        ticket = self.dialling.pop(call)
        self.dispatcher.post(m.CallbackDialled(ticket, call, cause))
        if cause is None:
            self.in_call[call] = ticket  # talking until the call ends
        else:
            self.dispatcher.post(m.CallEnded(call))  # the agent hears a tone, hung up
        self.step()

    def _pending_callbacks(self, old: Dispatcher) -> list[QueueStayRecord]:
        """What the database holds for the callbacks still to make (their last write)."""
        last = {r.ticket: r for r in self.writer.records if isinstance(r, QueueStayRecord)}
        return [
            last[t.id] for t in old._tickets.values()
            if t.callback is not None and t.id in last and last[t.id].outcome is None
        ]  # fmt: skip

    @rule(ext=st.sampled_from(AGENTS), status=st.sampled_from(list(AgentStatus)))
    def status(self, ext: str, status: AgentStatus) -> None:
        record = agent_record(ext, status, self.agents[ext].skills)
        self.agents[ext] = record
        self.dispatcher.post(m.AgentChanged(ext, record))
        self.step()

    @rule(seconds=st.sampled_from([0.5, 3.0, 11.0, 25.0]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds
        self.step()

    @rule()
    def reload(self) -> None:
        self.dispatcher._configure(self.queues, list(self.agents.values()))
        self.step()

    @rule()
    def restart(self) -> None:
        """The engine stops: waiting callers keep their place, calls go on; a new dispatcher
        loads the configuration, the calls are adopted, the callers resume their stays."""
        old = self.dispatcher
        since = {t: old._tickets[t].since_us for t in self.callers if t in old._tickets}
        queue_of = {t: old._tickets[t].queue for t in self.callers if t in old._tickets}
        for ticket in list(self.callers):
            old.post(m.Suspend(ticket))
        old.drain()
        talking = [(call, talk.extension) for call, talks in old._talking.items() for talk in talks]
        pending = self._pending_callbacks(old)
        self.port.messages.clear()  # a phone ringing for a callback is hung up at adoption
        self.dialling.clear()  # an adopted callback's call hangs up: its agent is busy until
        self.dispatcher = self._new_dispatcher()
        self.dispatcher._configure(self.queues, list(self.agents.values()))
        self.dispatcher.resume_callbacks(pending)
        for call, ext in talking:
            self.dispatcher.post(m.AgentBusy(ext, call))
            self.in_call[call] = self.in_call.get(call, "")
        for ticket, caller in list(self.callers.items()):
            if ticket not in since:
                self.callers.pop(ticket)
                continue
            caller.messages.clear()
            self.dispatcher.post(
                m.Join(ticket, f"call-{ticket}", queue_of[ticket], caller, since_us=since[ticket])
            )
        self.step()

    # -- what must hold -------------------------------------------------------------------

    @invariant()
    def board_is_sound(self) -> None:
        dispatcher = self.dispatcher
        talking = {t.ticket.id for talks in dispatcher._talking.values() for t in talks}
        found = board_violations(dispatcher.board, self.now, dispatcher._tickets.keys(), talking)
        assert found == [], found
        assert dispatcher.auditor.count == 0

    @invariant()
    def one_outcome_per_stay(self) -> None:
        outcomes: dict[str, set[QueueOutcome]] = {}
        for record in self.writer.records:
            if isinstance(record, QueueStayRecord) and record.outcome is not None:
                outcomes.setdefault(record.ticket, set()).add(record.outcome)
        assert all(len(found) == 1 for found in outcomes.values()), outcomes

    def teardown(self) -> None:
        if not hasattr(self, "queues"):
            return
        for ticket in list(self.callers):
            self.dispatcher.post(m.Leave(ticket, QueueOutcome.ABANDONED, "end"))
        self.dispatcher.drain()
        pending = {t.id for t in self.dispatcher._tickets.values() if t.callback is not None}
        written = {r.ticket for r in self.writer.records if isinstance(r, QueueStayRecord)}
        written -= pending  # callbacks still to make: in line, open until they end
        closed = {
            r.ticket for r in self.writer.records
            if isinstance(r, QueueStayRecord) and r.outcome is not None
        }  # fmt: skip
        assert written == closed, f"stays without an outcome: {sorted(written - closed)}"


AcdMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestAcdInvariants = AcdMachine.TestCase

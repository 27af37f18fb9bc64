"""The dispatcher against a real (SQLite) database that is away at start, then answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session

from callcenter.acd import messages as m
from callcenter.acd.dispatcher import Dispatcher
from callcenter.acd.metrics import AcdMetrics
from callcenter.errors import DatabaseUnavailable
from callcenter.store import migrate
from callcenter.store.cache import LocalCache
from callcenter.store.database import Database
from callcenter.store.records import OpenStaysClosed, QueueStayRecord
from callcenter.store.repos import AgentRepository, QueueRepository
from callcenter.vocabulary import AgentState, AgentStatus, QueueOutcome, QueueStrategy


class Flaky:
    """The database, or DatabaseUnavailable while ``down``."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.down = True

    def session_scope(self) -> AbstractContextManager[Session]:
        if self.down:
            raise DatabaseUnavailable("connection refused")
        return self.database.session_scope()


class Inbox:
    """A caller's mailbox: what the dispatcher answered, in order."""

    def __init__(self) -> None:
        self.messages: list[object] = []

    def post(self, message: object) -> None:
        self.messages.append(message)

    def seats(self) -> list[m.Seat]:
        return [x for x in self.messages if isinstance(x, m.Seat)]


class Writer:
    def __init__(self) -> None:
        self.records: list[Any] = []

    def write_acd(self, record: Any) -> None:
        self.records.append(record)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'acd.db'}")
    migrate.upgrade(db)
    with db.session_scope() as session:
        QueueRepository(session).add("sales")
    yield db
    db.dispose()


def test_joins_before_the_first_load_wait_for_it(database: Database) -> None:
    flaky, writer = Flaky(database), Writer()
    dispatcher = Dispatcher(flaky, writer, AcdMetrics(CollectorRegistry()))  # type: ignore[arg-type]
    assert dispatcher._reload() is False  # the start, with the database away
    future_us = int((time.time() + 3600) * 1e6)  # a resumed caller's clock was ahead
    resumed, gone = Inbox(), Inbox()
    dispatcher.post(m.Join("t-1", "call-1", "sales", resumed, since_us=future_us))
    dispatcher.post(m.Join("t-2", "call-2", "sales", gone))
    dispatcher.drain()
    assert not resumed.messages and not gone.messages  # held, not refused as unknown queues
    dispatcher.post(m.Leave("t-2", QueueOutcome.ABANDONED))  # gave up before the queues came
    dispatcher.drain()
    flaky.down = False
    dispatcher.request_reload()
    dispatcher.drain()
    [seat] = resumed.seats()
    assert seat.accepted and not gone.messages
    assert [t.id for t in dispatcher.board.waiting("sales")] == ["t-1"]
    assert seat.since_us <= int(time.time() * 1e6)  # never joined in the future
    [close] = [r for r in writer.records if isinstance(r, OpenStaysClosed)]
    assert close.keep == ("t-1",)  # the resumed stay is not closed as "engine restarted"
    stays = [r for r in writer.records if isinstance(r, QueueStayRecord)]
    assert [s.ticket for s in stays] == ["t-1"]


def test_a_start_without_the_database_takes_the_local_cache_until_it_answers(
    database: Database, tmp_path: Path
) -> None:
    cache = LocalCache(tmp_path / "cache")
    flaky, writer = Flaky(database), Writer()
    flaky.down = False
    last_run = Dispatcher(flaky, writer, AcdMetrics(CollectorRegistry()), cache=cache)  # type: ignore[arg-type]
    assert last_run._reload() is True  # saved the queues and agents it loaded
    with database.session_scope() as session:
        QueueRepository(session).add("support")  # added while the engine was down
    flaky.down, writer = True, Writer()
    dispatcher = Dispatcher(flaky, writer, AcdMetrics(CollectorRegistry()), cache=cache)  # type: ignore[arg-type]
    assert dispatcher._reload() is False  # the database did not answer...
    assert set(dispatcher.board.queues) == {"sales"}  # ...the last run's queues serve
    inbox = Inbox()
    dispatcher.post(m.Join("t-1", "call-1", "sales", inbox))
    dispatcher.drain()
    assert [seat.accepted for seat in inbox.seats()] == [True]  # not held for the database
    flaky.down = False
    dispatcher._load_or_retry()  # the retry while the database is away
    assert set(dispatcher.board.queues) == {"sales", "support"}
    closes = [r for r in writer.records if isinstance(r, OpenStaysClosed)]
    assert len(closes) == 1  # the last run's stays are closed once, at the first load


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def staffed(database: Database) -> Database:
    """Queue "sales" with agents 1001 and 1002 logged in, and queue "support" with 1002."""
    with database.session_scope() as session:
        agents, queues = AgentRepository(session), QueueRepository(session)
        queues.add("support")
        for ext in ("1001", "1002"):
            agents.add(ext, f"Agent {ext}", wrapup_seconds=5)
            agents.set_status(ext, AgentStatus.AVAILABLE)
            queues.add_member("sales", ext)
        queues.add_member("support", "1002")
    return database


def loaded(database: Database, clock: Clock | None = None) -> tuple[Dispatcher, Writer]:
    writer = Writer()
    dispatcher = Dispatcher(
        database, writer, AcdMetrics(CollectorRegistry()),  # type: ignore[arg-type]
        clock=clock or Clock(),
    )  # fmt: skip
    assert dispatcher._reload() is True
    return dispatcher, writer


def offers(inbox: Inbox) -> list[tuple[str, ...]]:
    return [x.agents for x in inbox.messages if isinstance(x, m.Offer)]


def test_a_pause_reloads_that_agent_alone_and_stops_its_offers(staffed: Database) -> None:
    dispatcher, _ = loaded(staffed)
    board = dispatcher.board
    board.agents["1002"].calls_answered = 7  # live counters another agent's reload keeps
    waiting = Inbox()
    dispatcher.post(m.Join("t-0", "call-0", "support", waiting))  # a caller nobody can take
    board.agents["1002"].holds.add("call:other")
    dispatcher.drain()
    with staffed.session_scope() as session:
        AgentRepository(session).set_status("1001", AgentStatus.PAUSED)
        QueueRepository(session).add("billing")  # not asked for: not loaded
    dispatcher.agent_changed("1001")
    dispatcher.drain()
    assert board.agents["1001"].status is AgentStatus.PAUSED
    assert board.agents["1002"].calls_answered == 7 and "billing" not in board.queues
    assert [t.id for t in board.waiting("support")] == ["t-0"]  # the waiting caller stays
    board.agents["1002"].holds.clear()
    caller = Inbox()
    dispatcher.post(m.Join("t-1", "call-1", "sales", caller))
    dispatcher.drain()
    assert ("1001",) not in offers(caller)  # paused: never offered


def test_an_agent_removed_during_a_call_finishes_it_then_goes(staffed: Database) -> None:
    clock = Clock()
    dispatcher, _ = loaded(staffed, clock)
    board = dispatcher.board
    caller = Inbox()
    dispatcher.post(m.Join("t-1", "call-1", "support", caller))
    dispatcher.drain()
    assert offers(caller) == [("1002",)]
    dispatcher.post(m.OfferAnswered("t-1", "1002", "call-1"))
    dispatcher.drain()
    with staffed.session_scope() as session:
        QueueRepository(session).remove_member("sales", "1002")
        QueueRepository(session).remove_member("support", "1002")
        AgentRepository(session).delete("1002")
    dispatcher.agent_changed("1002")
    dispatcher.drain()
    assert board.agents["1002"].state is AgentState.IN_CALL  # the call goes on
    dispatcher.call_ended("call-1")
    dispatcher.drain()
    assert "1002" not in board.agents  # dropped once free


def test_a_queue_reloads_alone_and_its_deletion_moves_its_callers_on(staffed: Database) -> None:
    dispatcher, _ = loaded(staffed)
    board = dispatcher.board
    board.agents["1002"].holds.add("call:other")  # nobody free for support
    caller = Inbox()
    dispatcher.post(m.Join("t-1", "call-1", "support", caller))
    dispatcher.drain()
    with staffed.session_scope() as session:
        QueueRepository(session).update("sales", max_wait_seconds=30)
        QueueRepository(session).add("billing")
    dispatcher.queue_changed("sales")
    dispatcher.drain()
    assert board.queues["sales"].max_wait_seconds == 30 and "billing" not in board.queues
    assert not [x for x in caller.messages if isinstance(x, m.QueueGone)]
    with staffed.session_scope() as session:
        QueueRepository(session).delete("support")
    dispatcher.queue_changed("support")
    dispatcher.drain()
    assert "support" not in board.queues
    assert [x for x in caller.messages if isinstance(x, m.QueueGone)] == [m.QueueGone("t-1")]


def test_a_change_while_the_database_is_away_comes_from_the_local_cache(
    staffed: Database, tmp_path: Path
) -> None:
    cache = LocalCache(tmp_path / "cache")
    flaky, writer = Flaky(staffed), Writer()
    flaky.down = False
    dispatcher = Dispatcher(flaky, writer, AcdMetrics(CollectorRegistry()), cache=cache)  # type: ignore[arg-type]
    assert dispatcher._reload() is True
    dispatcher.board.agents["1001"].status = AgentStatus.PAUSED  # what the engine holds now
    flaky.down = True
    dispatcher.agent_changed("1001")
    dispatcher.drain()
    assert dispatcher.board.agents["1001"].status is AgentStatus.AVAILABLE  # the cache's


def test_reserve_then_bind_or_release_or_expire(staffed: Database) -> None:
    clock = Clock()
    dispatcher, _ = loaded(staffed, clock)
    board = dispatcher.board
    asker = Inbox()
    first = dispatcher.reserve("1001", asker, seconds=10)
    again = dispatcher.reserve("1001", asker, seconds=10)
    unknown = dispatcher.reserve("9999", asker)
    dispatcher.drain()
    answers = {x.id: x for x in asker.messages if isinstance(x, m.Reservation)}
    assert answers[first].granted
    assert answers[again].refused == "in_call" and answers[unknown].refused == "unknown_agent"
    caller = Inbox()
    dispatcher.post(m.Join("t-1", "call-1", "sales", caller))
    dispatcher.drain()
    assert offers(caller) == [("1002",)]  # the reserved agent is not offered
    dispatcher.bind(first, "call-9")
    dispatcher.drain()
    assert board.agents["1001"].holds == {"call:call-9"}
    dispatcher.call_ended("call-9")
    dispatcher.drain()
    assert board.agents["1001"].free(clock.now)
    expiring = dispatcher.reserve("1001", asker, seconds=10)
    dispatcher.drain()
    assert not board.agents["1001"].free(clock.now)
    clock.now += 11
    dispatcher.drain()
    assert board.agents["1001"].free(clock.now)  # expired
    dispatcher.bind(expiring, "call-10")  # too late: nothing happens
    released = dispatcher.reserve("1001", asker)
    dispatcher.drain()
    dispatcher.release(released)
    dispatcher.drain()
    assert board.agents["1001"].free(clock.now) and not board.agents["1001"].holds


def test_a_bound_reservation_with_wrap_up_ends_in_it(staffed: Database) -> None:
    """A campaign's call (dialer.calls): the agent gets its wrap-up to give a disposition."""
    clock = Clock()
    dispatcher, _ = loaded(staffed, clock)
    agent = dispatcher.board.agents["1001"]
    held = dispatcher.reserve("1001", Inbox(), seconds=10)
    dispatcher.drain()
    dispatcher.bind(held, "call-7", wrapup=True)
    dispatcher.drain()
    assert agent.state is AgentState.IN_CALL
    dispatcher.call_ended("call-7")
    dispatcher.drain()
    assert agent.state is AgentState.WRAP_UP and not agent.free(clock.now)
    clock.now += 5
    dispatcher.drain()
    assert agent.free(clock.now)


def test_a_queue_call_ends_in_wrap_up_and_a_transfer_releases_the_agent(
    staffed: Database,
) -> None:
    clock = Clock()
    dispatcher, _ = loaded(staffed, clock)
    agent = dispatcher.board.agents["1002"]
    caller = Inbox()
    dispatcher.post(m.Join("t-1", "call-1", "support", caller))
    dispatcher.drain()
    dispatcher.post(m.OfferAnswered("t-1", "1002", "call-1"))
    dispatcher.drain()
    assert agent.state is AgentState.IN_CALL and agent.calls_answered == 1
    clock.now += 30
    dispatcher.released("call-1", "1002")  # transferred away from the agent
    dispatcher.drain()
    assert agent.state is AgentState.WRAP_UP and agent.talk_seconds == 30
    dispatcher.call_ended("call-1")  # the call's end later changes nothing more
    dispatcher.drain()
    assert agent.talk_seconds == 30
    clock.now += 6
    dispatcher.drain()
    assert agent.state is AgentState.IDLE


def test_position_is_asked_and_answered_by_message(staffed: Database) -> None:
    dispatcher, _ = loaded(staffed)
    for agent in dispatcher.board.agents.values():
        agent.holds.add("call:busy")
    for n in range(3):
        dispatcher.post(m.Join(f"t-{n}", f"call-{n}", "sales", Inbox()))
    dispatcher.drain()
    answer = m.OneShot()
    dispatcher.post(m.AskPosition("t-2", answer))
    dispatcher.drain()
    assert answer.get(1.0) == m.Position("t-2", 3)


@pytest.mark.parametrize(("on_a_call", "result"), [(False, "rejected"), (True, "busy")])
def test_a_busy_phone_is_a_rejection_unless_its_agent_is_on_a_call(
    database: Database, on_a_call: bool, result: str
) -> None:
    with database.session_scope() as session:
        AgentRepository(session).add("1001", "Ann")
        AgentRepository(session).set_status("1001", AgentStatus.AVAILABLE)
        QueueRepository(session).add_member("sales", "1001")
    registry = CollectorRegistry()
    dispatcher = Dispatcher(database, Writer(), AcdMetrics(registry))  # type: ignore[arg-type]
    assert dispatcher._reload()
    caller = Inbox()
    dispatcher.post(m.Join("t-1", "call-1", "sales", caller))
    dispatcher.drain()
    assert [x.agents for x in caller.messages if isinstance(x, m.Offer)] == [("1001",)]
    if on_a_call:  # its user took a direct call meanwhile: the offer fails busy
        dispatcher.post(m.AgentBusy("1001", "call-9"))
    dispatcher.post(m.OfferFailed("t-1", "1001", "USER_BUSY"))
    dispatcher.drain()
    labels = {"queue": "sales", "result": result}
    assert registry.get_sample_value("callcenter_queue_offers_total", labels) == 1.0


def test_a_direct_call_claims_a_free_agent_and_call_ended_frees_it(database: Database) -> None:
    with database.session_scope() as session:
        AgentRepository(session).add("1001", "Ann")
        AgentRepository(session).set_status("1001", AgentStatus.AVAILABLE)
    dispatcher = Dispatcher(database, Writer(), AcdMetrics(CollectorRegistry()))  # type: ignore[arg-type]
    assert dispatcher._reload()
    first, second = Inbox(), Inbox()
    dispatcher.post(m.Claim("1001", "call-1", first))
    dispatcher.post(m.Claim("1001", "call-2", second))
    dispatcher.drain()
    assert first.messages == [m.Reservation("call-1", "1001", None)]
    assert second.messages == [m.Reservation("call-2", "1001", "busy")]
    dispatcher.post(m.CallEnded("call-1"))
    dispatcher.drain()
    assert dispatcher.board.agents["1001"].state is AgentState.IDLE


def test_a_callback_rings_one_agent_is_tried_again_later_and_fails_with_its_queue(
    staffed: Database,
) -> None:
    with staffed.session_scope() as session:
        QueueRepository(session).update("sales", strategy=QueueStrategy.RING_ALL)
    clock = Clock()
    dispatcher, writer = loaded(staffed, clock)
    board, port, caller = dispatcher.board, Inbox(), Inbox()
    dispatcher.callback_port = port
    for ext in ("1001", "1002"):
        board.agents[ext].holds.add("call:other")  # nobody free yet
    dispatcher.post(m.Join("t-1", "call-1", "sales", caller))
    dispatcher.post(m.CallbackRequested("t-1", "15550102000", caller))
    dispatcher.drain()
    assert [x for x in caller.messages if isinstance(x, m.CallbackTaken)] == [
        m.CallbackTaken("t-1")
    ]
    dispatcher.post(m.CallEnded("other"))  # both agents free at once
    dispatcher.drain()
    [offer] = port.messages  # ring-all: a callback rings one agent, the other stays free
    assert (offer.number, offer.attempt, offer.queue) == ("15550102000", 1, "sales")
    assert not offers(caller)  # the caller is gone: nothing goes to its mailbox
    other = "1002" if offer.extension == "1001" else "1001"
    assert board.agents[other].state is AgentState.IDLE
    reply = Inbox()
    dispatcher.post(m.CallbackAnswered("t-1", offer.extension, "cb-1", reply))
    dispatcher.drain()
    assert [x.granted for x in reply.messages] == [True]
    assert board.agents[offer.extension].state is AgentState.IN_CALL
    dispatcher.post(m.CallbackDialled("t-1", "cb-1", "NO_ANSWER"))
    dispatcher.drain()
    assert board.agents[offer.extension].state is AgentState.IDLE  # no wrap-up, no rest
    assert not board.waiting("sales")  # waits out the retry delay
    stay = [r for r in writer.records if isinstance(r, QueueStayRecord)][-1]
    assert (stay.outcome, stay.callback_attempts, stay.callback_result) == (None, 1, "no_answer")
    clock.now += 120.0
    dispatcher.drain()
    assert [t.id for t in board.waiting("sales")] == ["t-1"]  # back in line, offered again
    assert [x.attempt for x in port.messages] == [1, 2]
    with staffed.session_scope() as session:
        QueueRepository(session).delete("sales")
    dispatcher.queue_changed("sales")
    dispatcher.drain()
    stay = [r for r in writer.records if isinstance(r, QueueStayRecord)][-1]
    assert (stay.outcome, stay.reason) == (QueueOutcome.CALLBACK_FAILED, "queue deleted")
    assert all(a.state is AgentState.IDLE for a in board.agents.values())
    assert dispatcher.auditor.count == 0

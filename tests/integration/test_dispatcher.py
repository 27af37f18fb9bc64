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
from callcenter.store.repos import QueueRepository
from callcenter.vocabulary import QueueOutcome


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

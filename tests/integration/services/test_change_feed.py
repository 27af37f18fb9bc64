"""The engine's change feed on a real PostgreSQL (LISTEN/NOTIFY, a database that goes away
and comes back) and on SQLite (the poll): in order, exactly once, nothing skipped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url

from callcenter.cli import main
from callcenter.services import agents, changes, queues
from callcenter.services.actor import Actor
from callcenter.services.changes import Change
from callcenter.services.feed import ChangeFeed
from callcenter.sim.tcpcut import TcpCut
from callcenter.store import migrate
from callcenter.store.base import utcnow
from callcenter.store.database import Database
from callcenter.store.models import EngineChange
from tests.conftest import migrated_database
from tests.support import until

WHO = Actor("cli", "ops")
NOTE = "note: no engine is listening on this database now; the change applies when one starts\n"


@pytest.fixture(scope="module")
def feed_db_url() -> Iterator[str]:
    with migrated_database("cc_feed") as url:
        yield url


@pytest.fixture
def database(feed_db_url: str) -> Iterator[Database]:
    database = Database(feed_db_url)
    with database.engine.begin() as conn:
        conn.execute(text("TRUNCATE agents, queues, audit_log, engine_changes CASCADE"))
    try:
        yield database
    finally:
        database.dispose()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Change] = []

    def __call__(self, change: Change) -> None:
        self.seen.append(change)

    def keys(self) -> list[tuple[str, str, str]]:
        return [(c.kind, c.key, c.op) for c in self.seen]

    def ids(self) -> list[int]:
        return [c.id for c in self.seen]


def in_order_once(recorder: Recorder) -> bool:
    ids = recorder.ids()
    return ids == sorted(set(ids))


@pytest.fixture
def feeds() -> Iterator[list[ChangeFeed]]:
    started: list[ChangeFeed] = []
    try:
        yield started
    finally:
        for feed in started:
            feed.stop()
            feed.database.dispose()


def test_a_notification_wakes_the_feed(database: Database, feeds: list[ChangeFeed]) -> None:
    agents.add(database, WHO, "1000", domain="pbx")  # before the start: already loaded
    recorder = Recorder()
    # no safety poll within the test: only NOTIFY can bring the changes
    feed = ChangeFeed(Database(database.url), recorder, safety_poll=3600)
    feeds.append(feed)
    feed.start()
    assert feed.listens
    until(lambda: feed._listener is not None)
    agents.add(database, WHO, "1001", domain="pbx")
    agents.login(database, WHO, "1001")
    queues.add(database, WHO, "sales")
    agents.pause(database, WHO, "1001", "lunch")
    until(lambda: len(recorder.seen) == 4, timeout=5)
    assert recorder.keys() == [
        ("agent", "1001", "add"),
        ("agent", "1001", "login"),
        ("queue", "sales", "add"),
        ("agent", "1001", "pause"),
    ]
    assert in_order_once(recorder)
    assert recorder.seen[-1].details["reason"] == "lunch" and recorder.seen[-1].actor == "cli:ops"
    agents.ready(database, WHO, "1001")
    until(lambda: len(recorder.seen) == 5, timeout=5)
    assert in_order_once(recorder) and feed.applied == 5


def test_two_engines_each_apply_every_change(database: Database, feeds: list[ChangeFeed]) -> None:
    recorders = [Recorder(), Recorder()]
    for recorder in recorders:
        feed = ChangeFeed(Database(database.url), recorder, safety_poll=3600)
        feeds.append(feed)
        feed.start()
        until(lambda feed=feed: feed._listener is not None)  # type: ignore[misc]
    for extension in ("2001", "2002", "2003"):
        agents.add(database, WHO, extension, domain="pbx")
    for recorder in recorders:
        until(lambda recorder=recorder: len(recorder.seen) == 3, timeout=5)  # type: ignore[misc]
        assert [c.key for c in recorder.seen] == ["2001", "2002", "2003"]


def test_the_feed_survives_the_database_going_away(
    database: Database, feeds: list[ChangeFeed]
) -> None:
    url = make_url(database.url)
    cut = TcpCut((url.host or "127.0.0.1", url.port or 5432))
    try:
        through = url.set(host="127.0.0.1", port=cut.port).render_as_string(hide_password=False)
        recorder = Recorder()
        feed = ChangeFeed(Database(through), recorder, safety_poll=3600)
        feeds.append(feed)
        feed.start()
        until(lambda: feed._listener is not None)
        agents.add(database, WHO, "3001", domain="pbx")
        until(lambda: len(recorder.seen) == 1, timeout=5)

        cut.cut()  # the listener and the pool lose their connections
        until(lambda: feed.failures >= 1, timeout=10)
        agents.login(database, WHO, "3001")  # committed while the engine cannot see them
        agents.pause(database, WHO, "3001", "meeting")
        queues.add(database, WHO, "support")
        assert len(recorder.seen) == 1
        cut.restore()
        until(lambda: len(recorder.seen) == 4, timeout=20)
        assert recorder.keys() == [
            ("agent", "3001", "add"),
            ("agent", "3001", "login"),
            ("agent", "3001", "pause"),
            ("queue", "support", "add"),
        ]
        # listening again: a new change comes by NOTIFY (no safety poll in this test)
        until(lambda: feed._listener is not None, timeout=10)
        agents.ready(database, WHO, "3001")
        until(lambda: len(recorder.seen) == 5, timeout=5)
        assert in_order_once(recorder)
    finally:
        cut.stop()


def test_started_without_the_database_it_reloads_everything_once(
    database: Database, feeds: list[ChangeFeed]
) -> None:
    url = make_url(database.url)
    cut = TcpCut((url.host or "127.0.0.1", url.port or 5432))
    try:
        cut.cut()
        through = url.set(host="127.0.0.1", port=cut.port).render_as_string(hide_password=False)
        recorder, resyncs = Recorder(), []
        feed = ChangeFeed(Database(through), recorder, resync=lambda: resyncs.append(1))
        feeds.append(feed)
        feed.start()
        assert feed.last_id is None
        agents.add(database, WHO, "4001", domain="pbx")  # missed: covered by the full reload
        cut.restore()
        until(lambda: resyncs == [1], timeout=20)
        assert recorder.seen == []
        until(lambda: feed._listener is not None, timeout=10)
        agents.login(database, WHO, "4001")
        until(lambda: recorder.keys() == [("agent", "4001", "login")], timeout=10)
        assert resyncs == [1]
    finally:
        cut.stop()


def test_a_change_that_fails_to_apply_does_not_stop_the_next(
    database: Database, feeds: list[ChangeFeed]
) -> None:
    seen: list[str] = []

    def apply(change: Change) -> None:
        seen.append(change.key)
        if change.key == "5001":
            raise RuntimeError("a bug in one handler")

    feed = ChangeFeed(Database(database.url), apply, safety_poll=3600)
    feeds.append(feed)
    feed.start()
    until(lambda: feed._listener is not None)
    agents.add(database, WHO, "5001", domain="pbx")
    agents.add(database, WHO, "5002", domain="pbx")
    until(lambda: seen == ["5001", "5002"], timeout=5)
    assert feed.applied == 1  # the failed one is logged, never retried


def test_sqlite_is_polled(tmp_path: Path, feeds: list[ChangeFeed]) -> None:
    url = f"sqlite:///{tmp_path / 'cc.db'}"
    database = Database(url)
    migrate.upgrade(database)
    recorder = Recorder()
    feed = ChangeFeed(Database(url), recorder)
    feeds.append(feed)
    feed.start()
    assert not feed.listens and feed.poll == 0.5
    agents.add(database, WHO, "6001", domain="pbx")
    queues.add(database, WHO, "sales")
    until(lambda: len(recorder.seen) == 2, timeout=5)
    assert recorder.keys() == [("agent", "6001", "add"), ("queue", "sales", "add")]
    queues.remove(database, WHO, "sales")
    until(lambda: len(recorder.seen) == 3, timeout=5)
    assert in_order_once(recorder)
    database.dispose()


def test_prune_keeps_the_newest_and_ids_are_never_given_twice(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'cc.db'}")
    migrate.upgrade(database)
    for extension in ("7001", "7002", "7003"):
        agents.add(database, WHO, extension, domain="pbx")
    with database.session_scope() as session:
        session.execute(
            EngineChange.__table__.update().values(at=utcnow() - timedelta(days=2))  # type: ignore[attr-defined]
        )
    with database.session_scope() as session:
        assert changes.prune(session) == 2
        assert [c.id for c in changes.after(session, 0)] == [3]
        session.execute(EngineChange.__table__.delete())  # type: ignore[attr-defined]
    agents.add(database, WHO, "7004", domain="pbx")
    with database.session_scope() as session:
        assert [c.id for c in changes.after(session, 0)] == [4]  # not 1: an engine at 3 sees it
    database.dispose()


def test_the_cli_says_when_no_engine_is_listening(
    database: Database, feeds: list[ChangeFeed], tmp_path: Path
) -> None:
    env = {"CALLCENTER_DATABASE_URL": database.url, "CALLCENTER_DATA_DIR": str(tmp_path)}
    runner = CliRunner()

    def cli(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        return result.exit_code, result.stderr

    assert cli("agent", "add", "1201", "--sip-password", "k8#Qz-w3Lp9v") == (0, NOTE)
    assert cli("agent", "list") == (0, "")  # nothing changed: nothing to say
    feed = ChangeFeed(Database(database.url), Recorder())
    feeds.append(feed)
    feed.start()
    until(lambda: feed._listener is not None)
    assert cli("agent", "login", "1201") == (0, "")  # an engine heard it

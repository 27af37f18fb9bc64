"""psycopg's wait under gevent (store/pgwait.py): a query waiting on PostgreSQL never
blocks another greenlet's, and one wait outlasting psycopg's 0.1 s interval still ends."""

from __future__ import annotations

from collections.abc import Callable

import gevent
import gevent.hub
import greenlet
import psycopg
import psycopg.waiting
import pytest
from sqlalchemy import make_url, text

from callcenter.store import pgwait
from callcenter.store.database import Database
from tests.support import until


def test_engine_waits_with_the_gevent_wait(pg_url: str) -> None:
    Database(pg_url).dispose()
    assert psycopg.waiting.wait is pgwait.wait_gevent


def test_a_slow_query_does_not_hold_up_a_quick_one(pg_url: str) -> None:
    database = Database(pg_url)
    finished: list[str] = []

    def query(name: str, seconds: float) -> None:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(:s)"), {"s": seconds}).all()
        finished.append(name)

    try:
        slow = gevent.spawn(query, "slow", 0.6)
        gevent.sleep(0.05)
        quick = gevent.spawn(query, "quick", 0.05)
        gevent.joinall([slow, quick], timeout=10, raise_error=True)
    finally:
        database.dispose()
    assert finished == ["quick", "slow"]


def _libpq(url: str) -> str:
    """SQLAlchemy's URL of the test database as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _wake_ups(run: Callable[[], object]) -> int:
    """How many times the hub switched back into this greenlet while ``run`` ran."""
    me, woken = gevent.getcurrent(), [0]

    def trace(event: str, args: tuple[object, object]) -> None:
        origin, target = args
        if event == "switch" and target is me and isinstance(origin, gevent.hub.Hub):
            woken[0] += 1

    previous = greenlet.settrace(trace)
    try:
        run()
    finally:
        greenlet.settrace(previous)
    return woken[0]


def test_a_pipeline_is_sent_without_a_wake_up_per_row(pg_url: str) -> None:
    # psycopg's executemany runs a pipeline that asks "read or write?" once per row queued:
    # each was a wait in the hub (52 wake-ups for 50 rows), now the socket is asked at once
    with psycopg.connect(_libpq(pg_url)) as conn:
        conn.execute("CREATE TEMP TABLE t (n int, pad text)")
        cursor = conn.cursor()
        rows = [(n, "x") for n in range(50)]
        woken = _wake_ups(lambda: cursor.executemany("INSERT INTO t VALUES (%s, %s)", rows))
        assert cursor.rowcount == 50
        assert woken <= 3


def test_a_pipeline_larger_than_the_socket_buffer_still_completes(pg_url: str) -> None:
    # rows beyond what the socket takes at once: psycopg's flush finds no room and waits
    # for real (a wait answered from the socket must not spin nor hang there)
    with psycopg.connect(_libpq(pg_url)) as conn:
        conn.execute("CREATE TEMP TABLE t (n int, pad text)")
        rows = [(n, "x" * 4000) for n in range(2000)]  # 8 MB
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO t VALUES (%s, %s)", rows)
            assert cursor.rowcount == 2000
        assert conn.execute("SELECT count(*), sum(length(pad)) FROM t").fetchone() == (
            2000,
            8_000_000,
        )


def test_a_pipeline_on_a_connection_the_server_ended_fails_at_once(pg_url: str) -> None:
    # the socket answered at once says "hung up": psycopg must be told, not spun around
    info = _libpq(pg_url)
    with psycopg.connect(info) as conn, psycopg.connect(info, autocommit=True) as other:
        conn.execute("CREATE TEMP TABLE t (n int)")
        conn.commit()
        pid = conn.info.backend_pid
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))
        gone = "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)"
        until(lambda: other.execute(gone, (pid,)).fetchone() == (True,))  # client not told
        with pytest.raises(psycopg.OperationalError):
            conn.cursor().executemany("INSERT INTO t VALUES (%s)", [(n,) for n in range(10)])
        assert conn.closed or conn.broken

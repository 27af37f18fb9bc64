"""psycopg's wait under gevent (store/pgwait.py): a query waiting on PostgreSQL never
blocks another greenlet's, and one wait outlasting psycopg's 0.1 s interval still ends."""

from __future__ import annotations

import gevent
import psycopg.waiting
from sqlalchemy import text

from callcenter.store import pgwait
from callcenter.store.database import Database


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

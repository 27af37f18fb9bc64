"""The spool a killed engine leaves, replayed by the next run (issue 10, finding 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry
from sqlalchemy.engine import make_url

from callcenter.sim.tcpcut import TcpCut
from callcenter.store import migrate
from callcenter.store.codec import encode
from callcenter.store.database import Database
from callcenter.store.records import OpenStaysClosed, QueueStayRecord
from callcenter.store.repos import QueueRepository
from callcenter.store.spool import Spool, SpoolRecord
from callcenter.store.writer import DurableWriter, WriterMetrics
from tests.support import until


def test_stays_spooled_by_a_killed_engine_are_closed_by_the_next_start(
    empty_pg_url: str, tmp_path: Path
) -> None:
    pg_url = empty_pg_url  # a database of its own: the queue it adds is committed
    migrate.upgrade(Database(pg_url))
    # the stays of callers waiting when an engine was killed while spooling were replayed
    # after the next run's "close what the last run left open" (spooled too: the database
    # was still away at the start), in the same batch: open forever
    with Database(pg_url).session_scope() as session:
        QueueRepository(session).add("spooled")
    url = make_url(pg_url)
    proxy = TcpCut((url.host or "127.0.0.1", url.port or 5432))
    database = Database(url.set(port=proxy.port).render_as_string(hide_password=False))
    try:
        proxy.cut()
        joined = datetime.now(UTC) - timedelta(minutes=1)
        stay = QueueStayRecord("t-spooled", "spooled", "call-spooled", 0, 1, joined)
        spool = Spool(tmp_path / "spool")
        spool.append(SpoolRecord("QueueStayRecord", encode(stay)))  # the killed run's write
        writer = DurableWriter(database, spool, WriterMetrics(CollectorRegistry()))
        writer.retry_min, writer.retry_max = 0.05, 0.2
        writer.start()
        try:
            writer.write_acd(OpenStaysClosed(at=datetime.now(UTC), reason="engine restarted"))
            until(lambda: spool.pending() == 2, timeout=10)  # behind the killed run's
            proxy.restore()
            until(lambda: spool.pending() == 0 and not writer.spooling, timeout=10)
        finally:
            writer.stop()
        with database.session_scope() as session:
            [entry] = QueueRepository(session).entries("spooled")
        assert entry.left_at is not None and entry.reason == "engine restarted"
    finally:
        database.dispose()
        proxy.stop()

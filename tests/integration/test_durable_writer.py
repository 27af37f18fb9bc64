"""CDRs and call state survive PostgreSQL being away: spooled, replayed once, in order."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry

from callcenter.errors import DatabaseUnavailable
from callcenter.store.database import Database
from callcenter.store.records import CallRecord, CdrRecord
from callcenter.store.repos import CallRepository, CdrRepository
from callcenter.store.spool import Spool
from callcenter.store.writer import DurableWriter, WriterMetrics
from callcenter.vocabulary import CallState, Direction, Disposition, HangupBy
from tests.support import until

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def cdr(uuid: str) -> CdrRecord:
    return CdrRecord(
        call_uuid=uuid,
        direction=Direction.INBOUND,
        node="fs1",
        started_at=T0,
        ended_at=T0,
        hangup_cause="NORMAL_CLEARING",
        hangup_by=HangupBy.CALLER,
        disposition=Disposition.ANSWERED,
    )


class FlakyDatabase(Database):
    """The real database, made unreachable on demand (as when PostgreSQL is stopped)."""

    down = False

    def session_scope(self):  # type: ignore[no-untyped-def]
        if self.down:
            raise DatabaseUnavailable("database test unavailable: connection refused")
        return super().session_scope()

    def held_transaction(self):  # type: ignore[no-untyped-def]
        if self.down:
            raise DatabaseUnavailable("database test unavailable: connection refused")
        return super().held_transaction()


def make(db_url: str, spool_dir: Path) -> tuple[FlakyDatabase, DurableWriter, CollectorRegistry]:
    registry = CollectorRegistry()
    database = FlakyDatabase(db_url)
    writer = DurableWriter(
        database, Spool(spool_dir), WriterMetrics(registry), retry_min=0.05, retry_max=0.2
    )
    return database, writer, registry


def value(registry: CollectorRegistry, name: str) -> float:
    return registry.get_sample_value(name) or 0.0


def test_outage_spools_then_replays_exactly_once(empty_pg_url: str, tmp_path: Path) -> None:
    from callcenter.store import migrate

    migrate.upgrade(Database(empty_pg_url))
    database, writer, registry = make(empty_pg_url, tmp_path)
    writer.start()
    try:
        writer.write_cdr(cdr("before"))
        assert writer.flush()
        database.down = True
        call = CallRecord(
            uuid="during", direction=Direction.INBOUND, state=CallState.PARKED, node="fs1"
        )
        writer.write_call(call)
        writer.write_cdr(cdr("during"))
        writer.write_cdr(cdr("during"))  # a retried write of the same call
        assert writer.flush()
        assert writer.spooling and value(registry, "callcenter_spool_pending_records") == 3
        assert value(registry, "callcenter_cdrs_spooled_total") == 2
        database.down = False
        writer.write_cdr(cdr("after"))  # spooled behind the backlog, or written after it
        until(lambda: not writer.spooling, timeout=10)
        assert writer.flush()
    finally:
        writer.stop()
    with database.session_scope() as session:
        repo = CdrRepository(session)
        assert repo.count() == 3
        assert {c.call_uuid for c in repo.all()} == {"before", "during", "after"}
        assert CallRepository(session).get("during").state is CallState.PARKED
    assert value(registry, "callcenter_cdrs_written_total") == 3
    assert value(registry, "callcenter_cdrs_replayed_total") in (1, 2)  # "after" may be either
    assert value(registry, "callcenter_spool_pending_records") == 0


def test_crash_mid_replay_duplicates_nothing(empty_pg_url: str, tmp_path: Path) -> None:
    from callcenter.store import migrate

    migrate.upgrade(Database(empty_pg_url))
    database, writer, _ = make(empty_pg_url, tmp_path)
    database.down = True
    writer.start()
    for i in range(3):
        writer.write_cdr(cdr(f"c{i}"))
    assert writer.flush()
    writer.stop()
    database.down = False
    # a replay that wrote the rows but died before trimming the spool (process crash)
    with database.session_scope() as session:
        CdrRepository(session).insert_once(cdr("c0"))
        CdrRepository(session).insert_once(cdr("c1"))
    _, restarted, registry = make(empty_pg_url, tmp_path)  # a new process finds the spool
    assert restarted.spooling
    restarted.replay_now()
    with database.session_scope() as session:
        assert CdrRepository(session).count() == 3
    assert value(registry, "callcenter_cdrs_replayed_total") == 1
    assert Spool(tmp_path).pending() == 0


def test_real_unreachable_postgres_is_detected(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    writer = DurableWriter(
        Database("postgresql+psycopg://nobody@127.0.0.1:1/none"),
        Spool(tmp_path),
        WriterMetrics(registry),
    )
    writer.start()
    writer.write_cdr(cdr("x"))
    assert writer.flush()
    writer.stop()
    assert writer.spooling
    assert Spool(tmp_path).pending() == 1

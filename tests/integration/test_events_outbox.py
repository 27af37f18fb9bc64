"""The events outbox: through the writer's batch, spooled while the database is away and
replayed once per event id; appended by a service in its own transaction."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from callcenter.events import outbox
from callcenter.events.types import AgentStatusChanged, CallCreated, CallEnded, Event
from callcenter.store import migrate
from callcenter.store.database import Database
from callcenter.store.models import EventRow
from callcenter.store.repos import CdrRepository
from callcenter.store.spool import Spool
from tests.integration.test_durable_writer import cdr, make, value
from tests.support import until


def stored(database: Database) -> list[tuple[str, str, dict[str, object]]]:
    with database.session_scope() as session:
        rows = session.scalars(select(EventRow).order_by(EventRow.seq))
        return [(r.event_id, r.type, dict(r.payload)) for r in rows]


def ended(uuid: str) -> CallEnded:
    return CallEnded(call_uuid=uuid, disposition="answered", hangup_cause="NORMAL_CLEARING",
                     hangup_by="caller", cdr={"call_uuid": uuid})  # fmt: skip


def test_events_share_the_batch_of_the_records_they_follow(
    empty_pg_url: str, tmp_path: Path
) -> None:
    migrate.upgrade(Database(empty_pg_url))
    database, writer, _ = make(empty_pg_url, tmp_path)
    writer.start()
    try:
        created = CallCreated(call_uuid="c1", caller_number="+331", caller_name="Ann")
        writer.write_event(outbox.record_of(created))
        writer.write_cdr(cdr("c1"))
        end = ended("c1")
        writer.write_event(outbox.record_of(end))
        assert writer.flush()
    finally:
        writer.stop()
    assert stored(database) == [
        (created.id, "call.created", created.to_dict()),
        (end.id, "call.ended", end.to_dict()),
    ]


def test_spooled_events_are_replayed_exactly_once_even_after_a_crash_mid_replay(
    empty_pg_url: str, tmp_path: Path
) -> None:
    migrate.upgrade(Database(empty_pg_url))
    spool_dir = tmp_path / "spool"
    database, writer, registry = make(empty_pg_url, spool_dir)
    events: list[Event] = [CallCreated(call_uuid=f"c{i}") for i in range(3)]
    writer.start()
    try:
        writer.write_event(outbox.record_of(events[0]))
        assert writer.flush()
        database.down = True
        for event in events[1:]:
            writer.write_event(outbox.record_of(event))
        writer.write_cdr(cdr("c1"))
        assert writer.flush()
        assert writer.spooling and value(registry, "callcenter_spool_pending_records") == 3
        copy = tmp_path / "spool-before-replay.jsonl"
        shutil.copy(Spool(spool_dir).path, copy)
        database.down = False
        until(lambda: not writer.spooling, timeout=10)
    finally:
        writer.stop()
    assert [e[0] for e in stored(database)] == [e.id for e in events]
    # a crash after the replay committed and before the spool was trimmed: replayed again
    shutil.copy(copy, Spool(spool_dir).path)
    _, restarted, _ = make(empty_pg_url, spool_dir)
    assert restarted.spooling
    restarted.replay_now()
    assert [e[0] for e in stored(database)] == [e.id for e in events]  # once each, in order
    with database.session_scope() as session:
        assert CdrRepository(session).count() == 1


def test_append_is_part_of_the_services_transaction(empty_pg_url: str) -> None:
    database = Database(empty_pg_url)
    migrate.upgrade(database)
    kept = AgentStatusChanged(agent_extension="1001", status="paused", reason="lunch", by="cli:ann")
    with database.session_scope() as session:
        outbox.append(session, kept)
    lost = AgentStatusChanged(agent_extension="1001", status="available", by="cli:ann")
    with pytest.raises(RuntimeError), database.session_scope() as session:
        outbox.append(session, lost)
        raise RuntimeError("the service's change failed after the append")
    assert [e[0] for e in stored(database)] == [kept.id]
    database.dispose()


def test_outbox_on_sqlite(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'cc.db'}")
    migrate.upgrade(database)
    first, second = CallCreated(), ended("c2")
    with database.session_scope() as session:
        outbox.append(session, first)
        outbox.append(session, second)
        outbox.append(session, first)  # a replay: once
    assert [e[0] for e in stored(database)] == [first.id, second.id]
    database.dispose()

"""The writer's batches on PostgreSQL and SQLite: statements reused, writes shaped to what
changed, CDRs once with their own legs, refused records set aside, agent history in order."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gevent
import gevent.hub
import greenlet
import psycopg
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import event, text
from sqlalchemy.engine.interfaces import CacheStats

from callcenter.errors import DatabaseUnavailable, NotFound
from callcenter.store import migrate
from callcenter.store.database import Database
from callcenter.store.direct import FEW
from callcenter.store.records import (
    AgentStateRecord,
    CallRecord,
    CdrLegRecord,
    CdrRecord,
    EventRecord,
    LegRecord,
    QueueStayRecord,
)
from callcenter.store.repos import AgentRepository, CallRepository, CdrRepository
from callcenter.store.repos.calls import _call_row
from callcenter.store.repos.cdrs import write_cdrs
from callcenter.store.spool import Spool
from callcenter.store.statements import call_upsert
from callcenter.store.writer import DurableWriter, Record, WriterMetrics
from callcenter.vocabulary import (
    AgentState,
    AgentStatus,
    CallState,
    CdrSource,
    Direction,
    Disposition,
    HangupBy,
    LegRole,
)
from tests.support import until

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgresql":
        url = request.getfixturevalue("empty_pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'writer.db'}"
    db = Database(url)
    migrate.upgrade(db)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def writer(database: Database, tmp_path: Path) -> DurableWriter:
    return DurableWriter(database, Spool(tmp_path / "spool"), WriterMetrics(CollectorRegistry()))


class Statements:
    """Every statement the database driver is sent, and how many statements were compiled
    meanwhile: by SQLAlchemy (a miss of its cache), or by the writer itself, which on
    PostgreSQL sends its statements straight through psycopg (``store.direct``), so they are
    seen at psycopg's own cursor there."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.sent: list[str] = []
        self.compiled = 0
        self.taken = self._compilations()
        self.at_driver = database.dialect == "postgresql"
        event.listen(database.engine, "after_cursor_execute", self._seen)
        if self.at_driver:  # the writer's next batch checks its connection out again
            event.listen(database.engine, "checkout", self._watch)
            database.release_held()

    def _seen(self, conn: Any, cursor: Any, sql: str, params: Any, ctx: Any, many: bool) -> None:
        self.compiled += ctx is not None and ctx.cache_hit is CacheStats.CACHE_MISS
        if not self.at_driver:
            self.sent.append(" ".join(sql.split()))

    def _watch(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        sent = self.sent

        class Recording(psycopg.Cursor):  # type: ignore[type-arg]
            def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                sent.append(" ".join(str(query).split()))
                return super().execute(query, *args, **kwargs)

            def executemany(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                sent.append(" ".join(str(query).split()))
                return super().executemany(query, *args, **kwargs)

        dbapi_connection.cursor_factory = Recording

    def _compilations(self) -> int:
        direct = self.database.direct
        return self.compiled + (direct.compilations if direct is not None else 0)

    def take(self) -> tuple[list[str], int]:
        """The statements sent since the last take, and how many were compiled meanwhile."""
        sent, self.sent[:] = list(self.sent), []
        before, self.taken = self.taken, self._compilations()
        return sent, self.taken - before


def call(uuid: str, n: int = 0, state: CallState = CallState.PARKED) -> CallRecord:
    start = T0 + timedelta(seconds=n)
    leg = LegRecord(
        uuid, LegRole.CALLER, Direction.INBOUND, "sofia/x/1", "1555", "7100", None, start
    )
    return CallRecord(
        uuid=uuid,
        direction=Direction.INBOUND,
        state=state,
        node="fs1",
        from_number="1555",
        from_name='Zoë "Q" ${x} \\ %41',
        did="7100",
        created_at=start,
        legs=(leg,),
    )


def answered(record: CallRecord) -> CallRecord:
    at = record.created_at + timedelta(seconds=1)  # type: ignore[operator]
    return replace(
        record,
        state=CallState.ANSWERED,
        answered_at=at,
        legs=tuple(replace(leg, answered_at=at) for leg in record.legs),
    )


def cdr(uuid: str, legs: tuple[str, ...] = ("caller",), total_ms: int = 1000) -> CdrRecord:
    return CdrRecord(
        call_uuid=uuid,
        direction=Direction.INBOUND,
        node="fs1",
        started_at=T0,
        ended_at=T0 + timedelta(milliseconds=max(0, total_ms)),
        hangup_cause="NORMAL_CLEARING",
        hangup_by=HangupBy.CALLER,
        disposition=Disposition.ANSWERED,
        total_ms=total_ms,
        legs=tuple(CdrLegRecord(leg_uuid=f"{uuid}-{n}", role=LegRole.CALLER, started_at=T0)
                   for n in legs),
    )  # fmt: skip


def set_columns(sql: str) -> tuple[str, list[str]]:
    """``UPDATE t SET a=..., b=... WHERE ...`` -> (t, [a, b])."""
    match = re.match(r"UPDATE (\w+) SET (.*) WHERE", sql)
    assert match, sql
    return match[1], [part.split("=")[0].strip() for part in match[2].split(", ")]


def write(writer: DurableWriter, *records: Record) -> None:
    writer._handle(list(records))  # the writer greenlet's own step
    assert not writer.spooling


def test_batches_of_any_size_reuse_the_same_statements(
    database: Database, writer: DurableWriter
) -> None:
    seen = Statements(database)
    # SQLAlchemy compiles a statement once for one row and once for many (executemany)
    write(writer, call("warm"), cdr("warm"))
    write(writer, call("warm1"), call("warm2"), cdr("warm1"), cdr("warm2"))
    seen.take()
    texts: set[str] = set()
    for size in (1, 2, 3, 7):
        records: list[Record] = [call(f"s{size}-{n}", n) for n in range(size)]
        records += [cdr(f"s{size}-{n}") for n in range(size)]
        write(writer, *records)
        sent, compiled = seen.take()
        assert sent and not compiled, "a statement was compiled again"
        texts |= set(sent)
    # one text per statement whatever the batch size: psycopg converts and prepares it once
    # (on PostgreSQL a call parked with its leg is one statement: WITH written_call AS ...)
    calls = (
        "WITH written_call" if database.engine.dialect.name == "postgresql" else "INSERT INTO calls"
    )
    assert len([t for t in texts if t.startswith(calls)]) == 1
    assert len([t for t in texts if t.startswith("INSERT INTO cdrs")]) == 1


def test_a_state_change_updates_only_the_columns_it_changes(
    database: Database, writer: DurableWriter
) -> None:
    parked = call("shaped")
    write(writer, parked)
    with database.engine.begin() as conn:  # someone else's column: an update must not touch it
        conn.execute(text("UPDATE calls SET from_name = 'kept' WHERE uuid = 'shaped'"))
    seen = Statements(database)
    write(writer, answered(parked))
    sent = [sql for sql in seen.take()[0] if not sql.startswith(("BEGIN", "COMMIT"))]
    assert [set_columns(sql) for sql in sent] == [
        ("calls", ["state", "answered_at"]),
        ("call_legs", ["answered_at"]),
    ]
    with database.session_scope() as session:
        stored = CallRepository(session).get("shaped")
    assert stored.state is CallState.ANSWERED and stored.from_name == "kept"
    assert stored.legs[0].answered_at == parked.created_at + timedelta(seconds=1)  # type: ignore[operator]


def test_an_ended_call_is_forgotten_and_a_call_not_known_is_written_whole(
    database: Database, writer: DurableWriter
) -> None:
    parked = call("whole")
    write(writer, parked)
    write(
        writer, replace(answered(parked), state=CallState.ENDED, disposition=Disposition.ANSWERED)
    )
    assert "whole" not in writer._written
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE calls SET from_name = 'edited' WHERE uuid = 'whole'"))
    write(writer, parked)  # e.g. a replay after a restart: the whole row, idempotently
    with database.session_scope() as session:
        stored = CallRepository(session).get("whole")
    assert stored.from_name == parked.from_name and stored.state is CallState.PARKED


def test_a_cdr_already_there_keeps_its_legs_and_is_not_counted(
    database: Database, writer: DurableWriter
) -> None:
    write(writer, cdr("old", legs=("a",)))
    registry_before = writer.metrics.cdrs_written._value.get()
    write(writer, cdr("new1", legs=("a", "b")), cdr("old", legs=("x", "y", "z")), cdr("new2"))
    assert writer.metrics.cdrs_written._value.get() - registry_before == 2
    with database.session_scope() as session:
        repo = CdrRepository(session)
        assert [leg.leg_uuid for leg in repo.get("old").legs] == ["old-a"]
        assert [leg.leg_uuid for leg in repo.get("new1").legs] == ["new1-a", "new1-b"]
        assert [leg.leg_uuid for leg in repo.get("new2").legs] == ["new2-caller"]


def test_a_record_the_database_refuses_is_set_aside_and_the_rest_written(
    database: Database, writer: DurableWriter, tmp_path: Path
) -> None:
    bad = replace(cdr("bad"), total_ms=-5)  # violates durations_not_negative
    write(writer, call("good-call"), cdr("good1"), bad, cdr("good2"))
    with database.session_scope() as session:
        repo = CdrRepository(session)
        assert {c.call_uuid for c in repo.all()} == {"good1", "good2"}
        assert CallRepository(session).get("good-call").state is CallState.PARKED
    assert writer.metrics.records_set_aside._value.get() == 1
    quarantine = (tmp_path / "spool").glob("*corrupt*")
    assert any(b'"bad"' in path.read_bytes() for path in quarantine)


def test_agent_history_in_order_with_the_status_after_each_change(
    database: Database, writer: DurableWriter
) -> None:
    with database.session_scope() as session:
        agents = AgentRepository(session)
        agents.add("1001")
        agents.set_status("1001", AgentStatus.AVAILABLE)
    at = [T0 + timedelta(seconds=n) for n in range(4)]
    write(
        writer,
        AgentStateRecord("1001", AgentStatus.AVAILABLE, AgentState.OFFERING, at[0]),
        AgentStateRecord(
            "1001", AgentStatus.PAUSED, AgentState.IDLE, at[1], "no answer", status_changed=True
        ),
        AgentStateRecord("1001", AgentStatus.PAUSED, AgentState.IDLE, at[2]),
        AgentStateRecord("nobody", AgentStatus.PAUSED, AgentState.IDLE, at[3]),  # removed
    )
    with database.session_scope() as session:
        rows = session.execute(  # the records' own rows, not set_status's (at now)
            text(
                "SELECT status, state, reason FROM agent_status_history"
                " WHERE at BETWEEN :t0 AND :t1 ORDER BY at"
            ),
            {"t0": at[0], "t1": at[-1]},
        ).all()
        agent = AgentRepository(session).get("1001")
    assert [tuple(r) for r in rows][-3:] == [
        ("available", "offering", None),
        ("paused", "idle", "no answer"),
        ("paused", "idle", None),
    ]
    assert (agent.status, agent.state, agent.pause_reason) == (
        AgentStatus.PAUSED,
        AgentState.IDLE,
        "no answer",
    )
    assert agent.status_changed_at == at[1]


def test_a_database_lost_while_writing_one_by_one_spools_only_what_was_not_written(
    database: Database, writer: DurableWriter
) -> None:
    with database.session_scope() as session:
        AgentRepository(session).add("1001")
    history_rows = "SELECT count(*) FROM agent_status_history"
    with database.session_scope() as session:
        before = session.execute(text(history_rows)).scalar_one()
    bad = replace(cdr("bad"), total_ms=-5)  # the batch is refused: written one by one
    at = [T0 + timedelta(seconds=n) for n in range(3)]
    history = [AgentStateRecord("1001", AgentStatus.AVAILABLE, AgentState.IDLE, t) for t in at]
    apply, singles = writer._apply, []

    def lost_at_the_fourth(batch: Any) -> int:
        if len(batch) == 1:
            singles.append(batch[0])
            if len(singles) == 4:
                raise DatabaseUnavailable("database test unavailable: connection lost")
        return apply(batch)

    writer._apply = lost_at_the_fourth  # type: ignore[method-assign]
    writer._handle([cdr("good1"), history[0], bad, history[1], history[2], cdr("good2")])
    assert writer.spooling and writer.spool.pending() == 3  # from history[1] on
    writer._apply = apply  # type: ignore[method-assign]
    writer.replay_now()
    with database.session_scope() as session:
        after = session.execute(text(history_rows)).scalar_one()
        assert {c.call_uuid for c in CdrRepository(session).all()} == {"good1", "good2"}
    assert after - before == len(at)  # each once, not twice
    assert writer.metrics.cdrs_written._value.get() == 2


def test_records_within_the_window_share_one_transaction(
    database: Database, tmp_path: Path
) -> None:
    registry = CollectorRegistry()
    writer = DurableWriter(database, Spool(tmp_path / "w"), WriterMetrics(registry), max_delay=0.5)
    writer.start()
    try:
        for n in range(4):
            writer.write_call(call(f"w{n}", n))
            gevent.sleep(0.02)
        assert writer.flush()
    finally:
        writer.stop()
    assert registry.get_sample_value("callcenter_writer_batch_seconds_count") == 1


def test_an_outbox_event_ends_a_long_window_soon(database: Database, tmp_path: Path) -> None:
    # a quiet site batches for seconds; a webhook waiting for an event must not wait that long
    registry = CollectorRegistry()
    writer = DurableWriter(database, Spool(tmp_path / "w"), WriterMetrics(registry), max_delay=8.0)
    writer.start()
    try:
        writer.write_call(call("urgent", 1))
        gevent.sleep(0.3)
        assert not _stored_calls(database)  # the window holds the call back...
        writer.write_event(EventRecord("ev-1", "call.created", T0, {}, call_uuid="urgent"))
        assert until(lambda: bool(_stored_calls(database)), 2.0)  # ...until the event comes
        writer.write_call(call("quiet", 2))
        gevent.sleep(0.5)
        assert _stored_calls(database) == {"urgent"}  # a new window: the event's timer is gone
    finally:
        writer.stop()
    with database.session_scope() as session:
        assert session.execute(text("SELECT event_id FROM events")).scalars().all() == ["ev-1"]


def _stored_calls(database: Database) -> set[str]:
    with database.session_scope() as session:
        return {row.uuid for row in CallRepository(session).live()}


def test_the_engines_cdr_wins_over_freeswitchs_in_one_batch(
    database: Database, writer: DurableWriter
) -> None:
    # a spool replay can carry both: FreeSWITCH's handed over while the database was away
    freeswitch = replace(cdr("both", legs=("fs",)), source=CdrSource.FREESWITCH)
    write(writer, freeswitch, cdr("both", legs=("engine",)))
    write(
        writer, cdr("other", legs=("engine",)), replace(cdr("other"), source=CdrSource.FREESWITCH)
    )
    with database.session_scope() as session:
        repo = CdrRepository(session)
        for uuid in ("both", "other"):
            stored = repo.get(uuid)
            assert stored.source is CdrSource.ENGINE
            assert [leg.leg_uuid for leg in stored.legs] == [f"{uuid}-engine"]


def test_the_engines_cdr_supersedes_freeswitchs_of_a_trunk_attempt_it_keeps_as_a_leg(
    database: Database, writer: DurableWriter
) -> None:
    # a leg failed over to the next trunk was an A leg: FreeSWITCH's CDR of it, written by
    # the backstop while the call went on, stayed beside the call's CDR holding it as a leg
    attempt = replace(cdr("attempt", legs=("fs",)), source=CdrSource.FREESWITCH)
    lone = replace(cdr("lone", legs=("fs",)), source=CdrSource.FREESWITCH)
    write(writer, attempt, lone)
    tried = CdrLegRecord(leg_uuid="attempt", role=LegRole.OUTBOUND, started_at=T0,
                         hangup_cause="NETWORK_OUT_OF_ORDER", trunk="carrier-x")  # fmt: skip
    answered = cdr("answered", legs=("outbound",))
    untried = CdrLegRecord(leg_uuid="lone", role=LegRole.AGENT, started_at=T0)  # no trunk
    write(writer, replace(answered, legs=(*answered.legs, tried, untried)))
    with database.session_scope() as session:
        repo = CdrRepository(session)
        with pytest.raises(NotFound):
            repo.get("attempt")
        assert repo.get("lone").source is CdrSource.FREESWITCH  # not a trunk attempt: kept
        assert [leg.leg_uuid for leg in repo.get("answered").legs] == [
            "answered-outbound", "attempt", "lone"]  # fmt: skip
        orphans = session.execute(
            text("SELECT count(*) FROM cdr_legs WHERE leg_uuid = 'attempt-fs'")
        ).scalar_one()
        assert orphans == 0
    # the other order: FreeSWITCH's after the call's (the database away at the backstop's
    # check, a spool replay): written, then gone in the same batch
    again = replace(answered, call_uuid="answered2", legs=(replace(tried, leg_uuid="late"),))
    write(writer, again)
    write(writer, replace(cdr("late", legs=("fs",)), source=CdrSource.FREESWITCH))
    with database.session_scope() as session:
        with pytest.raises(NotFound):
            CdrRepository(session).get("late")
        assert [leg.leg_uuid for leg in CdrRepository(session).get("answered2").legs] == ["late"]


def test_on_postgresql_the_writers_statements_go_straight_to_psycopg(
    database: Database, writer: DurableWriter
) -> None:
    with database.session_scope() as session:
        AgentRepository(session).add("1001")
    through_sqlalchemy: list[str] = []
    event.listen(
        database.engine,
        "before_cursor_execute",
        lambda conn, cursor, sql, *rest: through_sqlalchemy.append(sql),
    )
    parked = call("direct")
    write(
        writer,
        parked,
        AgentStateRecord("1001", AgentStatus.AVAILABLE, AgentState.OFFERING, T0),
        EventRecord("ev-direct", "call.created", T0, {"n": 1}, call_uuid="direct"),
    )
    write(writer, answered(parked), cdr("direct", legs=("a", "b")))
    if database.dialect == "postgresql":  # a report's totals made stale too (T0 is old)
        assert through_sqlalchemy == []
    else:
        assert len(through_sqlalchemy) >= 5
    with database.session_scope() as session:  # typed values went through: enums, times, JSON
        stored = CallRepository(session).get("direct")
        assert (stored.state, stored.from_name) == (CallState.ANSWERED, parked.from_name)
        assert stored.legs[0].answered_at == T0 + timedelta(seconds=1)
        assert [leg.leg_uuid for leg in CdrRepository(session).get("direct").legs] == [
            "direct-a",
            "direct-b",
        ]
        agent = AgentRepository(session).get("1001")
        assert agent.state is AgentState.OFFERING
        payload = session.execute(text("SELECT CAST(payload AS TEXT) FROM events")).scalar_one()
        assert json.loads(payload) == {"n": 1}  # a JSON object, not a string of one


def test_a_connection_killed_under_the_writer_spools_and_a_new_one_replays(
    database: Database, writer: DurableWriter
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("a server-side kill of the writer's connection is PostgreSQL's")
    write(writer, call("k0"))
    with database.held_transaction() as conn:  # the connection the writer holds
        pid = conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
    with database.engine.begin() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    writer._handle([answered(call("k0")), cdr("k0")])  # on the dead connection
    assert writer.spooling and writer.spool.pending() == 2
    assert writer.replay_now() == 2  # a new connection: the dead one was dropped
    assert not writer.spooling
    with database.session_scope() as session:
        assert CallRepository(session).get("k0").state is CallState.ANSWERED
        assert CdrRepository(session).count() == 1


@pytest.mark.parametrize("size", [FEW, FEW + 3])  # rows one by one, then in psycopg's pipeline
def test_rows_counted_and_ordered_alike_one_by_one_and_in_a_pipeline(
    database: Database, writer: DurableWriter, size: int
) -> None:
    with database.session_scope() as session:
        AgentRepository(session).add("1001")
    write(writer, cdr("there-0"), cdr("there-1"))
    before = writer.metrics.cdrs_written._value.get()
    write(writer, *(cdr(f"there-{n}") if n < 2 else cdr(f"new-{n}") for n in range(size)))
    assert writer.metrics.cdrs_written._value.get() - before == size - 2
    at = [T0 + timedelta(seconds=n) for n in range(size)]
    states = [AgentState.OFFERING, AgentState.IN_CALL, AgentState.WRAP_UP]
    changes = [
        AgentStateRecord("1001", AgentStatus.AVAILABLE, states[n % 3], t) for n, t in enumerate(at)
    ]
    write(writer, *changes)
    with database.session_scope() as session:
        rows = session.execute(
            text("SELECT state FROM agent_status_history WHERE at >= :t0 ORDER BY id"),
            {"t0": T0},
        ).scalars()
        assert list(rows) == [str(c.state) for c in changes]
        assert AgentRepository(session).get("1001").state is changes[-1].state


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


def test_on_postgresql_a_batch_is_one_round_trip(database: Database, writer: DurableWriter) -> None:
    # BEGIN, the statements and COMMIT in one pipeline: the writer waits once for the lot
    # (one by one: BEGIN, each statement and COMMIT were a wait each, 5 for this batch)
    if database.dialect != "postgresql":
        pytest.skip("psycopg's pipeline is PostgreSQL's")
    with database.session_scope() as session:
        AgentRepository(session).add("1001")
    write(writer, call("rt"))
    at = T0 + timedelta(seconds=5)
    batch = [
        answered(call("rt")),
        AgentStateRecord("1001", AgentStatus.AVAILABLE, AgentState.IN_CALL, at),
    ]
    assert _wake_ups(lambda: write(writer, *batch)) == 1
    with database.session_scope() as session:
        assert CallRepository(session).get("rt").state is CallState.ANSWERED
        assert AgentRepository(session).get("1001").state is AgentState.IN_CALL
        history = "SELECT count(*) FROM agent_status_history WHERE at = :at"
        assert session.execute(text(history), {"at": at}).scalar_one() == 1


def test_the_writers_connection_is_in_autocommit_only_for_the_writers_batches(
    database: Database, writer: DurableWriter
) -> None:
    # the pipeline sends the batch's own BEGIN, in psycopg's autocommit mode: anything else
    # that takes the held connection, and the pool it goes back to, finds it out of that mode
    if database.dialect != "postgresql":
        pytest.skip("psycopg's pipeline is PostgreSQL's")
    write(writer, call("ac"))
    raw: Any = database._held.connection.dbapi_connection  # type: ignore[union-attr]
    assert raw.autocommit is True
    write(writer, replace(cdr("refused"), total_ms=-5), cdr("kept"))  # refused, then one by one
    assert writer.metrics.records_set_aside._value.get() == 1
    with pytest.raises(ZeroDivisionError), database.held_transaction() as conn:
        assert conn.connection.dbapi_connection is raw  # the same connection, still held
        assert raw.autocommit is False
        conn.execute(text("CREATE TABLE rolled_back (n int)"))
        1 / 0  # noqa: B018 - the transaction is rolled back
    with database.session_scope() as session:  # the table went with it: not autocommitted
        assert session.execute(text("SELECT to_regclass('rolled_back')")).scalar() is None
        assert {c.call_uuid for c in CdrRepository(session).all()} == {"kept"}
    write(writer, answered(call("ac")))
    assert raw.autocommit is True
    database.release_held()  # back to the pool: as the pool gave it
    assert raw.autocommit is False


def test_a_stay_of_a_deleted_queue_is_logged_once_the_pipeline_has_synced(
    database: Database, writer: DurableWriter, caplog: pytest.LogCaptureFixture
) -> None:
    stay = QueueStayRecord("t-gone", "gone", "call-gone", 0, 1, T0, 0, None)
    with caplog.at_level(logging.WARNING, "callcenter.store.repos.acd_state"):
        write(writer, stay)
    assert "1 queue stay(s) not recorded: queue deleted (of ['gone'])" in caplog.text


def test_a_value_psycopg_cannot_send_is_set_aside_mid_pipeline(
    database: Database, writer: DurableWriter
) -> None:
    # refused while the pipeline is being filled (not at its sync): what was queued before it
    # is rolled back with it, then the batch is written one by one
    if database.dialect != "postgresql":
        pytest.skip("psycopg's pipeline is PostgreSQL's")
    odd = replace(cdr("odd"), hangup_cause={"not": "text"})  # type: ignore[arg-type]
    write(writer, call("before-odd"), odd, cdr("after-odd"))
    assert writer.metrics.records_set_aside._value.get() == 1
    write(writer, answered(call("before-odd")))  # the held connection still works
    with database.session_scope() as session:
        assert CallRepository(session).get("before-odd").state is CallState.ANSWERED
        assert {c.call_uuid for c in CdrRepository(session).all()} == {"after-odd"}


def test_a_pipelined_rowcount_is_read_at_the_sync_and_only_where_kept(database: Database) -> None:
    # a counted statement (preserve_rowcount) has its own cursor: read before the sync, the
    # pipeline syncs then; another's count would be its shared cursor's last: an error
    if database.dialect != "postgresql":
        pytest.skip("psycopg's pipeline is PostgreSQL's")
    with database.writer_transaction() as conn:
        write_cdrs(conn, [cdr("counted-0")])
        written = write_cdrs(conn, [cdr("counted-0"), cdr("counted-1"), cdr("counted-2")])
        upserted = conn.execute(call_upsert("postgresql"), [_call_row(call("uncounted"), T0)])
        assert written.rowcount == 2  # synced here, mid-transaction
        with pytest.raises(TypeError, match="preserve_rowcount"):
            upserted.rowcount  # noqa: B018
    with database.session_scope() as session:
        assert CdrRepository(session).count() == 3
        assert CallRepository(session).get("uncounted").state is CallState.PARKED

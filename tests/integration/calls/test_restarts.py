"""Restart correctness (issue 10, findings 1-3): an engine killed, restarted, or started
without its database reconciles what the database, FreeSWITCH and the spool say, closes what
no longer exists with a true disposition, and routes calls as the last run did."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import gevent
import pytest
from sqlalchemy.engine import make_url

from callcenter.app import App
from callcenter.calls.recovery import GONE_WHILE_AWAY
from callcenter.errors import NotFound
from callcenter.sim import api as sim_api
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.sim.tcpcut import TcpCut
from callcenter.store.database import Database
from callcenter.store.repos import CallRepository, CdrRepository, QueueRepository
from callcenter.vocabulary import (
    AgentStatus,
    CallState,
    Disposition,
    HangupBy,
    QueueOutcome,
    RouteTarget,
)
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import add_route, cdr_of, settled, wait_cdr
from tests.integration.calls.test_queues import entries, first_stay, setup_queue
from tests.support import until

PATIENT = CallerBehaviour(patience=3000.0)  # simulated seconds: 150 s of real time
TONE = "tone_stream://%(600000,0,440)"


@pytest.fixture
def killable() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Engines run as `callcenter serve` processes, for a SIGKILL that writes nothing more."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait(timeout=10)


def serve(procs: list[subprocess.Popen[bytes]], sim: Simulator, db_url: str, data: Path) -> None:
    flows = data / "no-flows"
    flows.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "CALLCENTER_DATABASE_URL": db_url,
        "CALLCENTER_ESL_NODES": f"fs1=esl://:s3cret-test@127.0.0.1:{sim.port}",
        "CALLCENTER_METRICS_LISTEN": "127.0.0.1:0",
        "CALLCENTER_DATA_DIR": str(data),
        "CALLCENTER_DIALPLANS_DIR": str(flows),
    }
    with (data / "serve.log").open("ab") as log:
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "callcenter", "serve"],
                env=env,
                cwd=data,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    until(lambda: sim.client_count >= 1, timeout=30)


def open_stays(db_url: str, queue: str) -> int:
    database = Database(db_url)
    try:
        with database.session_scope() as session:
            return sum(1 for e in QueueRepository(session).entries(queue) if e.left_at is None)
    finally:
        database.dispose()


def cdr_of_now(db_url: str, uuid: str) -> object:
    database = Database(db_url)
    try:
        with database.session_scope() as session:
            return CdrRepository(session).get(uuid)
    except NotFound:
        return None
    finally:
        database.dispose()


def stored_state(db_url: str, uuid: str) -> CallState | None:
    database = Database(db_url)
    try:
        with database.session_scope() as session:
            return CallRepository(session).get(uuid).state
    except NotFound:  # not written yet
        return None
    finally:
        database.dispose()


def test_callers_who_hang_up_while_a_killed_engine_is_away_are_abandoned(
    sim: Simulator,
    engine: EngineFactory,
    killable: list[subprocess.Popen[bytes]],
    calls_db_url: str,
    tmp_path: Path,
) -> None:
    # finding 1: the stays of the callers waiting at a SIGKILL were left open forever and
    # their calls got CDRs saying failed/unknown
    setup = engine()
    setup_queue(setup, "killed", {"2201": {}}, did="8201", status=AgentStatus.PAUSED)
    setup.stop("set up")
    until(lambda: sim.client_count == 0)
    serve(killable, sim, calls_db_url, tmp_path)
    callers = [sim.place_call("8201", f"1555220{i}", behaviour=PATIENT) for i in range(3)]
    until(lambda: all(stored_state(calls_db_url, u) is not None for u in callers), 30)
    until(lambda: open_stays(calls_db_url, "killed") == 3, 30)
    killable[0].kill()  # SIGKILL: nothing more is written
    killable[0].wait(timeout=10)
    gone, staying = callers[:2], callers[2]
    for uuid in gone:  # they hang up while no engine runs
        sim.hangup(uuid)
    until(lambda: {c.uuid for c in sim.channels} == {staying})
    app = engine()
    for uuid in gone:
        cdr = wait_cdr(app, uuid, timeout=20)
        assert cdr.disposition is Disposition.ABANDONED, uuid
        assert cdr.queue == "killed" and cdr.answered_at is None
    # the caller still on the line is back in its queue, in the same stay
    until(lambda: [t.call_uuid for t in app.dispatcher.board.waiting("killed")] == [staying], 20)
    stays = {e.call_uuid: e for e in entries(app, "killed")}
    assert len(stays) == 3
    for uuid in gone:
        assert stays[uuid].outcome is QueueOutcome.ABANDONED
        assert stays[uuid].left_at is not None and stays[uuid].reason == GONE_WHILE_AWAY
    assert stays[staying].outcome is None and stays[staying].left_at is None
    sim.hangup(staying)
    assert wait_cdr(app, staying).disposition is Disposition.ABANDONED
    until(lambda: (s := first_stay(app, "killed")) and s.outcome is QueueOutcome.ABANDONED)
    assert all(e.left_at is not None for e in entries(app, "killed"))
    until(lambda: settled(app))


def test_an_engine_killed_while_spooling_leaves_nothing_open_after_the_next_start(
    sim: Simulator,
    engine: EngineFactory,
    killable: list[subprocess.Popen[bytes]],
    calls_db_url: str,
    tmp_path: Path,
) -> None:
    # the chaos run's case: PostgreSQL cut, callers queue (their calls and stays only in the
    # spool), the engine is killed, they hang up, the next start finds the database back
    setup = engine()
    setup_queue(setup, "spooled", {"2208": {}}, did="8208", status=AgentStatus.PAUSED)
    setup.stop("set up")
    until(lambda: sim.client_count == 0)
    url = make_url(calls_db_url)
    proxy = TcpCut((url.host or "127.0.0.1", url.port or 5432))
    try:
        serve(killable, sim, _cut_url(calls_db_url, proxy), tmp_path)
        until(lambda: "queue(s)" in (tmp_path / "serve.log").read_text(), timeout=30)
        proxy.cut()
        callers = [sim.place_call("8208", f"1555228{i}", behaviour=PATIENT) for i in range(2)]
        spool = tmp_path / "spool" / "spool.jsonl"
        until(lambda: spool.exists() and spool.read_text().count("QueueStayRecord") >= 2, 30)
        killable[0].kill()
        killable[0].wait(timeout=10)
        for uuid in callers:
            sim.hangup(uuid)
        until(lambda: not sim.channels)
        proxy.restore()
        app = engine(database_url=_cut_url(calls_db_url, proxy))
        app.writer.retry_min, app.writer.retry_max = 0.05, 0.2
        for uuid in callers:
            assert wait_cdr(app, uuid, timeout=20).disposition is Disposition.ABANDONED
        until(lambda: not app.writer.spooling, timeout=20)
        stays = entries(app, "spooled")
        assert len(stays) == 2
        assert all(e.outcome is QueueOutcome.ABANDONED and e.left_at is not None for e in stays)
        until(lambda: settled(app))
    finally:
        proxy.stop()


def test_a_start_without_the_database_closes_the_last_runs_calls_once_it_answers(
    sim: Simulator, engine: EngineFactory, calls_db_url: str
) -> None:
    first = engine()
    setup_queue(first, "later", {"2209": {}}, did="8209", status=AgentStatus.PAUSED)
    uuid = sim.place_call("8209", "15552209", behaviour=PATIENT)
    until(lambda: len(first.dispatcher.board.waiting("later")) == 1)
    first.stop("restart")  # the caller stays in FreeSWITCH; its stay stays open
    sim.hangup(uuid)
    until(lambda: not sim.channels)
    url = make_url(calls_db_url)
    proxy = TcpCut((url.host or "127.0.0.1", url.port or 5432))
    try:
        proxy.cut()
        app = engine(database_url=_cut_url(calls_db_url, proxy))
        app.writer.retry_min, app.writer.retry_max = 0.05, 0.2
        manager = app.managers["fs1"]
        until(lambda: manager._synced)  # the first resync ran without the database
        assert not manager.previous.reconciled and cdr_of_now(calls_db_url, uuid) is None
        proxy.restore()  # the next resync reconciles what the first could not
        assert wait_cdr(app, uuid, timeout=20).disposition is Disposition.ABANDONED
        [stay] = entries(app, "later")
        assert stay.outcome is QueueOutcome.ABANDONED and stay.reason == GONE_WHILE_AWAY
        until(lambda: settled(app))
    finally:
        proxy.stop()


def test_a_call_that_vanishes_between_show_channels_and_uuid_dump_is_closed(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # finding 2: `show channels` listed the call, `uuid_dump` said -ERR No such channel!,
    # and the call stayed `parked` with no CDR
    first = engine()
    add_route(first, "8202", RouteTarget.PLAYBACK, TONE)
    until(lambda: first.connections["fs1"].connected)
    uuid = sim.place_call("8202", "15552202")
    until(lambda: any(c.uuid == uuid and c.application == "playback" for c in sim.channels))
    first.stop("restart")  # the call stays up in FreeSWITCH, live in the database
    dump = sim_api.HANDLERS["uuid_dump"]

    def vanishing(api: sim_api.Api, argv: list[str], args: str) -> str:
        if argv and argv[0] == uuid:
            sim.hangup(uuid)  # between the listing and the dump
        return dump(api, argv, args)

    monkeypatch.setitem(sim_api.HANDLERS, "uuid_dump", vanishing)
    app = engine()
    cdr = wait_cdr(app, uuid, timeout=20)
    assert cdr.hangup_by is HangupBy.UNKNOWN  # its end was not seen
    with app.database.session_scope() as session:
        assert CallRepository(session).get(uuid).state is CallState.ENDED
    until(lambda: settled(app))


def test_a_uuid_dump_that_times_out_leaves_the_call_for_the_next_resync(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # finding 2's other half: no answer is not "no such channel": a live call is not closed
    first = engine()
    add_route(first, "8203", RouteTarget.PLAYBACK, TONE)
    until(lambda: first.connections["fs1"].connected)
    uuid = sim.place_call("8203", "15552203")
    until(lambda: any(c.uuid == uuid and c.application == "playback" for c in sim.channels))
    first.stop("restart")
    dump = sim_api.HANDLERS["uuid_dump"]
    slow = [True]

    def stalling(api: sim_api.Api, argv: list[str], args: str) -> str:
        if argv and argv[0] == uuid and slow:
            slow.clear()
            gevent.sleep(2.0)  # longer than the engine waits
        return dump(api, argv, args)

    monkeypatch.setitem(sim_api.HANDLERS, "uuid_dump", stalling)
    app = engine(CALLCENTER_ESL_COMMAND_TIMEOUT="1")
    manager = app.managers["fs1"]
    until(lambda: uuid in manager.actors, timeout=20)  # adopted by the next resync
    assert cdr_of(app, uuid) is None
    assert any(c.uuid == uuid for c in sim.channels)
    sim.hangup(uuid)
    assert wait_cdr(app, uuid).disposition is not Disposition.FAILED
    until(lambda: settled(app))


def test_a_call_undecided_at_one_resync_and_gone_by_the_next_is_closed(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = engine()
    add_route(first, "8207", RouteTarget.PLAYBACK, TONE)
    until(lambda: first.connections["fs1"].connected)
    uuid = sim.place_call("8207", "15552207")
    until(lambda: any(c.uuid == uuid and c.application == "playback" for c in sim.channels))
    first.stop("restart")
    dump = sim_api.HANDLERS["uuid_dump"]

    def stalling_then_gone(api: sim_api.Api, argv: list[str], args: str) -> str:
        if argv and argv[0] == uuid:
            gevent.sleep(2.0)  # the engine gives up waiting...
            sim.hangup(uuid)  # ...and the caller leaves before it asks again
        return dump(api, argv, args)

    monkeypatch.setitem(sim_api.HANDLERS, "uuid_dump", stalling_then_gone)
    app = engine(CALLCENTER_ESL_COMMAND_TIMEOUT="1")
    cdr = wait_cdr(app, uuid, timeout=20)
    assert cdr.hangup_by is HangupBy.UNKNOWN
    until(lambda: settled(app))


def _cut_url(url: str, proxy: TcpCut) -> str:
    return make_url(url).set(port=proxy.port).render_as_string(hide_password=False)


def test_an_engine_started_without_its_database_routes_from_the_local_cache(
    sim: Simulator, engine: EngineFactory, calls_db_url: str
) -> None:
    # finding 3: a start with PostgreSQL down rejected every call with UNALLOCATED_NUMBER
    setup = engine()
    sim.register_agent("2204", AgentBehaviour(answer_delay=0.2))
    setup_queue(setup, "cached", {"2204": {}}, did="8204")
    add_route(setup, "8205", RouteTarget.PLAYBACK, "tone_stream://%(500,0,440)")
    setup.routes.refresh()  # the last run loaded them: the cache is written
    setup.stop("restart")
    url = make_url(calls_db_url)
    proxy = TcpCut((url.host or "127.0.0.1", url.port or 5432))
    try:
        proxy.cut()
        app = engine(database_url=_cut_url(calls_db_url, proxy))
        app.writer.retry_min, app.writer.retry_max = 0.05, 0.2
        assert app.routes.source == "cache"
        assert "cached" in app.dispatcher.board.queues
        until(lambda: app.connections["fs1"].connected)
        queued = sim.place_call("8204", "15552204", behaviour=CallerBehaviour(talk_time=0.5))
        played = sim.place_call("8205", "15552205")
        until(lambda: not any(c.uuid in (queued, played) for c in sim.channels), timeout=20)
        manager = app.managers["fs1"]
        until(lambda: not manager.actors)
        proxy.restore()
        assert wait_cdr(app, queued, 20).agent_extension == "2204"
        assert wait_cdr(app, played, 20).answered_at is not None
        until(lambda: settled(app), timeout=20)
    finally:
        proxy.stop()


def test_with_no_database_and_no_cache_a_call_gets_a_congestion_cause(
    sim: Simulator, engine: EngineFactory, calls_db_url: str
) -> None:
    # finding 3: never "this number does not exist" because the database is down
    url = make_url(calls_db_url)
    proxy = TcpCut((url.host or "127.0.0.1", url.port or 5432))
    try:
        proxy.cut()
        app = engine(
            database_url=_cut_url(calls_db_url, proxy),
            CALLCENTER_DEFAULT_ROUTE="hangup:UNALLOCATED_NUMBER",
        )
        app.writer.retry_min, app.writer.retry_max = 0.05, 0.2
        assert app.routes.source == ""
        assert any("no routes known" in p for p in app.routes.problems)
        until(lambda: app.connections["fs1"].connected)
        uuid = sim.place_call("8206", "15552206")
        until(lambda: "hangup NORMAL_TEMPORARY_FAILURE" in _sent(sim, uuid), timeout=20)
        assert "hangup UNALLOCATED_NUMBER" not in _sent(sim, uuid)
        proxy.restore()
        cdr = wait_cdr(app, uuid, 20)
        assert cdr.hangup_cause == "NORMAL_TEMPORARY_FAILURE"
    finally:
        proxy.stop()


def _sent(sim: Simulator, uuid: str) -> list[str]:
    from tests.integration.calls.test_calls import apps_sent

    return apps_sent(sim, uuid)


def test_a_corrupt_cache_is_ignored_at_start(
    sim: Simulator, engine: EngineFactory, calls_db_url: str, tmp_path: Path
) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "routes.json").write_bytes(b'{"version": 1, "part": "rou')
    (tmp_path / "cache" / "acd.json").write_bytes(b"\x00\xff garbage")
    url = make_url(calls_db_url)
    proxy = TcpCut((url.host or "127.0.0.1", url.port or 5432))
    try:
        proxy.cut()
        app: App = engine(database_url=_cut_url(calls_db_url, proxy))
        assert app.routes.source == "" and app.dispatcher.board.queues == {}
    finally:
        proxy.stop()

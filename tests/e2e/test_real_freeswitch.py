"""Against a real FreeSWITCH configured from freeswitch-conf/ (skipped unless
CALLCENTER_FS_HOST is set; CALLCENTER_FS_PORT and CALLCENTER_FS_PASSWORD as needed).

A loopback call into the `callcenter` context is tagged and parked by the dialplan, exactly
like a carrier call, so the whole path runs without any SIP peer."""

from __future__ import annotations

import os
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.app import App
from callcenter.errors import NotFound
from callcenter.esl import ESLConnection, commands
from callcenter.settings import ESLNode, load_settings
from callcenter.store.repos import (
    AgentRepository,
    CdrRepository,
    QueueRepository,
    RouteRepository,
)
from callcenter.vocabulary import AgentStatus, Disposition, QueueOutcome, RouteTarget
from tests.support import until

HOST = os.environ.get("CALLCENTER_FS_HOST", "")
PORT = int(os.environ.get("CALLCENTER_FS_PORT", "8021"))
PASSWORD = os.environ.get("CALLCENTER_FS_PASSWORD", "")


@pytest.fixture
def node() -> ESLNode:
    return ESLNode("e2e", HOST, PORT, PASSWORD)


@pytest.fixture
def engine(pg_url: str, tmp_path: Path) -> Iterator[App]:
    settings = load_settings(
        environ={
            "CALLCENTER_DATABASE_URL": pg_url,
            "CALLCENTER_ESL_NODES": f"e2e=esl://:{PASSWORD}@{HOST}:{PORT}",
            "CALLCENTER_METRICS_LISTEN": "127.0.0.1:0",
            "CALLCENTER_DATA_DIR": str(tmp_path),
        }
    )
    app = App(settings)
    app.routes.ttl = 0.0
    app.start()
    try:
        yield app
    finally:
        app.stop("e2e over")


def test_connects_and_answers_api(node: ESLNode) -> None:
    connection = ESLConnection(node, on_event=lambda _e: None)
    connection.start()
    try:
        assert connection.wait_connected(10)
        assert "UP" in connection.api("status")
        assert connection.api(commands.uuid_exists(str(uuidlib.uuid4())), check=False) == "false"
    finally:
        connection.stop()


def call_in(engine: App, node: ESLNode, did: str) -> None:
    """A loopback call into the `callcenter` context for ``did``, as a carrier's would be."""
    until(lambda: engine.connections["e2e"].connected, timeout=10)
    caller = ESLConnection(node, on_event=lambda _e: None)
    caller.start()
    try:
        assert caller.wait_connected(10)
        line = commands.originate(f"loopback/{did}/callcenter", {}, uuid=str(uuidlib.uuid4()))
        caller.bgapi(line, timeout=20)
    finally:
        caller.stop()


def test_loopback_call_runs_through_the_engine(engine: App, node: ESLNode) -> None:
    did = "7" + str(uuidlib.uuid4().int)[:8]
    with engine.database.session_scope() as session:
        RouteRepository(session).add(did, RouteTarget.PLAYBACK, "tone_stream://%(1000,0,440)")
    call_in(engine, node, did)

    def cdr():  # type: ignore[no-untyped-def]
        with engine.database.session_scope() as session:
            rows = [c for c in CdrRepository(session).all(limit=50) if c.did == did]
        return rows[0] if rows else None

    record = until(cdr, timeout=30)
    assert record.disposition is Disposition.PLAYED
    assert record.answered_at is not None and record.talk_ms == 0
    with pytest.raises(NotFound), engine.database.session_scope() as session:
        CdrRepository(session).get("not-a-call")


def test_queue_with_an_unregistered_agent_plays_music_then_overflows(
    engine: App, node: ESLNode
) -> None:
    """Music on hold (local_stream://moh) on a real channel, an offer to a phone that is not
    registered (the agent rests), then the queue's limit: uuid_break, overflow, hang-up."""
    tag = str(uuidlib.uuid4().int)[:8]
    did, queue, ext = "7" + tag, f"e2e_{tag}", f"e2e{tag}"
    with engine.database.session_scope() as session:
        AgentRepository(session).add(ext, "nobody's phone")
        AgentRepository(session).set_status(ext, AgentStatus.AVAILABLE)
        queues = QueueRepository(session)
        queues.add(queue, max_wait_seconds=4, overflow_target="hangup:NORMAL_CLEARING")
        queues.add_member(queue, ext)
        RouteRepository(session).add(did, RouteTarget.QUEUE, queue)
    engine.dispatcher.request_reload()
    until(lambda: queue in engine.dispatcher.board.queues, timeout=10)
    call_in(engine, node, did)

    def entry():  # type: ignore[no-untyped-def]
        engine.writer.flush()
        with engine.database.session_scope() as session:
            rows = [e for e in QueueRepository(session).entries(queue) if e.left_at]
        return rows[0] if rows else None

    stay = until(entry, timeout=30)
    assert stay.outcome is QueueOutcome.TIMEOUT and stay.offers >= 1
    assert engine.dispatcher.board.agents[ext].failed_offers >= 1

"""A recorded bridged call on a real FreeSWITCH: the WAV has two channels and the duration
FreeSWITCH reported (skipped unless CALLCENTER_FS_HOST is set).

The engine's recordings_dir must be where FreeSWITCH writes: the test's temporary folder
when FreeSWITCH runs on this host, else a shared folder named by
CALLCENTER_FS_RECORDINGS_DIR (the same path on both hosts). The agent's phone is a loopback
to the vanilla config's music on hold (9664 in the default context), so no SIP peer is
needed; FreeSWITCH itself ends the call (sched_api) after about 4 seconds of talk."""

from __future__ import annotations

import os
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.app import App
from callcenter.calls.control import CallControl
from callcenter.esl import ESLConnection, commands
from callcenter.recording import adopted, wav
from callcenter.services import recordings
from callcenter.services.actor import Actor
from callcenter.settings import ESLNode, load_settings
from callcenter.store.records import StoredRecording
from callcenter.store.repos import (
    AgentRepository,
    QueueRepository,
    RecordingRepository,
    RouteRepository,
)
from callcenter.vocabulary import AgentStatus, RecordingPolicy, RouteTarget
from tests.support import until

HOST = os.environ.get("CALLCENTER_FS_HOST", "")
PORT = int(os.environ.get("CALLCENTER_FS_PORT", "8021"))
PASSWORD = os.environ.get("CALLCENTER_FS_PASSWORD", "")
SHARED = os.environ.get("CALLCENTER_FS_RECORDINGS_DIR", "")
TALK_SECONDS = 4
E2E = Actor("cli", "e2e")


def make_engine(pg_url: str, tmp_path: Path) -> App:
    recordings = Path(SHARED) if SHARED else tmp_path / "recordings"
    settings = load_settings(
        environ={
            "CALLCENTER_DATABASE_URL": pg_url,
            "CALLCENTER_ESL_NODES": f"e2e=esl://:{PASSWORD}@{HOST}:{PORT}",
            "CALLCENTER_METRICS_LISTEN": "127.0.0.1:0",
            "CALLCENTER_DATA_DIR": str(tmp_path),
            "CALLCENTER_RECORDINGS_DIR": str(recordings),
        }
    )
    app = App(settings)
    app.routes.ttl = 0.0
    app.start()
    return app


@pytest.fixture
def loopback_agents(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        CallControl, "agent_dial_string", lambda _self, _ext: "loopback/9664/default"
    )


@pytest.fixture
def engine(pg_url: str, tmp_path: Path, loopback_agents: None) -> Iterator[App]:
    app = make_engine(pg_url, tmp_path)
    try:
        yield app
    finally:
        app.stop("e2e over")


def recorded_queue(app: App) -> str:
    """A queue recording every call, one loopback agent; returns the DID that reaches it."""
    tag = str(uuidlib.uuid4().int)[:8]
    did, queue, ext = "7" + tag, f"rec_{tag}", f"rec{tag}"
    with app.database.session_scope() as session:
        AgentRepository(session).add(ext, "loopback agent")
        AgentRepository(session).set_status(ext, AgentStatus.AVAILABLE)
        QueueRepository(session).add(queue, recording_policy=RecordingPolicy.ALL)
        QueueRepository(session).add_member(queue, ext)
        RouteRepository(session).add(did, RouteTarget.QUEUE, queue)
    app.dispatcher.request_reload()
    until(lambda: queue in app.dispatcher.board.queues, timeout=10)
    until(lambda: app.connections["e2e"].connected, timeout=10)
    return did


def caller_connection() -> ESLConnection:
    control = ESLConnection(ESLNode("e2e-caller", HOST, PORT, PASSWORD), on_event=lambda _e: None)
    control.start()
    assert control.wait_connected(10)
    return control


def recording_call(app: App) -> str | None:
    """The live call of ``app`` being recorded, once it is."""
    for manager in app.managers.values():
        for actor in manager.actors.values():
            if actor.call.recordings.files:
                return actor.call.uuid
    return None


def checked(app: App, call: str) -> StoredRecording | None:
    with app.database.session_scope() as session:
        rows = RecordingRepository(session).search(call_uuid=call)
    return rows[0] if rows and rows[0].status not in ("pending", "recording") else None


def test_a_recorded_bridged_call_is_stereo_with_the_expected_duration(engine: App) -> None:
    did = recorded_queue(engine)
    control = caller_connection()
    try:
        leg = str(uuidlib.uuid4())
        control.bgapi(commands.originate(f"loopback/{did}/callcenter", {}, uuid=leg), timeout=20)
        call = until(lambda: recording_call(engine), timeout=30)
        control.api(f"sched_api +{TALK_SECONDS} none uuid_kill {call}")  # FreeSWITCH ends it
    finally:
        control.stop()
    row = until(lambda: checked(engine, call), timeout=TALK_SECONDS + 30)
    assert row.status == "ok", row.problem
    info = wav.read_info(Path(row.path).read_bytes()[:4096])
    assert (info.channels, info.rate, info.bits) == (2, 8000, 16)
    assert row.duration_ms is not None
    assert abs(info.duration_ms - row.duration_ms) <= wav.TOLERANCE_MS
    assert abs(info.duration_ms - TALK_SECONDS * 1000) <= 1500


def test_an_engine_restarted_mid_call_adopts_the_recording_and_its_pause(
    pg_url: str, tmp_path: Path, loopback_agents: None
) -> None:
    """FreeSWITCH keeps recording across the restart; the PCI pause asked before it is
    resumed after it, and the file is stopped, checked and stored whole."""
    first = make_engine(pg_url, tmp_path)
    control = caller_connection()
    app = None
    try:
        did = recorded_queue(first)
        control.bgapi(
            commands.originate(f"loopback/{did}/callcenter", {}, uuid=str(uuidlib.uuid4())),
            timeout=20,
        )
        call = until(lambda: recording_call(first), timeout=30)
        first.writer.flush()
        recordings.control(first.database, E2E, call, "pause")
        until(lambda: control.api(f"uuid_getvar {call} {adopted.PAUSED}").strip().isdigit(), 10)
        first.stop("restart")  # the call, its recording and its mask go on in FreeSWITCH
        app = make_engine(pg_url, tmp_path)
        manager = app.managers["e2e"]
        until(lambda: call in manager.actors, timeout=30)
        current = manager.actors[call].call.recordings.current
        assert current is not None and current.paused
        recordings.control(app.database, E2E, call, "resume")
        until(lambda: control.api(f"uuid_getvar {call} {adopted.PAUSED}").strip() == "_undef_", 10)
        control.api(f"sched_api +{TALK_SECONDS} none uuid_kill {call}")
        row = until(lambda: checked(app, call), timeout=TALK_SECONDS + 30)
    finally:
        control.stop()
        if app is not None:
            app.stop("e2e over")
    assert row.status == "ok", row.problem
    assert row.channels == 2 and len(row.paused) == 1
    assert row.duration_ms is not None and row.paused[0][1] <= row.duration_ms

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
from callcenter.recording import wav
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


@pytest.fixture
def engine(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.setattr(
        CallControl, "agent_dial_string", lambda _self, _ext: "loopback/9664/default"
    )
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
    try:
        yield app
    finally:
        app.stop("e2e over")


def test_a_recorded_bridged_call_is_stereo_with_the_expected_duration(engine: App) -> None:
    tag = str(uuidlib.uuid4().int)[:8]
    did, queue, ext = "7" + tag, f"rec_{tag}", f"rec{tag}"
    with engine.database.session_scope() as session:
        AgentRepository(session).add(ext, "loopback agent")
        AgentRepository(session).set_status(ext, AgentStatus.AVAILABLE)
        QueueRepository(session).add(queue, recording_policy=RecordingPolicy.ALL)
        QueueRepository(session).add_member(queue, ext)
        RouteRepository(session).add(did, RouteTarget.QUEUE, queue)
    engine.dispatcher.request_reload()
    until(lambda: queue in engine.dispatcher.board.queues, timeout=10)
    until(lambda: engine.connections["e2e"].connected, timeout=10)
    control = ESLConnection(ESLNode("e2e-caller", HOST, PORT, PASSWORD), on_event=lambda _e: None)
    control.start()
    try:
        assert control.wait_connected(10)
        leg = str(uuidlib.uuid4())
        control.bgapi(commands.originate(f"loopback/{did}/callcenter", {}, uuid=leg), timeout=20)

        def bridged() -> str | None:
            for manager in engine.managers.values():
                for actor in manager.actors.values():
                    if actor.call.recordings.files:
                        return actor.call.uuid
            return None

        call = until(bridged, timeout=30)
        control.api(f"sched_api +{TALK_SECONDS} none uuid_kill {call}")  # FreeSWITCH ends it
    finally:
        control.stop()

    def checked() -> StoredRecording | None:
        with engine.database.session_scope() as session:
            rows = RecordingRepository(session).search(call_uuid=call)
        return rows[0] if rows and rows[0].status != "pending" else None

    row = until(checked, timeout=TALK_SECONDS + 30)
    assert row.status == "ok", row.problem
    info = wav.read_info(Path(row.path).read_bytes()[:4096])
    assert (info.channels, info.rate, info.bits) == (2, 8000, 16)
    assert row.duration_ms is not None
    assert abs(info.duration_ms - row.duration_ms) <= wav.TOLERANCE_MS
    assert abs(info.duration_ms - TALK_SECONDS * 1000) <= 1500

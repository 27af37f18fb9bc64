"""A call recorded while the engine restarts (issue 15): FreeSWITCH goes on writing the file;
the next engine rebuilds the recording from its row and the channel's variables, so that the
agent's keys, the API, the stop at the hang-up and the file check work on; a call that ended
while no engine ran has its file checked all the same. Simulator over TCP, real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from callcenter.app import App
from callcenter.recording import adopted
from callcenter.recording.state import ActiveRecording
from callcenter.services import calls
from callcenter.services import recordings as service
from callcenter.sim import recordfile
from callcenter.sim.simulator import Simulator
from callcenter.store.records import CallRecord, RecordingRecord
from callcenter.store.repos import RecordingRepository
from callcenter.vocabulary import CallState, Direction, RecordingPolicy
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import settled, wait_cdr
from tests.integration.calls.test_recording import OPERATOR, api_lines, checked, queue_call
from tests.support import until


def _sent(sim: Simulator, uuid: str, verb: str) -> int:
    return sum(1 for x in api_lines(sim, uuid) if f"uuid_record {uuid} {verb} " in x)


def restarted(first: App, engine: EngineFactory, uuid: str) -> tuple[App, ActiveRecording]:
    """``first`` stopped mid call (FreeSWITCH goes on recording) and a new engine started:
    the new one, once it adopted the call, and the call's recording as it rebuilt it."""
    first.stop("restart")
    app = engine()
    manager = app.managers["fs1"]
    until(lambda: uuid in manager.actors, timeout=20)
    current = manager.actors[uuid].call.recordings.current
    assert current is not None
    return app, current


def _variable(sim: Simulator, uuid: str, name: str) -> str:
    return next(c.variables.get(name, "") for c in sim.channels if c.uuid == uuid)


def test_an_adopted_call_keeps_its_recording_its_open_pause_and_its_check(
    sim: Simulator, engine: EngineFactory
) -> None:
    first = engine()
    uuid = queue_call(sim, first, "8121", "2121", talk=600.0, recording_policy=RecordingPolicy.ALL)
    until(lambda: _sent(sim, uuid, "start") == 1)
    actor = first.managers["fs1"].actors[uuid]
    [leg] = [x.uuid for x in actor.call.timeline.legs.values() if x.agent_extension == "2121"]
    sim.send_dtmf(leg, "*27", gap=0.05)  # a card number is said as the engine goes away
    until(lambda: _sent(sim, uuid, "mask") == 1)
    until(lambda: _variable(sim, uuid, adopted.PAUSED).isdigit())
    assert _variable(sim, uuid, adopted.PATH).endswith(f"{uuid}.wav")
    first.writer.flush()
    with first.database.session_scope() as session:
        [row] = RecordingRepository(session).search(call_uuid=uuid)
    assert row.status == "recording" and (row.queue, row.agent) == ("q8121", "2121")
    app, current = restarted(first, engine, uuid)
    assert _sent(sim, uuid, "stop") == 0
    assert current.path == row.path and current.paused
    sim.send_dtmf(leg, "*28", gap=0.05)  # the agent's resume reaches the adopted call
    until(lambda: _sent(sim, uuid, "unmask") == 1, timeout=10)
    app.writer.flush()
    for action, verb in (("pause", "mask"), ("resume", "unmask")):  # and the API's
        service.control(app.database, OPERATOR, uuid, action)
        until(lambda verb=verb: _sent(sim, uuid, verb) == 2)
    calls.hangup(app.database, OPERATOR, uuid)
    wait_cdr(app, uuid, timeout=20)
    [done] = checked(app, uuid)
    assert done.status == "ok" and done.id == row.id and done.channels == 2
    assert (done.queue, done.agent) == ("q8121", "2121")
    assert done.duration_ms is not None and done.ended_at is not None
    first_span, second_span = done.paused  # the pause open at the restart, closed after it
    assert 0 <= first_span[0] < first_span[1] <= second_span[0] < second_span[1]
    assert second_span[1] <= done.duration_ms
    until(lambda: settled(app))


def test_a_recorded_call_that_ends_while_no_engine_runs_has_its_file_checked(
    sim: Simulator, engine: EngineFactory
) -> None:
    first = engine()
    uuid = queue_call(sim, first, "8122", "2122", talk=600.0, recording_policy=RecordingPolicy.ALL)
    until(lambda: _sent(sim, uuid, "start") == 1)
    first.writer.flush()
    first.stop("restart")
    sim.core.record_files = "missing"  # the share was not mounted: FreeSWITCH wrote nothing
    sim.hangup(uuid)  # while no engine runs: its RECORD_STOP is seen by nobody
    until(lambda: not any(c.uuid == uuid for c in sim.channels))
    app = engine()
    seen: list[object] = []
    app.events.subscribe(seen.append)
    wait_cdr(app, uuid, timeout=20)
    [row] = checked(app, uuid)
    assert row.status == "missing" and row.ended_at is not None
    assert not Path(row.path).exists()
    until(lambda: any(str(getattr(e, "type", "")) == "recording.failed" for e in seen))
    until(lambda: settled(app))


def test_a_file_left_recording_by_a_call_closed_without_it_is_checked_at_start(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    # the call was closed while the database was away: its row stayed "recording"
    app = engine()
    uuid = "0b9d4f8e-51d6-4a8e-9a57-4c1e0c3e5a11"
    path = tmp_path / "recordings" / f"{uuid}.wav"
    recordfile.write(path, 1500, 2, [])
    began = datetime.now(UTC) - timedelta(minutes=2)
    app.writer.write_call(
        CallRecord(uuid=uuid, direction=Direction.INBOUND, state=CallState.ENDED, node="fs1",
                   created_at=began, ended_at=began + timedelta(seconds=2))
    )  # fmt: skip
    app.writer.write_recording(
        RecordingRecord(call_uuid=uuid, path=str(path), started_at=began, status="recording")
    )
    app.writer.flush()
    assert app.recordings.recheck_pending() == 1
    [row] = checked(app, uuid)
    assert (row.status, row.channels, row.file_ms) == ("ok", 2, 1500)
    assert row.ended_at == began + timedelta(seconds=2)
    assert app.recordings.recheck_pending() == 0  # once

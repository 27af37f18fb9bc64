"""Issue 15's last rules: the "may be recorded" announcement follows the overrides, and the
recordings of calls in no queue are purged by the setting recording_keep_days. Simulator
over TCP, real PostgreSQL, real files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from callcenter.app import App
from callcenter.cli import main
from callcenter.services import calls
from callcenter.services import recordings as service
from callcenter.sim import recordfile
from callcenter.sim.simulator import Simulator
from callcenter.store.models import AuditEntry
from callcenter.store.records import RecordingRecord
from callcenter.store.repos import AgentRepository, QueueRepository, RecordingRepository
from callcenter.vocabulary import CallState, RecordingPolicy
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import apps_sent, settled, wait_cdr
from tests.integration.calls.test_intents import state_of
from tests.integration.calls.test_recording import (
    ANNOUNCEMENT,
    OPERATOR,
    api_lines,
    checked,
    queue_call,
)
from tests.support import until


def _agent(app: App, extension: str, policy: str) -> None:
    with app.database.session_scope() as session:
        AgentRepository(session).add(extension, f"Agent {extension}", wrapup_seconds=1)
        AgentRepository(session).set_phone(extension, recording_policy=policy)
    app.phones.changed(extension)


def test_the_announcement_follows_the_agents_overrides(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    _agent(app, "2131", "always")  # the queue never records, its only agent always does
    recorded = queue_call(
        sim, app, "8131", "2131", talk=1.0, recording_policy=RecordingPolicy.NONE,
        recording_announcement=ANNOUNCEMENT,
    )  # fmt: skip
    _agent(app, "2132", "never")  # the queue always records, its only agent never
    silent = queue_call(
        sim, app, "8132", "2132", talk=1.0, recording_policy=RecordingPolicy.ALL,
        recording_announcement=ANNOUNCEMENT,
    )  # fmt: skip
    wait_cdr(app, recorded)
    wait_cdr(app, silent)
    assert f"playback {ANNOUNCEMENT}" in apps_sent(sim, recorded)
    assert f"playback {ANNOUNCEMENT}" not in apps_sent(sim, silent)
    until(lambda: settled(app))


def _recording(app: App, path: Path, days: float, queue: str | None = None) -> None:
    recordfile.write(path, 500, 1, [])
    with app.database.session_scope() as session:
        RecordingRepository(session).add(
            RecordingRecord(call_uuid=f"c-{path.stem}", path=str(path), queue=queue,
                            started_at=datetime.now(UTC) - timedelta(days=days))
        )  # fmt: skip


def test_recordings_in_no_queue_are_purged_by_the_setting_voicemail_never(
    sim: Simulator, engine: EngineFactory, tmp_path: Path, calls_db_url: str
) -> None:
    app = engine(CALLCENTER_RECORDING_KEEP_DAYS="3")
    root = tmp_path / "recordings"
    ivr, young = root / "ivr-old.wav", root / "ivr-young.wav"
    message = root / "voicemail" / "sales" / "vm-old.wav"
    kept_queue = root / "q-kept.wav"  # a queue without --keep-days: kept
    _recording(app, ivr, 4)
    _recording(app, young, 2)
    _recording(app, message, 40)
    _recording(app, kept_queue, 40, queue="q-nokeep")
    with app.database.session_scope() as session:
        QueueRepository(session).add("q-nokeep")
    env = {"CALLCENTER_DATABASE_URL": calls_db_url, "CALLCENTER_DATA_DIR": str(tmp_path),
           "CALLCENTER_RECORDING_KEEP_DAYS": "3"}  # fmt: skip
    dry = CliRunner().invoke(main, ["recording", "purge", "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    assert [r["path"] for r in json.loads(dry.output)["recordings"]] == [str(ivr)]
    assert ivr.exists()
    assert app.recordings.purge_once() == 1  # the engine's daily run
    assert not ivr.exists() and young.exists() and message.exists() and kept_queue.exists()
    with app.database.session_scope() as session:
        [row] = RecordingRepository(session).search(call_uuid="c-ivr-old")
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "recording.purge")
        ).all()
    assert row.status == "deleted" and row.deleted_at is not None
    assert [(a.actor, a.target) for a in audit] == [("engine:retention", str(row.id))]


def test_a_file_stopped_during_its_call_is_checked_at_its_stop(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    uuid = queue_call(sim, app, "8133", "2133", talk=600.0,
                      recording_policy=RecordingPolicy.ON_DEMAND)  # fmt: skip
    # bridged as the engine sees it (the switch's uuid_bridge can come first): started before,
    # the file is the caller's alone
    until(lambda: state_of(app, uuid) is CallState.BRIDGED)
    app.writer.flush()
    service.control(app.database, OPERATOR, uuid, "start")
    until(lambda: any(f"uuid_record {uuid} start " in x for x in api_lines(sim, uuid)))
    service.control(app.database, OPERATOR, uuid, "stop")
    [row] = checked(app, uuid)  # the call goes on
    assert uuid in app.managers["fs1"].actors
    assert (row.status, row.channels, row.agent) == ("ok", 2, "2133")
    assert row.duration_ms is not None and row.ended_at is not None
    calls.hangup(app.database, OPERATOR, uuid)
    wait_cdr(app, uuid)
    until(lambda: settled(app))
    with app.database.session_scope() as session:
        [again] = RecordingRepository(session).search(call_uuid=uuid)
    assert (again.status, again.checked_at) == ("ok", row.checked_at)  # checked once

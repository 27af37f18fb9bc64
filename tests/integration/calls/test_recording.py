"""Recording by policy, through the simulator over real TCP and PostgreSQL: the commands
sent, the files the simulator writes like FreeSWITCH, the check after each call."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from callcenter.app import App
from callcenter.cli import main
from callcenter.events.types import Event
from callcenter.ivr import plan
from callcenter.recording import policy, wav
from callcenter.services import calls, tokens
from callcenter.services import recordings as service
from callcenter.services.actor import Actor
from callcenter.sim import recordfile
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.records import RecordingRecord, StoredRecording
from callcenter.store.repos import AgentRepository, QueueRepository, RecordingRepository
from callcenter.vocabulary import RecordingPolicy, RouteTarget
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import add_route, apps_sent, settled, wait_cdr
from tests.integration.calls.test_queues import setup_queue
from tests.support import until

OPERATOR = Actor("cli", "test")
ANNOUNCEMENT = "tone_stream://%(200,0,500)"


def api_lines(sim: Simulator, uuid: str) -> list[str]:
    return [c.line for c in sim.core.commands if c.line.startswith("api ") and uuid in c.line]


def checked(app: App, uuid: str) -> list[StoredRecording]:
    def done() -> list[StoredRecording] | None:
        with app.database.session_scope() as session:
            rows = RecordingRepository(session).search(call_uuid=uuid)
        return (
            rows if rows and all(r.status not in ("pending", "recording") for r in rows) else None
        )

    return until(done, timeout=10)


def events_of(app: App) -> list[Event]:
    seen: list[Event] = []
    app.events.subscribe(seen.append)
    return seen


def queue_call(
    sim: Simulator, app: App, did: str, ext: str, talk: float = 40.0, **queue: Any
) -> str:
    sim.register_agent(ext, AgentBehaviour(answer_delay=0.2))
    setup_queue(app, f"q{did}", {ext: {}}, did=did, **queue)
    return sim.place_call(did, "15550001", behaviour=CallerBehaviour(talk_time=talk))


def test_always_records_the_bridge_in_stereo_and_checks_the_file(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app = engine()
    seen = events_of(app)
    uuid = queue_call(
        sim, app, "8101", "2101", recording_policy=RecordingPolicy.ALL,
        recording_announcement=ANNOUNCEMENT,
    )  # fmt: skip
    wait_cdr(app, uuid)
    assert apps_sent(sim, uuid)[1] == f"playback {ANNOUNCEMENT}"  # before the music
    [row] = checked(app, uuid)
    lines = api_lines(sim, uuid)
    stereo = lines.index(f"api uuid_setvar {uuid} RECORD_STEREO true")
    start = next(
        i for i, line in enumerate(lines) if line.startswith(f"api uuid_record {uuid} start ")
    )
    assert stereo < start  # the flag before the start, as in sessions-3/s16
    path = Path(row.path)
    assert path.parent.name == "q8101" and path.name == f"{uuid}.wav"
    assert path.is_relative_to(tmp_path / "recordings")
    assert (row.status, row.channels, row.queue, row.agent) == ("ok", 2, "q8101", "2101")
    info = wav.read_info(path.read_bytes()[:64])
    assert info.channels == 2 and info.rate == 8000
    assert row.duration_ms is not None and abs(info.duration_ms - row.duration_ms) <= 1000
    assert row.size_bytes == path.stat().st_size and row.sha256 and len(row.sha256) == 64
    stored = [e for e in seen if str(e.type) == "recording.stored"]
    assert stored and stored[0].data()["channels"] == 2
    # an operator elsewhere: the CLI's remote twins through the engine's API
    secret = tokens.create(app.database, OPERATOR, "desk", "read").secret
    env = {"CALLCENTER_API_URL": f"http://127.0.0.1:{app.metrics.port}",
           "CALLCENTER_API_TOKEN": secret}  # fmt: skip
    listed = CliRunner().invoke(main, ["recording", "list", "--json"], env=env)
    assert [r["call_uuid"] for r in json.loads(listed.output)] == [uuid]
    out = tmp_path / "export.wav"
    done = CliRunner().invoke(main, ["recording", "export", str(row.id), "-o", str(out)], env=env)
    assert done.exit_code == 0 and out.read_bytes() == path.read_bytes()
    purge = CliRunner().invoke(main, ["recording", "purge"], env=env)
    assert purge.exit_code != 0  # local only: it would quietly use a local database
    until(lambda: settled(app))


def test_never_and_sample_decide_from_the_policy_and_the_call_uuid(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    never = queue_call(sim, app, "8102", "2102", talk=2.0, recording_policy=RecordingPolicy.NONE)
    sampled = queue_call(
        sim, app, "8103", "2103", talk=2.0,
        recording_policy=RecordingPolicy.SAMPLED, recording_sample_percent=50,
    )  # fmt: skip
    wait_cdr(app, never)
    wait_cdr(app, sampled)
    assert not any("uuid_record" in line for line in api_lines(sim, never))
    recorded = any("uuid_record" in line for line in api_lines(sim, sampled))
    assert recorded is policy.sampled(sampled, 50)
    until(lambda: settled(app))


def test_an_agent_override_records_a_queue_that_does_not(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    with app.database.session_scope() as session:
        AgentRepository(session).add("2104", "Agent 2104", wrapup_seconds=1)
        AgentRepository(session).set_phone("2104", recording_policy="always")
    app.phones.changed("2104")
    uuid = queue_call(sim, app, "8104", "2104", talk=2.0, recording_policy=RecordingPolicy.NONE)
    wait_cdr(app, uuid)
    [row] = checked(app, uuid)
    assert row.agent == "2104" and row.status == "ok"
    until(lambda: settled(app))


def test_on_demand_start_and_a_pci_pause_leave_silence_and_a_span(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    uuid = queue_call(sim, app, "8105", "2105", talk=600.0,
                      recording_policy=RecordingPolicy.ON_DEMAND)  # fmt: skip
    until(lambda: any("uuid_bridge" in line for line in api_lines(sim, uuid)))
    assert not any("uuid_record" in line for line in api_lines(sim, uuid))
    app.writer.flush()  # the call's row: the service looks it up
    for action in ("start", "pause", "resume"):
        service.control(app.database, OPERATOR, uuid, action)
        verb = {"start": "start", "pause": "mask", "resume": "unmask"}[action]
        until(
            lambda verb=verb: any(f"uuid_record {uuid} {verb} " in x for x in api_lines(sim, uuid))
        )
    calls.hangup(app.database, OPERATOR, uuid)
    wait_cdr(app, uuid)
    [row] = checked(app, uuid)
    assert row.status == "ok" and len(row.paused) == 1
    [(since, until_ms)] = row.paused
    assert 0 <= since <= until_ms
    data = Path(row.path).read_bytes()[wav.HEADER :]
    assert any(data) and data.count(0) > 0
    until(lambda: settled(app))


def test_a_missing_and_a_corrupt_file_are_stored_as_such_and_raised(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    seen = events_of(app)
    sim.core.record_files = "missing"
    gone = queue_call(sim, app, "8106", "2106", talk=2.0, recording_policy=RecordingPolicy.ALL)
    wait_cdr(app, gone)
    [row] = checked(app, gone)
    sim.core.record_files = "corrupt"
    bad = queue_call(sim, app, "8107", "2107", talk=2.0, recording_policy=RecordingPolicy.ALL)
    wait_cdr(app, bad)
    [row2] = checked(app, bad)
    assert (row.status, row2.status) == ("missing", "corrupt")
    assert row2.size_bytes is not None and row2.problem
    failed = {e.call_uuid: e.data()["status"] for e in seen if str(e.type) == "recording.failed"}
    assert failed == {gone: "missing", bad: "corrupt"}
    metric = app.registry.get_sample_value
    assert metric("callcenter_recordings_checked_total", {"status": "missing"}) == 1
    assert metric("callcenter_recordings_checked_total", {"status": "corrupt"}) == 1
    until(lambda: settled(app))


def test_the_agent_pauses_with_star_27_and_resumes_with_star_28(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    uuid = queue_call(sim, app, "8108", "2108", talk=600.0, recording_policy=RecordingPolicy.ALL)
    until(lambda: any(f"uuid_record {uuid} start" in x for x in api_lines(sim, uuid)))
    actor = app.managers["fs1"].actors[uuid]
    [leg] = [x.uuid for x in actor.call.timeline.legs.values() if x.agent_extension == "2108"]
    sim.send_dtmf(leg, "*27", gap=0.05)
    until(lambda: any(f"uuid_record {uuid} mask " in x for x in api_lines(sim, uuid)))
    sim.send_dtmf(uuid, "*28", gap=0.05)  # the caller's keys do nothing
    until(lambda: "".join(actor.call.keys).endswith("*28"))
    assert not any(f"uuid_record {uuid} unmask " in x for x in api_lines(sim, uuid))
    sim.send_dtmf(leg, "*28", gap=0.05)
    until(lambda: any(f"uuid_record {uuid} unmask " in x for x in api_lines(sim, uuid)))
    app.writer.flush()
    calls.hangup(app.database, OPERATOR, uuid)
    wait_cdr(app, uuid)
    [row] = checked(app, uuid)
    assert len(row.paused) == 1 and row.status == "ok"
    until(lambda: settled(app))


def test_an_ivr_flow_records_from_the_answer_and_never_a_card_number(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    import dataclasses

    from tests.integration.ivr.test_ivr_calls import HERE, MAIN, prompts, wire

    card = plan.Collect(
        name="account", where=HERE, prompt=prompts("card.wav"), variable="card", next="bye",
        on_failure="bye", min_digits=4, max_digits=4, pci=True, secret=True,
    )  # fmt: skip
    flow = dataclasses.replace(MAIN, recording="always", nodes={**MAIN.nodes, "account": card})
    app = engine()
    wire(app, tmp_path, flow)
    until(lambda: app.connections["fs1"].connected)
    uuid = sim.place_call("7302", "15551234567", behaviour=CallerBehaviour(digits=("1", "1234")))
    wait_cdr(app, uuid, timeout=30)
    lines = api_lines(sim, uuid)
    verbs = [x.split()[3] for x in lines if x.startswith(f"api uuid_record {uuid}")]
    assert verbs == ["start", "mask", "unmask"]
    assert not any("RECORD_STEREO" in x for x in lines)  # an IVR call: mono
    [row] = checked(app, uuid)
    assert (row.status, row.channels, len(row.paused)) == ("ok", 1, 1)
    until(lambda: settled(app))


def test_the_engine_applies_retention_and_counts_it(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app = engine()
    path = tmp_path / "recordings" / "old.wav"
    recordfile.write(path, 500, 1, [])
    with app.database.session_scope() as session:
        QueueRepository(session).add("q-old", recording_keep_days=1)
        RecordingRepository(session).add(
            RecordingRecord(call_uuid="c-old", path=str(path), queue="q-old",
                            started_at=datetime.now(UTC) - timedelta(days=2))
        )  # fmt: skip
    assert app.recordings.purge_once() == 1
    assert not path.exists()
    assert app.registry.get_sample_value("callcenter_recordings_purged_total") == 1
    with app.database.session_scope() as session:
        [row] = RecordingRepository(session).search(call_uuid="c-old")
    assert row.deleted_at is not None and row.status == "deleted"


def test_a_check_lost_by_an_earlier_run_is_done_at_start(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app = engine()
    path = tmp_path / "recordings" / "lost.wav"
    recordfile.write(path, 1200, 2, [])
    with app.database.session_scope() as session:
        RecordingRepository(session).add(
            RecordingRecord(call_uuid="c-lost", path=str(path), duration_ms=1200,
                            started_at=datetime.now(UTC) - timedelta(hours=1))
        )  # fmt: skip
    assert app.recordings.recheck_pending() == 1
    [row] = checked(app, "c-lost")
    assert (row.status, row.channels, row.file_ms) == ("ok", 2, 1200)


def test_a_direct_call_follows_the_agents_policy(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    sim.register_agent("2110", AgentBehaviour(answer_delay=0.2))
    with app.database.session_scope() as session:
        AgentRepository(session).add("2110", "Agent 2110", wrapup_seconds=1)
        AgentRepository(session).set_phone("2110", recording_policy="always")
    app.phones.changed("2110")
    add_route(app, "8110", RouteTarget.EXTENSION, "2110")
    until(lambda: app.connections["fs1"].connected)
    uuid = sim.place_call("8110", "15550110", behaviour=CallerBehaviour(talk_time=2.0))
    wait_cdr(app, uuid)
    [row] = checked(app, uuid)
    assert (row.status, row.channels, row.agent, row.queue) == ("ok", 2, "2110", None)
    assert Path(row.path).parent.name == "none"  # {queue} of a call in no queue
    until(lambda: settled(app))

"""Supervision sessions across an engine restart (issue 15): FreeSWITCH goes on running the
supervisor's eavesdrop; the next engine closes the sessions whose leg is gone (end time,
reason, audited, in the CDR) and adopts those still up, which then end as any other.
Simulator over TCP, real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from callcenter.app import App
from callcenter.services import supervision
from callcenter.sim.simulator import Simulator
from callcenter.store.records import SupervisionRecord
from callcenter.store.repos.audit import AuditLog
from callcenter.supervision.left import CUT, GONE
from callcenter.vocabulary import CallState
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import settled, wait_cdr
from tests.integration.calls.test_intents import kills, state_of
from tests.integration.calls.test_supervision import (
    WHO,
    Seen,
    bridged_call,
    cli,
    in_eavesdrop,
)
from tests.support import until

MODES = "cc_supervision_modes"  # supervision.run.MODES: kept on the supervisor's channel


def _session(app: App, uuid: str) -> SupervisionRecord:
    [row] = supervision.for_call(app.database, uuid)
    return row


def _variable(sim: Simulator, uuid: str, name: str) -> str:
    return next((c.variables.get(name, "") for c in sim.channels if c.uuid == uuid), "")


def test_sessions_left_by_a_restart_are_closed_or_adopted(
    sim: Simulator, engine: EngineFactory, calls_db_url: str, tmp_path: Path
) -> None:
    first = engine()
    seen = Seen(sim)
    kept_call, _ = bridged_call(first, sim, "sup-kept", "3611", "9611")
    gone_call, _ = bridged_call(first, sim, "sup-gone", "3612", "9612")
    kept = supervision.request(first.database, WHO, kept_call, "listen", "93611").session
    gone = supervision.request(first.database, WHO, gone_call, "barge", "93612").session
    until(lambda: in_eavesdrop(sim, kept.leg_uuid) and in_eavesdrop(sim, gone.leg_uuid))
    sim.send_dtmf(kept.leg_uuid, "2")  # whisper, before the restart
    until(lambda: _variable(sim, kept.leg_uuid, MODES) == "listen,whisper")
    first.stop("restart")  # the eavesdrops go on in FreeSWITCH
    assert _session(first, kept_call).ended_at is None  # a stop does not end them
    sim.hangup(gone.leg_uuid)  # a supervisor leaves while no engine runs
    until(lambda: sim.channel(gone.leg_uuid) is None)

    app = engine()
    closed = until(lambda: _session(app, gone_call).ended_at and _session(app, gone_call))
    assert closed.end_reason == GONE and closed.modes == ""
    with app.database.session_scope() as session:
        audit = [e for e in AuditLog(session).recent(200) if e.action == "supervision.closed"]
    assert [(e.actor, e.target) for e in audit] == [("engine:recovery", gone_call)]

    manager = app.managers["fs1"]
    until(lambda: kept.leg_uuid in manager._supervising, timeout=20)
    assert in_eavesdrop(sim, kept.leg_uuid)
    assert not any(kept.leg_uuid in k for k in kills(sim))
    until(lambda: state_of(app, kept_call) is CallState.BRIDGED)
    sim.send_dtmf(kept.leg_uuid, "3")  # barge, heard by the adopting engine
    until(lambda: _variable(sim, kept.leg_uuid, MODES) == "listen,whisper,barge")
    sim.hangup(kept_call)  # the caller leaves: FreeSWITCH hangs the supervisor up
    row = until(lambda: _session(app, kept_call).ended_at and _session(app, kept_call))
    assert row.end_reason == "call_ended" and row.modes == "listen,whisper,barge"
    assert row.started_at is not None and row.started_at <= row.ended_at
    cdr = wait_cdr(app, kept_call, timeout=20)
    assert kept.leg_uuid not in {leg.leg_uuid for leg in cdr.legs}  # not a leg of the call
    sim.hangup(gone_call)
    wait_cdr(app, gone_call, timeout=20)
    shown = json.loads(cli(["cdr", "show", gone_call], calls_db_url, tmp_path).output)
    assert [(s["end_reason"], s["ended_at"] is not None) for s in shown["supervision"]] == [
        (GONE, True)
    ]
    assert seen.bugs(kept.leg_uuid) == []  # the media bug is on the agent's leg, not S's
    until(lambda: settled(app))


def test_a_phone_session_is_cut_by_a_restart_and_closed(
    sim: Simulator, engine: EngineFactory
) -> None:
    first = engine()
    first.phones.ttl = 0.0
    uuid, _ = bridged_call(first, sim, "sup-cut", "3613", "9613")
    phone = sim.phone_call("93613", "*333613")
    until(lambda: in_eavesdrop(sim, phone), timeout=20)  # a loaded shard took over 5 s
    first.stop("restart")
    row = _session(first, uuid)
    assert (row.source, row.end_reason) == ("phone", CUT) and row.ended_at is not None
    app = engine()  # the supervisor's call, adopted, is hung up: the phone dials again
    until(lambda: sim.channel(phone) is None, timeout=20)
    assert _session(app, uuid).end_reason == CUT
    sim.hangup(uuid)
    wait_cdr(app, uuid, timeout=20)
    until(lambda: settled(app))

"""A supervisor listens to a recorded bridged call on a real FreeSWITCH (skipped unless
CALLCENTER_FS_HOST is set): FreeSWITCH's eavesdrop joins the agent's leg, the session is
stored with its start and end, the agent's call goes on untouched and its recording is
whole.

As in test_recording_e2e, no SIP peer is needed: the agent and the supervisor are loopbacks
to the vanilla config's music on hold (9664 in the default context)."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.app import App
from callcenter.esl import commands
from callcenter.services import supervision
from callcenter.services.actor import Actor
from callcenter.store.repos import AgentRepository
from callcenter.supervision.run import SupervisionRun
from callcenter.vocabulary import CallState
from tests.e2e.test_recording_e2e import (
    TALK_SECONDS,
    caller_connection,
    checked,
    make_engine,
    recorded_queue,
    recording_call,
)
from tests.support import until

WHO = Actor("cli", "e2e")


@pytest.fixture
def engine(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    from callcenter.calls.control import CallControl

    loopback = "loopback/9664/default"
    monkeypatch.setattr(CallControl, "agent_dial_string", lambda _self, _ext: loopback)
    monkeypatch.setattr(SupervisionRun, "dial_string", lambda _self: loopback)
    app = make_engine(pg_url, tmp_path)
    try:
        yield app
    finally:
        app.stop("e2e over")


def test_a_supervisor_listens_and_the_agents_call_goes_on(engine: App) -> None:
    did = recorded_queue(engine)
    sup = "sup" + str(uuidlib.uuid4().int)[:8]
    with engine.database.session_scope() as session:
        AgentRepository(session).add(sup, "loopback supervisor")
        AgentRepository(session).set_role(sup, "supervisor")
    control = caller_connection()
    try:
        control.bgapi(
            commands.originate(f"loopback/{did}/callcenter", {}, uuid=str(uuidlib.uuid4())),
            timeout=20,
        )
        call = until(lambda: recording_call(engine), timeout=30)
        engine.writer.flush()
        asked = supervision.request(engine.database, WHO, call, "listen", sup).session
        leg = asked.leg_uuid

        def eavesdropping() -> bool:
            return control.api(f"uuid_getvar {leg} current_application").strip() == "eavesdrop"

        until(eavesdropping, timeout=20)
        control.api(f"uuid_kill {leg}")  # the supervisor leaves; the call goes on
        row = until(
            lambda: next(
                (s for s in supervision.for_call(engine.database, call) if s.ended_at), None
            ),
            timeout=20,
        )
        assert row.started_at is not None and row.modes == "listen"
        actor = next(m.actors[call] for m in engine.managers.values() if call in m.actors)
        assert actor.call.state is CallState.BRIDGED
        control.api(f"sched_api +{TALK_SECONDS} none uuid_kill {call}")
    finally:
        control.stop()
    recording = until(lambda: checked(engine, call), timeout=TALK_SECONDS + 30)
    assert recording.status == "ok" and recording.channels == 2, recording.problem

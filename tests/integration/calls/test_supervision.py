"""Supervisors on live calls, through the simulator: listen, whisper, barge (eavesdrop).

The supervisor's phone rings, answers, and FreeSWITCH's eavesdrop joins the agent's leg
(MEDIA_BUG_START on it); its keys switch the mode (2 whisper, 3 barge, 0 listen); the session
ends when the supervisor hangs up or, FreeSWITCH hanging it up, when the caller leaves. The
agent's call goes on untouched either way.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from callcenter.app import App
from callcenter.cli import main
from callcenter.errors import DomainError
from callcenter.services import supervision
from callcenter.services.actor import Actor
from callcenter.services.supervision import NotASupervisor
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.records import SupervisionRecord
from callcenter.store.repos import AgentRepository, CallRepository
from callcenter.store.repos.audit import AuditLog
from callcenter.vocabulary import CallState, Disposition
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import apps_sent, settled, wait_cdr
from tests.integration.calls.test_intents import agent_legs, kills, state_of
from tests.integration.calls.test_queues import originates, setup_queue
from tests.support import until

WHO = Actor("cli", "sup-test")


def cli(args: list[str], database_url: str, data_dir: Path) -> Result:
    """``callcenter ARGS`` run in-process, as an operator beside the database would."""
    env = {"CALLCENTER_DATABASE_URL": database_url, "CALLCENTER_DATA_DIR": str(data_dir),
           "CALLCENTER_LOG_LEVEL": "WARNING"}  # fmt: skip
    done = CliRunner().invoke(main, args, env=env)
    assert done.exit_code == 0, done.output
    return done


def bridged_call(app: App, sim: Simulator, queue: str, agent: str, did: str) -> tuple[str, str]:
    """A caller bridged to ``agent`` and a supervisor ``9<agent>`` ready: (call, agent leg)."""
    sim.register_agent(agent, AgentBehaviour(answer_delay=0.3))
    sim.register_agent("9" + agent, AgentBehaviour(answer_delay=0.3))
    setup_queue(app, queue, {agent: {}}, did=did)
    with app.database.session_scope() as session:
        agents = AgentRepository(session)
        agents.add("9" + agent, "Sup", wrapup_seconds=1, skills={})
        agents.set_role("9" + agent, "supervisor")
    uuid = sim.place_call(did, "15550199", behaviour=CallerBehaviour(patience=None))
    until(lambda: state_of(app, uuid) is CallState.BRIDGED)
    until(lambda: _stored_on_call(app, uuid, agent))  # what a supervisor's request reads
    [leg] = agent_legs(app, uuid)
    return uuid, leg


def _stored_on_call(app: App, uuid: str, agent: str) -> bool:
    """The database shows ``agent``'s leg of ``uuid`` answered and up: the actor mirrors
    the call once its bridge step is done, after the state the test sees went BRIDGED (a
    loaded run's phone request came in between and was refused: agent on no call)."""
    app.writer.flush()
    with app.database.session_scope() as session:
        call = CallRepository(session).get(uuid)
    return any(
        leg.agent_extension == agent and leg.answered_at is not None and leg.ended_at is None
        for leg in call.legs
    )


def session_of(app: App, uuid: str) -> SupervisionRecord | None:
    ended = [s for s in supervision.for_call(app.database, uuid) if s.ended_at is not None]
    return ended[0] if ended else None


class Seen:
    """The simulator's events, as FreeSWITCH sent them (name, leg)."""

    def __init__(self, sim: Simulator) -> None:
        self.events: list[tuple[str, str | None]] = []
        sim.on_event(lambda event: self.events.append((event.name, event.unique_id)))

    def on(self, leg: str, *names: str) -> list[str]:
        return [name for name, uuid in list(self.events) if uuid == leg and name in names]

    def bugs(self, leg: str) -> list[str]:
        return self.on(leg, "MEDIA_BUG_START", "MEDIA_BUG_STOP")


def in_eavesdrop(sim: Simulator, leg: str) -> bool:
    snapshot = sim.channel(leg)
    return snapshot is not None and snapshot.application == "eavesdrop"


def test_listen_then_whisper_and_barge_by_keys_until_the_supervisor_hangs_up(
    sim: Simulator, engine: EngineFactory, calls_db_url: str, tmp_path: Path
) -> None:
    app = engine()
    seen = Seen(sim)
    uuid, leg = bridged_call(app, sim, "sup-listen", "3601", "9601")

    asked = supervision.request(app.database, WHO, uuid, "listen", "93601")
    assert asked.session.agent == "3601" and asked.session.agent_leg_uuid == leg
    sup = asked.session.leg_uuid
    until(lambda: in_eavesdrop(sim, sup))
    until(lambda: seen.bugs(leg) == ["MEDIA_BUG_START"])
    assert not seen.on(sup, "CHANNEL_PARK", "CHANNEL_BRIDGE")  # s15: never parked nor bridged
    [line] = [o for o in originates(sim) if "user/93601@" in o]
    assert f"&eavesdrop({leg})" in line and "eavesdrop_whisper_aleg=false" in line
    assert "eavesdrop_enable_dtmf=true" in line

    sim.send_dtmf(sup, "2305")  # whisper, barge, listen; 5 is no mode key
    until(lambda: len(seen.on(sup, "DTMF")) == 4)
    sim.hangup(sup)
    row = until(lambda: session_of(app, uuid))
    assert row.modes == "listen,whisper,barge,listen"
    assert row.end_reason == "supervisor_hangup" and row.started_at is not None
    with app.database.session_scope() as session:
        audit = [e for e in AuditLog(session).recent(200) if e.target == uuid]
    assert [(e.action, e.actor) for e in audit] == [("call.listen", str(WHO))]
    assert seen.bugs(leg) == ["MEDIA_BUG_START", "MEDIA_BUG_STOP"]

    # the agent's call is untouched: still bridged, nothing killed, ended by the caller
    assert state_of(app, uuid) is CallState.BRIDGED
    assert not any(uuid in k or leg in k for k in kills(sim))
    sim.hangup(uuid)
    cdr = wait_cdr(app, uuid)
    assert cdr.disposition is Disposition.ANSWERED and cdr.agent_extension == "3601"
    until(lambda: settled(app))
    shown = json.loads(cli(["cdr", "show", uuid], calls_db_url, tmp_path / "op").stdout)
    [listed] = shown["supervision"]
    assert listed["supervisor"] == "93601" and listed["modes"] == "listen,whisper,barge,listen"
    assert listed["source"] == "api" and listed["ended_at"] is not None


def test_whisper_from_the_cli_ends_when_the_caller_leaves(
    sim: Simulator, engine: EngineFactory, calls_db_url: str, tmp_path: Path
) -> None:
    app = engine()
    seen = Seen(sim)
    uuid, leg = bridged_call(app, sim, "sup-whisper", "3602", "9602")
    until(lambda: app.changes._listener is not None)
    args = ["call", "whisper", uuid, "--from", "93602", "--json"]
    asked = json.loads(cli(args, calls_db_url, tmp_path / "op").stdout)
    assert asked["agent"] == "3602" and asked["mode"] == "whisper"
    [row] = supervision.for_call(app.database, uuid)
    sup = row.leg_uuid
    until(lambda: seen.bugs(leg) == ["MEDIA_BUG_START"])
    [line] = [o for o in originates(sim) if "user/93602@" in o]
    assert "eavesdrop_whisper_aleg=true" in line and "eavesdrop_whisper_bleg=false" in line

    sim.hangup(uuid)  # the caller leaves: FreeSWITCH hangs the supervisor up
    cdr = wait_cdr(app, uuid)
    assert cdr.disposition is Disposition.ANSWERED
    row = until(lambda: session_of(app, uuid))
    assert row.modes == "whisper" and row.end_reason == "call_ended"
    ended = {"mode": "whisper", "end": "call_ended"}
    until(lambda: app.registry.get_sample_value("callcenter_supervision_sessions_total", ended))
    until(lambda: seen.on(sup, "CHANNEL_HANGUP_COMPLETE") == ["CHANNEL_HANGUP_COMPLETE"])
    assert seen.bugs(leg) == ["MEDIA_BUG_START", "MEDIA_BUG_STOP"]
    until(lambda: settled(app))


def test_only_a_supervisor_may_and_only_on_a_call_with_an_agent(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    uuid, _leg = bridged_call(app, sim, "sup-refuse", "3603", "9603")
    with pytest.raises(NotASupervisor, match="3603 is not a supervisor"):
        supervision.request(app.database, WHO, uuid, "barge", "3603")
    with pytest.raises(DomainError, match="mode"):
        supervision.request(app.database, WHO, uuid, "spy", "93603")
    assert supervision.for_call(app.database, uuid) == []
    assert not any("&eavesdrop(" in o for o in originates(sim))
    sim.hangup(uuid)
    wait_cdr(app, uuid)
    app.writer.flush()
    with pytest.raises(DomainError, match=r"has ended|no agent"):
        supervision.request(app.database, WHO, uuid, "listen", "93603")
    until(lambda: settled(app))


def test_star_33_from_a_supervisors_phone_and_refused_from_an_agents(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    app.phones.ttl = 0.0
    seen = Seen(sim)
    uuid, leg = bridged_call(app, sim, "sup-phone", "3604", "9604")

    refused = sim.phone_call("3604", "*333604")  # the agent itself: no supervisor role
    assert wait_cdr(app, refused).disposition is Disposition.FEATURE
    assert "eavesdrop" not in [a.split()[0] for a in apps_sent(sim, refused)]

    phone = sim.phone_call("93604", "*333604")
    until(lambda: in_eavesdrop(sim, phone))
    until(lambda: seen.bugs(leg) == ["MEDIA_BUG_START"])
    assert f"eavesdrop {leg}" in apps_sent(sim, phone)
    sim.send_dtmf(phone, "3")
    until(lambda: len(seen.on(phone, "DTMF")) == 1)
    sim.hangup(uuid)  # the caller leaves: eavesdrop ends, the engine hangs the phone up
    wait_cdr(app, uuid)
    cdr = wait_cdr(app, phone)
    assert cdr.disposition is Disposition.FEATURE
    row = until(lambda: session_of(app, uuid))
    assert (row.source, row.supervisor, row.agent) == ("phone", "93604", "3604")
    assert row.modes == "listen,barge" and row.end_reason == "call_ended"
    assert row.leg_uuid == phone and row.agent_leg_uuid == leg
    until(lambda: settled(app))

"""A campaign's calls when something fails on the way (issue 17's review): the agent hanging
up during a preview's whisper, a bridge refused or the lead leaving while an agent's phone
rings, a flow longer than a claim lasts, a trunk failing over on its SIP status, and an
engine restarting mid call. The engine, the simulator over TCP and PostgreSQL."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import gevent
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcenter.acd.board import Board
from callcenter.app import App
from callcenter.dialer import runner as runner_module
from callcenter.dialer import store
from callcenter.dialer.compliance import Outcome
from callcenter.dialer.vocabulary import (
    AmdAction,
    AuditKind,
    CampaignMode,
    CampaignState,
    LeadState,
)
from callcenter.errors import DatabaseUnavailable, UnsafeValue
from callcenter.events.types import CampaignCallConnected, CampaignCallEnded
from callcenter.services import campaigns
from callcenter.services.actor import Actor
from callcenter.sim import AgentBehaviour, Simulator, Voice
from callcenter.sim import api as sim_api
from callcenter.sim import apps as sim_apps
from callcenter.sim.events import SimEvent
from callcenter.sim.traffic import TrafficModel, TrafficProfile
from callcenter.store.database import Database
from callcenter.store.models import Cdr, DialerAuditEntry, Lead, LeadAttempt
from callcenter.store.records import CdrRecord
from callcenter.store.repos import CdrRepository, OutboundRouteRepository, TrunkRepository
from callcenter.trunks.dialout import CONGESTION
from callcenter.trunks.spec import StaticTrunks, TrunkSpec
from callcenter.vocabulary import AgentState, AgentStatus, Direction, Disposition, LegRole
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import apps_sent, settled, wait_cdr
from tests.integration.calls.test_failures import cdr_count
from tests.integration.calls.test_fs_cdr import backstopped, cdr_rows, metric
from tests.integration.calls.test_queues import _set_status, setup_queue
from tests.integration.calls.test_restarts import killable, serve
from tests.integration.dialer.test_campaign_run import (
    _attempts,
    _audit,
    _campaign,
    _lead,
    _lead_channel,
    _offered,
    _one_lead,
    _route,
    _start,
)
from tests.integration.ivr.test_every_node import flows_dir
from tests.support import until

__all__ = ["killable"]  # the fixture: engines run as processes, for a SIGKILL

LONG_TONE = "tone_stream://%(600000,0,440)"  # 10 simulated minutes: 30 s here
PATIENT = Voice(silence=0.3, speech=0.7, patience=3000.0)  # waits 150 s for someone to speak
TALKER = AgentBehaviour(answer_delay=1.0, talk_time=600.0, voice=PATIENT)  # stays on the line
SLOW = AgentBehaviour(answer_delay=200.0, talk_time=600.0, voice=PATIENT)  # 10 s of ringing
BROADCAST_FLOW = f"""\
version: 1
name: bcast
start: say
sounds: /snd
nodes:
  say: {{type: play, prompts: "{LONG_TONE}", next: bye}}
  bye: {{type: hangup}}
"""


def _free(app: App, extension: str) -> bool:
    """Asked of the dispatcher: behind every message posted before, as a release is."""
    return bool(app.dispatcher.read(lambda board, now: board.agents[extension].free(now)))


def _all_attempts(app: App, phone: str) -> list[LeadAttempt]:
    with app.database.session_scope() as session:
        rows = list(session.scalars(select(LeadAttempt).where(LeadAttempt.phone == phone)))
        session.expunge_all()
        return rows


def test_the_agent_hanging_up_during_a_previews_whisper_gives_the_lead_back(
    sim: Simulator, engine: EngineFactory
) -> None:
    # the CallGone of the whisper went past store.release and line_done: the lead stayed
    # claimed and the runner's line was never done (a paused campaign's runner never ended)
    number = "+15557610001"
    app = _one_lead(engine(), sim, "fail1", "4761", number, TALKER, mode=CampaignMode.PREVIEW)

    def whispering() -> str | None:
        for channel in sim.channels:
            if channel.variables.get("cc_preview") and channel.application == "playback":
                return channel.uuid
        return None

    agent_leg = until(whispering, timeout=20)
    campaigns.pause(app.database, Actor("cli", "test"), "fail1")
    sim.hangup(agent_leg)  # the agent puts the phone down before pressing a key
    assert wait_cdr(app, agent_leg, timeout=20)
    until(lambda: "fail1" not in app.dialer.runners, timeout=20)  # its line done: it ends
    lead = _lead(app, number)
    assert lead.state is LeadState.PENDING and lead.attempts == 0
    assert _attempts(app, "fail1") == {}
    assert not [c for c in sim.core.commands if "originate" in c.line and "15557610001" in c.line
                and "sofia/gateway" in c.line]  # fmt: skip


def test_a_bridge_freeswitch_refuses_frees_that_agent_and_the_next_one_takes_the_lead(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # control.bridge raising escaped: no next agent, the agent's leg left up, the agent held
    app = engine()
    _route(app)
    number = "+15557620001"
    TrafficModel(sim, TrafficProfile(), seed=1, overrides={number.lstrip("+"): TALKER})
    for ext in ("4771", "4772"):
        sim.register_agent(ext, AgentBehaviour(answer_delay=5.0))  # auto-answer: 0.3 s
    setup_queue(app, "fail2q", {"4771": {}, "4772": {}}, did="8771")
    _campaign(app, "fail2", "fail2q", [number])
    bridge = sim_api.HANDLERS["uuid_bridge"]
    refused: list[str] = []

    def refusing(api: sim_api.Api, argv: list[str], args: str) -> str:
        if not refused:
            refused.append(argv[1])  # the agent's leg
            return "-ERR Invalid uuid\n"
        return bridge(api, argv, args)

    monkeypatch.setitem(sim_api.HANDLERS, "uuid_bridge", refusing)
    _start(app, "fail2")
    until(lambda: number in _attempts(app, "fail2"), timeout=30)
    attempt = _attempts(app, "fail2")[number]
    [first_leg] = refused
    first = sim.core.commands  # the refused agent: the one whose leg was dialled first
    rung = [c.line for c in first if "originate" in c.line and first_leg in c.line]
    first_agent = "4771" if "user/4771@" in rung[0] else "4772"
    other = "4772" if first_agent == "4771" else "4771"
    assert (attempt.outcome, attempt.agent) == (Outcome.ANSWERED, other)
    assert sim.channel(first_leg) is None  # its leg hung up
    assert _free(app, first_agent)  # and the agent given back, while the lead talks on
    assert attempt.call_uuid is not None
    assert any(c.partner for c in sim.channels if c.uuid == attempt.call_uuid)
    sim.hangup(attempt.call_uuid)
    assert wait_cdr(app, attempt.call_uuid, timeout=20).agent_extension == other
    until(lambda: settled(app))


def test_a_lead_leaving_while_the_agents_phone_rings_gives_the_agent_back_at_once(
    sim: Simulator, engine: EngineFactory
) -> None:
    # the CallGone of the agent's ringing left its reservation to expire (about 7 s)
    number = "+15557630001"
    app = _one_lead(engine(), sim, "fail3", "4781", number, TALKER)
    left: list[str] = []

    def hang_up_the_lead(event: SimEvent) -> None:
        if event.name != "CHANNEL_CREATE" or event.get("variable_cc_role") != "agent" or left:
            return
        lead = _lead_channel(sim, "fail3")  # the agent's phone starts ringing: the lead leaves
        if lead is not None:
            left.append(lead)
            sim.core.spawn(sim.hangup, lead, name="lead-leaves")

    sim.on_event(hang_up_the_lead)
    until(lambda: bool(left), timeout=30)
    [lead] = left
    cdr = wait_cdr(app, lead, timeout=20)
    assert cdr.agent_extension is None
    assert _free(app, "4781")  # at once: the reservation was released, not left to expire
    assert _attempts(app, "fail3")[number].outcome is Outcome.ABANDONED
    until(lambda: settled(app))


def test_a_broadcast_call_is_recorded_before_its_flow_and_stays_a_line_until_it_ends(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    # the attempt was stored once the flow returned: a flow over STALE_CLAIM (600 s) let
    # release_stale make the lead due again while the call was still on
    app = engine(CALLCENTER_DIALPLANS_DIR=str(flows_dir(tmp_path, bcast=BROADCAST_FLOW)))
    _route(app)
    number = "+15557640001"
    TrafficModel(sim, TrafficProfile(), seed=1, overrides={number.lstrip("+"): TALKER})
    setup_queue(app, "fail4q", {}, did="8781")
    _campaign(app, "fail4", "fail4q", [number], mode=CampaignMode.BROADCAST, flow="bcast",
              max_lines=1)  # fmt: skip
    _start(app, "fail4")
    until(lambda: number in _attempts(app, "fail4"), timeout=30)
    attempt = _attempts(app, "fail4")[number]
    assert attempt.outcome is Outcome.ANSWERED and attempt.call_uuid is not None
    assert _lead(app, number).state is not LeadState.DIALING  # release_stale cannot take it
    call = attempt.call_uuid
    until(lambda: any(c.uuid == call and c.application == "playback" for c in sim.channels))
    runner = app.dialer.runners["fail4"]
    assert list(runner.lines) == [call]  # still a line: max_lines counts it
    sim.hangup(call)
    assert wait_cdr(app, call, timeout=20)
    until(lambda: not runner.lines, timeout=10)
    assert len(_all_attempts(app, number)) == 1
    until(lambda: settled(app))


def test_a_broadcast_gives_people_its_flow_and_machines_its_answering_machine_action(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    # every answer went to the flow before detection: `--amd message` left no message
    app = engine(CALLCENTER_DIALPLANS_DIR=str(flows_dir(tmp_path, bcast=BROADCAST_FLOW)))
    _route(app)
    person, machine = "+15557640002", "+15557640003"
    voicemail = AgentBehaviour(
        answer_delay=1.0, machine=True,
        voice=Voice(machine=True, silence=0.3, speech=6.0, beep_gap=0.5, patience=None),
    )  # fmt: skip
    far_ends = {person.lstrip("+"): TALKER, machine.lstrip("+"): voicemail}
    TrafficModel(sim, TrafficProfile(), seed=1, overrides=far_ends)
    setup_queue(app, "fail4mq", {}, did="8782")
    _campaign(app, "fail4m", "fail4mq", [person, machine], mode=CampaignMode.BROADCAST,
              flow="bcast", amd=AmdAction.MESSAGE, amd_message="/snd/reminder.wav")  # fmt: skip
    _start(app, "fail4m")
    until(lambda: {person, machine} <= set(_attempts(app, "fail4m")), timeout=40)
    tried = _attempts(app, "fail4m")
    assert (tried[person].outcome, tried[machine].outcome) == (Outcome.ANSWERED, Outcome.MACHINE)
    people, machines = tried[person].call_uuid, tried[machine].call_uuid
    assert people is not None and machines is not None
    until(lambda: f"playback {LONG_TONE}" in apps_sent(sim, people))
    until(lambda: "playback /snd/reminder.wav" in apps_sent(sim, machines), timeout=30)
    assert f"playback {LONG_TONE}" not in apps_sent(sim, machines)
    sim.hangup(people)
    assert wait_cdr(app, people, timeout=20) and wait_cdr(app, machines, timeout=40)
    until(lambda: settled(app))


def test_a_machine_sent_to_a_flow_is_recorded_before_it(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app = engine(CALLCENTER_DIALPLANS_DIR=str(flows_dir(tmp_path, bcast=BROADCAST_FLOW)))
    number = "+15557650001"
    machine = AgentBehaviour(
        answer_delay=1.0, machine=True,
        voice=Voice(machine=True, silence=0.3, speech=6.0, beep_gap=0.5, patience=None),
    )  # fmt: skip
    _one_lead(app, sim, "fail5", "4791", number, machine, amd=AmdAction.FLOW, amd_flow="bcast")
    until(lambda: number in _attempts(app, "fail5"), timeout=30)
    attempt = _attempts(app, "fail5")[number]
    assert attempt.outcome is Outcome.MACHINE and attempt.call_uuid is not None
    call = attempt.call_uuid
    until(lambda: any(c.uuid == call and c.application == "playback" for c in sim.channels))
    assert call not in app.dialer.runners["fail5"].lines  # needs no agent: not paced as one
    sim.hangup(call)
    assert wait_cdr(app, call, timeout=20)
    assert len(_all_attempts(app, number)) == 1
    until(lambda: settled(app))


def test_a_campaign_dialled_through_trunks_fails_over_on_the_sip_status_with_a_fresh_leg(
    sim: Simulator, engine: EngineFactory
) -> None:
    # placing copied first_answer's loop without the SIP status (a 502 mapped to a cause the
    # route does not list ended the attempts) and dialled every trunk as the same leg
    app = backstopped(engine, sim)  # FreeSWITCH posting its CDRs, as freeswitch-conf has it
    number = "+15557660001"
    refusing = AgentBehaviour(fail_cause="NETWORK_OUT_OF_ORDER")  # 502
    with _two_carriers(app, sim, "fail6", refusing, TALKER, "sip:5xx"):
        sim.register_agent("4801", AgentBehaviour(answer_delay=0.5))
        setup_queue(app, "fail6q", {"4801": {}}, did="8801")
        _campaign(app, "fail6", "fail6q", [number], outbound_route="fail6")
        _start(app, "fail6")
        until(lambda: number in _attempts(app, "fail6"), timeout=30)
        attempt = _attempts(app, "fail6")[number]
        assert (attempt.outcome, attempt.agent) == (Outcome.ANSWERED, "4801")
        dialled = [c.line for c in sim.core.commands if "sofia/gateway/carrier-" in c.line]
        assert ["carrier-x" in dialled[0], "carrier-y" in dialled[1]] == [True, True]
        legs = [line.split("origination_uuid=", 1)[1].split(",", 1)[0].split("}")[0]
                for line in dialled]  # fmt: skip
        assert len(set(legs)) == 2 and attempt.call_uuid == legs[1]
        assert attempt.call_uuid is not None
        sim.hangup(attempt.call_uuid)
        cdr = wait_cdr(app, attempt.call_uuid, timeout=20)
        # the trunk that failed first is a leg of the answered call's CDR, as a live call's
        # attempts are (it was in no CDR: the call began only when carrier-y's leg parked)
        tried = [(leg.leg_uuid, leg.trunk, leg.hangup_cause) for leg in cdr.legs
                 if leg.trunk is not None]  # fmt: skip
        assert tried[0] == (legs[0], "carrier-x", "NETWORK_OUT_OF_ORDER")
        # FreeSWITCH posts the carrier-x leg's own CDR (an A leg tagged as the call): the
        # backstop wrote it while the call went on (its hold is 0.3 s), and it stayed beside
        # the call's CDR that holds it as a leg; the call's CDR now supersedes it
        reconciled = partial(metric, app, "callcenter_fs_cdrs_reconciled_total")
        until(lambda: reconciled(result="engine_had") + reconciled(result="written") == 2)
        until(lambda: cdr_rows(app, legs[0]) == 0, timeout=10)
        assert cdr_rows(app, attempt.call_uuid) == 1
        until(lambda: not app.dialer.runners["fail6"].lines, timeout=10)  # re-keyed, then done
    until(lambda: settled(app))


def test_a_campaign_attempt_that_answered_nowhere_is_a_cdr_with_each_trunk_and_cause(
    sim: Simulator, engine: EngineFactory
) -> None:
    # a campaign's attempt was a CDR leg only if FreeSWITCH posted the channel's own record:
    # one refused before any channel (GATEWAY_DOWN) was in no CDR, as issue 14 had every
    # inbound and outbound attempt be
    app = engine()
    number = "+15557670002"
    sim.gateways.load("carrier-x", register=True)
    sim.gateways.fail("carrier-x")  # FAILED 503: FreeSWITCH refuses calls through it
    until(lambda: sim.gateways.loaded["carrier-x"].ping == "DOWN")
    try:
        with _two_carriers(app, sim, "fail21", TALKER, AgentBehaviour(busy=True)):
            sim.register_agent("4971", AgentBehaviour(answer_delay=0.5))
            setup_queue(app, "fail21q", {"4971": {}}, did="8971")
            _campaign(app, "fail21", "fail21q", [number], outbound_route="fail21")
            _start(app, "fail21")
            until(lambda: number in _attempts(app, "fail21"), timeout=30)
            attempt = _attempts(app, "fail21")[number]
            assert attempt.outcome is Outcome.BUSY and attempt.call_uuid is not None
            cdr = wait_cdr(app, attempt.call_uuid, timeout=20)  # the attempt's CDR: its last leg
            campaigns.stop(app.database, Actor("cli", "test"), "fail21")
    finally:
        sim.gateways.undefine("carrier-x")
        sim.gateways.loaded.pop("carrier-x", None)
    assert (cdr.disposition, cdr.hangup_cause) == (Disposition.BUSY, "USER_BUSY")
    assert (cdr.direction, cdr.to_number, cdr.from_number) == (
        Direction.OUTBOUND, number, "+12125550199"
    )  # fmt: skip
    assert [(leg.trunk, leg.hangup_cause, leg.answered_at) for leg in cdr.legs] == [
        ("carrier-x", "GATEWAY_DOWN", None),  # no channel: -ERR before any event
        ("carrier-y", "USER_BUSY", None),
    ]
    assert cdr.legs[1].leg_uuid == attempt.call_uuid
    assert all(leg.role is LegRole.OUTBOUND and leg.ended_at is not None for leg in cdr.legs)
    until(lambda: settled(app))


def test_a_previews_lead_dialled_past_a_gateway_down_has_each_attempt_in_the_agents_cdr(
    sim: Simulator, engine: EngineFactory
) -> None:
    # a preview dials its lead from the agent's call (first_answer, as a transfer): each
    # attempt, one refused before any channel included, is a leg of that call's CDR
    app = engine()
    number = "+15557670003"
    sim.gateways.load("carrier-x", register=True)
    sim.gateways.fail("carrier-x")
    until(lambda: sim.gateways.loaded["carrier-x"].ping == "DOWN")
    try:
        with _two_carriers(app, sim, "fail26", TALKER, TALKER):
            sim.register_agent("4975", AgentBehaviour(answer_delay=0.5))
            setup_queue(app, "fail26q", {"4975": {}}, did="84975")
            _campaign(app, "fail26", "fail26q", [number], outbound_route="fail26",
                      mode=CampaignMode.PREVIEW)  # fmt: skip
            _start(app, "fail26")
            agent_leg = until(lambda: _offered(sim), timeout=20)
            until(lambda: any(a.startswith("play_and_get_digits")
                              for a in apps_sent(sim, agent_leg)), timeout=20)  # fmt: skip
            campaigns.pause(app.database, Actor("cli", "test"), "fail26")  # no second offer
            sim.send_dtmf(agent_leg, "1")  # the agent takes it
            until(lambda: number in _attempts(app, "fail26"), timeout=30)
            assert _attempts(app, "fail26")[number].outcome is Outcome.ANSWERED
            sim.hangup(agent_leg)
            cdr = wait_cdr(app, agent_leg, timeout=20)
    finally:
        sim.gateways.undefine("carrier-x")
        sim.gateways.loaded.pop("carrier-x", None)
    tried = [(leg.trunk, leg.hangup_cause, leg.answered_at is not None) for leg in cdr.legs
             if leg.trunk is not None]  # fmt: skip
    assert tried[0] == ("carrier-x", "GATEWAY_DOWN", False)
    assert len(tried) == 2 and tried[1][0] == "carrier-y" and tried[1][2]
    until(lambda: settled(app))


def test_a_campaign_attempt_the_trunk_limits_refused_is_a_cdr_and_its_lead_due_again(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every trunk at its limits: nothing dialled, the lead given back uncounted, and no
    # trace but a log line and a metric; a live call's refused attempt is a CDR leg. And
    # the runner tried again 0.5 s after each refusal (a line's end decides again), about 2
    # refused attempts a second per free agent while the trunks stayed full: one a tick now
    ticks = 0
    tick = runner_module.CampaignRunner.tick

    def counted(runner: runner_module.CampaignRunner) -> bool:
        nonlocal ticks
        ticks += runner.name == "fail22"
        return tick(runner)

    monkeypatch.setattr(runner_module.CampaignRunner, "tick", counted)
    app = engine()
    number = "+12125557701"
    spec = TrunkSpec("carrier-z", "198.51.100.1", max_channels=1)
    with app.database.session_scope() as session:
        TrunkRepository(session).add(spec)  # the campaign names it (no change row: no reload)
    app.trunking.directory = StaticTrunks({spec.name: spec})
    limiter = app.trunking.limiter
    assert limiter is not None
    assert limiter.acquire(spec, "held-by-another-call").granted  # its one channel in use
    sim.register_agent("4972", AgentBehaviour(answer_delay=0.5))
    setup_queue(app, "fail22q", {"4972": {}}, did="8972")
    _campaign(app, "fail22", "fail22q", [number], trunks=["carrier-z"])
    _start(app, "fail22")
    cdr = until(lambda: _cdr_to(app, number), timeout=30)
    first = ticks
    until(lambda: ticks >= first + 3, timeout=30)  # three more ticks, the trunk still full
    campaigns.stop(app.database, Actor("cli", "test"), "fail22")
    until(lambda: "fail22" not in app.dialer.runners, timeout=10)
    app.writer.flush()
    assert _cdrs_to(app, number) <= ticks + 1  # one refused attempt a tick at most
    assert not [c for c in sim.core.commands if "sofia/gateway/carrier-z" in c.line]
    limiter.release("carrier-z", "held-by-another-call")
    with app.database.session_scope() as session:
        TrunkRepository(session).delete("carrier-z")
    assert (cdr.disposition, cdr.hangup_cause) == (Disposition.FAILED, CONGESTION)
    assert [(leg.leg_uuid, leg.trunk, leg.hangup_cause) for leg in cdr.legs] == [
        (cdr.call_uuid, "carrier-z", CONGESTION)
    ]
    assert number not in _attempts(app, "fail22")  # not called: no attempt counted
    with app.database.session_scope() as session:
        assert session.scalar(select(Lead.state).where(Lead.phone == number)) is LeadState.PENDING
    until(lambda: settled(app))


def _cdrs_to(app: App, number: str) -> int:
    with app.database.session_scope() as session:
        return session.scalar(select(func.count()).where(Cdr.to_number == number)) or 0


def _cdr_to(app: App, number: str) -> CdrRecord | None:
    with app.database.session_scope() as session:
        uuid = session.scalar(select(Cdr.call_uuid).where(Cdr.to_number == number).limit(1))
        return CdrRepository(session).get(uuid) if uuid is not None else None


@contextmanager
def _two_carriers(
    app: App, sim: Simulator, route: str, first: AgentBehaviour, then: AgentBehaviour,
    causes: str = "",
) -> Iterator[None]:  # fmt: skip
    """Outbound route ``route`` for +1555 76x/77x numbers: trunk ``carrier-x`` (its carrier
    answering as ``first``), failing over (on ``causes``: "" the defaults) to ``carrier-y``."""
    with app.database.session_scope() as session:
        OutboundRouteRepository(session).add(
            route, r"^\+15557[67]\d+$", "carrier-x", failover_gateways="carrier-y",
            failover_causes=causes,
        )  # fmt: skip
    app.outbound.reload()
    sim.gateways.carrier("carrier-x", first)
    sim.gateways.carrier("carrier-y", then)
    try:
        yield
    finally:
        sim.gateways.carrier("carrier-x", None)
        sim.gateways.carrier("carrier-y", None)


def _playbacks(sim: Simulator) -> Callable[[str], int]:
    """How many playbacks each call has started (CHANNEL_EXECUTE): a new run's starts only
    once the last run's is broken off, FreeSWITCH queueing executes behind the one running."""
    started: list[str] = []
    sim.on_event(
        lambda e: (
            started.append(e.unique_id)
            if e.name == "CHANNEL_EXECUTE" and e.get("Application") == "playback"
            else None
        )
    )
    return started.count


def _waiting_agent_gone(board: Board, extension: str) -> bool:
    agent = board.agents.get(extension)
    return agent is not None and agent.state is AgentState.IN_CALL


def test_a_campaign_call_bridged_at_a_restart_is_adopted_recorded_once_and_frees_its_agent(
    sim: Simulator, engine: EngineFactory, calls_db_url: str
) -> None:
    number = "+15557670001"
    first = _one_lead(engine(), sim, "fail7", "4811", number, TALKER)
    until(lambda: number in _attempts(first, "fail7"), timeout=30)
    call = _attempts(first, "fail7")[number].call_uuid
    assert call is not None
    until(lambda: any(c.uuid == call and c.partner for c in sim.channels))
    first.stop("restart")  # the call stays up in FreeSWITCH
    second = engine()
    until(lambda: call in second.managers["fs1"].actors, timeout=20)
    until(lambda: second.dispatcher.read(lambda b, _now: _waiting_agent_gone(b, "4811")))
    sim.hangup(call)
    cdr = wait_cdr(second, call, timeout=20)
    assert cdr.agent_extension == "4811" and cdr.disposition is Disposition.ANSWERED
    assert cdr_count(calls_db_url, [call]) == 1
    [attempt] = _all_attempts(second, number)
    assert (attempt.outcome, attempt.agent, attempt.call_uuid) == (Outcome.ANSWERED, "4811", call)
    until(lambda: _free(second, "4811"), timeout=20)  # after its wrap-up, if any
    until(lambda: settled(second))


def test_a_campaign_call_waiting_for_an_agent_at_a_restart_is_abandoned_once_with_the_message(
    sim: Simulator, engine: EngineFactory, calls_db_url: str
) -> None:
    # Call.from_dump did not restore call.dialer: the adopted call was routed as an inbound
    # call (its number taken for a DID), and its attempt never recorded
    number = "+15557680001"
    playbacks = _playbacks(sim)
    slow = AgentBehaviour(answer_delay=8.0, talk_time=600.0, voice=PATIENT)
    first = _one_lead(engine(), sim, "fail8", "4821", number, slow,
                      safe_harbor_message=LONG_TONE)  # fmt: skip
    until(lambda: any(number[1:] in c.line for c in sim.core.commands), timeout=20)
    _set_status(first, "4821", AgentStatus.PAUSED)  # gone while the line rings: safe harbor
    until(lambda: (c := _lead_channel(sim, "fail8")) is not None
          and f"playback {LONG_TONE}" in apps_sent(sim, c), timeout=30)  # fmt: skip
    call = _lead_channel(sim, "fail8")
    assert call is not None
    first.stop("restart")  # mid message: the call stays up, nothing recorded yet
    assert _all_attempts(first, number) == []
    second = engine()
    # past the safe harbor: the message again, from the new run (then the lead hangs up)
    until(lambda: playbacks(call) == 2, timeout=20)
    sim.hangup(call)
    wait_cdr(second, call, timeout=20)
    assert cdr_count(calls_db_url, [call]) == 1
    [attempt] = _all_attempts(second, number)
    assert (attempt.outcome, attempt.call_uuid) == (Outcome.ABANDONED, call)
    assert _lead(second, number).state is LeadState.PENDING  # in 72 h
    until(lambda: settled(second))


def test_a_person_hanging_up_during_the_safe_harbor_message_leaves_its_audit_row(
    sim: Simulator, engine: EngineFactory
) -> None:
    # the audit row was written after the message's end: a hang-up during it (CallGone)
    # left the abandon audited and the message, started within the safe harbor, not
    number = "+15557210001"
    slow = AgentBehaviour(answer_delay=8.0, talk_time=600.0, voice=PATIENT)
    started = _playbacks(sim)
    app = _one_lead(engine(), sim, "fail8h", "4895", number, slow, safe_harbor_message=LONG_TONE)
    until(lambda: any(number[1:] in c.line for c in sim.core.commands), timeout=20)
    _set_status(app, "4895", AgentStatus.PAUSED)  # gone while the line rings: safe harbor
    call = until(lambda: (c := _lead_channel(sim, "fail8h")) is not None
                 and f"playback {LONG_TONE}" in apps_sent(sim, c) and c, timeout=30)  # fmt: skip
    # the execute received is not yet the message started (a hang-up before it: no row)
    until(lambda: started(call) >= 1, timeout=10)
    sim.hangup(call)  # into a 30 s message
    until(lambda: number in _attempts(app, "fail8h"), timeout=30)
    assert _attempts(app, "fail8h")[number].outcome is Outcome.ABANDONED
    audits = _audit(app, "fail8h")  # the message's row is written before the attempt's
    assert AuditKind.ABANDON in {e.kind for e in audits}
    played = [e for e in audits if e.kind is AuditKind.MESSAGE_PLAYED]
    assert [(e.call_uuid, e.details) for e in played] == [(call, {"heard_to_end": False})]
    until(lambda: settled(app))


def test_a_preview_offer_that_fails_to_be_sent_gives_the_agent_and_the_lead_back(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an error other than ESL's in runner._offer (here a value the ESL builders refuse) left
    # the agent reserved until its reservation expired (ring time + 60 s) and the lead claimed
    app = engine()
    offered: list[str] = []

    def refused(*_args: object, **_kwargs: object) -> str:
        offered.append("once")
        campaigns.pause(app.database, Actor("cli", "test"), "fail9")  # no second offer
        raise UnsafeValue("refused by the ESL builders")

    monkeypatch.setattr(runner_module.commands, "originate", refused)
    number = "+15557690001"
    _one_lead(app, sim, "fail9", "4831", number, TALKER, mode=CampaignMode.PREVIEW)
    until(lambda: bool(offered), timeout=20)
    until(lambda: "fail9" not in app.dialer.runners, timeout=20)  # its line let go
    assert _free(app, "4831")
    assert _lead(app, number).state is LeadState.PENDING


def test_a_broadcast_call_in_its_flow_at_a_restart_hears_the_flow_again_recorded_once(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    flows = str(flows_dir(tmp_path, bcast=BROADCAST_FLOW))
    playbacks = _playbacks(sim)
    first = engine(CALLCENTER_DIALPLANS_DIR=flows)
    _route(first)
    number = "+15557700001"
    TrafficModel(sim, TrafficProfile(), seed=1, overrides={number.lstrip("+"): TALKER})
    setup_queue(first, "fail10q", {}, did="8841")
    _campaign(first, "fail10", "fail10q", [number], mode=CampaignMode.BROADCAST, flow="bcast")
    _start(first, "fail10")
    until(lambda: number in _attempts(first, "fail10"), timeout=30)
    call = _attempts(first, "fail10")[number].call_uuid
    assert call is not None
    until(lambda: f"playback {LONG_TONE}" in apps_sent(sim, call))
    first.stop("restart")
    second = engine(CALLCENTER_DIALPLANS_DIR=flows)
    until(lambda: playbacks(call) == 2, timeout=20)
    sim.hangup(call)
    wait_cdr(second, call, timeout=20)
    [attempt] = _all_attempts(second, number)
    assert (attempt.outcome, attempt.call_uuid) == (Outcome.ANSWERED, call)
    until(lambda: settled(second))


MESSAGE = "tone_stream://%(160000,0,350)"  # a machine's message: 8 s here
VOICEMAIL = AgentBehaviour(
    answer_delay=1.0, machine=True,
    voice=Voice(machine=True, silence=0.3, speech=6.0, beep_gap=0.5, patience=None,
                record_limit=6000.0),
)  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "amd_flow"),
    [(CampaignMode.PROGRESSIVE, None), (CampaignMode.BROADCAST, None),
     (CampaignMode.PROGRESSIVE, "bcast")],
)  # fmt: skip
def test_a_machine_left_a_message_at_a_restart_hears_it_to_its_end_once_then_is_hung_up(
    sim: Simulator,
    engine: EngineFactory,
    calls_db_url: str,
    tmp_path: Path,
    mode: CampaignMode,
    amd_flow: str | None,
) -> None:
    # stored only after its message: the next run adopted a live person, given the
    # safe-harbor message and counted abandoned (a broadcast's: sent to its flow, answered);
    # then the message was broken off (the voicemail kept half of it, not the number to
    # call back), and a campaign switched from --amd flow to message, its flow still
    # stored, sent its machines to that flow
    flows = str(flows_dir(tmp_path, bcast=BROADCAST_FLOW))
    first = engine(CALLCENTER_DIALPLANS_DIR=flows)
    name = f"fail31{mode.value[0]}{'f' if amd_flow else ''}"
    number = {"fail31p": "+15557770001", "fail31b": "+15557770002"}.get(name, "+15557770003")
    amd = {"amd": AmdAction.MESSAGE, "amd_message": MESSAGE, "amd_flow": amd_flow}
    if mode is CampaignMode.BROADCAST:
        _route(first)
        TrafficModel(sim, TrafficProfile(), seed=1, overrides={number[1:]: VOICEMAIL})
        setup_queue(first, f"{name}q", {}, did="8932")
        _campaign(first, name, f"{name}q", [number], mode=mode, flow="bcast", **amd)
        _start(first, name)
    else:
        _one_lead(first, sim, name, "4932" if amd_flow else "4931", number, VOICEMAIL, **amd)
    playbacks = _playbacks(sim)
    heard: list[tuple[str, str | None]] = []  # (event, how its playback ended), this call's
    sim.on_event(lambda e: heard.append((e.name, e.get("Playback-Status"))) if (
        e.name in ("PLAYBACK_STOP", "CHANNEL_HANGUP") and e.unique_id == _lead_channel(sim, name)
    ) else None)  # fmt: skip
    call = until(lambda: _lead_channel(sim, name), timeout=30)
    until(lambda: f"playback {MESSAGE}" in apps_sent(sim, call), timeout=30)
    first.stop("restart")  # mid message: the call stays up, its attempt stored before it
    second = engine(CALLCENTER_DIALPLANS_DIR=flows)
    cdr = wait_cdr(second, call, timeout=30)  # adopted: the message heard out, then hung up
    assert cdr.disposition is Disposition.MACHINE  # as the first run would have said
    assert playbacks(call) == 1
    assert heard == [("PLAYBACK_STOP", "done"), ("CHANNEL_HANGUP", None)]
    _a_machines_message_once(second, sim, calls_db_url, name, number, call)


def _a_machines_message_once(
    app: App, sim: Simulator, calls_db_url: str, name: str, number: str, call: str
) -> None:
    """The campaign's message sent once, then the engine's hang-up; one CDR; the attempt and
    the day's counts a machine's, and no abandon nor safe-harbor message audited."""
    assert [a for a in apps_sent(sim, call) if a.startswith("playback")] == [f"playback {MESSAGE}"]
    assert apps_sent(sim, call)[-1].startswith("hangup")  # by the engine, once it was heard
    assert cdr_count(calls_db_url, [call]) == 1
    [attempt] = _all_attempts(app, number)
    assert (attempt.outcome, attempt.call_uuid) == (Outcome.MACHINE, call)
    with app.database.session_scope() as session:
        [day] = store.day_counts(session, name)
        audits = list(session.scalars(
            select(DialerAuditEntry.kind).where(DialerAuditEntry.campaign == name)
        ))  # fmt: skip
    assert (day.live, day.abandoned, day.machine) == (0, 0, 1)
    assert AuditKind.ABANDON not in audits and AuditKind.MESSAGE_PLAYED not in audits
    until(lambda: settled(app))


# a greeting of 8 s here
LONG_GREETING = AgentBehaviour(
    answer_delay=1.0, machine=True,
    voice=Voice(machine=True, silence=0.3, speech=160.0, beep_gap=0.5, patience=None,
                record_limit=6000.0),
)  # fmt: skip


def test_a_machine_stored_before_its_message_at_a_restart_hears_it_once_after_its_beep(
    sim: Simulator, engine: EngineFactory, calls_db_url: str
) -> None:
    # the last run stopped in the wait for the beep, the message not started: the next run
    # waits for the beep (mod_avmd's bug stays on the leg) and leaves the whole message once
    name, number = "fail32", "+15557770101"
    seen: list[tuple[str, str | None]] = []  # (name or subclass, application), the lead's
    sim.on_event(lambda e: seen.append((e.subclass or e.name, e.get("Application"))) if (
        e.unique_id == _lead_channel(sim, name)
    ) else None)  # fmt: skip
    first = _one_lead(
        engine(), sim, name, "4933", number, LONG_GREETING, amd=AmdAction.MESSAGE,
        amd_message=MESSAGE,
    )  # fmt: skip
    call = until(lambda: _lead_channel(sim, name), timeout=30)
    until(lambda: _all_attempts(first, number), timeout=20)  # stored before the beep wait
    first.stop("restart")  # in the greeting: no beep, no message yet
    assert ("avmd::beep", None) not in seen and ("CHANNEL_EXECUTE", "playback") not in seen
    second = engine()
    cdr = wait_cdr(second, call, timeout=40)
    assert cdr.disposition is Disposition.MACHINE
    assert seen.count(("CHANNEL_EXECUTE", "playback")) == 1
    assert seen.index(("avmd::beep", None)) < seen.index(("CHANNEL_EXECUTE", "playback"))
    _a_machines_message_once(second, sim, calls_db_url, name, number, call)


def test_an_engine_killed_mid_campaign_call_leaves_it_to_the_next_one_recorded_once(
    sim: Simulator,
    engine: EngineFactory,
    killable: list[subprocess.Popen[bytes]],
    calls_db_url: str,
    tmp_path: Path,
) -> None:
    # SIGKILL: nothing more written, no drain; the next engine adopts the bridged call
    number = "+15557710001"
    setup = engine()
    _route(setup)
    TrafficModel(sim, TrafficProfile(), seed=1, overrides={number.lstrip("+"): TALKER})
    sim.register_agent("4851", AgentBehaviour(answer_delay=0.5))
    setup_queue(setup, "fail11q", {"4851": {}}, did="8851")
    _campaign(setup, "fail11", "fail11q", [number])
    setup.stop("set up")
    until(lambda: sim.client_count == 0)
    serve(killable, sim, calls_db_url, tmp_path)
    _start_in(calls_db_url, "fail11")
    call = until(lambda: _lead_channel(sim, "fail11"), timeout=40)
    until(lambda: any(c.uuid == call and c.partner for c in sim.channels), timeout=30)
    until(lambda: len(_attempts_in(calls_db_url, number)) == 1, timeout=20)
    killable[0].kill()
    killable[0].wait(timeout=10)
    second = engine()
    until(lambda: call in second.managers["fs1"].actors, timeout=20)
    sim.hangup(call)
    cdr = wait_cdr(second, call, timeout=20)
    assert (cdr.agent_extension, cdr.disposition) == ("4851", Disposition.ANSWERED)
    assert cdr_count(calls_db_url, [call]) == 1
    [attempt] = _all_attempts(second, number)
    assert (attempt.outcome, attempt.agent, attempt.call_uuid) == (Outcome.ANSWERED, "4851", call)
    until(lambda: _free(second, "4851"), timeout=20)
    until(lambda: settled(second))


def _start_in(db_url: str, name: str) -> None:
    database = Database(db_url)
    try:
        campaigns.start(database, Actor("cli", "test"), name)
    finally:
        database.dispose()


def _attempts_in(db_url: str, phone: str) -> list[str]:
    database = Database(db_url)
    try:
        with database.session_scope() as session:
            found = session.scalars(select(LeadAttempt.outcome).where(LeadAttempt.phone == phone))
            return [str(outcome) for outcome in found]
    finally:
        database.dispose()


class _Flaky:
    """The dialer's database, refusing every session (DatabaseUnavailable) while ``down``."""

    def __init__(self, real: Database) -> None:
        self.real, self.down = real, False

    def session_scope(self) -> AbstractContextManager[Session]:
        if self.down:
            raise DatabaseUnavailable("connection refused")
        return self.real.session_scope()


def _down_as_an_agent_rings(
    app: App, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> tuple[_Flaky, list[CampaignCallEnded]]:
    """The dialer's database goes down as an agent's phone starts ringing; the
    ``campaign.call_ended`` events, as they come."""
    flaky = _Flaky(app.database)
    monkeypatch.setattr(app.dialer, "database", flaky)
    ended: list[CampaignCallEnded] = []
    app.events.subscribe(lambda e: ended.append(e) if isinstance(e, CampaignCallEnded) else None)

    def down_as_the_agent_rings(event: SimEvent) -> None:
        if event.name == "CHANNEL_CREATE" and event.get("variable_cc_role") == "agent":
            flaky.down = True

    sim.on_event(down_as_the_agent_rings)
    return flaky, ended


def test_the_database_down_as_a_lead_meets_its_agent_keeps_them_talking_and_stores_the_attempt(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the screen pop's read of the lead raised out of the call's runner: the actor hung up
    # the lead and the agent just bridged; the attempt was logged and lost, the lead left
    # claimed for release_stale to make it due again in 10 minutes: an answered lead redialled
    monkeypatch.setattr(runner_module, "PERSIST_RETRY", 0.2)
    app = engine()
    flaky, ended = _down_as_an_agent_rings(app, sim, monkeypatch)
    connected: list[CampaignCallConnected] = []
    app.events.subscribe(lambda e: connected.append(e) if isinstance(e, CampaignCallConnected)
                         else None)  # fmt: skip
    number = "+15557720001"
    _one_lead(app, sim, "fail12", "4861", number, TALKER)
    until(lambda: bool(connected), timeout=30)  # bridged, the attempt tried: the database down
    call = _lead_channel(sim, "fail12")
    assert call is not None
    assert _attempts(app, "fail12") == {} and _lead(app, number).state is LeadState.DIALING
    flaky.down = False
    until(lambda: number in _attempts(app, "fail12"), timeout=20)  # stored once it is back
    attempt = _attempts(app, "fail12")[number]
    assert (attempt.outcome, attempt.agent, attempt.call_uuid) == (Outcome.ANSWERED, "4861", call)
    assert _lead(app, number).state is not LeadState.DIALING  # release_stale cannot take it
    assert any(c.uuid == call and c.partner for c in sim.channels)  # still talking
    sim.hangup(call)
    assert wait_cdr(app, call, timeout=20).agent_extension == "4861"
    assert len(_all_attempts(app, number)) == 1
    until(lambda: bool(ended), timeout=10)  # campaign.call_ended at the call's end
    assert [e.outcome for e in ended] == [str(Outcome.ANSWERED)]
    until(lambda: settled(app))


def test_a_callback_kept_for_an_agent_goes_to_an_agent_when_the_database_is_down_at_answer(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    # _kept_for reads the lead as the person answers: the database down then, it gives no
    # agent (any agent takes the call) rather than let DatabaseUnavailable end the call
    # of a person who answered (abandoned, with no one there)
    monkeypatch.setattr(runner_module, "PERSIST_RETRY", 0.2)
    app = engine()
    flaky = _Flaky(app.database)
    monkeypatch.setattr(app.dialer, "database", flaky)
    connected: list[CampaignCallConnected] = []
    app.events.subscribe(lambda e: connected.append(e) if isinstance(e, CampaignCallConnected)
                         else None)  # fmt: skip

    def down_as_the_lead_answers(event: SimEvent) -> None:
        if event.name == "CHANNEL_ANSWER" and event.get("variable_cc_entry") == "dialer":
            flaky.down = True

    sim.on_event(down_as_the_lead_answers)
    number = "+15557790001"
    _route(app)
    TrafficModel(sim, TrafficProfile(), seed=1, overrides={number.lstrip("+"): TALKER})
    sim.register_agent("4974", AgentBehaviour(answer_delay=0.5))
    setup_queue(app, "fail24q", {"4974": {}}, did="84974")
    _campaign(app, "fail24", "fail24q", [number])
    with app.database.session_scope() as session:  # a callback kept for agent 4974, due
        lead = session.scalars(select(Lead).where(Lead.phone == number)).one()
        lead.callback_at, lead.callback_agent = datetime.now(UTC) - timedelta(minutes=1), "4974"
    _start(app, "fail24")
    until(lambda: bool(connected), timeout=30)  # given to the agent, the database down
    call = _lead_channel(sim, "fail24")
    assert call is not None and any(c.uuid == call and c.partner for c in sim.channels)
    assert "its kept agent not read, any agent takes it" in caplog.text
    flaky.down = False
    until(lambda: number in _attempts(app, "fail24"), timeout=20)  # stored once it is back
    attempt = _attempts(app, "fail24")[number]
    assert (attempt.outcome, attempt.agent, attempt.call_uuid) == (Outcome.ANSWERED, "4974", call)
    campaigns.pause(app.database, Actor("cli", "test"), "fail24")
    sim.hangup(call)
    wait_cdr(app, call, timeout=20)
    until(lambda: settled(app))


def test_writes_waiting_for_the_database_are_tried_once_more_as_the_engine_stops(
    engine: EngineFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Dialer.stop killed the greenlets retrying them: an attempt the database had refused
    # was lost without a word (the lead given back by release_stale, its call uncounted)
    monkeypatch.setattr(runner_module, "PERSIST_RETRY", 3600.0)  # none retried before
    app = engine()
    flaky = _Flaky(app.database)
    monkeypatch.setattr(app.dialer, "database", flaky)
    lost, also, kept = "+15557990001", "+15557990003", "+15557990002"
    _campaign(app, "fail25", "fail25q", [lost, also, kept])
    at = datetime.now(UTC)

    def busy(phone: str) -> None:
        lead = _lead(app, phone).id
        app.dialer.persist(
            f"attempt of lead {lead} ({Outcome.BUSY}, leg test-{lead})",
            lambda session: store.record_attempt(session, lead, Outcome.BUSY, at,
                                                 call_uuid=f"test-{lead}"),
        )  # fmt: skip

    flaky.down = True
    busy(lost)
    busy(also)
    app.dialer.stop()  # the database still down: each logged as lost, its lead and outcome
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    for phone in (lost, also):
        assert any(f"attempt of lead {_lead(app, phone).id} (busy, leg " in e
                   and " lost: the engine stopped" in e for e in errors)  # fmt: skip
    busy(kept)
    flaky.down = False  # back before the next retry: stored as the engine stops
    app.dialer.stop()
    assert [a.outcome for a in _all_attempts(app, kept)] == [Outcome.BUSY]
    assert _all_attempts(app, lost) == [] and _all_attempts(app, also) == []


def test_a_campaign_line_still_ringing_at_a_restart_is_cancelled_and_its_lead_due_again(
    sim: Simulator, engine: EngineFactory
) -> None:
    # Call.from_dump made it a campaign call, adopted as one waiting for an agent: the
    # safe-harbor message to a phone still ringing, an abandon recorded for nobody reached
    number = "+15557730001"
    first = _one_lead(engine(), sim, "fail13", "4871", number, SLOW, ring_seconds=300)
    call = until(lambda: _lead_channel(sim, "fail13"), timeout=20)
    first.stop("restart")  # its originate lost: the phone rings on
    campaigns.pause(first.database, Actor("cli", "test"), "fail13")  # no new dial of it
    second = engine()
    until(lambda: sim.channel(call) is None, timeout=20)  # cancelled, before its answer
    until(lambda: _lead(second, number).state is LeadState.PENDING, timeout=10)
    assert _all_attempts(second, number) == []
    assert not [a for a in apps_sent(sim, call) if a.startswith("playback")]
    assert wait_cdr(second, call, timeout=20).disposition is not Disposition.ANSWERED
    until(lambda: settled(second))


def test_freeswitch_lost_while_a_campaign_line_rings_tries_no_other_trunk_and_records_nothing(
    sim: Simulator, engine: EngineFactory
) -> None:
    # the lost connection's NORMAL_TEMPORARY_FAILURE failed over: the next trunk dialled the
    # lead again (or failed at once, recorded as the lead's failed attempt) while the first
    # trunk's leg still rang, and could answer
    app = engine()
    number = "+15557740001"
    dropped: list[str] = []

    def drop_as_it_rings(event: SimEvent) -> None:
        trunk = event.get("variable_cc_trunk")
        if event.name == "CHANNEL_CREATE" and trunk == "carrier-x" and not dropped:
            dropped.append(event.unique_id or "")
            sim.core.spawn(sim.drop_clients, name="drop")

    sim.on_event(drop_as_it_rings)
    with _two_carriers(app, sim, "fail14", SLOW, TALKER):
        sim.register_agent("4881", AgentBehaviour(answer_delay=0.5))
        setup_queue(app, "fail14q", {"4881": {}}, did="8881")
        _campaign(app, "fail14", "fail14q", [number], outbound_route="fail14", ring_seconds=300)
        _start(app, "fail14")
        until(lambda: bool(dropped), timeout=20)
        [leg] = dropped
        until(lambda: sim.channel(leg) is None, timeout=20)  # the resync: cancelled ringing
        until(lambda: _lead(app, number).state is LeadState.PENDING, timeout=30)  # a resync
        assert not [c for c in sim.core.commands if "sofia/gateway/carrier-y" in c.line]
        assert _all_attempts(app, number) == []
    campaigns.pause(app.database, Actor("cli", "test"), "fail14")
    # the lead, due again, may have been dialled once more before the pause (and answered)
    until(lambda: "fail14" not in app.dialer.runners, timeout=20)
    for channel in sim.channels:
        sim.hangup(channel.uuid)
    until(lambda: settled(app), timeout=20)


def test_a_preview_agent_leg_gone_before_it_parks_gives_the_agent_and_the_lead_back(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no call ever bound the reservation: the agent stayed held ring time + 60 s, and the
    # runner kept the line (a paused campaign's runner never ended, the agent never offered
    # another lead by it)
    monkeypatch.setattr(runner_module, "BIND_GRACE", 0.5)
    app = engine()
    gone: list[str] = []

    def hang_up_as_it_answers(event: SimEvent) -> None:
        if event.name == "CHANNEL_ANSWER" and event.get("variable_cc_preview") and not gone:
            gone.append(event.unique_id or "")
            sim.hangup(event.unique_id or "")  # before the park its originate runs next

    sim.on_event(hang_up_as_it_answers)
    number = "+15557750001"
    _one_lead(app, sim, "fail15", "4891", number, TALKER, mode=CampaignMode.PREVIEW)
    until(lambda: bool(gone), timeout=20)
    campaigns.pause(app.database, Actor("cli", "test"), "fail15")  # no second offer
    until(lambda: "fail15" not in app.dialer.runners, timeout=10)  # its line done
    # the agent's release and the lead's go through the dispatcher and the database after
    # the runner's line: awaited, not read at once (a loaded machine read them in between)
    until(lambda: _free(app, "4891"), timeout=10)
    until(lambda: _lead(app, number).state is LeadState.PENDING, timeout=10)
    [leg] = gone
    until(lambda: leg not in app.managers["fs1"].actors, timeout=10)
    assert _all_attempts(app, number) == []
    until(lambda: settled(app))


def test_a_preview_agent_leg_that_parks_after_the_grace_leaves_nothing_behind(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # its call marked the leg in offers_parked after the runner had looked for it: the mark
    # was never taken away (one set entry kept for the engine's life per late park)
    monkeypatch.setattr(runner_module, "BIND_GRACE", 0.3)
    app = engine()
    started = app.dialer_calls._preview

    def late(*args: Any) -> None:  # the park seen after the runner's grace
        gevent.sleep(1.0)
        started(*args)

    monkeypatch.setattr(app.dialer_calls, "_preview", late)
    number = "+15557750002"
    _one_lead(app, sim, "fail23", "4973", number, TALKER, mode=CampaignMode.PREVIEW)
    agent_leg = until(lambda: _offered(sim), timeout=20)
    until(lambda: any(a.startswith("play_and_get_digits") for a in apps_sent(sim, agent_leg)),
          timeout=20)  # fmt: skip
    campaigns.pause(app.database, Actor("cli", "test"), "fail23")  # no second offer
    sim.send_dtmf(agent_leg, "2")  # skipped
    wait_cdr(app, agent_leg, timeout=20)
    until(lambda: "fail23" not in app.dialer.runners, timeout=20)
    assert app.dialer.offers_parked == set() and app.dialer.offers_waiting == set()
    until(lambda: settled(app))


def test_a_preview_agent_leg_that_parks_after_its_offer_was_given_back_is_hung_up(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    # a park after BIND_GRACE, its reservation and lead already given back, ran the preview
    # all the same: the agent was offered a lead no longer reserved for it (due again, and
    # free to be claimed by another attempt)
    monkeypatch.setattr(runner_module, "BIND_GRACE", 0.3)
    park = sim_apps.APPS["park"]
    late: list[str] = []

    def slow_park(session: Any, arg: str) -> str:  # a slow FreeSWITCH: parked after the grace
        if session.chan.variables.get("cc_preview"):
            late.append(session.chan.uuid)
            gevent.sleep(1.5)
        return park(session, arg)

    monkeypatch.setitem(sim_apps.APPS, "park", slow_park)
    app = engine()
    number = "+15557750005"
    _one_lead(app, sim, "fail30", "4981", number, TALKER, mode=CampaignMode.PREVIEW)
    until(lambda: bool(late), timeout=20)
    campaigns.pause(app.database, Actor("cli", "test"), "fail30")  # no second offer
    until(lambda: "fail30" not in app.dialer.runners, timeout=20)
    until(lambda: all(sim.channel(leg) is None for leg in late), timeout=20)
    for leg in late:  # each hung up once parked, nothing played to the agent
        assert apps_sent(sim, leg) == ["hangup NORMAL_CLEARING"]
    assert "parked after its grace: its agent and lead were given back" in caplog.text
    until(lambda: _free(app, "4981"), timeout=10)
    until(lambda: _lead(app, number).state is LeadState.PENDING, timeout=10)
    assert _all_attempts(app, number) == []
    until(lambda: settled(app))


def test_freeswitch_lost_during_the_safe_harbor_message_runs_the_call_again_counted_once(
    sim: Simulator, engine: EngineFactory
) -> None:
    # the actor runs the route again once FreeSWITCH is back: detection started over on a
    # lead long past its safe harbor, and the line told to the runner and published twice
    # (an answered lead then counted twice in the abandon window and the dial counts)
    number = "+15557760001"
    playbacks = _playbacks(sim)
    app = engine()
    ended: list[CampaignCallEnded] = []
    app.events.subscribe(lambda e: ended.append(e) if isinstance(e, CampaignCallEnded) else None)
    slow = AgentBehaviour(answer_delay=8.0, talk_time=600.0, voice=PATIENT)
    _one_lead(app, sim, "fail16", "4901", number, slow, safe_harbor_message=LONG_TONE)
    until(lambda: any(number[1:] in c.line for c in sim.core.commands), timeout=20)
    _set_status(app, "4901", AgentStatus.PAUSED)  # gone while the line rings: safe harbor
    until(lambda: (c := _lead_channel(sim, "fail16")) is not None and playbacks(c) == 1,
          timeout=30)  # fmt: skip
    call = _lead_channel(sim, "fail16")
    assert call is not None
    runner = app.dialer.runners["fail16"]
    sim.drop_clients()
    until(lambda: playbacks(call) == 2, timeout=20)  # the message again, no detection
    sim.hangup(call)
    wait_cdr(app, call, timeout=20)
    assert [e.outcome for e in ended] == [str(Outcome.ABANDONED)]
    [attempt] = _all_attempts(app, number)
    assert (attempt.outcome, attempt.call_uuid) == (Outcome.ABANDONED, call)
    assert (runner.measuring.dials, runner.measuring.live) == (1, 1)
    assert not [a for a in apps_sent(sim, call) if a.startswith("avmd_start")][1:]
    # one abandon of one live answer is past the hard limit: the dialer pauses it itself
    state = lambda: campaigns.summary(app.database, "fail16").record.state  # noqa: E731
    until(lambda: state() is CampaignState.PAUSED, timeout=30)
    until(lambda: settled(app))


def test_a_preview_lead_answering_into_a_refused_bridge_is_hung_up_and_counted_abandoned(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the bridge's error went past the lead's answered leg: it stayed parked in silence (its
    # call open until the lead gave up), and the attempt was a plain failure to retry soon
    bridge = sim_api.HANDLERS["uuid_bridge"]
    refused: list[str] = []

    def refusing(api: sim_api.Api, argv: list[str], args: str) -> str:
        if not refused:
            refused.append(argv[1])  # the lead's leg
            return "-ERR Invalid uuid\n"
        return bridge(api, argv, args)

    monkeypatch.setitem(sim_api.HANDLERS, "uuid_bridge", refusing)
    number = "+15557780001"
    app = _one_lead(engine(), sim, "fail17", "4911", number, TALKER, mode=CampaignMode.PREVIEW)
    agent_leg = until(lambda: _offered(sim), timeout=20)
    until(lambda: any(a.startswith("play_and_get_digits") for a in apps_sent(sim, agent_leg)))
    campaigns.pause(app.database, Actor("cli", "test"), "fail17")  # no second offer
    sim.send_dtmf(agent_leg, "1")  # the agent takes it; the lead answers; the bridge fails
    until(lambda: bool(refused), timeout=20)
    [lead_leg] = refused
    until(lambda: sim.channel(lead_leg) is None, timeout=10)  # hung up, not left parked
    until(lambda: number in _attempts(app, "fail17"), timeout=10)
    attempt = _attempts(app, "fail17")[number]
    assert (attempt.outcome, attempt.agent) == (Outcome.ABANDONED, "4911")
    assert wait_cdr(app, agent_leg, timeout=20)
    until(lambda: settled(app))


def test_a_bridged_call_whose_attempt_was_not_stored_before_a_restart_is_stored_with_its_agent(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the database down at the bridge, then the engine stopped before it was back: the next
    # run stored the adopted call's attempt without its agent (the disposition's, the
    # reports' agent of the call)
    number = "+15557790001"
    first = engine()
    _flaky, _ended = _down_as_an_agent_rings(first, sim, monkeypatch)
    connected: list[CampaignCallConnected] = []
    first.events.subscribe(lambda e: connected.append(e) if isinstance(e, CampaignCallConnected)
                           else None)  # fmt: skip
    _one_lead(first, sim, "fail18", "4921", number, TALKER)
    until(lambda: bool(connected), timeout=30)  # bridged; its attempt waits for the database
    call = _lead_channel(sim, "fail18")
    assert call is not None
    first.stop("restart")  # what waited is dropped: the call stays up
    second = engine()
    until(lambda: number in _attempts(second, "fail18"), timeout=20)
    attempt = _attempts(second, "fail18")[number]
    assert (attempt.outcome, attempt.agent, attempt.call_uuid) == (Outcome.ANSWERED, "4921", call)
    sim.hangup(call)
    assert wait_cdr(second, call, timeout=20).agent_extension == "4921"
    until(lambda: settled(second))


def test_a_preview_whose_lead_is_gone_when_the_agent_answers_hangs_the_agent_up(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the preview returned before its hang-up: the agent sat on a silent answered leg, held
    # in the reservation's wrap-up until they hung up themselves
    app = engine()
    monkeypatch.setattr(app.dialer_calls, "_number", lambda lead: None)  # deleted meanwhile
    number = "+15557750003"
    _one_lead(app, sim, "fail28", "4977", number, TALKER, mode=CampaignMode.PREVIEW)
    leg = until(lambda: _offered(sim), timeout=20)
    until(lambda: sim.channel(leg) is None, timeout=10)  # hung up by the engine
    assert not [a for a in apps_sent(sim, leg) if a.startswith("playback")]
    campaigns.pause(app.database, Actor("cli", "test"), "fail28")
    until(lambda: _lead(app, number).state is LeadState.PENDING, timeout=10)
    assert _all_attempts(app, number) == []
    until(lambda: settled(app), timeout=20)


def test_freeswitch_lost_during_a_preview_is_not_the_agent_s_skip(
    sim: Simulator, engine: EngineFactory
) -> None:
    # an ESLNotConnected in the preview was counted a skip: the lead put off 10 minutes, not
    # offered to that agent again, and set aside at the third drop without a call made
    app = engine()
    number = "+15557750004"
    dropped: list[str] = []

    def drop_at_the_preview(event: SimEvent) -> None:
        if (event.name == "CHANNEL_EXECUTE" and event.get("variable_cc_preview")
                and event.get("Application") == "playback" and not dropped):  # fmt: skip
            dropped.append(event.unique_id or "")
            sim.core.spawn(sim.drop_clients, name="drop")

    sim.on_event(drop_at_the_preview)
    _one_lead(app, sim, "fail29", "4978", number, TALKER, mode=CampaignMode.PREVIEW)
    until(lambda: bool(dropped), timeout=20)
    campaigns.pause(app.database, Actor("cli", "test"), "fail29")
    lead = until(lambda: _lead(app, number), timeout=10)
    until(lambda: _lead(app, number).state is LeadState.PENDING, timeout=20)
    assert lead.id not in app.dialer.skips
    assert _lead(app, number).next_attempt_at <= datetime.now(UTC)  # due now, not in 10 min
    assert _all_attempts(app, number) == []
    for channel in sim.channels:
        sim.hangup(channel.uuid)
    until(lambda: settled(app), timeout=20)


def test_a_line_ringing_out_during_the_stop_has_its_attempt_and_cdr_written(
    sim: Simulator, engine: EngineFactory
) -> None:
    # the dialer's stop killed every line's greenlet at once: a line still ringing rang out
    # during the shutdown grace unseen, with no attempt, no CDR, and its lead left dialing
    # until the stale-claim release 10 minutes later (redialled then, not after its delay)
    number = "+15557659401"
    first = _one_lead(engine(), sim, "fail40", "4945", number, SLOW, ring_seconds=30)
    until(lambda: any(number[1:] in c.line for c in sim.core.commands), timeout=20)
    assert _lead(first, number).state is LeadState.DIALING
    first.stop("restart")  # 1.5 s of ringing left here: within the 2 s grace
    second = engine()
    [attempt] = _all_attempts(second, number)
    assert attempt.outcome is Outcome.NO_ANSWER and attempt.call_uuid is not None
    cdr = wait_cdr(second, attempt.call_uuid, timeout=10)
    assert (cdr.disposition, cdr.to_number) == (Disposition.NO_ANSWER, number)
    lead = _lead(second, number)
    assert lead.state is LeadState.PENDING and lead.next_attempt_at is not None
    assert lead.next_attempt_at > datetime.now(UTC) + timedelta(minutes=30)  # no_answer: 2 h
    campaigns.stop(second.database, Actor("cli", "test"), "fail40")
    until(lambda: settled(second))


def test_no_outbound_route_pauses_the_campaign_once_and_charges_no_lead(
    sim: Simulator, engine: EngineFactory
) -> None:
    # with the route removed (or a typo in its pattern), every due lead got a `failed`
    # attempt, about 2 a second, one ERROR each; the campaign ran on and /healthz said ok
    numbers = [f"+1212555794{i}" for i in range(5)]
    app = engine()
    with app.database.session_scope() as session:  # no outbound route at all
        routes = OutboundRouteRepository(session)
        for route in routes.all():
            routes.delete(route.name)
    app.outbound.reload()
    TrafficModel(sim, TrafficProfile(), seed=1,
                 overrides={n[1:]: AgentBehaviour(busy=True) for n in numbers})  # fmt: skip
    sim.register_agent("4946", AgentBehaviour(answer_delay=0.5))
    setup_queue(app, "fail41q", {"4946": {}}, did="84946")
    _campaign(app, "fail41", "fail41q", numbers)
    _start(app, "fail41")
    until(lambda: campaigns.get(app.database, "fail41").state is CampaignState.PAUSED, timeout=20)
    until(lambda: "fail41" not in app.dialer.runners, timeout=10)
    assert _attempts(app, "fail41") == {}
    assert all(_lead(app, n).state is LeadState.PENDING for n in numbers)
    [paused] = [a for a in _audit(app, "fail41") if a.details.get("to") == "paused"]
    assert paused.details["reason"] == "misconfigured"
    assert "no outbound route matches" in paused.details["fault"]
    shown = campaigns.summary(app.database, "fail41").paused or {}
    assert shown.get("reason") == "misconfigured"
    health = app.health()
    assert health["status"] == "degraded"
    assert any(r.startswith("campaign fail41 paused: no outbound route") for r in health["reasons"])
    campaigns.stop(app.database, Actor("cli", "test"), "fail41")  # not resumed: stopped
    app.dialer.sync()
    assert not any("fail41" in r for r in app.health()["reasons"])  # was degraded for ever
    _route(app)
    _start(app, "fail41")  # dialling again
    until(lambda: "fail41" in app.dialer.runners, timeout=10)
    assert not any("fail41" in r for r in app.health()["reasons"])
    campaigns.stop(app.database, Actor("cli", "test"), "fail41")
    until(lambda: settled(app), timeout=20)

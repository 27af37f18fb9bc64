"""A campaign dialling end to end: the engine, the simulator over TCP and PostgreSQL.

Leads are dialled through an outbound route's trunk; the simulator's called parties are
pinned per number (a person, a machine, busy, no answer); a person is given an agent of the
campaign's queue; with no agent free in the safe harbor, the safe-harbor message is played
and the call is an abandoned one (the audit log, the 72 h hold). Attempts, CDRs and the
audit log are read back from PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import gevent
import pytest
from sqlalchemy import select

from callcenter.app import App
from callcenter.dialer import store
from callcenter.dialer.calls import DialerCalls
from callcenter.dialer.compliance import Outcome
from callcenter.dialer.vocabulary import (
    AmdAction,
    AuditKind,
    CampaignMode,
    CampaignState,
    LeadState,
)
from callcenter.events import types as events
from callcenter.phone.on_call import TONE_ERROR
from callcenter.services import campaigns
from callcenter.services.actor import Actor
from callcenter.sim import AgentBehaviour, Simulator, Voice
from callcenter.sim.traffic import TrafficModel, TrafficProfile
from callcenter.store.models import (
    Campaign,
    CampaignDisposition,
    DialerAuditEntry,
    Lead,
    LeadAttempt,
)
from callcenter.store.repos import OutboundRouteRepository
from callcenter.vocabulary import AgentStatus, Disposition
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import apps_sent, wait_cdr
from tests.integration.calls.test_queues import _set_status, setup_queue
from tests.support import until

SAFE_HARBOR = "tone_stream://%(400,0,440)"
PERSON = Voice(silence=0.3, speech=0.7, patience=30.0)
MACHINE = Voice(machine=True, silence=0.3, speech=6.0, beep_gap=0.5, patience=None)


def _route(app: App) -> None:
    with app.database.session_scope() as session:
        routes = OutboundRouteRepository(session)
        if not any(r.name == "campaigns" for r in routes.all()):
            routes.add("campaigns", r"^\+?[0-9]{6,15}$", "carrier1")
    app.outbound.reload()


def _campaign(app: App, name: str, queue: str, phones: list[str], **fields: object) -> None:
    with app.database.session_scope() as session:
        campaign = Campaign(
            name=name, state=CampaignState.STOPPED, queue=queue,
            window_start=time(0, 0), window_end=time(23, 59, 59), caller_id="+12125550199",
            **{"mode": CampaignMode.PROGRESSIVE, "amd": AmdAction.HANGUP, "ring_seconds": 15,
               "safe_harbor_message": SAFE_HARBOR, **fields},
        )  # fmt: skip
        session.add(campaign)
        session.flush()
        session.add(CampaignDisposition(campaign_id=campaign.id, code="sale", key=1, success=True))
        session.add(
            CampaignDisposition(campaign_id=campaign.id, code="later", key=2, retry_after=3600)
        )
        past = datetime.now(UTC) - timedelta(minutes=1)
        for phone in phones:
            fields = {"name": f"Lead {phone[-4:]}"}
            lead = Lead(campaign_id=campaign.id, phone=phone, zones="UTC", fields=fields)
            lead.next_attempt_at = past
            session.add(lead)


def _one_lead(
    app: App, sim: Simulator, name: str, agent: str, number: str, far_end: AgentBehaviour,
    **fields: object,
) -> App:  # fmt: skip
    """A running campaign of one lead, whose queue has one agent (its phone slow to answer
    unless auto-answered)."""
    _route(app)
    TrafficModel(sim, TrafficProfile(), seed=1, overrides={number.lstrip("+"): far_end})
    sim.register_agent(agent, AgentBehaviour(answer_delay=0.5))
    setup_queue(app, f"{name}q", {agent: {}}, did=f"8{agent}")
    _campaign(app, name, f"{name}q", [number], **fields)
    _start(app, name)
    return app


def _offered(sim: Simulator) -> str | None:
    """A preview offer's agent leg, once the agent answered it."""
    for channel in sim.channels:
        if channel.variables.get("cc_preview") and channel.answer_state == "answered":
            return channel.uuid
    return None


def _start(app: App, name: str) -> None:
    """As `campaign start` does it: the change feed tells the engine's dialer at once."""
    campaigns.start(app.database, Actor("cli", "test"), name)


def _attempts(app: App, name: str) -> dict[str, LeadAttempt]:
    with app.database.session_scope() as session:
        rows = session.execute(
            select(Lead.phone, LeadAttempt)
            .join(LeadAttempt, LeadAttempt.lead_id == Lead.id)
            .join(Campaign, Campaign.id == Lead.campaign_id)
            .where(Campaign.name == name)
        ).all()
        session.expunge_all()
        return {phone: attempt for phone, attempt in rows}


def _audit(app: App, name: str) -> list[DialerAuditEntry]:
    with app.database.session_scope() as session:
        rows = list(
            session.scalars(select(DialerAuditEntry).where(DialerAuditEntry.campaign == name))
        )
        session.expunge_all()
        return rows


def test_a_progressive_campaign_dials_detects_and_gives_people_to_agents(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    _route(app)
    numbers = {
        "+15557100001": AgentBehaviour(answer_delay=2.0, talk_time=3.0, voice=PERSON),
        "+15557100002": AgentBehaviour(answer_delay=2.0, machine=True, voice=MACHINE),
        "+15557100003": AgentBehaviour(busy=True),
        "+15557100004": AgentBehaviour(no_answer=True),
    }
    TrafficModel(sim, TrafficProfile(), seed=1,
                 overrides={k.lstrip("+"): v for k, v in numbers.items()})  # fmt: skip
    for ext in ("4701", "4702"):
        sim.register_agent(ext, AgentBehaviour(answer_delay=5.0))  # auto-answer: 0.3 s
    setup_queue(app, "camp1q", {"4701": {}, "4702": {}}, did="8701")
    _campaign(app, "camp1", "camp1q", list(numbers))
    seen: list[events.Event] = []
    app.events.subscribe(seen.append)
    _start(app, "camp1")
    until(lambda: len(_attempts(app, "camp1")) == 4, timeout=40)
    attempts = _attempts(app, "camp1")
    outcomes = {phone: a.outcome for phone, a in attempts.items()}
    assert outcomes == {
        "+15557100001": Outcome.ANSWERED,
        "+15557100002": Outcome.MACHINE,
        "+15557100003": Outcome.BUSY,
        "+15557100004": Outcome.NO_ANSWER,
    }
    person = attempts["+15557100001"]
    assert person.agent in ("4701", "4702") and person.call_uuid
    cdr = wait_cdr(app, person.call_uuid, timeout=20)
    assert cdr.disposition is Disposition.ANSWERED
    sent = apps_sent(sim, person.call_uuid)
    assert any(s.startswith("detect_audio ") for s in sent), sent
    assert any(s.startswith("avmd_start") for s in sent), sent
    machine_call = attempts["+15557100002"].call_uuid
    assert machine_call and wait_cdr(app, machine_call, timeout=20)
    assert "hangup NORMAL_CLEARING" in apps_sent(sim, machine_call)  # amd: hang up
    # the screen pop and the outcomes, on the bus (webhooks, SSE)
    [pop] = [e for e in seen if isinstance(e, events.CampaignCallConnected)]
    assert (pop.call_uuid, pop.agent_extension) == (person.call_uuid, person.agent)
    assert pop.fields == {"name": "Lead 0001"} and pop.campaign == "camp1"
    ended = {e.call_uuid: e for e in seen if isinstance(e, events.CampaignCallEnded)}
    assert (ended[person.call_uuid].outcome, ended[person.call_uuid].amd) == ("answered", "human")
    assert (ended[machine_call].outcome, ended[machine_call].amd) == ("machine", "machine")
    # the reserved agent went back to the pool once the call ended: both free again
    until(
        lambda: app.dispatcher.read(
            lambda board, now: all(board.agents[e].free(now) for e in ("4701", "4702"))
        ),
        timeout=20,
    )
    assert AuditKind.ABANDON not in {e.kind for e in _audit(app, "camp1")}
    # the live view (/api/v1/dialer/live): still running, nothing in flight, 2 agents free;
    # published at the runner's ticks, so the first view with both agents free may still
    # show the last line as its tick saw it, just before the line's end reached the runner
    live = until(lambda: next((x for x in app.dialer.live() if x.campaign == "camp1"
                               and x.agents_free == 2 and x.dialling == 0), None),
                 timeout=10)  # fmt: skip
    assert (live.mode, live.dialling, live.answered, live.fallback) == ("progressive", 0, 0, False)
    for outcome in ("answered", "machine", "busy", "no_answer"):  # the metrics, per outcome
        labels = {"campaign": "camp1", "outcome": outcome}
        assert app.registry.get_sample_value("callcenter_dialer_calls_total", labels) == 1
    lines = app.registry.get_sample_value("callcenter_dialer_lines", {"campaign": "camp1"})
    assert lines == 0
    # wrap-up: the agent dials *302 ("later": called again in an hour)
    assert person.agent is not None
    sim.phone_call(person.agent, "*302")
    until(lambda: _lead(app, "+15557100001").disposition == "later", timeout=20)
    lead = _lead(app, "+15557100001")
    assert lead.state is LeadState.PENDING
    assert lead.next_attempt_at > datetime.now(UTC) + timedelta(minutes=55)
    wrong = sim.phone_call(person.agent, "*309")  # no such disposition: the error tone
    until(lambda: sim.channel(wrong) is None, timeout=20)
    assert "playback " + TONE_ERROR in apps_sent(sim, wrong)
    assert _lead(app, "+15557100001").disposition == "later"


def _lead_channel(sim: Simulator, campaign: str) -> str | None:
    for channel in sim.channels:
        tags = channel.variables
        if tags.get("cc_entry") == "dialer" and tags.get("cc_campaign") == campaign:
            return channel.uuid
    return None


def _lead(app: App, phone: str) -> Lead:
    with app.database.session_scope() as session:
        lead = session.scalar(select(Lead).where(Lead.phone == phone))
        assert lead is not None
        session.expunge(lead)
        return lead


def test_a_person_with_no_agent_in_time_hears_the_safe_harbor_message_and_is_audited(
    sim: Simulator, engine: EngineFactory
) -> None:
    number = "+15557200001"
    person = AgentBehaviour(answer_delay=8.0, talk_time=3.0, voice=PERSON)
    app = _one_lead(engine(), sim, "camp2", "4711", number, person)
    until(lambda: any("15557200001" in c.line for c in sim.core.commands), timeout=20)
    _set_status(app, "4711", AgentStatus.PAUSED)  # gone while the line rings
    until(lambda: number in _attempts(app, "camp2"), timeout=30)
    attempt = _attempts(app, "camp2")[number]
    assert attempt.outcome is Outcome.ABANDONED and attempt.agent is None
    assert attempt.call_uuid is not None
    assert f"playback {SAFE_HARBOR}" in apps_sent(sim, attempt.call_uuid)
    audits = _audit(app, "camp2")
    assert {AuditKind.ABANDON, AuditKind.MESSAGE_PLAYED} <= {e.kind for e in audits}
    [played] = [e for e in audits if e.kind is AuditKind.MESSAGE_PLAYED]
    assert played.details == {"heard_to_end": True}  # its `at`: when it started
    with app.database.session_scope() as session:
        lead = session.scalar(select(Lead).where(Lead.phone == number))
        assert lead is not None
        # abandoned: not called again within 72 hours
        assert lead.next_attempt_at >= attempt.at + timedelta(hours=72) - timedelta(seconds=1)
    cdr = wait_cdr(app, attempt.call_uuid, timeout=20)  # the rules' abandoned call: so its CDR
    assert cdr.disposition is Disposition.ABANDONED and cdr.answered_at is not None


def test_the_runtime_never_dials_outside_the_window_a_dnc_number_or_within_72_hours(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    _route(app)
    sim.register_agent("4721", AgentBehaviour(answer_delay=5.0))
    setup_queue(app, "camp3q", {"4721": {}}, did="8721")
    on_dnc, held, late, fine = "+15557300001", "+15557300002", "+15557300003", "+15557300004"
    TrafficModel(sim, TrafficProfile(), seed=1, overrides={
        n.lstrip("+"): AgentBehaviour(busy=True) for n in (on_dnc, held, late, fine)
    })  # fmt: skip
    _campaign(app, "camp3", "camp3q", [on_dnc, held, late, fine])
    now = datetime.now(UTC)
    zones = [f"Etc/GMT{sign}{n}" for n in range(1, 12) for sign in "+-"]
    opened = next(z for z in zones if 8 <= now.astimezone(ZoneInfo(z)).hour < 20)
    closed = next(z for z in zones if not 8 <= now.astimezone(ZoneInfo(z)).hour < 21)
    with app.database.session_scope() as session:
        store.add_dnc(session, on_dnc, "", reason="asked", who="test")
        campaign = session.scalar(select(Campaign).where(Campaign.name == "camp3"))
        assert campaign is not None
        campaign.window_start, campaign.window_end = time(8, 0), time(21, 0)
        for lead in session.scalars(select(Lead).where(Lead.campaign_id == campaign.id)):
            lead.zones = closed if lead.phone == late else opened
        other = Lead(campaign_id=campaign.id, phone="+15557399999", zones=opened)
        other.state = LeadState.DONE
        session.add(other)
        session.flush()
        abandoned = LeadAttempt(lead_id=other.id, campaign_id=campaign.id, phone=held,
                                at=now - timedelta(hours=1), outcome=Outcome.ABANDONED)  # fmt: skip
        session.add(abandoned)
    _start(app, "camp3")
    until(lambda: fine in _attempts(app, "camp3"), timeout=30)
    kinds = [(e.kind, e.phone) for e in _audit(app, "camp3")]
    assert (AuditKind.DNC_HIT, on_dnc) in kinds
    assert (AuditKind.HOLD_BLOCK, held) in kinds
    assert (AuditKind.WINDOW_BLOCK, late) in kinds
    dialled = " ".join(c.line for c in sim.core.commands if "originate" in c.line)
    assert fine.lstrip("+") in dialled
    for number in (on_dnc, held, late):
        assert number.lstrip("+") not in dialled, number


def test_a_preview_campaign_offers_the_lead_to_the_agent_first(
    sim: Simulator, engine: EngineFactory
) -> None:
    number = "+15557400001"
    person = AgentBehaviour(answer_delay=1.0, talk_time=2.0, voice=PERSON)
    app = _one_lead(engine(), sim, "camp4", "4741", number, person, mode=CampaignMode.PREVIEW)
    agent_leg = until(lambda: _offered(sim), timeout=20)
    until(lambda: any(a.startswith("play_and_get_digits") for a in apps_sent(sim, agent_leg)))
    assert any("say:1 5 5 5 7 4 0 0 0 0 1" in a for a in apps_sent(sim, agent_leg))
    sim.send_dtmf(agent_leg, "1")  # the agent takes it
    until(lambda: number in _attempts(app, "camp4"), timeout=20)
    attempt = _attempts(app, "camp4")[number]
    assert attempt.outcome is Outcome.ANSWERED and attempt.agent == "4741"
    dialled = [c.line for c in sim.core.commands if "originate" in c.line]
    assert any("carrier1/" in line and "15557400001" in line for line in dialled)
    assert wait_cdr(app, agent_leg, timeout=20).disposition is Disposition.ANSWERED


def test_a_campaign_without_detection_gives_every_answer_to_an_agent_at_once(
    sim: Simulator, engine: EngineFactory
) -> None:
    number = "+15557500002"
    machine = AgentBehaviour(answer_delay=1.0, machine=True, talk_time=3.0, voice=MACHINE)
    app = _one_lead(engine(), sim, "camp5off", "4752", number, machine, amd=AmdAction.OFF)
    until(lambda: number in _attempts(app, "camp5off"), timeout=30)
    attempt = _attempts(app, "camp5off")[number]
    assert (attempt.outcome, attempt.agent) == (Outcome.ANSWERED, "4752")  # a machine, unheard
    assert attempt.call_uuid is not None
    sent = apps_sent(sim, attempt.call_uuid)
    detectors = ("avmd_start", "detect_audio", "wait_for_silence", "avmd_stop")
    assert not [a for a in sent if a.startswith(detectors)], sent
    assert AuditKind.ABANDON not in {e.kind for e in _audit(app, "camp5off")}


def test_a_carriers_ringback_is_not_taken_for_the_answer(
    sim: Simulator, engine: EngineFactory
) -> None:
    # FreeSWITCH's originate returns on a 183 with SDP (a carrier's ringback) unless told
    # ignore_early_media: the lead's leg parked unanswered, the detectors ran on the
    # ringback and an agent was put on a call still ringing
    number = "+15557500003"
    seen: list[tuple[str, str]] = []
    sim.on_event(lambda e: seen.append((e.unique_id, e.name)))
    told: list[events.Event] = []
    app = engine()
    app.events.subscribe(told.append)
    ringback = AgentBehaviour(early_media=0.5, answer_delay=6.0, talk_time=3.0, voice=PERSON)
    app = _one_lead(app, sim, "camp5early", "4753", number, ringback)
    until(lambda: number in _attempts(app, "camp5early"), timeout=30)
    attempt = _attempts(app, "camp5early")[number]
    assert (attempt.outcome, attempt.agent) == (Outcome.ANSWERED, "4753")
    lead = [name for uuid, name in seen if uuid == attempt.call_uuid]
    assert lead.index("CHANNEL_PROGRESS_MEDIA") < lead.index("CHANNEL_ANSWER")
    assert lead.index("CHANNEL_ANSWER") < lead.index("CHANNEL_PARK")  # parked once answered
    assert lead.index("CHANNEL_ANSWER") < lead.index("CHANNEL_EXECUTE")  # the detectors too
    # its CDR: from the campaign's caller ID to the lead, answered when the lead answered
    # (the call first seen at its park, after the answer: answered_at was None, the whole
    # call counted as ringing, and from_number the lead's, FreeSWITCH having flipped it)
    cdr = wait_cdr(app, attempt.call_uuid or "", timeout=20)
    assert (cdr.from_number, cdr.to_number) == ("+12125550199", number)
    assert cdr.answered_at is not None and cdr.disposition is Disposition.ANSWERED
    assert 5_000 <= cdr.ring_ms <= 7_500 and cdr.ring_ms < cdr.total_ms - 2_000
    # ... while the call's party is the lead: its screen pop and events say the lead's number
    [connected] = [e for e in told if isinstance(e, events.CampaignCallConnected)]
    assert connected.caller_number == number


def test_a_campaign_call_ending_while_the_engine_stops_is_told_before_the_database_closes(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a call draining after the dialer stopped ends: its campaign.call_ended (which reads the
    # lead's disposition) ran beside the database's close, and once failed on a connection
    # closed under it
    number = "+15557500004"
    person = AgentBehaviour(answer_delay=1.0, talk_time=600.0, voice=PERSON)
    app = _one_lead(engine(), sim, "camp5stop", "4754", number, person)
    until(lambda: number in _attempts(app, "camp5stop"), timeout=30)
    call = _attempts(app, "camp5stop")[number].call_uuid or ""
    told: list[str] = []
    ended = DialerCalls._ended

    def slow_end(calls: DialerCalls, *args: Any) -> None:
        gevent.sleep(1.0)  # a database slow to answer
        ended(calls, *args)
        told.append("told")

    monkeypatch.setattr(DialerCalls, "_ended", slow_end)
    gevent.spawn_later(0.3, sim.hangup, call)  # the customer hangs up during the drain
    app.stop("test")
    assert told == ["told"]


def test_a_machine_gets_the_campaigns_message_after_its_beep(
    sim: Simulator, engine: EngineFactory
) -> None:
    number, message = "+15557500001", "tone_stream://%(300,0,500)"
    machine = AgentBehaviour(answer_delay=1.0, machine=True, voice=MACHINE)
    seen: list[tuple[str, str, str | None]] = []  # (name or subclass, uuid, application)
    sim.on_event(lambda e: seen.append((e.subclass or e.name, e.unique_id, e.get("Application"))))
    app = _one_lead(engine(), sim, "camp5", "4751", number, machine,
                    amd=AmdAction.MESSAGE, amd_message=message)  # fmt: skip
    until(lambda: number in _attempts(app, "camp5"), timeout=30)
    attempt = _attempts(app, "camp5")[number]
    assert attempt.outcome is Outcome.MACHINE and attempt.call_uuid is not None
    call = attempt.call_uuid  # stored before the message: the message and hang-up follow
    until(lambda: any(a.startswith("hangup") for a in apps_sent(sim, call)), timeout=30)
    sent = [a.split()[0] + (" " + a.split()[1] if a.startswith("playback") else "")
            for a in apps_sent(sim, call)]  # fmt: skip
    assert sent == [
        "avmd_start", "detect_audio", "wait_for_silence", "avmd_stop", f"playback {message}",
        "hangup",
    ], sent  # fmt: skip
    mine = [(name, app) for name, uuid, app in seen if uuid == attempt.call_uuid]
    beep = mine.index(("avmd::beep", None))
    assert beep < mine.index(("CHANNEL_EXECUTE", "playback"))  # the message after the beep
    cdr = wait_cdr(app, call, timeout=20)  # answered by a machine: neither failed nor rejected
    assert cdr.disposition is Disposition.MACHINE and cdr.answered_at is not None


def test_without_mod_avmd_a_machine_gets_the_message_after_its_greeting_and_beep(
    sim: Simulator, engine: EngineFactory
) -> None:
    # mod_avmd is not in FreeSWITCH's vanilla modules.conf.xml: the message waited for the
    # greeting's end at most 2.6 s (the detection's window), so it played over a greeting
    # of any length, and the voicemail, recording from its beep, lost its start (the
    # seller's name)
    sim.core.modules.discard("mod_avmd")
    number, message = "+15557500005", "tone_stream://%(300,0,500)"
    voice = Voice(machine=True, silence=0.3, speech=12.0, beep_gap=0.6, patience=None)
    machine = AgentBehaviour(answer_delay=1.0, machine=True, voice=voice)
    stamps: dict[str, int] = {}  # the lead's answer and message start, simulated us
    sim.on_event(lambda e: stamps.setdefault(
        "answer" if e.name == "CHANNEL_ANSWER" else "message", int(e.get("Event-Date-Timestamp"))
    ) if e.unique_id == _lead_channel(sim, "camp5nobeep") and (
        e.name == "CHANNEL_ANSWER"
        or (e.name == "CHANNEL_EXECUTE" and e.get("Application") == "playback")
    ) else None)  # fmt: skip
    app = _one_lead(engine(), sim, "camp5nobeep", "4755", number, machine,
                    amd=AmdAction.MESSAGE, amd_message=message)  # fmt: skip
    until(lambda: number in _attempts(app, "camp5nobeep"), timeout=30)
    attempt = _attempts(app, "camp5nobeep")[number]
    assert attempt.outcome is Outcome.MACHINE and attempt.call_uuid is not None
    call = attempt.call_uuid
    until(lambda: any(a.startswith("hangup") for a in apps_sent(sim, call)), timeout=30)
    assert not [a for a in apps_sent(sim, call) if a.startswith("avmd")]
    beep_end = voice.silence + voice.speech + voice.beep_gap + 0.2
    started = (stamps["message"] - stamps["answer"]) / 1e6
    assert beep_end < started < beep_end + 3.0, (started, beep_end)


def test_a_campaign_without_a_caller_id_name_shows_its_number_never_its_own_name(
    sim: Simulator, engine: EngineFactory
) -> None:
    # with no --caller-id-name, every call went out named after the campaign (an internal
    # name): the customers' phones showed it, and each CDR's from_name said so
    person, busy = "+12125557841", "+12125557842"
    app = engine()
    _route(app)
    TrafficModel(sim, TrafficProfile(), seed=1, overrides={
        person[1:]: AgentBehaviour(answer_delay=1.0, talk_time=2.0, voice=PERSON),
        busy[1:]: AgentBehaviour(busy=True),
    })  # fmt: skip
    sim.register_agent("4941", AgentBehaviour(answer_delay=0.5))
    setup_queue(app, "cidname1q", {"4941": {}}, did="84941")
    _campaign(app, "cidname1", "cidname1q", [person, busy])
    _start(app, "cidname1")
    until(lambda: {person, busy} <= set(_attempts(app, "cidname1")), timeout=30)
    attempts = _attempts(app, "cidname1")
    assert attempts[person].outcome is Outcome.ANSWERED
    for number in (person, busy):
        cdr = wait_cdr(app, attempts[number].call_uuid or "", timeout=20)
        assert (cdr.from_number, cdr.from_name) == ("+12125550199", "+12125550199"), number
    dialled = [c.line for c in sim.core.commands if "originate" in c.line and "cc_lead" in c.line]
    assert dialled and all("origination_caller_id_name=+12125550199" in line for line in dialled)
    assert all("cidname1" not in line.replace("cc_campaign=cidname1", "") for line in dialled)
    campaigns.stop(app.database, Actor("cli", "test"), "cidname1")

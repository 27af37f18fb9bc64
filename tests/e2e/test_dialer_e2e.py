"""The dialer against a real FreeSWITCH (skipped unless CALLCENTER_FS_HOST is set; how to run
them: tests/e2e/README.md): a progressive campaign of one lead, its number reaching an
extension of FreeSWITCH's own dialplan, one agent whose phone is a loopback to music on hold.
What a real switch tells that the simulator cannot: how its originate ends for a far end that
answers, is busy, has no route or sends early media; what its detectors (detect_audio,
wait_for_silence, mod_avmd where loaded) hear on real frames; the bridge and the hang-up's
events, hence the attempt rows, the lead's retries and the CDRs in PostgreSQL.

**How a lead's number reaches an extension.** A campaign dials through an outbound route
whose trunk is a sofia gateway (``sofia/gateway/<trunk>/<number>``, ``trunks.outbound``):
the route and trunk model has no other kind of endpoint, and a gateway needs a SIP peer.
These tests replace that one builder, ``trunks.dialout.dial_string``, by
``loopback/<number>/<gateway>`` (as test_recording_e2e replaces the agents'
``CallControl.agent_dial_string``): each campaign's route names a dialplan context as its
gateway and rewrites the lead's number (``number_format``) to the extension to reach there.
The route lookup, the runner's pacing and claim, the originate and its variables, the park,
detection, the agent, the attempt, the retries and the CDR are the product's.

**The far ends**, read in FreeSWITCH's vanilla ``conf/vanilla/dialplan/default.xml``:

- ``9664`` (hold_music, context ``default``): ``answer``, ``silence_stream://2000``, then
  ``$${hold_music}`` (``local_stream://moh``): it answers at once and plays on.
- ``9197`` (milliwatt): ``answer``, then ``{loops=-1}tone_stream://%(251,0,1004)``: a 1004 Hz
  tone from the answer on, without end. To detect_audio it speaks at once; wait_for_silence
  never hears the 400 ms of quiet a greeting's end is: a long greeting, a machine; mod_avmd,
  where loaded, hears the steady tone as a beep (a machine too). Not 9664: its 2 s of
  silence before the music race detect_audio's 2.5 s, and music has quiet passages.
- ``9196`` (echo): ``answer``, ``echo``: it sends back what it hears, and the engine sends
  nothing while it listens, so it hears loopback's comfort-noise frames (no samples:
  quiet): an answer that says nothing, a person by the detectors' default.
- ``wait``: ``pre_answer``, ``sleep 20000``, ``answer``, ``sleep 1000``,
  ``voicemail/vm-goodbye.wav``, ``hangup``: 20 s of early media (a 183 with audio, as a
  carrier's ringback), then the answer.
- a context no dialplan has: no extension, the leg ends NO_ROUTE_DESTINATION.
- freeswitch-conf's ``callcenter`` context, which tags and parks every call for the engine:
  mod_loopback copies the originate's ``{variables}`` onto its second leg (``channel_on_init``,
  ``__loopback_vars__``), so that leg comes tagged ``cc_managed`` and ``cc_role=caller``, and
  the dialplan's ``set cc_entry=inbound`` makes it an inbound call of the engine: its DID
  route plays the far end. ``hangup:USER_BUSY`` is a busy number; a short prompt then
  silence (``voicemail/vm-goodbye.wav``, "Goodbye", then ``silence_stream://30000``) is a
  person who says a word and waits. The vanilla dialplan has no such person: ``wait`` and
  9180 say "goodbye" and hang up at once, 9386 plays a random prompt and hangs up.

The agent's phone is ``loopback/9664/default``, as in test_recording_e2e. It cannot be a DID
of the engine: its second leg would carry ``cc_role=agent`` and the call's ``cc_call_uuid``,
and the engine leaves a leg of a live call parked for that call to bridge. A campaign's
agent must answer within the 2 s safe harbor, and the vanilla default context's ``global``
extension sleeps 10 s before any extension while vars.xml's ``default_password`` is 1234:
the tests that give a lead to the agent skip then (change it, as that extension's log asks).
"""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest
from sqlalchemy import select

from callcenter.app import App
from callcenter.calls.control import CallControl
from callcenter.dialer import leads as lead_rules
from callcenter.dialer.campaign import CampaignSpec
from callcenter.dialer.compliance import DEFAULT_RETRIES, CallingWindow, Outcome, RetryRule
from callcenter.dialer.vocabulary import AmdAction, CampaignState, LeadState
from callcenter.errors import NotFound
from callcenter.esl import ESLConnection, commands
from callcenter.events import types as events
from callcenter.services import campaigns, leads, routes
from callcenter.services.actor import Actor
from callcenter.store.models import Campaign, Lead, LeadAttempt
from callcenter.store.records import CdrRecord
from callcenter.store.repos import AgentRepository, CdrRepository, QueueRepository
from callcenter.trunks import dialout
from callcenter.vocabulary import AgentStatus, Direction, Disposition
from tests.e2e.test_recording_e2e import caller_connection, make_engine
from tests.support import until

WHO = Actor("cli", "e2e")
PREFIX = "e2edial"  # the campaigns of this module (stopped after each test)
AGENT_PHONE = "loopback/9664/default"
CALLER_ID = "+12125550199"
SAFE_HARBOR = "tone_stream://%(400,0,440)"
GREETING = "voicemail/vm-goodbye.wav"  # callie's "Goodbye." (the vanilla 'wait' plays it)
WINDOW = CallingWindow(time(0, 0), time(23, 59, 59))  # any time of day in the lead's zone
TALK_SECONDS = 4


class FarEnd(NamedTuple):
    """Where a lead's number goes: an extension of a dialplan context."""

    context: str
    extension: str


MUSIC_ON_HOLD = FarEnd("default", "9664")
MILLIWATT = FarEnd("default", "9197")
ECHO = FarEnd("default", "9196")
EARLY_MEDIA = FarEnd("default", "wait")
NOWHERE = FarEnd("e2e_no_such_context", "1234")


@dataclass(frozen=True)
class Dialling:
    """A running campaign of one lead and one agent."""

    name: str
    phone: str
    agent: str
    started: datetime


@pytest.fixture
def engine(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.setattr(CallControl, "agent_dial_string", lambda _self, _ext: AGENT_PHONE)
    monkeypatch.setattr(dialout, "dial_string", lambda gateway, number:
                        f"loopback/{number}/{gateway}")  # fmt: skip
    app = make_engine(pg_url, tmp_path)
    try:
        until(lambda: app.connections["e2e"].connected, timeout=10)
        yield app
    finally:
        _stop_campaigns(app)
        _hang_up_what_is_left(app)
        app.stop("e2e over")


@pytest.fixture
def switch() -> Iterator[ESLConnection]:
    control = caller_connection()
    try:
        yield control
    finally:
        control.stop()


@pytest.fixture
def agent_in_time(switch: ESLConnection) -> None:
    """The loopback agent answers within the safe harbor only where the default context
    does not sleep 10 s first (vanilla's ``global`` extension, ``default_password`` 1234)."""
    if switch.api("global_getvar default_password", check=False).strip() == "1234":
        pytest.skip(
            "vars.xml's default_password is 1234: the vanilla default context sleeps 10 s "
            "before any extension, the loopback agent misses the 2 s safe harbor"
        )


@pytest.fixture
def seen(engine: App) -> list[events.Event]:
    published: list[events.Event] = []
    engine.events.subscribe(published.append)
    return published


def _stop_campaigns(app: App) -> None:
    for record in campaigns.list_campaigns(app.database):
        if record.spec.name.startswith(PREFIX) and record.state is not CampaignState.STOPPED:
            campaigns.stop(app.database, WHO, record.spec.name)


def _hang_up_what_is_left(app: App) -> None:
    """A test that failed halfway leaves no channel on the switch: each live call of the
    engine is hung up (its legs go with it) before the engine stops."""
    connection = app.connections["e2e"]
    calls = [uuid for manager in app.managers.values() for uuid in list(manager.actors)]
    for uuid in calls:
        connection.api(commands.uuid_kill(uuid), check=False)
    until(lambda: not any(m.actors for m in app.managers.values()), timeout=10)


def engine_did(app: App, target: str) -> FarEnd:
    """A far end the engine itself plays: a DID of freeswitch-conf's ``callcenter`` context
    routed to ``target``."""
    did = "7" + str(uuidlib.uuid4().int)[:8]
    routes.add(app.database, WHO, did, target)
    return FarEnd("callcenter", did)


def start_campaign(
    app: App,
    far_end: FarEnd,
    *,
    amd: AmdAction,
    retry: tuple[Outcome, RetryRule] | None = None,
    ring_seconds: int = 20,
) -> Dialling:
    """A running progressive campaign of one lead whose number reaches ``far_end``, and one
    free agent in its queue, set up as an operator does (route, campaign, lead file,
    start); ``retry``: that outcome's rule instead of the default one."""
    tag = str(uuidlib.uuid4().int)[:8]
    name, queue, agent, phone = f"{PREFIX}{tag}", f"{PREFIX}q{tag}", f"d{tag}", f"+1212555{tag[:4]}"
    with app.database.session_scope() as session:
        AgentRepository(session).add(agent, "loopback agent", wrapup_seconds=1)
        AgentRepository(session).set_status(agent, AgentStatus.AVAILABLE)
        QueueRepository(session).add(queue)
        QueueRepository(session).add_member(queue, agent)
    app.dispatcher.request_reload()
    until(lambda: queue in app.dispatcher.board.queues, timeout=10)
    routes.add_outbound(app.database, WHO, name, pattern=f"^{re.escape(phone)}$",
                        gateway=far_end.context, number_format=far_end.extension)  # fmt: skip
    app.outbound.reload()
    retries = {**DEFAULT_RETRIES, **dict([retry] if retry else [])}
    spec = CampaignSpec(
        name, queue=queue, outbound_route=name, caller_id=CALLER_ID, amd=amd,
        window_start=WINDOW.start, window_end=WINDOW.end, retries=retries,
        ring_seconds=ring_seconds, safe_harbor_message=SAFE_HARBOR,
    )  # fmt: skip
    campaigns.create(app.database, WHO, spec)
    report, rejected = leads.import_rows(app.database, WHO, name, ["phone"], [(2, [phone])],
                                         source="e2e")  # fmt: skip
    assert report.added == 1, rejected
    started = datetime.now(UTC)
    campaigns.start(app.database, WHO, name)
    return Dialling(name, phone, agent, started)


def attempt_of(app: App, campaign: str) -> LeadAttempt | None:
    """The campaign's first attempt, once stored."""
    with app.database.session_scope() as session:
        row = session.scalar(
            select(LeadAttempt)
            .join(Campaign, Campaign.id == LeadAttempt.campaign_id)
            .where(Campaign.name == campaign)
            .order_by(LeadAttempt.id)
        )
        session.expunge_all()
        return row


def lead_of(app: App, campaign: str) -> Lead:
    with app.database.session_scope() as session:
        row = session.scalars(
            select(Lead).join(Campaign, Campaign.id == Lead.campaign_id)
            .where(Campaign.name == campaign)
        ).one()  # fmt: skip
        session.expunge_all()
        return row


def cdr_of(app: App, call: str) -> CdrRecord | None:
    app.writer.flush()
    with app.database.session_scope() as session:
        try:
            return CdrRepository(session).get(call)
        except NotFound:
            return None


def ended_event(seen: list[events.Event], call: str) -> events.CampaignCallEnded | None:
    return next((e for e in seen if isinstance(e, events.CampaignCallEnded)
                 and e.call_uuid == call), None)  # fmt: skip


def agent_free(app: App, agent: str) -> bool:
    return bool(app.dispatcher.read(lambda board, now: board.agents[agent].free(now)))


def retried_as_ruled(lead: Lead, made: LeadAttempt, rule: RetryRule) -> bool:
    """The lead is due again after ``rule``'s delay (moved into its calling window)."""
    due = lead_rules.next_opening(WINDOW, made.at + rule.after, lead.zones.split())
    return lead.state is LeadState.PENDING and lead.next_attempt_at == due


def talked(
    app: App, switch: ESLConnection, seen: list[events.Event], dialling: Dialling
) -> tuple[CdrRecord, events.CampaignCallEnded]:
    """The lead given to the agent (the attempt stored at the bridge); FreeSWITCH ends the
    call ``TALK_SECONDS`` later (sched_api); the call's CDR and its ``campaign.call_ended``."""
    made = until(lambda: attempt_of(app, dialling.name), timeout=40)
    assert (made.outcome, made.agent) == (Outcome.ANSWERED, dialling.agent)
    assert made.call_uuid is not None
    switch.api(f"sched_api +{TALK_SECONDS} none {commands.uuid_kill(made.call_uuid)}")
    record = until(lambda: cdr_of(app, made.call_uuid or ""), timeout=TALK_SECONDS + 30)
    ended = until(lambda: ended_event(seen, made.call_uuid or ""), timeout=10)
    return record, ended


def test_a_lead_answered_without_detection_is_bridged_to_the_agent(
    engine: App, switch: ESLConnection, seen: list[events.Event], agent_in_time: None
) -> None:
    """``--amd off``: the answer is a person's at once; the agent's phone rings and is
    bridged; FreeSWITCH ends the call; the attempt, the lead and the CDR say so."""
    dialling = start_campaign(engine, MUSIC_ON_HOLD, amd=AmdAction.OFF)
    record, ended = talked(engine, switch, seen, dialling)
    assert (record.disposition, record.direction) == (Disposition.ANSWERED, Direction.OUTBOUND)
    assert record.agent_extension == dialling.agent
    assert record.to_number == MUSIC_ON_HOLD.extension  # the number as the route sent it
    assert abs(record.talk_ms - TALK_SECONDS * 1000) <= 1500
    assert any(leg.agent_extension == dialling.agent and leg.answered_at for leg in record.legs)
    assert (ended.outcome, ended.amd, ended.amd_reason) == ("answered", "human", "not_run")
    assert ended.talk_seconds is not None and abs(ended.talk_seconds - TALK_SECONDS) <= 1.5
    lead = lead_of(engine, dialling.name)
    assert (lead.state, lead.attempts, lead.last_outcome) == (LeadState.DONE, 1, "answered")
    until(lambda: agent_free(engine, dialling.agent), timeout=15)  # after its 1 s wrap-up


def test_a_number_with_no_route_fails_and_is_retried_by_the_campaigns_rule(engine: App) -> None:
    rule = RetryRule(2, timedelta(minutes=5))
    dialling = start_campaign(engine, NOWHERE, amd=AmdAction.OFF, retry=(Outcome.FAILED, rule))
    _not_reached(engine, dialling, Outcome.FAILED, "NO_ROUTE_DESTINATION", rule)


def test_a_busy_number_is_retried_by_the_campaigns_rule(engine: App) -> None:
    rule = RetryRule(2, timedelta(minutes=7))
    busy = engine_did(engine, "hangup:USER_BUSY")
    dialling = start_campaign(engine, busy, amd=AmdAction.OFF, retry=(Outcome.BUSY, rule))
    _not_reached(engine, dialling, Outcome.BUSY, "USER_BUSY", rule)


def _not_reached(
    app: App, dialling: Dialling, outcome: Outcome, cause: str, rule: RetryRule
) -> None:
    """The originate's failure as FreeSWITCH gave it: the attempt, its CDR (a call that
    answered nowhere), the lead due again by the rule; no agent rung."""
    made = until(lambda: attempt_of(app, dialling.name), timeout=40)
    assert (made.outcome, made.agent) == (outcome, None)
    assert made.call_uuid is not None
    record = until(lambda: cdr_of(app, made.call_uuid or ""), timeout=10)
    assert (record.hangup_cause, record.answered_at) == (cause, None)
    assert record.disposition is (Disposition.BUSY if outcome is Outcome.BUSY
                                  else Disposition.FAILED)  # fmt: skip
    assert (record.direction, record.to_number, record.from_number) == (
        Direction.OUTBOUND, dialling.phone, CALLER_ID
    )  # fmt: skip
    lead = lead_of(app, dialling.name)
    assert (lead.attempts, lead.last_outcome) == (1, str(outcome))
    assert retried_as_ruled(lead, made, rule), (lead.state, lead.next_attempt_at, made.at)
    assert agent_free(app, dialling.agent)


def test_detection_hangs_up_on_an_answer_that_never_stops_sounding(
    engine: App, seen: list[events.Event]
) -> None:
    """9197's endless tone: a long greeting to wait_for_silence (or mod_avmd's beep, where
    it is loaded): a machine, hung up (``--amd hangup``), retried by the machine rule; the
    agent is never rung."""
    rule = RetryRule(1, timedelta(hours=3))
    dialling = start_campaign(engine, MILLIWATT, amd=AmdAction.HANGUP,
                              retry=(Outcome.MACHINE, rule))  # fmt: skip
    made = until(lambda: attempt_of(engine, dialling.name), timeout=40)
    assert (made.outcome, made.agent) == (Outcome.MACHINE, None)
    assert made.call_uuid is not None
    ended = until(lambda: ended_event(seen, made.call_uuid or ""), timeout=10)
    assert (ended.outcome, ended.amd) == ("machine", "machine")
    assert ended.amd_reason in ("long_greeting", "beep"), ended.amd_reason
    record = until(lambda: cdr_of(engine, made.call_uuid or ""), timeout=15)
    assert record.agent_extension is None and record.talk_ms == 0
    assert not any(leg.agent_extension for leg in record.legs)
    assert retried_as_ruled(lead_of(engine, dialling.name), made, rule)
    assert agent_free(engine, dialling.agent)


@pytest.mark.parametrize("person", ["says_a_word", "says_nothing"])
def test_detection_gives_a_person_to_the_agent(
    engine: App, switch: ESLConnection, seen: list[events.Event], agent_in_time: None,
    person: str,
) -> None:  # fmt: skip
    """A word then silence (a DID of the engine playing "Goodbye." then 30 s of silence): a
    short greeting; an answer that says nothing (9196's echo of the engine's silence): a
    person by default. Either is bridged to the agent within the safe harbor."""
    if person == "says_a_word":
        far_end = engine_did(engine, f"playback:file_string://{GREETING}!silence_stream://30000")
        reason = "short_greeting"
    else:
        far_end, reason = ECHO, "silence"
    dialling = start_campaign(engine, far_end, amd=AmdAction.HANGUP)
    record, ended = talked(engine, switch, seen, dialling)
    assert (ended.outcome, ended.amd, ended.amd_reason) == ("answered", "human", reason)
    assert (record.disposition, record.agent_extension) == (Disposition.ANSWERED, dialling.agent)
    assert lead_of(engine, dialling.name).state is LeadState.DONE


@pytest.mark.timeout(150)
def test_a_lead_in_early_media_is_given_the_agent_only_once_it_answers(
    engine: App, agent_in_time: None
) -> None:
    """``wait``: 20 s of early media, then the answer, "Goodbye", and its hang-up. The agent
    is bridged after the answer, not at the 183: the engine's originates ask FreeSWITCH to
    ignore early media (``ignore_early_media=true``), which it otherwise returns on
    (``switch_ivr_originate.c``: CF_ANSWERED, or early_ok and CF_EARLY_MEDIA)."""
    dialling = start_campaign(engine, EARLY_MEDIA, amd=AmdAction.OFF, ring_seconds=45)
    made = until(lambda: attempt_of(engine, dialling.name), timeout=70)
    until(lambda: cdr_of(engine, made.call_uuid or ""), timeout=60)  # 'wait' hangs up
    assert (made.outcome, made.agent) == (Outcome.ANSWERED, dialling.agent)
    assert made.at - dialling.started >= timedelta(seconds=19), made.at - dialling.started

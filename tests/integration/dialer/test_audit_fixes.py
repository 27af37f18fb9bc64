"""Issue 17's audit: a callback kept for an agent, an agent whose phone is unreachable, the
hard limit in progressive mode, a skipped preview, and ``campaign.call_ended`` at the call's
end. The engine, the simulator over TCP and PostgreSQL, as test_campaign_run has them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import select

from callcenter.api.campaigns import CampaignSummary
from callcenter.app import App
from callcenter.cli.campaign_cmd import print_summary
from callcenter.dialer import runner, store
from callcenter.dialer.compliance import Outcome
from callcenter.dialer.vocabulary import AuditKind, CampaignMode, CampaignState, LeadState
from callcenter.events import types as events
from callcenter.services import campaigns
from callcenter.sim import AgentBehaviour, Simulator
from callcenter.sim.traffic import TrafficModel, TrafficProfile
from callcenter.store.models import EventRow, Lead
from callcenter.vocabulary import AgentStatus
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import apps_sent, wait_cdr
from tests.integration.calls.test_queues import _set_status, setup_queue
from tests.integration.dialer.test_campaign_run import (
    PERSON,
    _attempts,
    _audit,
    _campaign,
    _lead,
    _one_lead,
    _route,
    _start,
)
from tests.support import until


def test_call_ended_is_published_when_the_agents_call_ends_not_at_its_bridge(
    sim: Simulator, engine: EngineFactory
) -> None:
    number = "+15557800001"
    app = engine()
    seen: list[events.Event] = []
    app.events.subscribe(seen.append)
    person = AgentBehaviour(answer_delay=1.0, talk_time=3.0, voice=PERSON)
    _one_lead(app, sim, "camp81", "4781", number, person)
    until(lambda: number in _attempts(app, "camp81"), timeout=30)
    call = _attempts(app, "camp81")[number].call_uuid
    assert call is not None
    cdr = wait_cdr(app, call, timeout=30)
    told = (events.CampaignCallConnected, events.CampaignCallEnded, events.CallEnded)

    def ended_told() -> list[events.Event] | None:
        found = [e for e in seen if e.call_uuid == call and isinstance(e, told)]
        return found if found and isinstance(found[-1], events.CampaignCallEnded) else None

    mine = until(ended_told, timeout=20)
    kinds = [type(e).__name__ for e in mine]
    # it came at the bridge, before the call's end (it said "answered" while they talked)
    assert kinds == ["CampaignCallConnected", "CallEnded", "CampaignCallEnded"], kinds
    ended = mine[-1]
    assert isinstance(ended, events.CampaignCallEnded)
    assert (ended.outcome, ended.amd, ended.agent_extension) == ("answered", "human", "4781")
    assert (
        ended.duration_seconds == cdr.total_ms / 1000 and ended.talk_seconds == cdr.talk_ms / 1000
    )
    assert ended.talk_seconds is not None and ended.talk_seconds > 0
    assert ended.disposition is None  # none entered during the call


def test_a_progressive_campaign_at_its_hard_limit_is_paused_until_the_operator_resumes_it(
    sim: Simulator, engine: EngineFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    # the hard limit only switched predictive to progressive: a progressive campaign kept
    # dialling (its agent's phone unreachable: every person who answered was abandoned)
    first, second = "+15557820001", "+15557820002"
    person = AgentBehaviour(answer_delay=8.0, talk_time=2.0, voice=PERSON)
    app = engine()
    seen: list[events.Event] = []
    app.events.subscribe(seen.append)
    _route(app)
    TrafficModel(sim, TrafficProfile(), seed=1,
                 overrides={n.lstrip("+"): person for n in (first, second)})  # fmt: skip
    sim.register_agent("4782", AgentBehaviour(answer_delay=0.5))
    setup_queue(app, "camp82q", {"4782": {}}, did="84782")
    _campaign(app, "camp82", "camp82q", [first, second])
    _start(app, "camp82")
    until(lambda: any("originate" in c.line and "1555782000" in c.line
                      for c in sim.core.commands), timeout=20)  # fmt: skip
    _set_status(app, "4782", AgentStatus.PAUSED)  # gone while the line rings: abandoned
    until(lambda: _attempts(app, "camp82"), timeout=30)
    [(abandoned, attempt)] = _attempts(app, "camp82").items()
    assert attempt.outcome is Outcome.ABANDONED
    _set_status(app, "4782", AgentStatus.AVAILABLE)
    state = lambda: campaigns.summary(app.database, "camp82").record.state  # noqa: E731
    until(lambda: state() is CampaignState.PAUSED, timeout=30)
    [paused] = [e for e in _audit(app, "camp82")
                if e.kind is AuditKind.STATE and e.details.get("to") == "paused"]  # fmt: skip
    assert paused.details["reason"] == "hard_limit" and paused.details["by"] == "engine:dialer"
    assert paused.details["rate"] == 1.0  # 1 abandoned of 1 live answer today
    changed = until(lambda: next((e for e in _outbox(app) if e.get("op") == "pause"), None))
    assert (changed["state"], changed["by"]) == ("paused", "engine:dialer")
    shown = campaigns.summary_view(campaigns.summary(app.database, "camp82"))
    print_summary(shown)
    out = capsys.readouterr().out
    assert "paused by the dialer at the hard limit (100.00% abandoned" in out
    assert "AT THE LIMIT: paused at an abandon" in out
    api = CampaignSummary.model_validate(shown)  # GET /api/v1/campaigns/camp82
    assert api.paused is not None and api.paused["reason"] == "hard_limit"
    # the operator resumes it: the next lead is dialled (no new abandon: not paused again)
    other = second if abandoned == first else first
    _start(app, "camp82")
    until(lambda: other in _attempts(app, "camp82"), timeout=40)
    assert _attempts(app, "camp82")[other].outcome is Outcome.ANSWERED
    assert state() is CampaignState.RUNNING


def _outbox(app: App) -> list[dict[str, object]]:
    with app.database.session_scope() as session:
        rows = session.scalars(select(EventRow).where(EventRow.type == "campaign.changed"))
        return [dict(row.payload["data"]) for row in rows]


def test_an_agent_whose_phone_is_not_registered_is_rested_and_paused_as_the_acd_does(
    sim: Simulator, engine: EngineFactory
) -> None:
    # the dialer gave the reservation back as if nothing happened: the agent stayed free,
    # was reserved for the next person who answered, and every one of them was abandoned
    number = "+15557830001"
    person = AgentBehaviour(answer_delay=1.0, talk_time=2.0, voice=PERSON)
    app = engine()
    _route(app)
    TrafficModel(sim, TrafficProfile(), seed=1, overrides={number.lstrip("+"): person})
    sim.register_agent("4783", AgentBehaviour(registered=False))  # SUBSCRIBER_ABSENT
    setup_queue(app, "camp83q", {"4783": {}}, did="84783", routing={"max_no_answer": 1})
    _campaign(app, "camp83", "camp83q", [number])
    _start(app, "camp83")
    until(lambda: number in _attempts(app, "camp83"), timeout=30)
    assert _attempts(app, "camp83")[number].outcome is Outcome.ABANDONED

    def agent() -> tuple[AgentStatus, bool, int]:
        return app.dispatcher.read(
            lambda board, now: (
                board.agents["4783"].status,
                board.agents["4783"].free(now),
                board.agents["4783"].failed_offers,
            )
        )

    # the queue's failure policy, as after a queue offer: max_no_answer 1, paused
    until(lambda: agent()[0] is AgentStatus.PAUSED, timeout=10)
    assert agent() == (AgentStatus.PAUSED, False, 0)


def test_a_callback_kept_for_an_agent_waits_for_that_agent_and_goes_to_them(
    sim: Simulator, engine: EngineFactory
) -> None:
    # callback_agent was read and dropped: the callback went to whichever agent was free
    kept, other = "+15557840001", "+15557840002"
    person = AgentBehaviour(answer_delay=1.0, talk_time=1.0, voice=PERSON)
    app = engine()
    _route(app)
    TrafficModel(sim, TrafficProfile(), seed=1,
                 overrides={n.lstrip("+"): person for n in (kept, other)})  # fmt: skip
    for ext in ("4784", "4785"):
        sim.register_agent(ext, AgentBehaviour(answer_delay=0.5))
    setup_queue(app, "camp84q", {"4784": {}, "4785": {}}, did="84784")
    _set_status(app, "4785", AgentStatus.PAUSED)
    _campaign(app, "camp84", "camp84q", [kept, other])
    with app.database.session_scope() as session:
        lead = session.scalar(select(Lead).where(Lead.phone == kept))
        assert lead is not None
        lead.callback_at = datetime.now(UTC) - timedelta(minutes=1)
        lead.callback_agent = "4785"
    _start(app, "camp84")
    # one agent free (4784): one line, and not the callback (it is 4785's), though due first
    until(lambda: other in _attempts(app, "camp84"), timeout=30)
    assert _attempts(app, "camp84")[other].agent == "4784"
    assert kept not in _attempts(app, "camp84")
    with app.database.session_scope() as session:
        assert session.scalar(select(Lead.state).where(Lead.phone == kept)) is LeadState.PENDING
    until(lambda: app.dispatcher.read(lambda board, now: board.agents["4784"].free(now)),
          timeout=20)  # fmt: skip
    _set_status(app, "4785", AgentStatus.AVAILABLE)  # 4784 free too: the callback is 4785's
    until(lambda: kept in _attempts(app, "camp84"), timeout=30)
    attempt = _attempts(app, "camp84")[kept]
    assert (attempt.outcome, attempt.agent) == (Outcome.ANSWERED, "4785")


def test_a_kept_callback_is_claimed_only_for_its_free_agent_then_by_anyone_after_the_grace(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    _campaign(app, "camp85", "camp85q", ["+15557850001", "+15557850002"])
    now = datetime.now(UTC)
    with app.database.session_scope() as session:
        leads = list(session.scalars(select(Lead).order_by(Lead.id)))[-2:]
        for lead in leads:
            lead.callback_at, lead.callback_agent = now - timedelta(minutes=1), "4786"
    with app.database.session_scope() as session:
        assert store.claim_due(session, "camp85", now, 5, free=("4787",)) == []
    with app.database.session_scope() as session:  # one per agent
        [got] = store.claim_due(session, "camp85", now, 5, free=("4786",))
        assert (got.id, got.kept_for) == (leads[0].id, "4786")
    later = now + store.CALLBACK_AGENT_GRACE  # 30 min after its time: any agent's
    with app.database.session_scope() as session:
        [late] = store.claim_due(session, "camp85", later, 5, free=())
        assert (late.id, late.kept_for, late.callback_agent) == (leads[1].id, None, "4786")


def test_a_skipped_preview_lead_waits_goes_to_another_agent_and_is_parked_after_n_skips(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a skip gave the lead back due at once: offered again to the same agent, with no end
    monkeypatch.setattr(runner, "PREVIEW_MAX_SKIPS", 2)
    number = "+15557860001"
    app = engine()
    _route(app)
    for ext in ("4786", "4787"):
        sim.register_agent(ext, AgentBehaviour(answer_delay=0.5))
    setup_queue(app, "camp86q", {"4786": {}, "4787": {}}, did="84786")
    _set_status(app, "4787", AgentStatus.PAUSED)
    _campaign(app, "camp86", "camp86q", [number], mode=CampaignMode.PREVIEW)
    _start(app, "camp86")

    def skip(agent: str, seen: set[str]) -> None:
        leg = _preview_offered(sim, seen)
        assert sim.channel(leg).variables.get("cc_agent") == agent
        sim.send_dtmf(leg, "2")  # skip
        until(lambda: lead().state is not LeadState.DIALING, timeout=20)

    lead = partial(_lead, app, number)

    seen: set[str] = set()
    skipped_at = datetime.now(UTC)
    skip("4786", seen)
    after = lead()
    assert after.state is LeadState.PENDING and after.attempts == 0
    assert after.next_attempt_at >= skipped_at + runner.PREVIEW_SKIP_DELAY
    assert app.dialer.skips[after.id] == ["4786"]
    # due again: with 4786 alone free it is not offered to 4786 (given back, due later) ...
    with app.database.session_scope() as session:
        row = session.get(Lead, after.id)
        assert row is not None
        row.next_attempt_at = datetime.now(UTC) - timedelta(minutes=1)
    until(lambda: lead().next_attempt_at > datetime.now(UTC), timeout=20)
    assert lead().state is LeadState.PENDING and len(seen) == 1
    # ... but to 4787 once free; its skip is the second: parked
    with app.database.session_scope() as session:
        row = session.get(Lead, after.id)
        assert row is not None
        row.next_attempt_at = datetime.now(UTC) - timedelta(minutes=1)
    _set_status(app, "4787", AgentStatus.AVAILABLE)
    skip("4787", seen)
    parked = lead()
    assert (parked.state, parked.last_outcome, parked.attempts) == (LeadState.DONE, "skipped", 0)
    assert after.id not in app.dialer.skips


def test_a_preview_agent_whose_phone_is_not_registered_is_paused_as_the_acd_does(
    sim: Simulator, engine: EngineFactory
) -> None:
    number = "+15557870001"
    app = engine()
    _route(app)
    sim.register_agent("4788", AgentBehaviour(registered=False))  # SUBSCRIBER_ABSENT
    told: list[events.Event] = []
    app.events.subscribe(told.append, {events.CampaignPreviewDecided.type})
    setup_queue(app, "camp87q", {"4788": {}}, did="84788", routing={"max_no_answer": 1})
    _campaign(app, "camp87", "camp87q", [number], mode=CampaignMode.PREVIEW)
    _start(app, "camp87")
    status = lambda: app.dispatcher.read(lambda board, now: board.agents["4788"].status)  # noqa: E731
    until(lambda: status() is AgentStatus.PAUSED, timeout=20)

    def lead() -> tuple[LeadState, int] | None:  # the lead back, not counted
        with app.database.session_scope() as session:
            row = session.scalar(select(Lead).where(Lead.phone == number))
            return (row.state, row.attempts) if row is not None else None

    until(lambda: lead() == (LeadState.PENDING, 0), timeout=10)
    # the offer's end told: the phone did not take it (once, not also "cancelled")
    decided = until(lambda: told, timeout=10)
    assert {(e.agent_extension, getattr(e, "decision", "")) for e in decided} == {
        ("4788", "not_answered")}  # fmt: skip


def test_a_preview_lead_accepted_after_a_skip_is_forgotten_by_the_skips(
    sim: Simulator, engine: EngineFactory
) -> None:
    # Dialer.skips lost an entry only when its lead was parked: a lead skipped once, then
    # accepted by another agent, stayed in it for the engine's life
    number = "+15557860002"
    app = engine()
    _route(app)
    TrafficModel(sim, TrafficProfile(), seed=1, overrides={number.lstrip("+"): PERSON})
    for ext in ("4798", "4799"):
        sim.register_agent(ext, AgentBehaviour(answer_delay=0.5))
    setup_queue(app, "camp89q", {"4798": {}, "4799": {}}, did="84798")
    _set_status(app, "4799", AgentStatus.PAUSED)
    _campaign(app, "camp89", "camp89q", [number], mode=CampaignMode.PREVIEW)
    _start(app, "camp89")

    told: list[events.Event] = []
    app.events.subscribe(told.append)
    offered = partial(_preview_offered, sim)
    lead = partial(_lead, app, number)
    seen: set[str] = set()
    first = offered(seen)
    sim.send_dtmf(first, "2")  # 4798 skips
    until(lambda: lead().state is LeadState.PENDING, timeout=20)
    assert app.dialer.skips[lead().id] == ["4798"]
    # the agent's screen had the lead before the phone was answered, then what was decided
    previews = (events.CampaignPreviewOffered, events.CampaignPreviewDecided)
    about = lambda leg: [e for e in told if isinstance(e, previews) and e.call_uuid == leg]  # noqa: E731
    offer, decided = until(lambda: about(first) if len(about(first)) == 2 else None, timeout=10)
    assert isinstance(offer, events.CampaignPreviewOffered)
    assert (offer.campaign, offer.lead_id, offer.agent_extension, offer.caller_number,
            offer.fields, offer.ring_seconds) == ("camp89", lead().id, "4798", number,
                                                  {"name": "Lead 0002"}, 15)  # fmt: skip
    assert isinstance(decided, events.CampaignPreviewDecided)
    assert (decided.decision, decided.agent_extension, decided.lead_id) == (
        "skipped", "4798", lead().id)  # fmt: skip
    # a skip dialled nothing: no call counted (it counted a no_answer)
    dials = app.registry.get_sample_value(
        "callcenter_dialer_calls_total", {"campaign": "camp89", "outcome": "no_answer"}
    )
    assert not dials
    with app.database.session_scope() as session:
        row = session.get(Lead, lead().id)
        assert row is not None
        row.next_attempt_at = datetime.now(UTC) - timedelta(minutes=1)
    _set_status(app, "4799", AgentStatus.AVAILABLE)
    leg = offered(seen)
    assert sim.channel(leg).variables.get("cc_agent") == "4799"
    sim.send_dtmf(leg, "1")  # 4799 accepts: the lead is dialled
    until(lambda: lead().id not in app.dialer.skips, timeout=10)
    until(lambda: lead().state is not LeadState.PENDING, timeout=20)
    [_, accepted] = until(lambda: about(leg) if len(about(leg)) == 2 else None, timeout=10)
    assert (accepted.decision, accepted.agent_extension) == ("accepted", "4799")


def _preview_offered(sim: Simulator, seen: set[str]) -> str:
    """The next preview leg an agent answered (one not in ``seen``, added to it), once its
    accept-or-skip prompt is running."""

    def answered() -> str | None:
        for channel in sim.channels:
            if (channel.variables.get("cc_preview") and channel.answer_state == "answered"
                    and channel.uuid not in seen):  # fmt: skip
                return channel.uuid
        return None

    leg = until(answered, timeout=20)
    seen.add(leg)
    until(lambda: any(a.startswith("play_and_get_digits") for a in apps_sent(sim, leg)))
    return leg

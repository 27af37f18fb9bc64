"""A predictive campaign end to end: the engine, the simulator over TCP (20 times faster
than the wall) and PostgreSQL. The dialer paces on the simulator's clock (``DialerClock``),
as it paces on the wall's against a real FreeSWITCH: it warms up progressive, then dials
more lines than free agents, gives the people who answer to agents, keeps its abandon
rate within the hard limit, stores attempts, CDRs and the audit log, and falls back to
progressive (audited) once the compliance rate is forced over the hard limit."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import gevent
from sqlalchemy import select

from callcenter.app import App
from callcenter.dialer import store
from callcenter.dialer.compliance import Outcome
from callcenter.dialer.estimates import WARM_UP
from callcenter.dialer.runner import CampaignLive, DialerClock
from callcenter.dialer.vocabulary import AuditKind, CampaignMode
from callcenter.events import types as events
from callcenter.services import campaigns
from callcenter.services.actor import Actor
from callcenter.sim import AgentBehaviour, Simulator
from callcenter.sim.traffic import TrafficModel, TrafficProfile
from callcenter.store.models import Campaign, CampaignDay
from tests.integration.calls.conftest import TIME_SCALE, EngineFactory
from tests.integration.calls.test_calls import wait_cdr
from tests.integration.calls.test_queues import setup_queue
from tests.integration.dialer.test_campaign_run import _attempts, _audit, _campaign, _route, _start
from tests.support import until

AGENTS = ("4801", "4802", "4803", "4804", "4805")
LEADS = [f"+1555780{n:04d}" for n in range(600)]
# 30% of the dials are people (talk 20 s), the rest busy, unanswered or machines: progressive
# leaves agents idle while a line rings; predictive dials ahead of them. People wait a
# minute after their "hello?": the engine's own latency (reserving and ringing an agent:
# a fraction of a wall second) is 20 times longer in the simulator's time
OUTBOUND = TrafficProfile(
    outbound_busy=0.25, outbound_no_answer=0.35, outbound_machine=0.1, outbound_ring=(2.0, 8.0),
    outbound_talk_mean=20.0, outbound_patience=(60.0, 90.0),
)  # fmt: skip


def test_a_predictive_campaign_overdials_within_its_abandon_limit_and_falls_back(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    _route(app)
    TrafficModel(sim, OUTBOUND, seed=11)
    for ext in AGENTS:
        sim.register_agent(ext, AgentBehaviour(answer_delay=5.0))  # auto-answer: 0.3 s
    setup_queue(app, "predq", {ext: {} for ext in AGENTS}, did="8801")
    _campaign(app, "pred", "predq", LEADS, mode=CampaignMode.PREDICTIVE)
    # a campaign dialling since the morning (1000 people, 5 abandoned): the compliance rates
    # are not the first minutes' noise (one abandon in 20 answers is 5%)
    _add_today(app, "pred", live=1000, abandoned=5)
    app.dialer.clock = DialerClock(TIME_SCALE)  # the simulator's seconds: 2 s ticks = 0.1 s
    seen: list[CampaignLive] = []
    changed: list[events.Event] = []
    app.events.subscribe(changed.append, frozenset({events.CampaignChanged.type}))

    def sample() -> None:
        while True:
            seen.extend(x for x in app.dialer.live() if x.campaign == "pred")
            gevent.sleep(0.05)

    sampler = gevent.spawn(sample)
    try:
        _start(app, "pred")
        runner = until(lambda: app.dialer.runners.get("pred"), timeout=10)
        until(lambda: any(x.paced_as == "predictive" for x in seen), timeout=90)
        assert len(runner.measuring.talk_times) >= WARM_UP  # progressive until calls ended
        # more lines than free agents, and than the agents themselves (progressive: never)
        until(lambda: any(x.paced_as == "predictive" and x.dialling + x.answered > len(AGENTS)
                          for x in seen), timeout=40)  # fmt: skip
        predicting = [x for x in seen if x.paced_as == "predictive"]
        assert any(x.dialling > x.agents_free for x in predicting)
        assert max(x.dial_level for x in predicting) > 1.0
        progressive = [x for x in seen if x.paced_as == "progressive"]
        assert max(x.dialling + x.answered for x in progressive) <= len(AGENTS)

        attempts = _attempts(app, "pred")
        people = [a for a in attempts.values() if a.outcome is Outcome.ANSWERED]
        abandoned = [a for a in attempts.values() if a.outcome is Outcome.ABANDONED]
        assert len(people) >= WARM_UP and all(a.agent in AGENTS for a in people)
        assert {a.agent for a in people} == set(AGENTS)  # every agent got people
        for attempt in people[:3]:
            assert attempt.call_uuid and wait_cdr(app, attempt.call_uuid, timeout=20)
        live = len(people) + len(abandoned)
        # this run's own rate within the hard limit, to the call: a run of a few dozen live
        # answers cannot measure a rate under 1/live (the bench's shifts measure the rest)
        assert len(abandoned) <= math.ceil(0.03 * live), (len(abandoned), live)
        with app.database.session_scope() as session:
            rates = store.abandon_rates(session, "pred", datetime.now(UTC))
        assert rates.worst <= 0.03
        # each live answer counted, today (calls go on ending meanwhile)
        assert rates.uk_today.live >= 1000 + live
        assert rates.uk_today.abandoned >= 5 + len(abandoned)
        abandons = [e for e in _audit(app, "pred") if e.kind is AuditKind.ABANDON]
        assert len(abandons) >= len(abandoned)  # each one audited (more may end meanwhile)
        assert not any(x.fallback for x in seen)

        # the compliance rate forced over the hard limit: 100 more abandoned today
        _add_today(app, "pred", live=0, abandoned=100)
        fallen = until(lambda: next((x for x in reversed(seen) if x.fallback), None), timeout=20)
        assert fallen.paced_as == "progressive"
        [entry] = [e for e in _audit(app, "pred") if e.kind is AuditKind.FALLBACK]
        assert entry.details["rate"] > 0.03
        told = until(lambda: [e for e in changed if getattr(e, "op", "") == "fallback"])
        assert [(e.campaign, e.state, e.by) for e in told] == [("pred", "running", "engine:dialer")]
        gevent.sleep(40 * TIME_SCALE)  # the lines placed before it end (15 s ring, 20 s talk)
        since = len(seen)
        gevent.sleep(2.0)
        after = seen[since:]
        assert after and all(x.paced_as == "progressive" and x.fallback for x in after)
        assert max(x.dialling + x.answered for x in after) <= len(AGENTS)
    finally:
        sampler.kill()
        campaigns.stop(app.database, Actor("cli", "test"), "pred")


def _add_today(app: App, name: str, live: int, abandoned: int) -> None:
    """Counts added to the campaign's day (in its report zone), as calls would have."""
    with app.database.session_scope() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.name == name))
        assert campaign is not None
        today = datetime.now(ZoneInfo(campaign.report_zone)).date()
        row = session.get(CampaignDay, (campaign.id, today))
        if row is None:
            row = CampaignDay(campaign_id=campaign.id, day=today, dials=0, live=0, abandoned=0,
                              machine=0)  # fmt: skip
            session.add(row)
        row.dials += live * 3
        row.live += live
        row.abandoned += abandoned

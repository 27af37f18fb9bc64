"""A campaign within FreeSWITCH's sessions per second: the engine, the simulator over TCP (in
real time: the switch's seconds are the wall's) and PostgreSQL. Twenty free agents want
twenty lines at once; a switch at 5 sessions a second lets 4 through in each of its
seconds, and the dialer places them over several, none refused, every lead dialled once
and none charged a failed attempt. A switch whose rate was lowered at its console after the
engine read it refuses lines: those leads are dialled again, uncharged, and the engine
reads the rate again. Counted from the simulator's own records, per whole second of its
clock."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from callcenter.app import App
from callcenter.dialer.compliance import Outcome
from callcenter.services import campaigns
from callcenter.services.actor import Actor
from callcenter.sim import AgentBehaviour, Simulator
from callcenter.sim.core import SessionRequest
from callcenter.store.models import Campaign, Lead
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_queues import setup_queue
from tests.integration.dialer.test_campaign_run import _attempts, _campaign, _route, _start
from tests.support import until

AGENTS = tuple(str(4700 + n) for n in range(20))
LEADS = [f"+1555793{n:04d}" for n in range(20)]
LOWERED = [f"+1555794{n:04d}" for n in range(8)]


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    """The switch of the engine fixture, in real time, at the test's sessions per second."""
    sps = getattr(request, "param", 5)
    simulator = Simulator(password="s3cret-test", time_scale=1.0, seed=9, sessions_per_second=sps)
    simulator.set_far_end(lambda _dial: AgentBehaviour(busy=True))  # no agent legs
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()


def _busy_campaign(app: App, name: str, leads: list[str], did: str) -> None:
    _route(app)
    setup_queue(app, f"{name}q", {ext: {} for ext in AGENTS}, did=did)
    _campaign(app, name, f"{name}q", leads)  # progressive: one line per free agent
    until(lambda: app.sessions.room() > 0, timeout=10)  # the node's rate read at connect
    _start(app, name)


def _lines(sim: Simulator) -> list[SessionRequest]:
    return [r for r in sim.core.session_requests if r.direction == "outbound"]


def _charged(app: App, name: str) -> dict[str, tuple[int, str | None]]:
    """Per lead: its attempts counted and its last outcome."""
    with app.database.session_scope() as session:
        rows = session.execute(
            select(Lead.phone, Lead.attempts, Lead.last_outcome)
            .join(Campaign, Campaign.id == Lead.campaign_id)
            .where(Campaign.name == name)
        ).all()
    return {phone: (attempts, outcome) for phone, attempts, outcome in rows}


def test_twenty_lines_wanted_at_once_go_out_within_the_switchs_sessions_per_second(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    _busy_campaign(app, "sps5", LEADS, did="8795")
    try:
        until(lambda: len(_attempts(app, "sps5")) == len(LEADS), timeout=60)
    finally:
        campaigns.stop(app.database, Actor("cli", "test"), "sps5")
    lines = _lines(sim)
    assert len(lines) == len(LEADS) and not [r for r in lines if r.refused]
    per_second = Counter(math.floor(r.at) for r in lines)
    assert max(per_second.values()) <= 4, per_second  # 5 a second: the switch lets 4 through
    assert len(per_second) >= 5  # twenty lines over at least five of its seconds
    assert set(_charged(app, "sps5").values()) == {(1, str(Outcome.BUSY))}


def _rate_changed(sim: Simulator, engine: EngineFactory, sps: int) -> App:
    """An engine that read the switch's 30 a second, the rate then set at its console."""
    app = engine()
    until(lambda: app.sessions.rate("fs1").sps == 30, timeout=10)  # read at connect
    assert sim.api.execute("fsctl", f"sps {sps}") == f"+OK sessions per second: {sps}\n"
    return app


@pytest.mark.parametrize("sim", [30], indirect=True)
def test_lines_the_switch_refused_are_dialled_again_uncharged(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = _rate_changed(sim, engine, 4)
    leads = LOWERED
    _busy_campaign(app, "sps4", leads, did="8794")
    try:
        until(lambda: len(_attempts(app, "sps4")) == len(leads), timeout=60)
    finally:
        campaigns.stop(app.database, Actor("cli", "test"), "sps4")
    refused = [r for r in _lines(sim) if r.refused]
    assert refused  # the engine counted on 30: the first lines beyond 4 a second refused
    assert app.sessions.rate("fs1").sps == 4  # read again after the refusal
    # each lead dialled once (its refused tries never left the switch: not charged)
    assert set(_charged(app, "sps4").values()) == {(1, str(Outcome.BUSY))}
    created = [r for r in _lines(sim) if not r.refused]
    assert len(created) == len(leads)
    assert max(Counter(math.floor(r.at) for r in created).values()) <= 3


@pytest.mark.parametrize("sim", [30], indirect=True)
def test_a_rate_raised_at_the_switchs_console_is_read_at_its_next_heartbeat(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = _rate_changed(sim, engine, 60)
    sim.core.hub.emit(sim.core.heartbeat())  # its next HEARTBEAT (every 20 s)
    until(lambda: app.sessions.rate("fs1").sps == 60, timeout=5)
    assert app.sessions.rate("fs1").usable == 59  # no refusal needed to see it

"""The reports agree with the live KPIs over the same window: traffic through the simulator
(answered quickly, answered late, abandoned short and long), then both compared."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from callcenter.services import reports
from callcenter.services.reports import Period
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import settled, wait_cdr
from tests.integration.calls.test_queues import setup_queue
from tests.support import until

COUNTS = ("offered", "answered", "abandoned", "short_abandoned", "callbacks", "handled")


def test_report_figures_agree_with_the_live_metrics(sim: Simulator, engine: EngineFactory) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    app = engine()
    sim.register_agent("3001", AgentBehaviour(answer_delay=0.5))
    # T = 1 s: one agent, a few callers at once; the later ones wait longer than T
    setup_queue(app, "agree", {"3001": {}}, did="8301", service_level_seconds=1,
                short_abandon_seconds=1)  # fmt: skip
    talk = CallerBehaviour(talk_time=4.0)
    calls = [sim.place_call("8301", f"1555030{i}", behaviour=talk) for i in range(4)]
    calls.append(sim.place_call("8301", "15550310", behaviour=CallerBehaviour(patience=4.0)))
    calls.append(sim.place_call("8301", "15550311", behaviour=CallerBehaviour(patience=40.0)))
    for uuid in calls:
        wait_cdr(app, uuid, timeout=30)
    until(lambda: settled(app), timeout=10)
    app.writer.flush()
    live = {row["queue"]: row for row in app.kpis.queue_figures()}["agree"]
    # the simulator's clock (the CDRs' times) runs ahead: the window ends later
    period = Period(start, datetime.now(UTC) + timedelta(hours=1), "agree")
    [stored] = reports.queues_report(app.database, period)
    got = stored.as_dict()
    assert live["offered"] == len(calls)
    assert {k: live[k] for k in COUNTS} == {k: got[k] for k in COUNTS}
    assert live["answered"] >= 1 and live["abandoned"] >= 1
    # waits: the dispatcher's clock live, the stored join/answer times in the report (ms apart)
    assert live["asa_seconds"] == pytest.approx(got["asa_seconds"], abs=0.05)
    assert live["average_wait_seconds"] == pytest.approx(got["average_wait_seconds"], abs=0.05)
    assert live["service_level"] == pytest.approx(got["service_level"], abs=1 / len(calls))
    # talk and hold from the same CDRs; wrap-up live from the state changes as the metrics
    # saw them (a scrape between a change and its event counts from the scrape), ms apart
    assert live["aht_seconds"] == pytest.approx(got["aht_seconds"], abs=0.05)
    assert live["exits"] == got["exits"]
    [agent] = reports.agents_report(app.database, replace(period, queue=None, agent="3001"))
    live_agent = {row["agent"]: row for row in app.kpis.agent_figures()}["3001"]
    assert live_agent["calls"] == agent.calls == live["answered"]
    assert live_agent["talk_seconds"] == pytest.approx(agent.talk_seconds)
    assert live_agent["wrapup_seconds"] == pytest.approx(agent.wrapup_seconds, abs=0.05)
    assert agent.wrapup_seconds > 0  # after each call (setup_queue's agents: 1 s)

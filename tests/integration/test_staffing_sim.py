"""A staffing plan on the simulator, cheaply: one traffic level, 60 calls. A run this short
says little about the service level itself (one busy minute moves it by 20 points), so it
checks what a short run can: the engine and the simulator give these callers the service
level an exact first-come-first-served queue gives the very same callers (within a few
callers), and that exact queue gives the plan's prediction over many callers. The
benchmark (tests/benchmarks/bench_staffing.py) runs three levels of thousands of calls."""

from __future__ import annotations

import pytest

from callcenter.acd.staffing import Traffic
from tests.benchmarks.bench_staffing import long_run, measure


@pytest.mark.timeout(180)  # about 25 s of calls, and the engine's start
def test_the_planned_agents_give_the_exact_queues_service_level() -> None:
    # 15 agents; a seed whose callers bunch up (the exact queue answers 31 of 54 in time):
    # the engine's own time (about 0.1 s a call, 1 s at this time scale) costs a caller or two
    result = measure(Traffic(720, 60), calls=60, scale=0.08, seed=38)
    assert result["model"] == "Erlang C" and result["calls"] == 54
    assert 0.8 <= result["predicted"] < 0.95 and result["replay"] < 0.6
    assert abs(result["measured"] - result["replay"]) <= 3 / 54, result  # 3 callers at most


@pytest.mark.parametrize("traffic", [Traffic(600, 180), Traffic(1200, 180, patience=90)])
def test_the_plans_prediction_is_the_exact_queues_long_run(traffic: Traffic) -> None:
    from callcenter.acd.staffing import Target, plan

    planned = plan(traffic, Target(0.8, 20))
    predicted = next(r for r in planned.rows if r.agents == planned.needed).service_level
    assert long_run(traffic, planned.needed, calls=60_000, seeds=2) == pytest.approx(
        predicted, abs=0.015
    )

"""A staffing plan on the simulator, cheaply: one traffic level, 60 calls, the service level
measured with the planned agents near the predicted one (the benchmark,
tests/benchmarks/bench_staffing.py, runs three levels of 1,500 calls within 5 points)."""

from __future__ import annotations

from callcenter.acd.staffing import Traffic
from tests.benchmarks.bench_staffing import measure


def test_the_planned_agents_reach_about_the_predicted_service_level() -> None:
    result = measure(Traffic(1200, 30), calls=60, scale=0.03, seed=11)
    assert result["model"] == "Erlang C" and result["calls"] == 54
    assert 0.8 <= result["predicted"] < 0.95
    assert abs(result["measured"] - result["predicted"]) <= 0.15, result

"""Erlang C and Erlang A staffing (``acd.staffing``) and the per-interval history planning."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from callcenter.acd import ewt
from callcenter.acd.staffing import Target, Traffic, forecast, parse_target, plan
from callcenter.errors import CallCenterError, ConfigError
from callcenter.services.staffing import Handled, intervals, plan_intervals


def textbook_erlang_c(agents: int, load: float) -> float:
    """P(wait) written straight from the formula, with factorials."""
    top = load**agents / math.factorial(agents) * agents / (agents - load)
    return top / (sum(load**k / math.factorial(k) for k in range(agents)) + top)


@pytest.mark.parametrize(("agents", "load"), [(1, 0.5), (10, 8.0), (14, 10.0), (40, 33.3)])
def test_erlang_c_is_the_textbook_formula(agents: int, load: float) -> None:
    assert ewt.erlang_c(agents, load) == pytest.approx(textbook_erlang_c(agents, load), rel=1e-9)


def test_erlang_c_at_or_over_the_load_means_everybody_waits() -> None:
    assert ewt.erlang_c(5, 5.0) == 1.0
    assert ewt.erlang_c(5, 0.0) == 0.0


def test_erlang_c_plan_of_the_issue() -> None:
    # 400 calls/h x 240 s = 26.67 erlangs, 80/20
    result = plan(Traffic(400, 240), parse_target("80/20"))
    assert result.model == "Erlang C" and result.needed == 32
    assert [r.agents for r in result.rows] == [31, 32, 33]
    below, at, above = result.rows
    assert below.service_level < 0.8 <= at.service_level < above.service_level
    load = 400 / 3600 * 240
    waits = textbook_erlang_c(32, load)
    assert at.service_level == pytest.approx(1 - waits * math.exp(-(32 - load) * 20 / 240))
    assert at.asa == pytest.approx(waits * 240 / (32 - load))
    assert at.occupancy == pytest.approx(load / 32) and at.abandon_rate == 0


def test_erlang_a_with_endless_patience_is_erlang_c() -> None:
    for agents in (31, 32, 34):
        c = forecast(Traffic(400, 240), agents, 20)
        a = forecast(Traffic(400, 240, patience=1e5), agents, 20)
        assert a.service_level == pytest.approx(c.service_level, abs=2e-3)
        assert a.asa == pytest.approx(c.asa, rel=0.02)
        assert a.abandon_rate < 1e-3


def test_erlang_a_counts_abandons_and_needs_fewer_agents() -> None:
    result = plan(Traffic(400, 240, patience=60), Target(0.8, 20))
    assert result.model == "Erlang A" and result.needed < 32
    below, at, above = result.rows
    assert below.abandon_rate > at.abandon_rate > above.abandon_rate > 0
    assert below.service_level < 0.8 <= at.service_level
    # what is answered keeps the agents busy: occupancy = answered load / agents
    assert at.occupancy == pytest.approx(400 / 3600 * 240 * (1 - at.abandon_rate) / at.agents)


def test_erlang_a_overloaded_still_answers_what_it_can() -> None:
    low = forecast(Traffic(1000, 240, patience=30), 20, 20)  # 66.7 erlangs on 20 agents
    assert low.occupancy > 0.97
    assert low.abandon_rate == pytest.approx(1 - 20 / 66.67 * low.occupancy / 1, abs=0.02)


def test_no_traffic_needs_one_agent() -> None:
    assert plan(Traffic(0, 240), Target(0.8, 20)).needed == 1
    assert plan(Traffic(0, 240, 60), Target(0.8, 20)).rows[0].service_level == 1.0


@pytest.mark.parametrize(
    ("text", "error"),
    [("80", "PERCENT/SECONDS"), ("0/20", "above 0"), ("100/20", "below 100"), ("a/b", "e.g.")],
)
def test_bad_targets_say_what_is_wrong(text: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        parse_target(text)


def test_bad_traffic_is_refused() -> None:
    with pytest.raises(ConfigError, match="AHT"):
        plan(Traffic(10, 0), Target(0.8, 20))
    with pytest.raises(ConfigError, match="patience"):
        plan(Traffic(10, 100, -1), Target(0.8, 20))


def test_history_counts_calls_and_handle_times_per_interval() -> None:
    start = datetime(2026, 11, 30, 8, tzinfo=UTC)
    calls = [
        Handled(start + timedelta(minutes=5), 200.0),
        Handled(start + timedelta(minutes=50), 100.0),
        Handled(start + timedelta(minutes=55), None),  # abandoned: offered, no handle time
        Handled(start + timedelta(hours=2, minutes=1), 300.0),
        Handled(start - timedelta(minutes=1), 999.0),  # before the window
        Handled(start + timedelta(hours=3), 999.0),  # at its end: outside
    ]
    loads = intervals(calls, start, start + timedelta(hours=3), timedelta(hours=1))
    assert [(load.calls, load.answered, load.aht) for load in loads] == [
        (3, 2, 150.0), (0, 0, None), (1, 1, 300.0),
    ]  # fmt: skip
    assert loads[0].calls_per_hour == 3.0
    plans = plan_intervals(loads, Target(0.8, 20), None)
    assert plans[1].plan is None
    assert plans[0].plan is not None and plans[0].plan.traffic.erlangs == pytest.approx(0.125)


def test_history_refuses_too_many_intervals() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(CallCenterError, match="interval"):
        intervals([], start, start + timedelta(days=30), timedelta(minutes=15))

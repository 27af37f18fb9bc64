"""A short simulated shift (30 minutes, 20 agents): the abandon bound holds and the model
talks more than progressive. The 8-hour shifts are in tests/benchmarks/bench_dialer.py."""

from __future__ import annotations

from callcenter.dialer.pacing import Targets
from callcenter.dialer.simulation import ModelPacer, ProgressivePacer, Shift, Traffic

TARGETS = Targets(0.015, 0.03)


def test_the_same_seed_gives_the_same_shift() -> None:
    one = Shift(5, 0.25, Traffic(), seed=3).run(ProgressivePacer())
    two = Shift(5, 0.25, Traffic(), seed=3).run(ProgressivePacer())
    assert (one.dials, one.live, one.talk_seconds) == (two.dials, two.live, two.talk_seconds)


def test_progressive_never_abandons() -> None:
    result = Shift(10, 0.5, Traffic(), seed=7).run(ProgressivePacer())
    assert result.live > 50 and result.abandoned == 0


def test_predictive_keeps_the_abandon_bound_and_talks_more() -> None:
    progressive = Shift(20, 0.5, Traffic(), seed=11).run(ProgressivePacer())
    ours = Shift(20, 0.5, Traffic(), seed=11).run(ModelPacer(TARGETS))
    assert ours.live > 100
    assert ours.abandon_rate <= TARGETS.hard_limit
    assert ours.talk_seconds > progressive.talk_seconds

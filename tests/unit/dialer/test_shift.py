"""A short simulated shift (30 minutes, 20 agents): the abandon bound holds and the model
talks more than progressive. The 8-hour shifts are in tests/benchmarks/bench_dialer.py."""

from __future__ import annotations

import dataclasses

import pytest

from callcenter.dialer.pacing import Targets
from callcenter.dialer.simulation import ModelPacer, ProgressivePacer, Shift, Traffic, View
from tests.benchmarks.bench_dialer import VicidialPacer

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


class _Recording:
    """Progressive, remembering when it placed calls."""

    def __init__(self) -> None:
        self.placed: list[tuple[float, bool, int]] = []
        self.inner = ProgressivePacer()

    def calls(self, view: View) -> int:
        n = self.inner.calls(view)
        if n:
            self.placed.append((view.now, view.tick, n))
        return n


def test_progressive_dials_the_moment_an_agent_frees_or_its_line_ends() -> None:
    pacer = _Recording()
    result = Shift(3, 0.5, Traffic(), seed=5).run(pacer)
    between = [(at, n) for at, tick, n in pacer.placed if not tick]
    # most lines are placed between the ticks, right after a line ended or an agent freed
    assert sum(n for _, n in between) > result.dials / 2
    # at the event's own time (a line that rang out ended on a whole second: it was dialed on one)
    assert sum(at != int(at) for at, _ in between) > len(between) / 2
    assert result.abandoned == 0


def _view(now: float, free: int, talking: int, waiting: int = 0, lines: int = 0) -> View:
    return View(
        now=now,
        free_agents=free,
        busy_elapsed=(30.0,) * talking,
        wrapping=(),
        line_ages=(1.0,) * lines,
        waiting_answered=waiting,
        talk_times=(),
        wrap_times=(),
        answer_times=(),
        dials_resolved=0,
        live_answers=0,
        abandoned=0,
        recent=(),
    )


def test_the_vicidial_heuristic_as_ast_vdadapt_computes_it() -> None:
    heuristic = VicidialPacer(0.03)
    # level 1: round(1 x (4 ready + 16 talking)) - 16 talking - 0 lines = 4 calls
    assert heuristic.calls(_view(0, free=4, talking=16)) == 4
    not_a_tick = dataclasses.replace(_view(0.5, free=4, talking=16), tick=False)
    assert heuristic.calls(not_a_tick) == 0  # AST_VDauto.pl places calls once a second
    for second in range(1, 15):  # 15 samples of 2 ready - 0 waiting among 20 agents
        heuristic.calls(_view(second, free=2, talking=18, lines=10))
    assert heuristic.level == pytest.approx(1 * (1 + ((4 + 14 * 2) / 15) / 20))
    # then round(level x 20 ready or talking) - 18 talking - 2 lines: 22 - 20
    assert heuristic.calls(_view(15, free=2, talking=18, lines=2)) == 2

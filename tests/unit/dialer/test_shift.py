"""A short simulated shift (30 minutes, 20 agents): the abandon bound holds and the model
talks more than progressive. The 8-hour shifts are in tests/benchmarks/bench_dialer.py."""

from __future__ import annotations

import dataclasses

import pytest

from callcenter.dialer import pacing
from callcenter.dialer.distributions import LogNormal
from callcenter.dialer.pacing import Snapshot, Targets
from callcenter.dialer.simulation import ModelPacer, ProgressivePacer, Shift, Traffic, View
from tests.benchmarks.bench_dialer import MachinesKnownShift, SheddingPacer, VicidialPacer

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


class _Burst:
    """40 lines at the start; with ``shed``, each line hung up once it has rung 15 s."""

    def __init__(self, shed: bool) -> None:
        self.hang_up, self.shed = shed, ()
        self.resolved = 0

    def calls(self, view: View) -> int:
        self.shed = tuple(i for i, age in enumerate(view.line_ages) if age >= 15.0)
        self.shed = self.shed if self.hang_up else ()
        self.resolved = view.dials_resolved
        return 40 if view.now == 0 else 0


def test_a_line_hung_up_while_ringing_never_answers_and_ends_as_a_dial() -> None:
    rung = Shift(40, 0.05, Traffic(), seed=9)
    whole = rung.run(_Burst(shed=False))
    pacer = _Burst(shed=True)
    shed = Shift(40, 0.05, Traffic(), seed=9)  # the same fates: drawn as the lines are placed
    cut = shed.run(pacer)
    late = sum(1 for at in rung.answer_times if at >= 15.0)
    assert late > 0 and cut.released > 0
    assert max(shed.answer_times) < 15.0  # hung up at 15 s: none answered after
    assert cut.released_live == late and cut.live == whole.live - late
    assert cut.dials == whole.dials == 40 and pacer.resolved == 40 and not shed.lines


def test_the_bench_can_show_a_machine_answered_before_its_detection_ends() -> None:
    shift = MachinesKnownShift(1, 0.05, Traffic(), seed=4)
    shift.run(_Burst(shed=False))
    assert shift.machine_answers
    for line, answered in shift.machine_answers.items():
        shift.lines[line] = 0.0  # as if still in flight: ringing until its answer, only
        assert line in shift.ringing(answered - 0.1)
        assert line not in shift.ringing(answered)


def test_the_shedding_variant_hangs_up_old_lines_only_when_that_serves_more() -> None:
    # two free agents, ten on long calls, half the dials live; a line rang 15 s, one 5 s:
    # the old one is hung up, which lets a new line go out (the young one may not be)
    snapshot = Snapshot(
        free_agents=2, busy_elapsed=(60.0,) * 10, line_ages=(15.0, 5.0), answer_rate=0.5,
        handle_times=LogNormal.from_mean(180.0, 0.7), answer_times=LogNormal.from_mean(9.0, 0.5),
    )  # fmt: skip
    pacer = SheddingPacer(Targets(0.025, 0.03))
    view = _view(0, free=2, talking=10, lines=2)
    assert pacing.predictive(snapshot, pacer.targets, pacer.limits).calls == 0
    assert pacer.predictive(view, snapshot).calls == 1 and pacer.shed == (0,)
    # a quarter of the dials live and one old line: worth more than it costs, kept
    quarter = dataclasses.replace(snapshot, line_ages=(15.0,), answer_rate=0.25)
    kept = pacing.predictive(quarter, pacer.targets, pacer.limits).calls
    assert pacer.predictive(view, quarter).calls == kept and pacer.shed == ()

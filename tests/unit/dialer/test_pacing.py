"""Pacing math on fixed inputs, and its properties (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.dialer import pacing
from callcenter.dialer.distributions import Empirical, LogNormal, finishes_within, quantile
from callcenter.dialer.pacing import (
    AbandonWindow,
    Feedback,
    Limits,
    Mode,
    Snapshot,
    Targets,
    Tuning,
    adjust,
    decide,
    spend,
)

HANDLE = LogNormal.from_mean(180.0, 0.7)
ANSWER = LogNormal.from_mean(9.0, 0.5)
TARGETS = Targets(0.015, 0.03)
LIMITS = Limits(max_lines_per_agent=3.0)


def snap(free: int = 0, busy: tuple[float, ...] = (), lines: tuple[float, ...] = (), **kw: object):
    values: dict[str, object] = {
        "free_agents": free,
        "busy_elapsed": busy,
        "line_ages": lines,
        "answer_rate": 0.25,
        "handle_times": HANDLE,
        "answer_times": ANSWER,
    }
    values.update(kw)
    return Snapshot(**values)  # type: ignore[arg-type]


def test_lognormal_from_mean_has_that_mean_and_fit_recovers_it() -> None:
    d = LogNormal.from_mean(180.0, 0.7)
    assert d.mean == pytest.approx(180.0)
    assert d.cdf(0) == 0.0 and d.cdf(1e9) == pytest.approx(1.0)
    samples = [math.exp(d.mu + d.sigma * z / 10) for z in range(-30, 31)]
    assert LogNormal.fit(samples).mu == pytest.approx(d.mu)


def test_empirical_and_conditional_freeing_by_hand() -> None:
    d = Empirical.of([10, 20, 30, 40])
    assert d.cdf(25) == 0.5 and d.mean == 25
    # 15 s in: 3 of 4 still running (20, 30, 40); within 10 s more (<= 25): only the 20
    assert finishes_within(d, 15, 10) == pytest.approx(1 / 3)
    assert finishes_within(d, 50, 10) == 0.0  # longer than any seen: not counted on


def test_live_later_by_hand() -> None:
    # a new line: p; a line at the end of the ring window: nothing
    assert pacing.live_later(0.25, ANSWER, 0.0, 20.0) == pytest.approx(0.25)
    assert pacing.live_later(0.25, ANSWER, 20.0, 20.0) == 0.0
    # Bayes: G(9 s) of the live answers have come by then, so the line is less likely live
    g = ANSWER.cdf(9.0) / ANSWER.cdf(20.0)
    expected = 0.25 * (1 - g) / (1 - 0.25 * g)
    assert pacing.live_later(0.25, ANSWER, 9.0, 20.0) == pytest.approx(expected, rel=1e-3)


def test_progressive_is_one_line_per_free_agent() -> None:
    assert pacing.progressive(snap(free=5, lines=(1.0, 2.0)), LIMITS).calls == 3
    assert pacing.progressive(snap(free=1, lines=(1.0, 2.0)), LIMITS).calls == 0


def test_preview_offers_to_agents_without_an_offer() -> None:
    assert pacing.preview(snap(free=4), LIMITS, offered=3).calls == 1


def test_predictive_with_every_agent_free_and_nothing_in_flight() -> None:
    # 2 free agents, nobody busy: 2 lines cannot abandon, more can
    d = pacing.predictive(snap(free=2), TARGETS, LIMITS)
    assert d.calls >= 2
    # by hand: 3 lines, P(3 live) = 0.25^3 = 1.6%: 0.016 abandons against 0.75 live = 2.1%
    assert d.calls == 2


def test_the_abandon_chain_by_hand() -> None:
    # one free agent, nobody to free, 3 new lines, every live answer at 5 s: of the live
    # answers (binomial, 3 x 0.25) the first is served, the others abandoned:
    # E[abandons] = 0.75 - P(at least one) = 0.75 - (1 - 0.75^3)
    at_5s = snap(free=1, answer_times=Empirical.of([5.0]))
    d = pacing.predictive(at_5s, Targets(1.0, 1.0), Limits(max_new=3))
    assert d.calls == 3
    assert d.expected_live == pytest.approx(0.75)
    assert d.expected_abandons == pytest.approx(0.75 - (1 - 0.75**3), rel=1e-9)
    # the one agent is 1 s into a call that lasts 1000 s: every live answer is abandoned
    never = snap(free=0, busy=(1.0,), handle_times=Empirical.of([1000.0]))
    d = pacing.predictive(never, Targets(1.0, 1.0), Limits(max_lines=2))
    assert d.calls == 2
    assert d.expected_abandons == pytest.approx(d.expected_live) == pytest.approx(0.5)


def test_a_new_line_answers_once_however_its_answer_is_spread_over_the_slots() -> None:
    # one free agent, nobody to free, answers at 3, 9 or 15 s (a third each): one new line
    # is served wherever it answers; of two, the second live answer finds nobody: p^2. The
    # first chain counted a line's slots as independent chances, as if a line could answer
    # twice (one line: 0.02 abandons promised, where none can happen)
    spread = snap(free=1, answer_times=Empirical.of([3.0, 9.0, 15.0]))
    one = pacing.predictive(spread, Targets(1.0, 1.0), Limits(max_new=1))
    assert one.calls == 1 and one.expected_abandons == pytest.approx(0.0, abs=1e-9)
    two = pacing.predictive(spread, Targets(1.0, 1.0), Limits(max_new=2))
    assert two.calls == 2 and two.expected_abandons == pytest.approx(0.25**2, rel=1e-6)


def test_predictive_places_ahead_of_busy_agents_about_to_free() -> None:
    busy = tuple(100.0 + 10 * i for i in range(20))  # 20 agents spread over their calls
    d = pacing.predictive(snap(free=3, busy=busy), TARGETS, LIMITS)
    assert d.calls > 3 and d.limited_by == "target"
    assert d.expected_abandons <= TARGETS.abandon_target * d.expected_live + 1e-12


def test_predictive_places_nothing_when_no_agent_can_free() -> None:
    # two agents a second into their calls: a live answer would find nobody
    d = pacing.predictive(snap(free=0, busy=(1.0, 2.0)), TARGETS, LIMITS)
    assert d.calls == 0


def test_zero_answer_rate_dials_up_to_the_caps() -> None:
    s = snap(free=2, busy=(5.0,) * 8, lines=(1.0,) * 4, answer_rate=0.0)
    assert pacing.predictive(s, TARGETS, Limits(max_lines_per_agent=2.0)).calls == 20 - 4
    assert pacing.predictive(s, TARGETS, Limits(max_lines=10)).calls == 6
    assert pacing.predictive(s, TARGETS, Limits(max_new=3)).calls == 3


def test_hard_limit_falls_back_to_progressive_until_under_target() -> None:
    fb = adjust(Feedback(), TARGETS, (0, 0), compliance_rate=0.031)
    assert fb.fallback
    s = snap(free=3, busy=tuple(170.0 + i for i in range(20)))
    assert decide(Mode.PREDICTIVE, s, TARGETS, LIMITS, fb) == pacing.progressive(s, LIMITS)
    assert adjust(fb, TARGETS, (0, 0), compliance_rate=0.02).fallback  # still above target
    assert not adjust(fb, TARGETS, (0, 0), compliance_rate=0.015).fallback


def test_feedback_scales_the_target_by_the_measured_rate() -> None:
    over = adjust(Feedback(), TARGETS, (3, 100), 0.0)  # 3% measured
    assert over.scale < 1.0
    under = adjust(Feedback(), TARGETS, (0, 100), 0.0)
    assert under.scale > 1.0
    assert adjust(Feedback(), TARGETS, (3, 10), 0.0).scale == 1.0  # too few answers


def test_abandon_window_forgets_what_is_older() -> None:
    w = AbandonWindow(60.0)
    w.add(0.0, True)
    w.add(30.0, False)
    assert w.counts(59.0) == (1, 2)
    assert w.counts(61.0) == (0, 1)


def test_bad_inputs_are_refused_with_the_field() -> None:
    with pytest.raises(ValueError, match="ring_window"):
        snap(ring_window=10.0)
    with pytest.raises(ValueError, match="answer_rate"):
        snap(answer_rate=1.5)
    with pytest.raises(ValueError, match="hard_limit"):
        Targets(0.05, 0.03)


ages = st.lists(st.floats(0, 30), max_size=12).map(tuple)
elapsed = st.lists(st.floats(0, 900), max_size=12).map(tuple)


@settings(max_examples=60, deadline=None)
@given(
    free=st.integers(0, 10),
    busy=elapsed,
    lines=ages,
    p=st.floats(0.0, 1.0),
    target=st.floats(0.0, 0.05),
)
def test_properties_of_predictive(
    free: int, busy: tuple[float, ...], lines: tuple[float, ...], p: float, target: float
) -> None:
    s = snap(free=free, busy=busy, lines=lines, answer_rate=p)
    targets = Targets(target, 0.05)
    d = pacing.predictive(s, targets, LIMITS)
    # within the caps, never below progressive
    assert pacing.progressive(s, LIMITS).calls <= d.calls <= pacing.room(s, LIMITS)
    # more free agents: not fewer calls (the caps grow with the staff too)
    more = snap(free=free + 1, busy=busy, lines=lines, answer_rate=p)
    assert pacing.predictive(more, targets, LIMITS).calls >= d.calls
    # a looser target: not fewer calls
    assert pacing.predictive(s, Targets(min(0.05, target * 2 + 0.001), 0.05), LIMITS).calls >= (
        d.calls
    )
    # the bound: beyond the progressive floor, the expected rate stays within the target
    if d.calls > pacing.progressive(s, LIMITS).calls:
        assert d.expected_abandons <= target * d.expected_live + 1e-9


def test_quantiles_by_hand() -> None:
    assert quantile(Empirical.of([10, 20, 30, 40]), 0.5) == pytest.approx(20.0, abs=2e-3)
    d = LogNormal.from_mean(15.0, 0.4)
    assert quantile(d, 0.5) == pytest.approx(math.exp(d.mu), abs=2e-3)
    with pytest.raises(ValueError, match="q must be"):
        quantile(d, 1.0)


def _one_agent_freeing(answer_at: float) -> pacing.Decision:
    # the one agent is 95 s into a 100 s talk, then 3.5 s of wrap-up: free 8.5 s from now;
    # one new line, a live answer (if any) exactly ``answer_at`` s after the dial
    s = snap(
        free=0,
        busy=(95.0,),
        handle_times=Empirical.of([100.0]),
        wrap_times=Empirical.of([3.5]),
        answer_times=Empirical.of([answer_at]),
    )
    return pacing.predictive(s, Targets(1.0, 1.0), Limits(max_new=1))


def test_a_live_answer_waits_for_an_agent_freeing_within_the_safe_harbor() -> None:
    # answered at 7.75 s, the agent free at 8.5 s (talk 5 s + wrap-up 3.5 s): served
    served = _one_agent_freeing(7.75)
    assert served.calls == 1 and served.expected_live == pytest.approx(0.25)
    assert served.expected_abandons == pytest.approx(0.0, abs=1e-9)
    # answered at 5.5 s: 3 s before the agent, beyond the 2 s harbor: abandoned
    late = _one_agent_freeing(5.5)
    assert late.expected_abandons == pytest.approx(0.25)


def test_an_agent_in_talk_frees_after_its_wrap_up_not_when_the_talk_ends() -> None:
    # the talk ends in 5 s and the wrap-up lasts 3.5 s or 13.5 s (half each): within the
    # 10 one-second slots, the agent frees at 8.5 s with 1/2, at 18.5 s with 1/2
    talk, wrap = Empirical.of([100.0]), Empirical.of([3.5, 13.5])
    row = pacing._free_row(talk, 95.0, 1.0, 20, wrap)
    assert sum(row) == pytest.approx(1.0)
    assert row[8] == pytest.approx(0.5) and row[18] == pytest.approx(0.5)
    # without the wrap-up (an agent in wrap-up, or talk and wrap-up not told apart): at 5 s
    assert pacing._free_row(talk, 95.0, 1.0, 20, None)[4] == pytest.approx(1.0)


def test_spend_follows_the_budget_the_day_has_left() -> None:
    targets, tuning = Targets(0.02, 0.03), Tuning(per_abandon=0.1)
    # 100 live answers at 2%: 2 abandons allowed; 1 spent, 1 left: e^0.1
    assert spend(Feedback(), targets, (1, 100), 0.01, tuning).scale == pytest.approx(math.exp(0.1))
    # 5 spent: 3 over: e^-0.3
    assert spend(Feedback(), targets, (5, 100), 0.0, tuning).scale == pytest.approx(math.exp(-0.3))
    # within lowest..spend_highest
    assert spend(Feedback(), targets, (0, 100_000), 0.0, tuning).scale == tuning.spend_highest
    assert spend(Feedback(), targets, (500, 1000), 0.0, tuning).scale == tuning.lowest
    # the fallback as adjust decides it: at the hard limit, until back under the target
    fell = spend(Feedback(), targets, (4, 100), 0.04, tuning)
    assert fell.fallback
    assert spend(fell, targets, (4, 150), 0.027, tuning).fallback
    assert not spend(fell, targets, (4, 200), 0.02, tuning).fallback

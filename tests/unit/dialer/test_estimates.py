"""The estimation and the decision the engine's runner and the bench's pacer share, on fixed
inputs."""

from __future__ import annotations

import math

import pytest

from callcenter.dialer import pacing
from callcenter.dialer.distributions import Empirical
from callcenter.dialer.estimates import (
    ANSWER,
    KEEP,
    TALK,
    WARM_UP,
    WRAP,
    Estimates,
    Measured,
    Model,
    Now,
)
from callcenter.dialer.pacing import Feedback, Limits, Mode, Targets

TARGETS = Targets(0.015, 0.03)
LIMITS = Limits(max_lines_per_agent=3.0)
TALKS = tuple(float(60 + 6 * k) for k in range(40))  # 60..294 s
WRAPS = tuple(float(5 + k % 20) for k in range(40))
ANSWERS = tuple(float(4 + k % 12) for k in range(40))
WARM = Measured(dials=400, live=100, answer_times=ANSWERS, talk_times=TALKS, wrap_times=WRAPS)
COLD = Measured(dials=40, live=10, answer_times=ANSWERS[:10], talk_times=TALKS[: WARM_UP - 1])
# 11 agents: 1 free, 6 talking (two near the longest talks seen), 4 in wrap-up (5-24 s
# seen); 1 line ringing: progressive places nothing, the model sees agents coming
NOW = Now(
    free_agents=1, busy_elapsed=(280.0, 270.0, 250.0, 200.0, 150.0, 90.0),
    wrapping=(12.0, 14.0, 16.0, 18.0), line_ages=(3.0,), waiting_answered=0,
)  # fmt: skip


def test_the_answer_rate_starts_from_a_prior_of_20_dials_at_20_percent() -> None:
    assert Measured(0, 0).answer_rate == 0.2
    assert Measured(80, 40).answer_rate == (40 + 4) / (80 + 20)


def test_warm_once_20_calls_have_ended() -> None:
    assert not COLD.warm
    assert Measured(40, 10, talk_times=TALKS[:WARM_UP]).warm


def test_the_priors_until_warm_then_the_empirical_distributions_of_the_last_200() -> None:
    assert Estimates().refit(COLD) == Estimates()
    assert (Estimates().talk, Estimates().wrap, Estimates().answer) == (TALK, WRAP, ANSWER)
    fitted = Estimates().refit(WARM)
    assert fitted.talk == Empirical.of(TALKS) and fitted.wrap == Empirical.of(WRAPS)
    assert fitted.answer == Empirical.of(ANSWERS) and fitted.fitted_at == 100
    many = Measured(600, 300, ANSWERS, tuple(float(k) for k in range(300)), WRAPS)
    assert Estimates().refit(many).talk == Empirical.of(float(k) for k in range(100, 300))
    assert len(Estimates().refit(many).talk.samples) == KEEP  # type: ignore[attr-defined]


def test_no_refit_without_new_live_answers_and_a_time_kept_to_its_prior_until_20() -> None:
    fitted = Estimates().refit(WARM)
    later = Measured(500, 100, ANSWERS, TALKS[:30], WRAPS)  # same live answers: kept
    assert fitted.refit(later) is fitted
    no_answers = Measured(400, 101, (), TALKS, WRAPS)  # agents' talks on inbound calls
    assert Estimates().refit(no_answers).answer is ANSWER


def test_the_snapshot_is_the_estimates_with_the_agents_and_lines_now() -> None:
    snapshot = Estimates().refit(WARM).snapshot(WARM, NOW, 25.0)
    assert snapshot.answer_rate == WARM.answer_rate and snapshot.ring_window == 25.0
    assert snapshot.handle_times == Empirical.of(TALKS)
    assert snapshot.wrap_times == Empirical.of(WRAPS)
    assert (snapshot.free_agents, snapshot.busy_elapsed, snapshot.wrapping) == (
        1, NOW.busy_elapsed, (12.0, 14.0, 16.0, 18.0),
    )  # fmt: skip
    assert snapshot.line_ages == (3.0,) and snapshot.staffed == 11


def _decide(
    model: Model, measured: Measured, predictive: bool = True, whole: bool = True
) -> pacing.Decision:
    snapshot = model.estimates.snapshot(measured, NOW, 20.0)
    return model.decide(predictive, whole, snapshot, measured, TARGETS, LIMITS)


def test_predictive_when_warm_at_a_whole_decision_and_more_lines_than_free_agents() -> None:
    model = Model(Estimates().refit(WARM))
    decision = _decide(model, WARM)
    snapshot = model.estimates.snapshot(WARM, NOW, 20.0)
    assert decision == pacing.predictive(snapshot, TARGETS, LIMITS, 1.0)
    assert decision.mode is Mode.PREDICTIVE and decision.calls > 1  # one free agent, one line
    assert decision.expected_abandons <= TARGETS.abandon_target * decision.expected_live


@pytest.mark.parametrize(
    ("case", "measured", "predictive", "whole", "fallback"),
    [
        ("warming up", COLD, True, True, False),
        ("between two decisions", WARM, True, False, False),
        ("fallen back", WARM, True, True, True),
        ("a progressive campaign", WARM, False, True, False),
    ],
)
def test_progressive_otherwise_one_line_per_free_agent_lines_counted(
    case: str, measured: Measured, predictive: bool, whole: bool, fallback: bool
) -> None:
    model = Model(Estimates().refit(measured), Feedback(fallback=fallback))
    decision = _decide(model, measured, predictive, whole)
    assert (decision.calls, decision.mode) == (0, Mode.PROGRESSIVE), case  # the line is its
    free = Now(3, NOW.busy_elapsed, NOW.wrapping, (3.0,), 0)
    snapshot = model.estimates.snapshot(measured, free, 20.0)
    assert model.decide(predictive, whole, snapshot, measured, TARGETS, LIMITS).calls == 2


def test_the_days_abandon_budget_scales_the_target_and_the_hard_limit_falls_back() -> None:
    model = Model()
    under = model.refreshed(WARM, TARGETS, (5, 1000), compliance_rate=0.005)
    assert under.feedback.scale == pytest.approx(math.exp(0.1 * (15 - 5)))  # 10 abandons left
    assert not under.feedback.fallback
    assert under.estimates == Estimates().refit(WARM)
    over = model.refreshed(WARM, TARGETS, (20, 1000), compliance_rate=0.02)
    assert over.feedback.scale == pytest.approx(math.exp(-0.5))  # 5 abandons over
    assert model.refreshed(WARM, TARGETS, (0, 10_000), 0.0).feedback.scale == 4.0  # capped
    fallen = model.refreshed(WARM, TARGETS, (31, 1000), compliance_rate=0.031)
    assert fallen.feedback.fallback
    assert _decide(fallen, WARM).mode is Mode.PROGRESSIVE
    # a scale under 1 places no more lines than the plain target, one over it no fewer
    plain, tight = (
        _decide(Model(under.estimates), WARM),
        _decide(Model(over.estimates, over.feedback), WARM),
    )
    assert tight.calls <= plain.calls <= _decide(under, WARM).calls

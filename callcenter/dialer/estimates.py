"""What the predictive model is told, estimated from what a campaign measured, and the one
decision made on it: the engine's runner (``runner.py``) and the bench's pacer
(``simulation.ModelPacer``) both use this module, so the pacer the bench proves is the one
the engine runs (docs/dialer.md, "How the engine uses it").

Pure, no clock. Each caller measures in its own way (the bench knows every time exactly; the
runner sees the agents through the dispatcher) and hands a ``Measured`` in:

- the answer rate, live answers / dials ended, starts from a prior of ``ANSWER_PRIOR`` (20
  dials at 20%), so the first minutes do not overdial on luck;
- the talk, wrap-up and dial-to-answer times are the empirical distributions of the last
  ``KEEP`` (200) measured (``Estimates.refit``, about once a minute), priors (lognormal,
  means 180 s, 15 s and 10 s) until ``WARM_UP`` (20) calls have ended;
- ``decide``: progressive until then (a model on priors alone overdials the first minutes,
  when every agent starts a call at once), and between two whole decisions (an agent freed
  or a line ended: one line per free agent at once, as progressive dials); the predictive
  model at each whole decision after, aiming at the target scaled by ``pacing.spend`` on
  the day's (abandoned, live answered), progressive again at the hard limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from callcenter.dialer import pacing
from callcenter.dialer.distributions import Durations, Empirical, LogNormal

ANSWER_PRIOR = (20, 0.2)  # dials, live share
WARM_UP = 20  # calls ended (talk times measured) before the model replaces progressive
KEEP = 200  # the last times measured that the distributions are made of
TALK = LogNormal.from_mean(180.0, 1.0)  # priors, until WARM_UP calls have ended
WRAP = LogNormal.from_mean(15.0, 1.0)
ANSWER = LogNormal.from_mean(10.0, 0.6)


@dataclass(frozen=True, slots=True)
class Measured:
    """What a campaign measured so far: dials ended, live answers among them, and its last
    times (oldest first, at most ``KEEP`` used) from dial to live answer, of talk and of
    wrap-up."""

    dials: int
    live: int
    answer_times: tuple[float, ...] = ()
    talk_times: tuple[float, ...] = ()
    wrap_times: tuple[float, ...] = ()

    @property
    def answer_rate(self) -> float:
        dials, share = ANSWER_PRIOR
        return (self.live + dials * share) / (self.dials + dials)

    @property
    def warm(self) -> bool:
        """``WARM_UP`` calls have ended: enough to replace the priors."""
        return len(self.talk_times) >= WARM_UP


@dataclass(frozen=True, slots=True)
class Estimates:
    """The distributions the model is given (the priors until ``refit`` finds them warm)."""

    talk: Durations = TALK
    wrap: Durations = WRAP
    answer: Durations = ANSWER
    fitted_at: int = -1  # live answers measured at the last fit

    def refit(self, measured: Measured) -> Estimates:
        """The empirical distributions of the last ``KEEP`` times, once ``measured`` is warm
        and has more live answers than at the last fit (each kind of time its prior until
        ``WARM_UP`` of it are measured: the runner's agents may talk on inbound calls)."""
        if not measured.warm or measured.live == self.fitted_at:
            return self
        return Estimates(
            _fit(measured.talk_times, self.talk),
            _fit(measured.wrap_times, self.wrap),
            _fit(measured.answer_times, self.answer),
            measured.live,
        )

    def snapshot(self, measured: Measured, now: Now, ring_window: float) -> pacing.Snapshot:
        return pacing.Snapshot(
            free_agents=now.free_agents,
            busy_elapsed=now.busy_elapsed,
            line_ages=now.line_ages,
            answer_rate=measured.answer_rate,
            handle_times=self.talk,
            answer_times=self.answer,
            ring_window=ring_window,
            waiting_answered=now.waiting_answered,
            wrapping=now.wrapping,
            wrap_times=self.wrap,
        )


def _fit(samples: tuple[float, ...], before: Durations) -> Durations:
    kept = samples[-KEEP:]
    return Empirical.of(kept) if len(kept) >= WARM_UP else before


@dataclass(frozen=True, slots=True)
class Now:
    """A campaign's agents and lines at a decision."""

    free_agents: int
    busy_elapsed: tuple[float, ...]  # per agent on a call: seconds into it
    wrapping: tuple[float, ...]  # per agent in wrap-up: seconds into it
    line_ages: tuple[float, ...]  # seconds since dialled, per line not answered yet
    waiting_answered: int  # live answers waiting for an agent


_PRIORS, _NO_FEEDBACK, _TUNING = Estimates(), pacing.Feedback(), pacing.Tuning()
Predict = Callable[[pacing.Snapshot, pacing.Targets, pacing.Limits, float], pacing.Decision]


@dataclass(frozen=True, slots=True)
class Model:
    """A campaign's model: its estimates and the feedback on its abandons, both refreshed
    about once a minute (``refreshed``), and the decision made on them (``decide``)."""

    estimates: Estimates = _PRIORS
    feedback: pacing.Feedback = _NO_FEEDBACK

    def refreshed(
        self,
        measured: Measured,
        targets: pacing.Targets,
        day: tuple[float, float],
        compliance_rate: float,
        tuning: pacing.Tuning = _TUNING,
    ) -> Model:
        """The distributions refitted, and the abandon budget of the ``day`` (abandoned, live
        answered) spent (``pacing.spend``), with the fallback to progressive while
        ``compliance_rate`` is at the hard limit (and until it is back under the target)."""
        feedback = pacing.spend(self.feedback, targets, day, compliance_rate, tuning)
        return Model(self.estimates.refit(measured), feedback)

    def decide(
        self,
        predictive: bool,
        whole: bool,
        snapshot: pacing.Snapshot,
        measured: Measured,
        targets: pacing.Targets,
        limits: pacing.Limits,
        predict: Predict = pacing.predictive,
    ) -> pacing.Decision:
        """How many calls a progressive or predictive campaign places now. ``whole``: a whole
        decision (the runner's tick, the bench's cadence); else one right after an agent
        freed or a line ended, which places progressive's one line per free agent (the lines
        in flight counted). Predictive once ``measured`` is warm and not fallen back."""
        if predictive and whole and measured.warm and not self.feedback.fallback:
            return predict(snapshot, targets, limits, self.feedback.scale)
        return pacing.progressive(snapshot, limits)

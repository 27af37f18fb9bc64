"""A discrete-event model of an outbound shift, to prove a pacer (bench and tests).

Pure and seeded: no clock, no I/O; the same seed gives the same shift. Agents stay logged in
for the whole shift. Every second the pacer sees a ``View`` and says how many calls to
place; each call's fate is drawn when it is placed (``Traffic``): a live answer after a
time to answer (within the ring window), a machine (hung up after the answering-machine
detection), busy, a failure, or no answer at the end of the ring window. A live answer goes
to a free agent; otherwise it waits, and if no agent frees within the safe harbor (2 s) it
is abandoned (the safe-harbor message is played and the call hung up). An agent's handle
time is talk (counted) plus wrap-up (not counted).
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from callcenter.dialer import pacing
from callcenter.dialer.estimates import KEEP, Estimates, Measured, Model, Now
from callcenter.dialer.pacing import Feedback, Limits, Snapshot, Targets, Tuning


@dataclass(frozen=True, slots=True)
class Traffic:
    live: float = 0.25
    machine: float = 0.20
    busy: float = 0.08
    failed: float = 0.04  # the rest ring out unanswered
    answer_mean: float = 9.0  # dial to answer, s (lognormal, drawn within the ring window)
    answer_cv: float = 0.5
    amd_seconds: float = 3.0  # a machine is known and hung up this long after its answer
    talk_mean: float = 165.0  # lognormal
    talk_cv: float = 0.8
    wrap_min: float = 5.0  # uniform
    wrap_max: float = 25.0
    ring_window: float = 20.0
    safe_harbor: float = 2.0


@dataclass(frozen=True, slots=True)
class View:
    now: float
    free_agents: int
    busy_elapsed: tuple[float, ...]  # per agent on a call: seconds into the talk
    wrapping: tuple[float, ...]  # per agent in wrap-up: seconds into it
    line_ages: tuple[float, ...]  # lines placed, not yet known live (ringing or in AMD)
    waiting_answered: int
    talk_times: tuple[float, ...]  # the last completed, oldest first
    wrap_times: tuple[float, ...]
    answer_times: tuple[float, ...]  # dial to live answer, the last live answers
    dials_resolved: int  # in total
    live_answers: int  # in total
    abandoned: int  # in total
    recent: tuple[tuple[float, bool], ...]  # (answered at, abandoned) of recent live answers
    tick: bool = True  # the whole-second tick; False: right after an agent freed or a line ended


class Pacer(Protocol):
    def calls(self, view: View) -> int: ...


@runtime_checkable
class Shedding(Protocol):
    """A pacer that may also hang up ringing lines: ``shed``, set by its last ``calls``, holds
    the indexes (into that view's ``line_ages``) of the lines to hang up."""

    shed: tuple[int, ...]


@dataclass
class Result:
    agents: int
    hours: float
    dials: int = 0
    live: int = 0
    abandoned: int = 0
    talk_seconds: float = 0.0
    peak_lines: int = 0
    released: int = 0  # ringing lines hung up by the pacer (a no answer for the lead)
    released_live: int = 0  # of which would have been live answers
    windows: dict[int, list[int]] = field(default_factory=dict)  # 30-min index -> [ab, live]

    @property
    def talk_minutes_per_agent_hour(self) -> float:
        return self.talk_seconds / 60.0 / (self.agents * self.hours)

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.live if self.live else 0.0

    def worst_window(self, min_live: int = 1) -> float:
        """The highest abandon rate over the fixed 30-minute windows of the shift."""
        rates = [ab / live for ab, live in self.windows.values() if live >= min_live]
        return max(rates, default=0.0)


def _lognormal(rng: random.Random, mean: float, cv: float) -> float:
    sigma2 = math.log1p(cv * cv)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


class Shift:
    def __init__(self, agents: int, hours: float, traffic: Traffic, seed: int) -> None:
        self.traffic, self.rng = traffic, random.Random(seed)
        self.end = hours * 3600.0
        self.result = Result(agents, hours)
        self.free: list[int] = list(range(agents))
        self.busy: dict[int, tuple[float, float]] = {}  # agent -> (since, talk ends)
        self.lines: dict[int, float] = {}  # line -> placed at (not known live yet)
        self.waiting: deque[tuple[int, float]] = deque()  # (line, answered at)
        self.events: list[tuple[float, int, str, int]] = []
        self.talk_times: deque[float] = deque(maxlen=KEEP)
        self.wrap_times: deque[float] = deque(maxlen=KEEP)
        self.answer_times: deque[float] = deque(maxlen=KEEP)
        self.recent: deque[tuple[float, bool]] = deque(maxlen=2000)
        self.resolved, self._seq = 0, 0
        self._live_fate: set[int] = set()  # lines drawn to answer live (for Result.released_live)

    def run(self, pacer: Pacer) -> Result:
        """The pacer is asked every whole second (``View.tick``) and right after each agent
        frees or line ends (a progressive dialer dials the moment an agent frees)."""
        now = 0.0
        while now < self.end:
            self._until(now, pacer)
            self._place(pacer, now, tick=True)
            now += 1.0
        self._until(self.end, None)
        return self.result

    def _place(self, pacer: Pacer, now: float, tick: bool) -> None:
        calls = pacer.calls(self.view(now, tick))
        if isinstance(pacer, Shedding) and pacer.shed:
            self._release(now, pacer.shed)
        for _ in range(max(0, calls)):
            self._dial(now)
        if calls > 0 or tick:
            self._peak(now)

    def view(self, now: float, tick: bool = True) -> View:
        return View(
            now=now,
            free_agents=len(self.free),
            busy_elapsed=tuple(now - since for since, ends in self.busy.values() if ends > now),
            wrapping=tuple(now - ends for _, ends in self.busy.values() if ends <= now),
            line_ages=tuple(now - self.lines[line] for line in self.ringing(now)),
            waiting_answered=len(self.waiting),
            talk_times=tuple(self.talk_times),
            wrap_times=tuple(self.wrap_times),
            answer_times=tuple(self.answer_times),
            dials_resolved=self.resolved,
            live_answers=self.result.live,
            abandoned=self.result.abandoned,
            recent=tuple(self.recent),
            tick=tick,
        )

    def ringing(self, now: float) -> list[int]:
        """The lines the pacer sees as not answered yet, oldest first (``View.line_ages``)."""
        return list(self.lines)

    def _release(self, now: float, shed: tuple[int, ...]) -> None:
        """Hang up these ringing lines (indexes into the view's ``line_ages``): each is a
        dial ended without a live answer; its pending answer or end never comes."""
        placed = self.ringing(now)
        for index in shed:
            line = placed[index]
            del self.lines[line]
            self.resolved += 1
            self.result.released += 1
            self.result.released_live += line in self._live_fate

    def _push(self, at: float, kind: str, ref: int) -> None:
        self._seq += 1
        heapq.heappush(self.events, (at, self._seq, kind, ref))

    def _until(self, now: float, pacer: Pacer | None) -> None:
        while self.events and self.events[0][0] <= now:
            at, _, kind, ref = heapq.heappop(self.events)
            if kind in ("live", "gone", "machine") and ref not in self.lines:
                continue  # hung up by the pacer before
            getattr(self, f"_on_{kind}")(at, ref)
            if pacer is not None and kind in ("free", "gone", "machine"):
                self._place(pacer, at, tick=False)

    def _dial(self, now: float) -> None:
        t, rng = self.traffic, self.rng
        self.result.dials += 1
        line = self.result.dials
        self.lines[line] = now
        draw = rng.random()
        if draw < t.live + t.machine:
            answer = _lognormal(rng, t.answer_mean, t.answer_cv)
            while answer >= t.ring_window:
                answer = _lognormal(rng, t.answer_mean, t.answer_cv)
            if draw < t.live:
                self._live_fate.add(line)
                self._push(now + answer, "live", line)
            else:
                self._push(now + answer + t.amd_seconds, "machine", line)
        elif draw < t.live + t.machine + t.busy:
            self._push(now + rng.uniform(2.0, 5.0), "gone", line)
        elif draw < t.live + t.machine + t.busy + t.failed:
            self._push(now + rng.uniform(1.0, 4.0), "gone", line)
        else:
            self._push(now + t.ring_window, "gone", line)

    def _on_gone(self, at: float, line: int) -> None:
        del self.lines[line]
        self.resolved += 1

    def _on_machine(self, at: float, line: int) -> None:
        self._on_gone(at, line)  # hung up once detected

    def _on_live(self, at: float, line: int) -> None:
        self._live_fate.discard(line)
        self.answer_times.append(at - self.lines.pop(line))
        self.resolved += 1
        if at < self.end:
            self.result.live += 1
            window = self.result.windows.setdefault(int(at // 1800), [0, 0])
            window[1] += 1
        if self.free:
            self._connect(at, self.free.pop(), at)
        else:
            self.waiting.append((line, at))
            self._push(at + self.traffic.safe_harbor, "harbor", line)

    def _on_harbor(self, at: float, line: int) -> None:
        for i, (waiting, answered) in enumerate(self.waiting):
            if waiting == line:
                del self.waiting[i]
                self.recent.append((answered, True))
                if answered < self.end:
                    self.result.abandoned += 1
                    self.result.windows[int(answered // 1800)][0] += 1
                return

    def _connect(self, at: float, agent: int, answered: float) -> None:
        t = self.traffic
        talk = _lognormal(self.rng, t.talk_mean, t.talk_cv)
        wrap = self.rng.uniform(t.wrap_min, t.wrap_max)
        self.busy[agent] = (at, at + talk)
        self.recent.append((answered, False))
        self.result.talk_seconds += max(0.0, min(at + talk, self.end) - at)
        self._push(at + talk + wrap, "free", agent)

    def _on_free(self, at: float, agent: int) -> None:
        since, ends = self.busy.pop(agent)
        self.talk_times.append(ends - since)
        self.wrap_times.append(at - ends)
        if self.waiting:
            _, answered = self.waiting.popleft()
            self._connect(at, agent, answered)
        else:
            self.free.append(agent)

    def _peak(self, now: float) -> None:
        talking = sum(1 for _, ends in self.busy.values() if ends > now)
        now_lines = len(self.lines) + len(self.waiting) + talking
        self.result.peak_lines = max(self.result.peak_lines, now_lines)


_TARGETS, _LIMITS, _TUNING = Targets(), Limits(), Tuning()


class ProgressivePacer:
    def __init__(self, limits: Limits = _LIMITS) -> None:
        self.limits = limits

    def calls(self, view: View) -> int:
        now = Estimates().snapshot(Measured(0, 0), now_of(view), ModelPacer.RING_WINDOW)
        return pacing.progressive(now, self.limits).calls


def now_of(view: View) -> Now:
    return Now(
        free_agents=view.free_agents,
        busy_elapsed=view.busy_elapsed,
        wrapping=view.wrapping,
        line_ages=view.line_ages,
        waiting_answered=view.waiting_answered,
    )


class ModelPacer:
    """Ours, as the engine's runner paces (``estimates.Model``): a whole decision every
    ``cadence`` seconds on what the shift measured so far, one line per free agent at once
    when an agent frees or a line ends between two (as progressive does), the estimates
    refitted and the abandon budget spent over the shift every ``every`` seconds (the
    fallback to progressive at the hard limit on the shift's rate once 50 live answers are
    in), progressive until ``estimates.WARM_UP`` calls have ended."""

    RING_WINDOW = 20.0  # Traffic's

    def __init__(
        self,
        targets: Targets = _TARGETS,
        limits: Limits = _LIMITS,
        tuning: Tuning = _TUNING,
        every: float = 60.0,
        cadence: float = 2.0,
    ) -> None:
        self.targets, self.limits, self.tuning = targets, limits, tuning
        self.every = every
        self.model = Model()
        self._next_adjust = every
        self.cadence, self._next_decision = cadence, 0.0

    @property
    def feedback(self) -> Feedback:
        return self.model.feedback

    def calls(self, view: View) -> int:
        measured = self.measured(view)
        whole = view.tick and view.now >= self._next_decision
        if whole:
            self._next_decision = view.now + self.cadence
            if view.now >= self._next_adjust:
                self._next_adjust = view.now + self.every
                today = view.abandoned / view.live_answers if view.live_answers >= 50 else 0.0
                day = (view.abandoned, view.live_answers)
                self.model = self.model.refreshed(measured, self.targets, day, today, self.tuning)
        now = self.model.estimates.snapshot(measured, now_of(view), self.RING_WINDOW)
        return self.model.decide(
            True, whole, now, measured, self.targets, self.limits,
            lambda snap, *_: self.predictive(view, snap),
        ).calls  # fmt: skip

    def measured(self, view: View) -> Measured:
        return Measured(
            view.dials_resolved, view.live_answers, view.answer_times, view.talk_times,
            view.wrap_times,
        )  # fmt: skip

    def predictive(self, view: View, now: Snapshot) -> pacing.Decision:
        return pacing.predictive(now, self.targets, self.limits, self.feedback.scale)

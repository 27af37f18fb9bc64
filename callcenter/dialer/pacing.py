"""How many calls a campaign places now: preview, progressive, predictive.

Pure: a ``Snapshot`` of the campaign in, a ``Decision`` out. The engine's campaign runner
and the bench's pacer both reach it through ``estimates.Model`` (every 2 s, and right after
an agent frees or a line ends) and place ``Decision.calls`` new calls; ``decide`` is the
same choice for a caller with its own estimates.

Preview and progressive: one line per free agent (preview offers the lead to the agent
first, and dials when the agent accepts).

Predictive, the model (docs/dialer.md, "The pacing model"). The next ring window (20 s) is
cut into slots half as long as the safe harbor (2 s: a live answer not given an agent within
it is abandoned), so a live answer can wait out its own slot and the next. Per slot ``k``
(of length ``d = 1 s``):

- each line in flight, ``a`` seconds old and not answered, answers live in slot ``k`` with
  ``p (G(a + dk + d) - G(a + dk)) / (1 - p G(a))``: ``p`` the live answer rate (live humans
  / dials), ``G`` the distribution of the time to a live answer within the ring window
  (Bayes: the line has not answered so far); a new line the same with ``a = 0``; an
  answered call already waiting for an agent is counted as waiting from the slot before;
- each busy agent frees within ``t`` with ``P(H <= e + t | H > e)``, ``e`` seconds into
  its handle time ``H`` (talk plus wrap-up); when the dialer tells talk and wrap-up apart
  (it sees the customer hang up), an agent ``w`` seconds into wrap-up frees with
  ``P(W <= w + t | W > w)`` and one ``e`` seconds into a talk with
  ``P(T + W <= e + t | T > e)`` (the wrap-up ``W`` taken at its quantiles): a wrap-up is
  short and regular, so an agent who just hung up is the surest agent to come;
- the slot's live answers of the lines in flight and its freed agents are counted from
  those chances (Poisson-binomial: independent events, each with its own chance); the new
  lines are followed through the slots (of ``m`` still unanswered, a binomial count answers
  with the chance of a new line's first answer in that slot: a line answers once);
  the agents freeing in the slot serve first the answers still waiting from the slot
  before (those left over have waited their 2 s: abandoned), then, with the agents already
  free, the slot's own answers; the answers left wait into the next slot, the agents left
  stay free.

That chain gives E[abandons] for the model, exactly for the new lines; a line in flight or
an agent is counted as a chance per slot independent of its other slots (as if it could
answer or free twice), which overstates the abandons (docs/dialer.md: about twice, measured
against the model's own assumptions); the day's budget (``spend``) scales that back. The
decision is the largest ``n`` (new lines) with ``E[abandons] / E[live answers] <= target``
(the US measure: abandoned / live answered), never fewer than progressive would place, and
within the caps: lines in flight at most ``max_lines_per_agent`` x staffed agents, the
campaign's own cap, and the new calls one decision may place (the trunks' calls per second,
FreeSWITCH's sessions per second).

What the model leaves out (calls and agents independent, slots instead of exact times,
estimates of ``p``, ``G``, ``T``, ``W``) the feedback corrects: ``spend`` scales the target
by the abandons the day's budget has left (``target x live answered - abandoned``), so the
day's measured rate tends to the target whatever the model's bias (``adjust``, the older
loop on a window's rate, is kept for callers that steer by a window), and at the hard limit
the campaign falls back to progressive until the rate is back under the target.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from callcenter.dialer.distributions import Durations, finishes_within, quantile


class Mode(StrEnum):
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


@dataclass(frozen=True, slots=True)
class Targets:
    abandon_target: float = 0.015  # abandoned / live answered
    hard_limit: float = 0.03
    safe_harbor: float = 2.0  # a live answer not given an agent within this is abandoned

    def __post_init__(self) -> None:
        if not 0 <= self.abandon_target <= self.hard_limit <= 1:
            raise ValueError(
                f"need 0 <= abandon_target <= hard_limit <= 1, got "
                f"abandon_target={self.abandon_target}, hard_limit={self.hard_limit}"
            )


@dataclass(frozen=True, slots=True)
class Limits:
    max_lines_per_agent: float = 3.0  # lines in flight per staffed agent
    max_lines: int | None = None  # the campaign's own cap on lines in flight
    max_new: int | None = None  # new calls per decision (trunk CPS, sessions per second)


@dataclass(frozen=True, slots=True)
class Snapshot:
    free_agents: int
    busy_elapsed: tuple[float, ...]  # per agent on a call: seconds into it
    line_ages: tuple[float, ...]  # seconds since dialed, per line not answered yet
    answer_rate: float  # live humans / dials, recent
    handle_times: Durations  # talk times; talk + wrap-up when wrap_times is None
    answer_times: Durations  # dial to live answer, of the live answers
    ring_window: float = 20.0  # a line not answered by then is hung up
    waiting_answered: int = 0  # live answers waiting for an agent (inside the safe harbor)
    wrapping: tuple[float, ...] = ()  # per agent in wrap-up: seconds into it
    wrap_times: Durations | None = None  # wrap-up times, when talk and wrap-up are told apart

    def __post_init__(self) -> None:
        if self.free_agents < 0 or self.waiting_answered < 0:
            raise ValueError(
                f"free_agents and waiting_answered must be >= 0, got {self.free_agents} "
                f"and {self.waiting_answered}"
            )
        if not 0 <= self.answer_rate <= 1:
            raise ValueError(f"answer_rate must be within 0..1, got {self.answer_rate}")
        if self.wrapping and self.wrap_times is None:
            raise ValueError("wrapping agents need wrap_times")
        if self.ring_window < 15:
            raise ValueError(f"ring_window must be at least 15 s, got {self.ring_window}")

    @property
    def staffed(self) -> int:
        return self.free_agents + len(self.busy_elapsed) + len(self.wrapping)

    @property
    def in_flight(self) -> int:
        return len(self.line_ages) + self.waiting_answered


@dataclass(frozen=True, slots=True)
class Decision:
    calls: int
    mode: Mode  # the mode applied (PROGRESSIVE when a predictive campaign fell back)
    expected_live: float = 0.0  # over the horizon, with the new calls
    expected_abandons: float = 0.0
    limited_by: str = "agents"  # agents | target | cap


def room(snapshot: Snapshot, limits: Limits) -> int:
    """New lines the caps still allow."""
    cap = math.floor(limits.max_lines_per_agent * snapshot.staffed + 1e-9)
    if limits.max_lines is not None:
        cap = min(cap, limits.max_lines)
    left = max(0, cap - snapshot.in_flight)
    return left if limits.max_new is None else min(left, max(0, limits.max_new))


def progressive(
    snapshot: Snapshot, limits: Limits, mode: Mode = Mode.PROGRESSIVE, held: int = 0
) -> Decision:
    """One line per free agent: free agents minus the lines (and, in preview, the offers
    ``held``) already working for them."""
    wanted = max(0, snapshot.free_agents - held - snapshot.in_flight)
    allowed = room(snapshot, limits)
    return Decision(min(wanted, allowed), mode, limited_by="cap" if allowed < wanted else "agents")


def preview(snapshot: Snapshot, limits: Limits, offered: int) -> Decision:
    """Leads to offer now: one per free agent not already holding an offer or a line."""
    return progressive(snapshot, limits, Mode.PREVIEW, held=offered)


def live_later(p: float, answer_times: Durations, age: float, ring_window: float) -> float:
    """P(a line ``age`` seconds old, not answered yet, becomes a live answer)."""
    return sum(_answer_row(p, answer_times, _grid(age), ring_window, ring_window))


def _grid(t: float) -> float:
    return round(t * 4) / 4  # quarter seconds: the rows below are memoized on it


@lru_cache(maxsize=8192)
def _answer_row(
    p: float, answer_times: Durations, age: float, ring_window: float, slot: float
) -> tuple[float, ...]:
    """Per slot from now: P(this line, ``age`` s old and unanswered, answers live in it)."""
    if age >= ring_window or p <= 0:
        return ()
    within = answer_times.cdf(ring_window)
    if within <= 0:
        return ()
    g0 = min(1.0, answer_times.cdf(age) / within)
    alive = 1.0 - p * g0
    row, start = [], age
    while start < ring_window:
        end = min(start + slot, ring_window)
        g1 = min(1.0, answer_times.cdf(end) / within)
        row.append(p * (g1 - g0) / alive)
        start, g0 = end, g1
    return tuple(row)


@lru_cache(maxsize=8192)
def _free_row(
    durations: Durations, elapsed: float, slot: float, slots: int, after: Durations | None
) -> tuple[float, ...]:
    """Per slot from now: P(an agent ``elapsed`` s into ``durations`` frees in it); when
    ``after`` is given (the wrap-up that follows a talk), it frees that long after the talk
    ends: ``P(T + W <= e + t | T > e)``, W taken at its quantiles."""
    delays = wrap_points(after) if after is not None else (0.0,)
    row = [
        sum(
            finishes_within(durations, elapsed, (k + 1) * slot - d)
            for d in delays
            if (k + 1) * slot > d
        )
        / len(delays)
        for k in range(slots)
    ]
    return tuple(b - a for a, b in zip((0.0, *row[:-1]), row, strict=True))


WRAP_POINTS = 4  # quantiles a wrap-up is taken at when it follows a talk


@lru_cache(maxsize=256)
def wrap_points(wrap: Durations) -> tuple[float, ...]:
    return tuple(quantile(wrap, (j + 0.5) / WRAP_POINTS) for j in range(WRAP_POINTS))


def _add_trial(dist: list[float], p: float) -> list[float]:
    """The count ``dist`` plus one independent trial of chance ``p`` (top tail below 1e-10
    dropped: a few abandons per ten billion decisions, against a target in percent)."""
    out = [0.0] * (len(dist) + 1)
    for k, x in enumerate(dist):
        out[k] += x * (1.0 - p)
        out[k + 1] += x * p
    while len(out) > 1 and out[-1] < 1e-10:
        out.pop()
    return out


def _count(chances: list[float]) -> tuple[float, ...]:
    """P(k), k = 0.., of how many of independent events with these chances happen."""
    dist = [1.0]
    for p in chances:
        if p > 1e-12:
            dist = _add_trial(dist, p)
    return tuple(dist)


@dataclass(frozen=True, slots=True)
class _Slots:
    """The horizon cut in half-safe-harbor slots: per slot, the distribution of the live
    answers of the lines in flight and of the agents freeing, and one new line's chance of a
    live answer. ``frees`` has one slot more than ``answers``: the answers of the last slot
    may still be served in it."""

    answers: tuple[tuple[float, ...], ...]
    frees: tuple[tuple[float, ...], ...]
    new_line: tuple[float, ...]
    waiting: int
    expected: float  # live answers expected of the lines in flight and the waiting calls


def _slots(snapshot: Snapshot, targets: Targets) -> _Slots:
    slot, p = targets.safe_harbor / 2, snapshot.answer_rate
    ring, answer = snapshot.ring_window, snapshot.answer_times
    count = math.ceil(ring / slot - 1e-9)
    answers: list[list[float]] = [[] for _ in range(count)]
    frees: list[list[float]] = [[] for _ in range(count + 1)]
    for age in snapshot.line_ages:
        for k, x in enumerate(_answer_row(p, answer, _grid(age), ring, slot)):
            answers[k].append(x)
    wrap = snapshot.wrap_times
    for elapsed in snapshot.busy_elapsed:
        row = _free_row(snapshot.handle_times, _grid(elapsed), slot, count + 1, wrap)
        for k, x in enumerate(row):
            frees[k].append(x)
    for elapsed in snapshot.wrapping if wrap is not None else ():
        for k, x in enumerate(_free_row(wrap, _grid(elapsed), slot, count + 1, None)):
            frees[k].append(x)
    return _Slots(
        answers=tuple(_count(a) for a in answers),
        frees=tuple(_count(f) for f in frees),
        new_line=_answer_row(p, answer, 0.0, ring, slot),
        waiting=snapshot.waiting_answered,
        expected=sum(map(sum, answers)) + snapshot.waiting_answered,
    )


_TINY = 1e-10  # states less likely than this are dropped (they only lose abandons)
_State = tuple[int, int]  # (agents free > 0 or answers waiting < 0, new lines not answered)


def _expected_abandons(slots: _Slots, free: int, new: int) -> float:
    """E[live answers finding no agent within the safe harbor], over half-harbor slots.

    The state between slots: ``s > 0`` agents free, ``s < 0`` answers of the slot just
    ended still waiting (there cannot be both: a free agent takes a waiting call), and how
    many of the ``new`` lines have not answered yet (a line answers once: of ``m`` new lines
    still ringing, a slot's live answers are binomial with the new line's chance in that
    slot given no answer before). In a slot, the agents freeing serve first the answers
    still waiting from the slot before (the last slot of their harbor: those left over are
    abandoned), then the slot's own answers; what is left waits into the next slot. Free
    agents above ``top`` are counted as ``top`` (which only overstates abandons)."""
    top = max(free + 2, 8)
    states: dict[_State, float] = {(min(free, top) if free else -slots.waiting, new): 1.0}
    hazards = _hazards(slots.new_line)
    abandons = 0.0
    for k, freed in enumerate(slots.frees):
        states, lost = _serve_waiting(states, freed, top)
        abandons += lost
        if k == len(slots.answers):
            break
        hazard = hazards[k] if k < len(hazards) else 0.0
        states = _answer(states, slots.answers[k], hazard)
    # answers of the last slot that no agent reached
    return abandons - sum(s * ps for (s, _), ps in states.items() if s < 0)


def _serve_waiting(
    states: dict[_State, float], freed: tuple[float, ...], top: int
) -> tuple[dict[_State, float], float]:
    """The agents freeing in a slot take the answers waiting since the slot before; those
    left over are abandoned (expected count returned)."""
    ready: dict[_State, float] = {}
    abandons = 0.0
    for (s, m), ps in states.items():
        for f, pf in enumerate(freed):
            pj = ps * pf
            if pj < _TINY:
                continue
            left = s + f
            if s < 0 and left < 0:
                abandons -= left * pj
                left = 0
            key = (min(left, top), m)
            ready[key] = ready.get(key, 0.0) + pj
    return ready, abandons


def _answer(
    ready: dict[_State, float], answers: tuple[float, ...], hazard: float
) -> dict[_State, float]:
    """A slot's live answers: the lines in flight (``answers``, their count) and, of the
    ``m`` new lines not answered yet, a binomial count with ``hazard``."""
    states: dict[_State, float] = {}
    for (left, m), pl in ready.items():
        fresh = _binomial(m, hazard)
        for i, pi in enumerate(answers):
            pli = pl * pi
            if pli < _TINY:
                continue
            for j, pn in enumerate(fresh):
                pk = pli * pn
                if pk >= _TINY:
                    key = (left - i - j, m - j)
                    states[key] = states.get(key, 0.0) + pk
    return states


def _hazards(row: tuple[float, ...]) -> tuple[float, ...]:
    """Per slot, a line's chance of a live answer in it given none before (``row``: its
    chance of one in each slot, from now)."""
    out, unanswered = [], 1.0
    for chance in row:
        out.append(min(1.0, chance / unanswered) if unanswered > 1e-12 else 0.0)
        unanswered -= chance
    return tuple(out)


@lru_cache(maxsize=4096)
def _binomial(m: int, p: float) -> tuple[float, ...]:
    if m == 0 or p <= 0:
        return (1.0,)
    return tuple(math.comb(m, j) * p**j * (1 - p) ** (m - j) for j in range(m + 1))


def predictive(
    snapshot: Snapshot, targets: Targets, limits: Limits, scale: float = 1.0
) -> Decision:
    """The largest n with E[abandons] / E[live answers] <= target x scale (module docstring)."""
    return _largest(_slots(snapshot, targets), snapshot, targets, limits, scale)


def _largest(
    slots: _Slots, snapshot: Snapshot, targets: Targets, limits: Limits, scale: float
) -> Decision:
    """``predictive`` on slots already counted (the bench's clairvoyant bound replaces the
    agents' chances of freeing by the times it knows)."""
    floor = progressive(snapshot, limits, Mode.PREDICTIVE)
    allowed = room(snapshot, limits)
    target = targets.abandon_target * scale
    per_line = sum(slots.new_line)
    n = floor.calls
    live = slots.expected + n * per_line
    abandons = _expected_abandons(slots, snapshot.free_agents, n)
    while n < allowed:
        live_more = live + per_line
        abandons_more = _expected_abandons(slots, snapshot.free_agents, n + 1)
        if live_more > 0 and abandons_more > target * live_more:
            return Decision(n, Mode.PREDICTIVE, live, abandons, "target")
        n, live, abandons = n + 1, live_more, abandons_more
    return Decision(n, Mode.PREDICTIVE, live, abandons, "cap")


@dataclass(frozen=True, slots=True)
class Feedback:
    """The correction the measured abandon rate makes to the model."""

    scale: float = 1.0  # multiplies the abandon target the model aims at
    fallback: bool = False  # at the hard limit: progressive until back under the target


@dataclass(frozen=True, slots=True)
class Tuning:
    gain: float = 0.1  # adjust: log-scale step per adjustment at a full relative error
    min_live: int = 50  # adjust: live answers a window needs before the scale moves
    lowest: float = 0.1
    highest: float = 2.0  # adjust's cap
    per_abandon: float = 0.1  # spend: log-scale per abandon the day's budget has left
    spend_highest: float = 4.0  # spend's cap (at 5 agents 2x left a 2.5% target at 1.3%)


def adjust(
    feedback: Feedback,
    targets: Targets,
    window: tuple[int, int],
    compliance_rate: float,
    tuning: Tuning = Tuning(),
) -> Feedback:
    """One step of the controller (call it every minute or so).

    ``window`` is (abandoned, live answered) over the recent window the controller steers by;
    ``compliance_rate`` the rate the rules measure (the worst of the campaign's 30-day and
    today's), which decides the fallback to progressive.
    """
    fallback = _fallback(feedback.fallback, targets, compliance_rate)
    scale = feedback.scale
    abandoned, answered = window
    if answered >= tuning.min_live and targets.abandon_target > 0:
        error = (targets.abandon_target - abandoned / answered) / targets.abandon_target
        scale *= math.exp(tuning.gain * max(-1.0, min(1.0, error)))
        scale = max(tuning.lowest, min(tuning.highest, scale))
    return Feedback(scale, fallback)


def spend(
    feedback: Feedback,
    targets: Targets,
    day: tuple[float, float],
    compliance_rate: float,
    tuning: Tuning = Tuning(),
) -> Feedback:
    """The abandon target spent over the day (call it every minute or so).

    ``day`` is (abandoned, live answered) since the day began. The abandons the target still
    allows, ``target x answered - abandoned``, set the scale: ``exp(per_abandon x left)``
    within ``lowest..spend_highest``. A day under its target lets the next decisions take more, one
    over it makes them take less, and since the scale follows the budget left (not the
    error of a window), a model that is off by a constant factor only shifts the budget by
    a constant number of abandons: the day's rate still tends to the target. The fallback
    to progressive is decided as in ``adjust``."""
    abandoned, answered = day
    left = targets.abandon_target * answered - abandoned
    scale = max(tuning.lowest, min(tuning.spend_highest, math.exp(tuning.per_abandon * left)))
    return Feedback(scale, _fallback(feedback.fallback, targets, compliance_rate))


def _fallback(fallback: bool, targets: Targets, compliance_rate: float) -> bool:
    if compliance_rate >= targets.hard_limit:
        return True
    return fallback and compliance_rate > targets.abandon_target


def decide(
    mode: Mode,
    snapshot: Snapshot,
    targets: Targets,
    limits: Limits,
    feedback: Feedback = Feedback(),
    offered: int = 0,
) -> Decision:
    if mode is Mode.PREVIEW:
        return preview(snapshot, limits, offered)
    if mode is Mode.PROGRESSIVE or feedback.fallback:
        return progressive(snapshot, limits)
    return predictive(snapshot, targets, limits, feedback.scale)


class AbandonWindow:
    """Live answers of the last ``seconds``, and which were abandoned (owned by one greenlet)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._events: deque[tuple[float, bool]] = deque()
        self._abandoned = 0

    def add(self, at: float, abandoned: bool) -> None:
        self._events.append((at, abandoned))
        self._abandoned += abandoned

    def counts(self, now: float) -> tuple[int, int]:
        """(abandoned, live answered) within the window ending ``now``."""
        while self._events and self._events[0][0] <= now - self.seconds:
            self._abandoned -= self._events.popleft()[1]
        return self._abandoned, len(self._events)

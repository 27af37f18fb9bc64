"""The running dialer: one greenlet per running campaign, owning its lines.

Every ``TICK`` seconds a campaign's runner reads its campaign (state, mode, limits), asks the
dispatcher for its agents (free, on a call and for how long, in wrap-up), builds a
``pacing.Snapshot`` with its own lines (dialling: their ages; answered, not yet with an
agent), asks its ``estimates.Model`` (the one the bench's pacer runs) how many calls to place,
claims that many due leads (``store.claim_due``: do-not-call lists, the 72 h hold, the
calling window, each block audited) and places them (``placing``: trunks' limits and
failover). A line answered is parked and run by ``dialer.calls``, which tells the runner how
it ended (``LineDone``). Between two ticks, when an agent frees (``AgentFreed``, from the
event bus) or one of its lines ends, it decides again at once (progressive's one line per
free agent; at most once per ``REDECIDE``). Once a minute it reads the campaign's abandon
rates: the model is refitted and spends the day's abandon budget (``pacing.spend``);
crossing the hard limit (and coming back under the target) is audited.

The runner's seconds are a ``DialerClock``'s: the wall's in production; a simulator's when
the engine runs against one faster than real time (``time_scale``, as ``sim.clock.Clock``),
so its ticks, line ages, measured times and ring window are all in the called parties' time.

The ``Dialer`` starts a runner for each running campaign: at the engine's start, when the
change feed says a campaign started, and every 30 s (a notification missed); a runner reads
its campaign every tick and ends once it is paused or stopped and its lines have finished.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid as uuidlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import gevent
from gevent import GreenletExit
from gevent.event import Event
from gevent.pool import Group
from gevent.queue import Empty, Queue
from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.acd import messages as m
from callcenter.acd.board import Board
from callcenter.acd.dispatcher import Dispatcher
from callcenter.calls.control import OriginateFailed, cause_of
from callcenter.cdr.timeline import CallTimeline, LegTimeline
from callcenter.dialer import pacing, placing, store
from callcenter.dialer.compliance import Outcome
from callcenter.dialer.estimates import KEEP, Measured, Model, Now
from callcenter.dialer.metrics import DialerMetrics
from callcenter.dialer.sessions import SessionBudget, Slot
from callcenter.dialer.vocabulary import AmdAction, AuditKind, CampaignMode, CampaignState
from callcenter.errors import (
    CallCenterError,
    ConfigError,
    DatabaseUnavailable,
    DomainError,
    ESLError,
)
from callcenter.esl import commands
from callcenter.esl.router import EventRouter
from callcenter.events import types as events
from callcenter.recording import policy as recording_policy
from callcenter.recording.on_call import QueueRecording
from callcenter.services import campaigns
from callcenter.services.actor import Actor
from callcenter.services.changes import Change, ChangeKind
from callcenter.store.database import Database
from callcenter.store.models import Campaign
from callcenter.store.records import CdrRecord
from callcenter.trunks.dialout import CONGESTION
from callcenter.trunks.table import OutboundRoutes
from callcenter.vocabulary import AgentState, AgentStatus

log = logging.getLogger(__name__)

TICK = 2.0
# seconds between two reads of the running campaigns without a change: a campaign started
# reaches the dialer through the change feed, which loses a notice only with its connection
# and reads what it missed on reconnecting; RETRY after a read the database refused
RESCAN = 300.0
RETRY = 30.0
ADJUST_EVERY = 60.0
REDECIDE = 0.5  # at most one decision between two ticks per this long (the clock's seconds)
STALE_CLAIM = 600.0  # a lead claimed this long ago and never recorded: a dialer that died
BIND_GRACE = 5.0  # wall seconds for a preview's answered agent leg to park as a call
PERSIST_RETRY = 5.0  # wall seconds between two tries of a write the database refused
PERSIST_FOR = 3600.0  # how long such a write is tried again before it is given up (logged)
DIALER = Actor("engine", "dialer")  # who pauses a campaign at its hard limit
BROADCAST_LINES = 10  # a broadcast's calls at once when its campaign sets no max_lines
PREVIEW_SKIP_DELAY = timedelta(minutes=10)  # a lead skipped in preview: due again after
PREVIEW_MAX_SKIPS = 3  # skips of one lead (by this engine) before it is parked
ATTEMPTED_MAX = 1024  # answered calls whose earlier attempts wait for the call to start
GIVEN_BACK_MAX = 1024  # preview offers given back at their grace's end, remembered (newest)


@dataclass(frozen=True, slots=True)
class DialerClock:
    """The pacing's seconds: ``time_scale`` wall seconds each (1: the wall's; a simulator's
    ``time_scale`` paces in its time); ``tick``, ``adjust_every``: in those seconds."""

    time_scale: float = 1.0
    tick: float = TICK
    adjust_every: float = ADJUST_EVERY

    def __post_init__(self) -> None:
        if not (self.time_scale > 0 and self.tick > 0 and self.adjust_every > 0):
            raise ValueError(f"DialerClock: positive values expected, got {self}")

    def now(self) -> float:
        return time.monotonic() / self.time_scale

    def seconds(self, wall: float) -> float:
        """Wall seconds (the dispatcher's) in this clock's."""
        return wall / self.time_scale

    def wall(self, seconds: float) -> float:
        return seconds * self.time_scale


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    """A campaign as the runtime uses it (read each tick; frozen: shared by reference)."""

    name: str
    mode: CampaignMode
    state: CampaignState
    agents: tuple[str, ...]
    queue: str | None
    flow: str | None
    caller_id: str | None
    caller_id_name: str | None
    route: str | None  # how calls leave: this outbound route, or these trunks, or the routes
    trunks: tuple[str, ...]
    ring_seconds: int
    targets: pacing.Targets
    limits: pacing.Limits
    amd: AmdAction
    amd_message: str | None
    amd_flow: str | None
    safe_harbor_message: str | None
    recording: recording_policy.Policy | None = None  # its own; None: its queue's

    @classmethod
    def of(cls, row: Campaign) -> CampaignSpec:
        return cls(
            name=row.name, mode=row.mode, state=row.state,
            agents=tuple(str(a) for a in row.agents or ()), queue=row.queue, flow=row.flow,
            caller_id=row.caller_id, caller_id_name=row.caller_id_name,
            route=row.outbound_route, trunks=tuple(str(t) for t in row.trunks or ()),
            ring_seconds=row.ring_seconds,
            targets=pacing.Targets(row.abandon_target, row.abandon_limit),
            limits=pacing.Limits(float(row.max_lines_per_agent), row.max_lines),
            amd=row.amd, amd_message=row.amd_message, amd_flow=row.amd_flow,
            safe_harbor_message=row.safe_harbor_message, recording=_recording(row),
        )  # fmt: skip


def shown_as(spec: CampaignSpec) -> dict[str, str]:
    """What the called party is shown: the campaign's caller ID, and its caller ID name, else
    that number as the name too (the campaign's own name is an internal one, told only by
    ``cc_campaign``; FreeSWITCH would send an unset name as "", or an old build
    "FreeSWITCH"); neither without a caller ID (a campaign does not start without one)."""
    if not spec.caller_id:
        return {}
    return {
        "origination_caller_id_number": spec.caller_id,
        "origination_caller_id_name": spec.caller_id_name or spec.caller_id,
    }


def _untold(decision: events.PreviewDecision) -> None:
    """A preview offer's decision when no offer was told: nothing to tell."""


def _recording(row: Campaign) -> recording_policy.Policy | None:
    """The campaign's own recording policy (checked by ``campaign.check``; one written
    around the service: its queue's, said loudly)."""
    if row.recording_policy is None:
        return None
    return _policy(row.name, row.recording_policy)


@lru_cache(maxsize=256)
def _policy(campaign: str, text: str) -> recording_policy.Policy | None:
    """``text`` parsed once (the spec is read at every tick: a bad one is said once)."""
    try:
        return recording_policy.parse(text, f"campaign {campaign} recording")
    except ConfigError as exc:
        log.error("%s: its queue's policy applies", exc)
        return None


@dataclass(frozen=True, slots=True)
class AgentsView:
    free: tuple[str, ...]  # longest idle first
    busy_by: tuple[tuple[str, float], ...]  # per agent on a call: seconds into it
    wrapping_by: tuple[tuple[str, float], ...]  # per agent in wrap-up: seconds into it

    @property
    def busy(self) -> tuple[float, ...]:
        return tuple(seconds for _, seconds in self.busy_by)

    @property
    def wrapping(self) -> tuple[float, ...]:
        return tuple(seconds for _, seconds in self.wrapping_by)

    @property
    def staffed(self) -> int:
        return len(self.free) + len(self.busy_by) + len(self.wrapping_by)


def agents_view(spec: CampaignSpec) -> Callable[[Board, float], AgentsView]:
    """A read the dispatcher does on its own greenlet: the campaign's agents now."""

    def read(board: Board, now: float) -> AgentsView:
        names = spec.agents
        if not names and spec.queue and spec.queue in board.queues:
            names = tuple(m.extension for m in board.queues[spec.queue].members)
        free: list[tuple[float, str]] = []
        busy: list[tuple[str, float]] = []
        wrapping: list[tuple[str, float]] = []
        for name in names:
            agent = board.agents.get(name)
            if agent is None or agent.status is AgentStatus.LOGGED_OUT:
                continue
            if agent.free(now):
                free.append((agent.idle_since, name))
            elif agent.state is AgentState.IN_CALL:
                busy.append((name, now - agent.state_since))
            elif agent.state is AgentState.WRAP_UP:
                wrapping.append((name, now - agent.state_since))
        return AgentsView(tuple(n for _, n in sorted(free)), tuple(busy), tuple(wrapping))

    return read


def recording_of(spec: CampaignSpec, board: Board) -> QueueRecording:
    """What the campaign's calls given to an agent are recorded by: its own policy when
    set, else its queue's (as the dispatcher's board has it, ``acd.dispatcher.spec_of``),
    else never; the agent's override and a flow's apply over it (``Recorder.policy_for``)."""
    queue = board.queues.get(spec.queue) if spec.queue else None
    found = queue.recording if queue is not None else QueueRecording()
    return found if spec.recording is None else replace(found, policy=spec.recording)


@dataclass(frozen=True, slots=True)
class CampaignLive:
    """What a running campaign looks like now (rebuilt each tick; frozen: read by others)."""

    campaign: str
    mode: str
    dialling: int  # lines not answered yet
    answered: int  # answered lines not yet ended (detection, an agent, a message)
    agents_free: int
    agents_busy: int
    agents_wrapping: int
    dial_level: float  # lines in flight / staffed agents
    answer_rate: float  # live answers / dials (with its prior)
    paced_as: str  # preview, progressive, predictive (progressive while warming up or fallen back)
    last_decision: int  # calls placed at the last tick
    limited_by: str
    abandon_rate_30m: float  # abandoned / live answered over the last 30 minutes
    abandon_rate_us_30_days: float | None  # at the last minute's check (None: not yet)
    abandon_rate_uk_today: float | None
    fallback: bool  # at the hard limit: dialling progressive


@dataclass(frozen=True, slots=True)
class LineDone:
    """How a line ended (from ``dialer.calls`` once answered, else from its dialling)."""

    leg: str
    outcome: Outcome
    counted: bool = True  # False: a preview skipped or not taken, no call placed


@dataclass(frozen=True, slots=True)
class LineUp:
    """The line answered (its originate returned +OK) as leg ``answered`` (after a trunk
    failed over, another than the line's first: its call reports under that one)."""

    leg: str
    answered: str = ""


@dataclass(slots=True)
class Line:
    lead: int
    phone: str
    dialled: float  # the runner's clock
    answered: float | None = None
    agent: str | None = None  # a preview's: the agent offered the lead


@dataclass(frozen=True, slots=True)
class AgentFreed:
    """An agent became free (wrap-up over, made available): decide again now."""

    agent: str


def _recent() -> deque[float]:
    return deque(maxlen=KEEP)


@dataclass
class Measuring:
    """What the runner measures for its model: dials ended and live answers among them, the
    times from dial to answer, the agents' talk and wrap-up times (seen ending between two
    reads of the agents: about halfway between)."""

    dials: int = 0
    live: int = 0
    answer_times: deque[float] = field(default_factory=_recent)
    talk_times: deque[float] = field(default_factory=_recent)
    wrap_times: deque[float] = field(default_factory=_recent)
    _busy: dict[str, float] = field(default_factory=dict)
    _wrapping: dict[str, float] = field(default_factory=dict)

    def watch(self, view: AgentsView, gap: float = TICK) -> None:
        """An agent on a call (in wrap-up) at the last read, ``gap`` seconds ago, and not
        now ended it between: about ``gap / 2`` after it was last seen."""
        busy, wrapping = dict(view.busy_by), dict(view.wrapping_by)
        for name, seconds in self._busy.items():
            if name not in busy:
                self.talk_times.append(seconds + gap / 2)
        for name, seconds in self._wrapping.items():
            if name not in wrapping:
                self.wrap_times.append(seconds + gap / 2)
        self._busy, self._wrapping = busy, wrapping

    def measured(self) -> Measured:
        return Measured(
            self.dials, self.live, tuple(self.answer_times), tuple(self.talk_times),
            tuple(self.wrap_times),
        )  # fmt: skip


def _unpublished(
    spec: CampaignSpec, view: AgentsView, calls: int, paced: str, limited_by: str
) -> None:
    """A decision between two ticks: the live view stays as its tick published it."""


class CampaignRunner:
    def __init__(self, name: str, dialer: Dialer) -> None:
        self.name = name
        self.dialer = dialer
        self.inbox: Queue[LineDone | LineUp | AgentFreed | None] = Queue()
        self.lines: dict[str, Line] = {}
        self.measuring = Measuring()
        self.model = Model()
        self.window = pacing.AbandonWindow(1800.0)
        self._adjusted = float("-inf")  # the first tick reads the rates
        self.spec: CampaignSpec | None = None
        self.decision: pacing.Decision | None = None
        self.live: CampaignLive | None = None
        self._rates: store.AbandonRates | None = None
        self._decided = float("-inf")  # time.monotonic() of the last decision
        self._watched: float | None = None  # the clock's time of the last read of the agents
        self._ended_unseen: deque[str] = deque(maxlen=64)  # ended before their LineUp
        self._abandons = 0  # abandoned calls of this run (since the campaign was started)
        self._no_trunk = False  # the last call placed found no trunk to take it (all full)
        self._cut = False  # the last decision got fewer lines than it wanted (sessions/s)

    @property
    def feedback(self) -> pacing.Feedback:
        return self.model.feedback

    def run(self) -> None:
        while True:
            try:
                if not self.tick():
                    return
            except DatabaseUnavailable as exc:
                log.warning("campaign %s: database unavailable, no calls this tick: %s",
                            self.name, exc)  # fmt: skip
            self._drain(self.clock.wall(self.clock.tick))

    @property
    def clock(self) -> DialerClock:
        return self.dialer.clock

    def _drain(self, seconds: float) -> None:
        """Until the next tick: the lines' news, and a decision as soon as an agent freed or
        a line ended, or again while FreeSWITCH's sessions per second cut the last one (at
        most one per ``REDECIDE``; one due after the tick waits for it)."""
        deadline = time.monotonic() + seconds
        wanted = self._cut
        while (now := time.monotonic()) < deadline:
            allowed = self._decided + self.clock.wall(REDECIDE)
            if wanted and now >= allowed:
                self._between()
                wanted = self._cut
                continue
            wake = min(deadline, allowed) if wanted else deadline
            try:
                news = self.inbox.get(timeout=max(0.0, wake - now))
            except Empty:
                continue
            wanted = self._news(news) or wanted

    def _news(self, news: LineDone | LineUp | AgentFreed | None) -> bool:
        """Take in a line's news; True when it may let a call be placed now."""
        if isinstance(news, LineUp):
            line = self.lines.get(news.leg)
            if line is not None:
                line.answered = self.clock.now()
                if news.answered and news.answered != news.leg:  # another trunk's leg
                    del self.lines[news.leg]
                    if news.answered not in self._ended_unseen:  # its call did not end first
                        self.lines[news.answered] = line
            return False
        if isinstance(news, LineDone):
            self._ended(news)
        return news is not None

    def _between(self) -> None:
        """A decision between two ticks, on the campaign as read at the last tick."""
        spec = self.spec
        if spec is None or spec.state is not CampaignState.RUNNING:
            return
        try:
            self._dial(spec, whole=False)
        except DatabaseUnavailable as exc:
            log.warning("campaign %s: database unavailable, no calls now: %s", self.name, exc)

    def _ended(self, done: LineDone) -> None:
        line = self.lines.pop(done.leg, None)
        if line is None:
            self._ended_unseen.append(done.leg)  # its LineUp (another trunk's leg) may follow
        if not done.counted:
            return
        self.measuring.dials += 1
        live = done.outcome in (Outcome.ANSWERED, Outcome.ABANDONED)
        if live:
            self.measuring.live += 1
            if line is not None and line.answered is not None:
                self.measuring.answer_times.append(line.answered - line.dialled)
            self.window.add(self.clock.now(), done.outcome is Outcome.ABANDONED)
        if done.outcome is Outcome.ABANDONED:
            self._abandons += 1
            self._adjusted = float("-inf")  # the rates read again at the next tick
        log.debug("campaign %s: line %s (lead %s) %s", self.name, done.leg,
                  line.lead if line else "?", done.outcome)  # fmt: skip

    def tick(self) -> bool:
        """One decision; False once the campaign is no longer running."""
        now = datetime.now(UTC)
        with self.dialer.database.session_scope() as session:
            row = session.scalar(select(Campaign).where(Campaign.name == self.name))
            spec = CampaignSpec.of(row) if row is not None else None
            self.spec = spec
            if spec is None or spec.state is not CampaignState.RUNNING:
                return bool(self.lines)  # paused: the lines in flight finish first
            self._adjust(session, now, spec)
        if self._halted(spec):
            return bool(self.lines)
        self._dial(spec, whole=True)
        return True

    def _halted(self, spec: CampaignSpec) -> bool:
        """Progressive or preview (no fallback left) at the hard limit, with an abandon of
        this run's: the campaign paused (audited ``state`` with ``reason: hard_limit``, a
        ``campaign.changed`` event, told by ``campaign show``); the operator resumes it.
        A resumed campaign is paused again at its next abandon while still at the limit."""
        rates = self._rates
        if spec.mode not in (CampaignMode.PROGRESSIVE, CampaignMode.PREVIEW) or not self._abandons:
            return False
        if rates is None or rates.worst < spec.targets.hard_limit:
            return False
        self.spec = replace(spec, state=CampaignState.PAUSED)  # nothing dialled between ticks
        try:
            campaigns.pause(self.dialer.database, DIALER, self.name,
                            reason={"reason": "hard_limit", "rate": rates.worst})  # fmt: skip
        except DomainError:  # an operator paused or stopped it meanwhile
            return True
        log.warning("campaign %s: paused at the hard limit (%.2f%% abandoned)", self.name,
                    rates.worst * 100)  # fmt: skip
        return True

    def _misconfigured(self, spec: CampaignSpec, fault: str) -> None:
        """No lead can be called (no outbound route, no usable trunk): paused (audited
        ``state`` with ``reason: misconfigured`` and the fault, a ``campaign.changed``
        event, ``campaign show``, ``/healthz``), said once; the operator resumes it."""
        self.spec = replace(spec, state=CampaignState.PAUSED)  # nothing dialled between ticks
        try:
            campaigns.pause(self.dialer.database, DIALER, self.name,
                            reason={"reason": "misconfigured", "fault": fault})  # fmt: skip
        except DomainError:  # already paused (another line's), or an operator did
            return
        self.dialer.faults[self.name] = fault
        log.error("campaign %s: paused, no lead can be called: %s", self.name, fault)

    def _dial(self, spec: CampaignSpec, whole: bool) -> None:
        """Decide, claim that many due leads and place them (``whole``: at a tick), each on
        a slot of FreeSWITCH's sessions per second (``sessions``: every mode, every
        campaign of the engine from one budget; a slot not used goes back)."""
        self._decided = time.monotonic()
        self._cut = False
        calls, free = self._decide(spec, whole)
        if self._no_trunk:  # every trunk at its limits: one call a tick finds when one frees
            calls = min(calls, 1) if whole else 0
        slots = self.dialer.sessions.take(calls) if calls else []
        self._cut = self._cut or len(slots) < calls
        try:
            self._claim_and_place(spec, slots, free)
        finally:
            for slot in slots:
                slot.release()

    def _claim_and_place(self, spec: CampaignSpec, slots: list[Slot], free: list[str]) -> None:
        if not slots:
            return
        agents = None if spec.mode is CampaignMode.BROADCAST else free
        with self.dialer.database.session_scope() as session:
            leads = store.claim_due(session, self.name, datetime.now(UTC), len(slots), agents)
        for lead in leads:  # a callback kept for an agent: that agent's line
            if lead.kept_for in free:
                free.remove(lead.kept_for)
        for lead in leads:
            agent = lead.kept_for  # not offered another line while this one lasts
            if spec.mode is CampaignMode.PREVIEW and agent is None:
                skipped_by = self.dialer.skips.get(lead.id, ())
                agent = next((a for a in free if a not in skipped_by), None)
                if agent is None:  # only agents who skipped it are free: later
                    self.dialer.release_lead(lead.id, PREVIEW_SKIP_DELAY)
                    continue
                free.remove(agent)
            leg = str(uuidlib.uuid4())
            line = self.lines[leg] = Line(lead.id, lead.phone, self.clock.now())
            line.agent = agent
            slot = slots.pop()
            if spec.mode is CampaignMode.PREVIEW and agent is not None:
                self._spawn(leg, self._offer, spec, lead, leg, agent, slot)
            else:
                self._spawn(leg, self._place, spec, lead, leg, slot)

    def _spawn(self, leg: str, fn: Callable[..., None], *args: object) -> None:
        """A line's dialling, supervised (``Dialer.dialling``: an engine stopping lets it
        ring out): a failure is logged and the line let go (its claimed lead is given back
        by ``release_stale``)."""

        def failed(greenlet: gevent.Greenlet) -> None:
            log.error("campaign %s: line %s failed: %r", self.name, leg, greenlet.exception)
            self.inbox.put(LineDone(leg, Outcome.FAILED, counted=False))

        self.dialer.dialling.spawn(fn, *args).link_exception(failed)

    def _decide(self, spec: CampaignSpec, whole: bool = True) -> tuple[int, list[str]]:
        """How many leads to dial (or, in preview, to offer) now; the free agents not
        holding an offer, longest idle first. Only a ``whole`` decision (a tick's) is
        published in the live view and the gauges."""
        view = self.dialer.dispatcher.read(agents_view(spec))
        if view is None:
            return 0, []
        view = self._in_clock(view)
        read_at = self.clock.now()
        gap = read_at - self._watched if self._watched is not None else self.clock.tick
        self.measuring.watch(view, gap)
        self._watched = read_at
        publish = self._publish if whole else _unpublished
        if whole:
            self._gauges(view)
        offered = {line.agent for line in self.lines.values() if line.agent is not None}
        free = [agent for agent in view.free if agent not in offered]
        if spec.mode is CampaignMode.BROADCAST:
            cap = spec.limits.max_lines or BROADCAST_LINES
            calls = max(0, cap - len(self.lines))
            publish(spec, view, calls, str(spec.mode), "cap")
            return calls, free
        if spec.mode is CampaignMode.PREVIEW:  # an offer is a line: the campaign's cap too
            room = (
                None if spec.limits.max_lines is None else spec.limits.max_lines - len(self.lines)
            )
            if room is not None and room < len(free):
                calls = max(0, room)
                publish(spec, view, calls, str(spec.mode), "cap")
                return calls, free
            publish(spec, view, len(free), str(spec.mode), "agents")
            return len(free), free
        now = Now(
            free_agents=len(view.free),
            busy_elapsed=view.busy,
            wrapping=view.wrapping,
            line_ages=tuple(read_at - x.dialled for x in self.lines.values() if x.answered is None),
            waiting_answered=sum(1 for line in self.lines.values() if line.answered is not None),
        )
        measured = self.measuring.measured()
        snapshot = self.model.estimates.snapshot(measured, now, float(spec.ring_seconds))
        predictive = spec.mode is CampaignMode.PREDICTIVE
        room = self.dialer.sessions.room()  # what FreeSWITCH's rate leaves, every campaign's
        limits = replace(spec.limits, max_new=room)
        decision = self.model.decide(predictive, whole, snapshot, measured, spec.targets, limits)
        self._cut = decision.limited_by == "cap" and decision.calls >= room
        if whole:
            self.decision = decision
        publish(spec, view, decision.calls, str(decision.mode), decision.limited_by)
        return decision.calls, free

    def _publish(
        self, spec: CampaignSpec, view: AgentsView, calls: int, paced: str, limited_by: str
    ) -> None:
        dialling = sum(1 for line in self.lines.values() if line.answered is None)
        abandoned, live = self.window.counts(self.clock.now())
        rates = self._rates
        self.live = CampaignLive(
            campaign=self.name, mode=str(spec.mode), dialling=dialling,
            answered=len(self.lines) - dialling, agents_free=len(view.free),
            agents_busy=len(view.busy), agents_wrapping=len(view.wrapping),
            dial_level=len(self.lines) / view.staffed if view.staffed else 0.0,
            answer_rate=Measured(self.measuring.dials, self.measuring.live).answer_rate,
            paced_as=paced, last_decision=calls,
            limited_by=limited_by, abandon_rate_30m=abandoned / live if live else 0.0,
            abandon_rate_us_30_days=rates.us_30_days.rate if rates else None,
            abandon_rate_uk_today=rates.uk_today.rate if rates else None,
            fallback=self.feedback.fallback,
        )  # fmt: skip

    def _in_clock(self, view: AgentsView) -> AgentsView:
        """The agents' times (the dispatcher's wall seconds) in the runner's clock."""
        if self.clock.time_scale == 1.0:
            return view
        seconds = self.clock.seconds
        return AgentsView(
            view.free,
            tuple((name, seconds(t)) for name, t in view.busy_by),
            tuple((name, seconds(t)) for name, t in view.wrapping_by),
        )

    def _gauges(self, view: AgentsView) -> None:
        metrics = self.dialer.metrics
        if metrics is None:
            return
        lines = len(self.lines)
        metrics.lines.labels(self.name).set(lines)
        metrics.dial_level.labels(self.name).set(lines / view.staffed if view.staffed else 0.0)
        working = len(view.busy) + len(view.wrapping)
        metrics.occupancy.labels(self.name).set(working / view.staffed if view.staffed else 0.0)
        abandoned, live = self.window.counts(self.clock.now())
        metrics.abandon_rate.labels(self.name, "window_30m").set(abandoned / live if live else 0.0)

    def _adjust(self, session: Session, now: datetime, spec: CampaignSpec) -> None:
        if self.clock.now() - self._adjusted < self.clock.adjust_every:
            return
        self._adjusted = self.clock.now()
        rates = self._rates = store.abandon_rates(session, self.name, now)
        if self.dialer.metrics is not None:
            gauge = self.dialer.metrics.abandon_rate
            gauge.labels(self.name, "us_30_days").set(rates.us_30_days.rate)
            gauge.labels(self.name, "uk_today").set(rates.uk_today.rate)
        before = self.feedback.fallback
        day = (rates.uk_today.abandoned, rates.uk_today.live)
        measured = self.measuring.measured()
        self.model = self.model.refreshed(measured, spec.targets, day, rates.worst)
        if self.feedback.fallback != before:
            kind = AuditKind.FALLBACK if self.feedback.fallback else AuditKind.FALLBACK_CLEARED
            store.audit(session, self.name, kind, now, details={"rate": rates.worst})
            self.dialer.tell(events.CampaignChanged(  # for webhooks: dialling progressive
                campaign=self.name, op=str(kind), state=str(CampaignState.RUNNING), by=str(DIALER),
            ))  # fmt: skip
        store.release_stale(session, self.name, now - timedelta(seconds=STALE_CLAIM))

    def _offer(
        self, spec: CampaignSpec, lead: store.LeadRecord, leg: str, agent: str, slot: Slot
    ) -> None:
        """Preview: the agent's phone rings first (``cc_preview``: its reservation), the
        line's session on ``slot``; on answer ``dialer.calls`` whispers the lead and dials it
        if the agent presses 1. Not placed, whatever the reason (an error included), the
        agent and the lead are given back at once."""
        answer = m.OneShot()
        reservation = self.dialer.dispatcher.reserve(agent, answer, spec.ring_seconds + 60.0)
        placed, cause = False, ""  # cause: the agent's phone's, when it failed the offer
        offered: Callable[[events.PreviewDecision], None] = _untold
        try:
            granted = answer.get(2.0)
            channel = slot.node
            if isinstance(granted, m.Reservation) and granted.granted and channel.connected:
                tags = {
                    "cc_managed": "true", "cc_role": "caller", "cc_entry": "dialer",
                    "cc_campaign": self.name, "cc_lead": str(lead.id), "cc_preview": reservation,
                    "cc_agent": agent, "originate_timeout": str(spec.ring_seconds),
                    "origination_caller_id_number": lead.phone.lstrip("+"),
                    "origination_caller_id_name": f"preview {spec.name}"[:64],
                }  # fmt: skip
                line = commands.originate(f"user/{agent}@{self.dialer.agents_domain}", tags,
                                          uuid=leg)  # fmt: skip
                self.dialer.offers_waiting.add(leg)  # until _unless_parked's grace is over
                offered = self._told_offer(spec, lead, leg, agent)
                try:
                    slot.sending(channel.bgapi, leg)(line, spec.ring_seconds + 10.0)
                    placed = True
                except ESLError as exc:
                    log.info("campaign %s: agent %s did not take lead %s: %s", self.name, agent,
                             lead.id, exc)  # fmt: skip
                    cause = cause_of(str(exc)) if "-ERR" in str(exc) else ""  # not ESL down
                    offered(events.PreviewDecision.NOT_ANSWERED)
        finally:
            slot.release()
            if not placed:  # a phone that failed: rested as after a failed queue offer
                offered(events.PreviewDecision.CANCELLED)  # unless NOT_ANSWERED was told
                self.dialer.offers_waiting.discard(leg)
                self.dialer.dispatcher.release(reservation, cause, spec.queue)
                self.dialer.release_lead(lead.id)
        if placed:
            self.inbox.put(LineUp(leg))
            self._unless_parked(leg, lead.id, reservation, offered)
            return
        self.inbox.put(LineDone(leg, Outcome.NO_ANSWER, counted=False))

    def _told_offer(
        self, spec: CampaignSpec, lead: store.LeadRecord, leg: str, agent: str
    ) -> Callable[[events.PreviewDecision], None]:
        """``campaign.preview_offered`` (the agent's screen pop, as the phone rings); what
        tells the offer's ``campaign.preview_decided`` when it ends here, unanswered (once:
        the first decision told stands)."""
        self.dialer.tell(events.CampaignPreviewOffered(
            call_uuid=leg, agent_extension=agent, caller_number=lead.phone, campaign=self.name,
            lead_id=lead.id, fields=dict(lead.fields), ring_seconds=spec.ring_seconds,
        ))  # fmt: skip
        told = False

        def decided(decision: events.PreviewDecision) -> None:
            nonlocal told
            if not told:
                told = True
                self.dialer.preview_decided(leg, self.name, lead.id, agent, lead.phone, decision)

        return decided

    def _unless_parked(
        self,
        leg: str,
        lead: int,
        reservation: str,
        offered: Callable[[events.PreviewDecision], None],
    ) -> None:
        """A preview's agent leg answered: parked, it is a call that binds the reservation at
        once (``dialer.calls``) and ends the line. One gone before it parked never does: the
        agent would stay held ring time + 60 s and the line kept (that agent left out of the
        campaign's offers), so after ``BIND_GRACE`` with no call, both are given back, and
        the leg remembered as such (``Dialer.given_back``): one that parks after all (a slow
        FreeSWITCH) is hung up, not run with a reservation and a lead no longer its own. A
        call that parks after the grace is not marked (``offers_waiting``)."""
        try:
            gevent.sleep(BIND_GRACE)
        finally:
            self.dialer.offers_waiting.discard(leg)
        if leg in self.dialer.offers_parked:  # its call ran (it may have ended already)
            self.dialer.offers_parked.discard(leg)
            return
        router = self.dialer.router
        if router is None or router.mailbox(leg) is not None:
            return  # its call runs (or no way to tell: the reservation's expiry frees it)
        self.dialer.give_back(leg)  # before any wait: a park from now on sees it
        log.info("campaign %s: agent leg %s not parked in its grace: lead %s given back",
                 self.name, leg, lead)  # fmt: skip
        self.dialer.dispatcher.release(reservation)  # a no-op once a call bound it
        self.dialer.release_lead(lead)  # a no-op once a call recorded or released it
        self.inbox.put(LineDone(leg, Outcome.NO_ANSWER, counted=False))
        offered(events.PreviewDecision.GONE)

    def _place(self, spec: CampaignSpec, lead: store.LeadRecord, leg: str, slot: Slot) -> None:
        tags = {
            "cc_managed": "true", "cc_role": "caller", "cc_entry": "dialer",
            "cc_campaign": self.name, "cc_lead": str(lead.id), **shown_as(spec),
        }  # fmt: skip
        channel = slot.node  # the node the line's session was taken on
        placed: str | OriginateFailed = OriginateFailed(CONGESTION)  # ESL down: not dialled
        attempts = placing.Attempts(leg, channel.name)
        if channel.connected:
            try:
                placed = placing.place(
                    slot.sending(channel.bgapi, leg), self.dialer.routes, lead.phone, leg, tags,
                    spec.ring_seconds,
                    route=spec.route, trunks=spec.trunks, router=self.dialer.router,
                    attempts=attempts,
                )  # fmt: skip
            except ESLError as exc:
                # how it ended unknown: the leg may ring on, and answer. Nothing recorded, the
                # lead left claimed: a resync adopts the leg (dialer.calls: given back if it
                # still rings), an answer parks it as a call; else release_stale gives it back
                log.warning("campaign %s: lead %s: FreeSWITCH lost while dialling: %s",
                            self.name, lead.id, exc)  # fmt: skip
                self.inbox.put(LineDone(leg, Outcome.FAILED, counted=False))
                return
        slot.done(placed)
        self._no_trunk = not isinstance(placed, str) and placing.dialled_nothing(placed)
        if isinstance(placed, str):
            if attempts.legs:  # trunks before the one that answered: legs of its call's CDR
                self.dialer.attempts_before(placed, attempts.legs)
            self.inbox.put(LineUp(leg, placed))
            return
        cdr = attempts.cdr(placed, lead.phone, tags.get("origination_caller_id_number", ""),
                           tags.get("origination_caller_id_name", ""))  # fmt: skip
        if cdr is not None and self.dialer.cdrs is not None:  # every attempt a CDR leg
            self.dialer.cdrs(cdr)
        fault = placing.misconfigured(placed, attempts)
        if fault:  # the same for every lead: given back, the campaign paused
            self.dialer.release_lead(lead.id)
            self.inbox.put(LineDone(leg, Outcome.FAILED, counted=False))
            self._misconfigured(spec, fault)
            return
        if placing.dialled_nothing(placed):  # ESL down, trunks full, no session: due again
            self.dialer.release_lead(lead.id)
            self.inbox.put(LineDone(leg, Outcome.FAILED, counted=False))
            return
        outcome = placing.outcome_of(placed.cause)
        at, call_uuid = datetime.now(UTC), placed.leg
        self.dialer.persist(
            f"attempt of lead {lead.id} ({outcome}, leg {call_uuid})",
            lambda session: store.record_attempt(session, lead.id, outcome, at,
                                                 call_uuid=call_uuid),
        )  # fmt: skip
        self.dialer.metrics_dial(self.name, outcome)
        self.inbox.put(LineDone(leg, outcome))


class Dialer:
    """Starts and stops the campaigns' runners; what ``dialer.calls`` asks of them."""

    def __init__(
        self,
        database: Database,
        dispatcher: Dispatcher,
        routes: OutboundRoutes,
        sessions: SessionBudget,
        *,
        metrics: DialerMetrics | None = None,
        agents_domain: str = "callcenter",
        clock: DialerClock | None = None,
        router: EventRouter | None = None,
        cdrs: Callable[[CdrRecord], None] | None = None,
        publish: Callable[[events.Event], None] | None = None,
    ) -> None:
        self.database = database
        self.publish = publish  # the event bus's: events not about a call (a preview's offer)
        self.clock = clock or DialerClock()  # read by each runner at each tick
        self.dispatcher = dispatcher
        self.routes = routes
        # the nodes campaigns dial through: each line on a slot of a node's sessions per
        # second, every campaign's from this one budget
        self.sessions = sessions
        self.runners: dict[str, CampaignRunner] = {}
        self.faults: dict[str, str] = {}  # campaigns paused for a configuration fault: why
        self.group = Group()  # the watcher's runners, the writes waiting for the database
        self.dialling = Group()  # the lines being placed, until answered or not (``_place``)
        self.endings = Group()  # campaign calls' ends being told (``DialerCalls._ended``)
        self.metrics = metrics
        self.agents_domain = agents_domain
        self.router = router  # where a failed leg's SIP status is heard (trunk failover)
        self._greenlet: gevent.Greenlet | None = None
        self._wake = Event()
        self.skips: dict[int, list[str]] = {}  # a preview's lead: the agents who skipped it
        # a preview's agent legs from their originate to the end of their grace, and those
        # of them that parked as calls within it (both emptied when the grace is over)
        self.offers_waiting: set[str] = set()
        self.offers_parked: set[str] = set()
        # those given back at the end of their grace, until they park after all (most never
        # do: the newest GIVEN_BACK_MAX kept, in order)
        self._given_back: dict[str, None] = {}
        self.cdrs = cdrs  # where the CDR of a call that answered nowhere goes (the writer)
        # the writes waiting for the database (``persist``): tried once more at ``stop``
        self._waiting: dict[int, tuple[str, Callable[[Session], object]]] = {}
        self._keys = itertools.count()
        # the attempts before the trunk that answered, until its call takes them (a call
        # already started takes them at once); bounded: its line's end drops them
        self._attempted: dict[str, list[LegTimeline]] = {}
        self._answered: dict[str, CallTimeline] = {}  # campaign calls that may take them

    def start(self) -> None:
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._watch)
            self._greenlet.link_exception(
                lambda g: log.error("dialer: watcher died: %r", g.exception)
            )

    def stop(self, grace: float = 0.0) -> None:
        """No new calls: the runners stopped at once; the lines still ringing given up to
        ``grace`` seconds to end (a no answer, busy... recorded as any: attempt and CDR),
        those still ringing then left to FreeSWITCH (the next run adopts a call one becomes;
        ``release_stale`` gives back a lead whose line never answered). Then the writes
        waiting for the database stopped; each tried once more, and one the database still
        refuses logged at ERROR as lost (its lead stays claimed: ``release_stale`` makes it
        due again, the attempt uncounted)."""
        if self._greenlet is not None:
            self._greenlet.kill(timeout=2.0)
        self.group.kill(timeout=2.0)
        if self.dialling and grace > 0:
            log.info("dialer: %d line(s) ringing: up to %.0f s for them to end",
                     len(self.dialling), grace)  # fmt: skip
            self.dialling.join(timeout=grace)
        if self.dialling:
            log.warning("dialer: %d line(s) still ringing at the stop: left to FreeSWITCH",
                        len(self.dialling))  # fmt: skip
        self.dialling.kill(timeout=2.0)
        self.group.kill(timeout=2.0)  # a write a line left waiting for the database
        waiting, self._waiting = self._waiting, {}
        # the database refused one: the rest are not tried (a connect timeout each would
        # delay the stop), each logged as lost all the same
        down: CallCenterError | None = None
        for what, write in waiting.values():
            try:
                if down is not None:
                    raise down
                with self.database.session_scope() as session:
                    write(session)
            except DatabaseUnavailable as exc:
                down = exc
                log.error("dialer: %s lost: the engine stopped, the database unavailable: %s",
                          what, exc)  # fmt: skip
            except CallCenterError as exc:
                log.error("dialer: %s lost as the engine stopped: %s", what, exc)
            else:
                log.info("dialer: %s stored as the engine stopped", what)

    def settle(self, timeout: float) -> None:
        """The ends of the calls left to drain after ``stop`` (their ``campaign.call_ended``,
        which reads the lead's disposition) told before the database is closed under them;
        one the database holds up longer than ``timeout`` is given up."""
        self.endings.join(timeout=timeout)
        self.endings.kill(timeout=1.0)

    def changed(self, change: Change) -> None:
        """From the change feed: a campaign started (or anything else about campaigns and
        do-not-call lists; a runner reads its campaign every tick): runners now."""
        if change.kind == ChangeKind.CAMPAIGN and change.op == "start":
            self._wake.set()

    def _watch(self) -> None:
        """Runners for the running campaigns at start, on each start the change feed
        reports, every ``RESCAN`` seconds (a notification missed all the same), and
        ``RETRY`` seconds after a read the database refused."""
        while True:
            self._wake.clear()
            wait = RESCAN
            try:
                self.sync()
            except DatabaseUnavailable as exc:
                log.warning("dialer: campaigns not read: %s", exc)
                wait = RETRY
            self._wake.wait(wait)

    def sync(self) -> None:
        """A runner for every running campaign (a stopped one ends by itself); the faults
        of campaigns no longer paused (resumed, stopped, removed) forgotten."""
        with self.database.session_scope() as session:
            rows = session.execute(select(Campaign.name, Campaign.state)).all()
        states = {str(name): state for name, state in rows}
        running = {name for name, state in states.items() if state == CampaignState.RUNNING}
        for name in [n for n in self.faults if states.get(n) != CampaignState.PAUSED]:
            del self.faults[name]
        for name in running:
            runner = self.runners.get(name)
            if runner is None:
                runner = self.runners[name] = CampaignRunner(name, self)
                greenlet = self.group.spawn(self._run, runner)
                greenlet.link_exception(
                    lambda g, n=name: log.error("campaign %s: runner died: %r", n, g.exception)
                )
                log.info("campaign %s: dialling", name)

    def _run(self, runner: CampaignRunner) -> None:
        try:
            runner.run()
        finally:
            if self.runners.get(runner.name) is runner:
                del self.runners[runner.name]
            if self.metrics is not None:
                self.metrics.forget(runner.name)
            log.info("campaign %s: runner stopped", runner.name)

    def problems(self) -> list[str]:
        """For ``/healthz``: campaigns this engine paused for a configuration fault."""
        return [f"campaign {name} paused: {fault}" for name, fault in sorted(self.faults.items())]

    def live(self) -> list[CampaignLive]:
        """The running campaigns now (each as its runner last published it)."""
        return [r.live for r in list(self.runners.values()) if r.live is not None]

    def spec(self, campaign: str) -> CampaignSpec | None:
        runner = self.runners.get(campaign)
        return runner.spec if runner is not None else None

    EVENTS = frozenset({events.AgentStateChanged.type})  # what on_event reads: the bus's filter

    def on_event(self, event: events.Event) -> None:
        """From the event bus (in the publisher's greenlet: only a put): an agent free again
        wakes the runners it may serve, to place its line now rather than at the next tick."""
        if not isinstance(event, events.AgentStateChanged) or event.agent_extension is None:
            return
        if event.state != AgentState.IDLE or event.status != AgentStatus.AVAILABLE:
            return
        for runner in list(self.runners.values()):
            spec = runner.spec
            if spec is None or not spec.agents or event.agent_extension in spec.agents:
                runner.inbox.put(AgentFreed(event.agent_extension))

    def release_lead(self, lead: int, after: timedelta = timedelta(0)) -> None:
        """A claimed lead not called after all (nothing dialled, the agent not reached): due
        again now (or ``after`` that long), no attempt counted (the database down:
        ``release_stale`` does it later)."""
        try:
            with self.database.session_scope() as session:
                store.release(session, lead, datetime.now(UTC) + after)
        except CallCenterError as exc:
            log.error("dialer: lead %s not released: %s", lead, exc)

    def persist(self, what: str, write: Callable[[Session], object]) -> None:
        """``write`` in a transaction now; the database down, again every ``PERSIST_RETRY``
        seconds in the background (for at most ``PERSIST_FOR``), so an attempt is not lost:
        its lead stays claimed meanwhile, not dialled again, and an abandon stays counted.
        An engine stopping tries what is still waiting once more (``stop``), and logs
        what the database still refuses at ERROR as lost (``release_stale`` gives the lead
        back). ``write`` must be idempotent (``store.record_attempt`` is, per call)."""
        try:
            with self.database.session_scope() as session:
                write(session)
        except DatabaseUnavailable as exc:
            log.warning("dialer: %s not stored yet, tried again in the background: %s", what, exc)
            key = next(self._keys)
            self._waiting[key] = (what, write)  # until stored, given up, or the engine stops
            greenlet = self.group.spawn(self._persist_later, key, what, write)
            greenlet.link_exception(
                lambda g: log.error("dialer: %s not stored: %r", what, g.exception)
            )

    def _persist_later(self, key: int, what: str, write: Callable[[Session], object]) -> None:
        deadline = time.monotonic() + PERSIST_FOR
        try:
            while time.monotonic() < deadline:
                gevent.sleep(PERSIST_RETRY)
                try:
                    with self.database.session_scope() as session:
                        write(session)
                except DatabaseUnavailable:
                    continue
                log.info("dialer: %s stored, the database back", what)
                self._waiting.pop(key, None)
                return
            self._waiting.pop(key, None)
            log.error("dialer: %s given up: the database was unavailable for %.0f s", what,
                      PERSIST_FOR)  # fmt: skip
        except GreenletExit:  # the engine stops: ``stop`` tries it once more
            raise
        except BaseException:
            self._waiting.pop(key, None)  # logged by the link
            raise

    def tell(self, event: events.Event) -> None:
        """Publish an event not about a call's actor (the bus: never blocks; a subscriber's
        failure is logged there, not raised)."""
        if self.publish is not None:
            self.publish(event)

    def preview_decided(
        self,
        leg: str,
        campaign: str,
        lead: int,
        agent: str | None,
        number: str | None,
        decision: events.PreviewDecision,
    ) -> None:
        """``campaign.preview_decided`` of the offer ``leg`` (the agent's leg): told by the
        runner when the offer ends before that leg is a call, by the call after."""
        self.tell(events.CampaignPreviewDecided(
            call_uuid=leg, agent_extension=agent, caller_number=number, campaign=campaign,
            lead_id=lead, decision=str(decision),
        ))  # fmt: skip

    def skipped(self, campaign: str, lead: int, agent: str) -> None:
        """A preview's agent skipped the lead (pressed another key than 1, nothing, or hung
        up): due again after ``PREVIEW_SKIP_DELAY`` and not offered to that agent again;
        at its ``PREVIEW_MAX_SKIPS``-th skip parked (done, ``last_outcome`` skipped). The
        skips are this engine's memory: a restart forgets them."""
        skips = self.skips.setdefault(lead, [])
        skips.append(agent)
        parked = len(skips) >= PREVIEW_MAX_SKIPS
        try:
            with self.database.session_scope() as session:
                at = datetime.now(UTC) + PREVIEW_SKIP_DELAY
                store.release(session, lead, at, parked="skipped" if parked else None)
        except CallCenterError as exc:
            log.error("dialer: lead %s not released after a skip: %s", lead, exc)
            return
        if parked:
            del self.skips[lead]
            log.info("campaign %s: lead %s parked after %d skips (%s)", campaign, lead,
                     len(skips), ", ".join(skips))  # fmt: skip

    def give_back(self, leg: str) -> None:
        """A preview's agent leg not parked within its grace: its reservation and its lead
        are being given back (``CampaignRunner._unless_parked``)."""
        if len(self._given_back) >= GIVEN_BACK_MAX:
            del self._given_back[next(iter(self._given_back))]
        self._given_back[leg] = None

    def given_back(self, leg: str) -> bool:
        """Whether the preview offer of agent leg ``leg``, parked now, was given back at the
        end of its grace (asked once: the answer is forgotten)."""
        if leg not in self._given_back:
            return False
        del self._given_back[leg]
        return True

    def attempts_before(self, answered: str, legs: list[LegTimeline]) -> None:
        """The trunks tried before leg ``answered``: legs of its call's CDR, now if its call
        runs (``call_started``), else when it starts."""
        timeline = self._answered.pop(answered, None)
        if timeline is not None:
            _join(timeline, legs)
            return
        if len(self._attempted) >= ATTEMPTED_MAX:  # calls that never started: the oldest
            del self._attempted[next(iter(self._attempted))]
        self._attempted[answered] = legs

    def call_started(self, uuid: str, timeline: CallTimeline) -> None:
        """A campaign's answered call began (``dialer.calls``): the attempts before it join
        its timeline, now or when they are known (until ``call_left``)."""
        legs = self._attempted.pop(uuid, None)
        if legs is not None:
            _join(timeline, legs)
        else:
            self._answered[uuid] = timeline

    def call_left(self, uuid: str) -> None:
        self._answered.pop(uuid, None)

    def line_done(self, campaign: str, done: LineDone) -> None:
        self._attempted.pop(done.leg, None)
        runner = self.runners.get(campaign)
        if runner is not None:
            runner.inbox.put(done)
        if done.counted:  # a preview skipped or not taken dialled nothing
            self.metrics_dial(campaign, done.outcome)

    def metrics_dial(self, campaign: str, outcome: Outcome) -> None:
        if self.metrics is not None:
            self.metrics.dialled(campaign, outcome)


def _join(timeline: CallTimeline, legs: list[LegTimeline]) -> None:
    for leg in legs:
        timeline.legs.setdefault(leg.uuid, leg)

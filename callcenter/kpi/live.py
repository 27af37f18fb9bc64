"""Live KPIs since the engine started, per queue and per agent (docs/kpis.md).

Fed by the ACD's metric hooks (a stay closed with its outcome and wait, measured by the
dispatcher; the queues as loaded) and by the event bus (a call's CDR at its end, agents'
status and state changes). Each hook only adds to counters and bounded tables; the ratios
are computed with ``kpi.formulas`` at scrape time (and for ``/api/v1/kpis``).

Labels stay bounded: known queues, known agents, the exit reasons, the pause reason codes
configured (others are counted as ``other``). Every known queue's and agent's series exist at
0 from the start: a service level of a queue without calls yet is NaN ("no data to measure"
stated, not a missing series).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from callcenter.events.types import AgentStateChanged, AgentStatusChanged, CallEnded, Event
from callcenter.kpi import formulas as f
from callcenter.kpi.formulas import QueueTally, SlFormula
from callcenter.metrics.children import Children

WAITS_KEPT = 1000  # the p90 wait is of the last this many stays of the queue
_SL_HELP = "; ".join(f"{k}: {v}" for k, v in f.SL_FORMULAS.items())
HANDLING = ("in_call", "wrap_up")


@dataclass(frozen=True, slots=True)
class QueueKpiSpec:
    """What a queue's KPIs need of its settings."""

    threshold: int = 20  # service_level_seconds
    short_abandon: int = f.DEFAULT_SHORT_ABANDON_SECONDS
    formula: str = str(SlFormula.OFFERED)


@dataclass(frozen=True, slots=True)
class Floor:
    """The board now: each agent's (extension, status, state, pause reason) and each
    queue's members."""

    agents: tuple[tuple[str, str, str, str | None], ...] = ()
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(slots=True)
class _Agent:
    status: str
    state: str
    since: float
    reason: str | None = None
    queue: str | None = None  # in wrap-up: the queue of the call wrapped up
    seconds: dict[str, float] = field(default_factory=dict)  # handling, idle, logged_in
    paused: dict[str, float] = field(default_factory=dict)  # by reason


class LiveKpis:
    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        pause_reasons: Collection[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.pause_reasons = frozenset(pause_reasons)
        self.floor: Callable[[], Floor | None] = lambda: None
        self.specs: dict[str, QueueKpiSpec] = {}
        self.tallies: dict[str, QueueTally] = {}
        self.waits: dict[str, deque[float]] = {}
        self.agents: dict[str, _Agent] = {}
        self._counters(registry)
        registry.register(_Gauges(self))

    def _counters(self, registry: CollectorRegistry) -> None:
        def counter(
            name: str, text: str, labels: Sequence[str] = ("queue",)
        ) -> Children[Counter]:  # its children by label values (``Children``)
            return Children(Counter(name, text, list(labels), registry=registry))

        self.offered = counter(
            "callcenter_queue_offered_total",
            "Stays closed in the queue (every outcome): " + f.FORMULAS["offered"],
        )
        self.answered = counter("callcenter_queue_answered_total", "Stays answered by an agent.")
        self.abandoned = counter(
            "callcenter_queue_abandoned_total",
            "Callers who hung up while waiting (short abandons included).",
        )
        self.short = counter(
            "callcenter_queue_short_abandoned_total",
            "Abandons with wait < the queue's short_abandon_seconds.",
        )
        self.within = counter(
            "callcenter_queue_answered_within_threshold_total",
            "Answered with wait <= the queue's service_level_seconds (T).",
        )
        self.abandoned_within = counter(
            "callcenter_queue_abandoned_within_threshold_total", "Abandoned with wait <= T."
        )
        self.callbacks = counter(
            "callcenter_queue_callbacks_total", "Callers who left the queue for a callback."
        )
        self.exits = counter(
            "callcenter_queue_exits_total",
            "Callers the queue sent elsewhere, by exit reason (timeout, "
            "overflow, full, no_agent, exit_key, transferred).",
            ("queue", "reason"),
        )
        self.handled = counter(
            "callcenter_queue_handled_total", "Calls of the queue an agent answered (their CDRs)."
        )
        self.handle_seconds = counter(
            "callcenter_queue_handle_seconds_total",
            "Talk + hold of the handled calls (their CDRs) + the wrap-ups after the "
            "queue's calls (as they run). AHT = this / callcenter_queue_handled_total.",
        )
        agent = ("agent",)
        self.agent_calls = counter(
            "callcenter_agent_calls_total",
            "Calls the agent answered (CDRs naming the agent).",
            agent,
        )
        self.agent_talk = counter(
            "callcenter_agent_talk_seconds_total",
            "Seconds the agent talked (CDR talk time).",
            agent,
        )
        self.agent_hold = counter(
            "callcenter_agent_hold_seconds_total",
            "Seconds the agent's callers were on hold.",
            agent,
        )
        self.agent_wrapup = counter(
            "callcenter_agent_wrapup_seconds_total",
            "Seconds in wrap-up after the agent's calls, logged in (as they run).",
            agent,
        )
        self.agent_rna = counter(
            "callcenter_agent_ring_no_answer_total",
            "Offers the agent's phone rang and nobody answered (a caller who hung up "
            "meanwhile, a ring-all lost, a busy or unreachable phone are not counted).",
            agent,
        )
        self.agent_paused = counter(
            "callcenter_agent_pause_seconds_total",
            "Seconds paused, by reason code (unknown codes: other).",
            ("agent", "reason"),
        )
        self.agent_logged_in = counter(
            "callcenter_agent_logged_in_seconds_total",
            "Seconds logged in (available or paused).",
            agent,
        )

    # -- the ACD's hooks ------------------------------------------------------------------

    def queues_loaded(self, specs: Mapping[str, QueueKpiSpec]) -> None:
        self.specs = dict(specs)
        for name in specs:
            self._known_queue(name)

    def queue_changed(self, name: str, spec: QueueKpiSpec | None) -> None:
        if spec is None:
            self.specs.pop(name, None)
            return
        self.specs[name] = spec
        self._known_queue(name)

    def _known_queue(self, name: str) -> None:
        for counter in (self.offered, self.answered, self.abandoned, self.short, self.within,
                        self.abandoned_within, self.callbacks, self.handled,
                        self.handle_seconds):  # fmt: skip
            counter(name)
        for reason in f.EXITS:
            self.exits(name, reason)
        self.tallies.setdefault(name, QueueTally())
        self.waits.setdefault(name, deque(maxlen=WAITS_KEPT))

    def stay_closed(self, queue: str, outcome: str, wait: float) -> None:
        """A caller left ``queue`` after ``wait`` seconds (the dispatcher's measure)."""
        spec = self.specs.get(queue)
        if spec is None:
            return  # a queue removed meanwhile: its series are no longer shown
        one = f.tally_stays([f.Stay(queue, "", outcome, wait)], spec.threshold, spec.short_abandon)
        self.tallies[queue] = self.tallies.get(queue, QueueTally()) + one
        self.waits.setdefault(queue, deque(maxlen=WAITS_KEPT)).append(wait)
        self.offered(queue).inc()
        for counter, count in ((self.answered, one.answered), (self.abandoned, one.abandoned),
                               (self.short, one.short_abandoned),
                               (self.within, one.answered_within),
                               (self.abandoned_within, one.abandoned_within),
                               (self.callbacks, one.callbacks)):  # fmt: skip
            if count:
                counter(queue).inc(count)
        for reason, count in one.exits.items():
            self.exits(queue, reason).inc(count)

    # -- the event bus ----------------------------------------------------------------------

    # the types on_event reads: the bus calls it for no other
    EVENTS = frozenset({CallEnded.type, AgentStateChanged.type, AgentStatusChanged.type})

    def on_event(self, event: Event) -> None:
        if isinstance(event, CallEnded):
            self._call_ended(event)
        elif isinstance(event, AgentStateChanged) and event.agent_extension:
            if event.missed:
                self.agent_rna(event.agent_extension).inc()
            extension, at = event.agent_extension, event.at.timestamp()
            self._moved(extension, event.status, event.state, at, event.reason, event.queue)
        elif isinstance(event, AgentStatusChanged) and event.agent_extension:
            agent = self.agents.get(event.agent_extension)
            if agent is not None and event.status == "paused":
                agent.reason = event.reason

    def _call_ended(self, event: CallEnded) -> None:
        cdr = event.cdr
        extension = getattr(cdr, "agent_extension", None)
        if cdr is None or extension is None:
            return
        talk, hold = cdr.talk_ms / 1000, cdr.hold_ms / 1000  # the wrap-up comes after
        self.agent_calls(extension).inc()
        self.agent_talk(extension).inc(talk)
        self.agent_hold(extension).inc(hold)
        queue = cdr.queue
        if queue in self.specs:
            self.tallies[queue] += QueueTally(handled=1, talk=talk, hold=hold)
            self.handled(queue).inc()
            self.handle_seconds(queue).inc(talk + hold)

    def _moved(self, extension: str, status: str, state: str, at: float,
               reason: str | None = None, queue: str | None = None) -> None:  # fmt: skip
        agent = self.agents.get(extension)
        if agent is None:
            self._known_agent(extension)
            self.agents[extension] = _Agent(status, state, at, reason, _wrapping(state, queue))
            return
        self._close(extension, agent, at)
        if status != agent.status:
            agent.reason = None
        if status == "paused" and reason:
            agent.reason = reason
        if state != "wrap_up" or agent.state != "wrap_up" or queue is not None:
            agent.queue = _wrapping(state, queue)  # a status change in wrap-up keeps it
        agent.status, agent.state = status, state

    def _close(self, extension: str, agent: _Agent, at: float) -> None:
        seconds = max(0.0, at - agent.since)
        agent.since = max(agent.since, at)
        for key, spent in _split(agent, seconds).items():
            agent.seconds[key] = agent.seconds.get(key, 0.0) + spent
        if agent.status != "logged_out":
            self.agent_logged_in(extension).inc(seconds)
            if agent.state == "wrap_up":
                self._wrapped(extension, agent.queue, seconds)
        if agent.status == "paused":
            reason = self._reason(agent.reason)
            agent.paused[reason] = agent.paused.get(reason, 0.0) + seconds
            self.agent_paused(extension, reason).inc(seconds)

    def _wrapped(self, extension: str, queue: str | None, seconds: float) -> None:
        """Wrap-up time: the agent's, and its queue's handle time (the CDR, written when the
        call ended, has none)."""
        self.agent_wrapup(extension).inc(seconds)
        if queue in self.specs:
            self.tallies[queue] += QueueTally(wrapup=seconds)
            self.handle_seconds(queue).inc(seconds)

    def _reason(self, reason: str | None) -> str:
        if reason is None:
            return "unspecified"
        return reason if reason in self.pause_reasons else "other"

    def _known_agent(self, extension: str) -> None:
        for counter in (self.agent_calls, self.agent_talk, self.agent_hold, self.agent_wrapup,
                        self.agent_rna, self.agent_logged_in):  # fmt: skip
            counter(extension)

    # -- reading --------------------------------------------------------------------------

    def sync(self) -> Floor | None:
        """Take the board's view: agents seen for the first time, pause reasons; then count
        every agent's time up to now."""
        floor = self.floor()
        now = self.clock()
        for extension, status, state, reason in floor.agents if floor is not None else ():
            agent = self.agents.get(extension)
            if agent is None:
                self._known_agent(extension)
                self.agents[extension] = _Agent(status, state, now, reason)
                continue
            if (status, state) != (agent.status, agent.state):  # a change not yet told
                self._moved(extension, status, state, now, reason)
        for extension, agent in self.agents.items():
            self._close(extension, agent, now)
        return floor

    def queue_figures(self) -> list[dict[str, Any]]:
        floor = self.sync()
        members = floor.members if floor is not None else {}
        out = []
        for name in sorted(self.specs):
            spec, tally = self.specs[name], self.tallies.get(name, QueueTally())
            served = [self.agents[x] for x in members.get(name, ()) if x in self.agents]
            handling = sum(a.seconds.get("handling", 0.0) for a in served)
            idle = sum(a.seconds.get("idle", 0.0) for a in served)
            states: dict[str, int] = {}
            for a in served:
                key = f"{a.status}/{a.state}"
                states[key] = states.get(key, 0) + 1
            out.append({
                "queue": name, "sl_formula": spec.formula, "service_level_seconds": spec.threshold,
                "offered": tally.offered, "answered": tally.answered,
                "abandoned": tally.abandoned, "short_abandoned": tally.short_abandoned,
                "callbacks": tally.callbacks, "exits": dict(tally.exits),
                "service_level": f.service_level(tally, spec.formula),
                "abandon_rate": f.abandon_rate(tally), "asa_seconds": f.asa(tally),
                "average_wait_seconds": f.average_wait(tally),
                "wait_p90_seconds": f.percentile(list(self.waits.get(name, ()))),
                "handled": tally.handled, "aht_seconds": f.aht(tally),
                "occupancy": f.occupancy(handling, idle), "agents": states,
            })  # fmt: skip
        return out

    def agent_figures(self) -> list[dict[str, Any]]:
        self.sync()
        out = []
        for extension in sorted(self.agents):
            agent = self.agents[extension]
            handling = agent.seconds.get("handling", 0.0)
            idle = agent.seconds.get("idle", 0.0)
            out.append({
                "agent": extension, "status": agent.status, "state": agent.state,
                "calls": _value(self.agent_calls, extension),
                "talk_seconds": _value(self.agent_talk, extension),
                "hold_seconds": _value(self.agent_hold, extension),
                "wrapup_seconds": _value(self.agent_wrapup, extension),
                "ring_no_answer": _value(self.agent_rna, extension),
                "logged_in_seconds": agent.seconds.get("logged_in", 0.0),
                "handling_seconds": handling, "available_idle_seconds": idle,
                "occupancy": f.occupancy(handling, idle), "pause_seconds": dict(agent.paused),
            })  # fmt: skip
        return out


def _wrapping(state: str, queue: str | None) -> str | None:
    return queue if state == "wrap_up" else None


def _split(agent: _Agent, seconds: float) -> dict[str, float]:
    """Where ``seconds`` in the agent's current status and state count."""
    if agent.status == "logged_out":
        return {}
    out = {"logged_in": seconds}
    if agent.state in HANDLING:
        out["handling"] = seconds
    elif agent.status == "available":
        out["idle"] = seconds
    return out


def _value(counter: Children[Counter], agent: str) -> float:
    return float(counter(agent)._value.get())


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


class _Gauges(Collector):
    def __init__(self, kpis: LiveKpis) -> None:
        self.kpis = kpis

    def collect(self) -> Iterator[GaugeMetricFamily]:
        queues = self.kpis.queue_figures()
        agents = self.kpis.agent_figures()
        gauges = {
            "service_level": GaugeMetricFamily(
                "callcenter_queue_service_level_ratio",
                "Service level since the engine started, by the queue's formula (see "
                f"callcenter_queue_sl_formula_info): {_SL_HELP}. T: the queue's "
                "service_level_seconds. NaN: no call to measure yet.", labels=["queue"]),
            "abandon_rate": GaugeMetricFamily(
                "callcenter_queue_abandon_rate_ratio", f.FORMULAS["abandon_rate"] + ".",
                labels=["queue"]),
            "asa_seconds": GaugeMetricFamily(
                "callcenter_queue_asa_seconds", "Average speed of answer: "
                + f.FORMULAS["asa"] + ".", labels=["queue"]),
            "average_wait_seconds": GaugeMetricFamily(
                "callcenter_queue_average_wait_seconds", f.FORMULAS["average_wait"] + ".",
                labels=["queue"]),
            "wait_p90_seconds": GaugeMetricFamily(
                "callcenter_queue_wait_p90_seconds",
                f"90th percentile (nearest rank) wait of the queue's last {WAITS_KEPT} stays.",
                labels=["queue"]),
            "aht_seconds": GaugeMetricFamily(
                "callcenter_queue_aht_seconds", "Average handle time: " + f.FORMULAS["aht"] + ".",
                labels=["queue"]),
            "occupancy": GaugeMetricFamily(
                "callcenter_queue_occupancy_ratio", "Occupancy of the queue's members: "
                + f.FORMULAS["occupancy"] + ", summed over them.", labels=["queue"]),
        }  # fmt: skip
        members = GaugeMetricFamily(
            "callcenter_queue_agents",
            "The queue's members by status (logged_out, available, paused) and state.",
            labels=["queue", "status", "state"],
        )
        formula = GaugeMetricFamily(
            "callcenter_queue_sl_formula_info",
            f"Always 1; the label says the queue's service level formula: {_SL_HELP}.",
            labels=["queue", "formula"],
        )
        for row in queues:
            for key, gauge in gauges.items():
                gauge.add_metric([row["queue"]], _nan(row[key]))
            formula.add_metric([row["queue"], row["sl_formula"]], 1)
            for pair, count in row["agents"].items():
                members.add_metric([row["queue"], *pair.split("/")], count)
        occupancy = GaugeMetricFamily(
            "callcenter_agent_occupancy_ratio",
            "Since the engine started: " + f.FORMULAS["occupancy"] + ".",
            labels=["agent"],
        )
        for row in agents:
            occupancy.add_metric([row["agent"]], _nan(row["occupancy"]))
        yield from gauges.values()
        yield formula
        yield members
        yield occupancy

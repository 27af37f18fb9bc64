"""ACD metrics: live gauges from a snapshot of the board taken at scrape time (``BoardFigures``,
made by the dispatcher's greenlet, which alone reads its board), counters as things happen.

Labels stay bounded: queue names and the agent status/state vocabularies, never a call.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from callcenter.kpi.live import Floor, LiveKpis, QueueKpiSpec
from callcenter.metrics.children import Children
from callcenter.store.records import QueueRecord
from callcenter.vocabulary import QueueOutcome

if TYPE_CHECKING:
    from callcenter.acd.board import Board

_WAIT_BUCKETS = (1, 5, 10, 20, 30, 60, 120, 300, 600, 1800)


@dataclass(frozen=True, slots=True)
class BoardFigures:
    """What the gauges show, as values: per queue (name, waiting, longest wait seconds), and
    agents counted by (status, state)."""

    queues: tuple[tuple[str, int, float], ...] = ()
    agents: tuple[tuple[tuple[str, str], int], ...] = ()


def figures(board: Board, now: float) -> BoardFigures:
    """The board's figures now (run by the board's owner)."""
    queues = []
    for name in sorted(board.queues):
        waiting = board.waiting(name)
        oldest = min((t.joined_at for t in waiting), default=now)
        queues.append((name, len(waiting), max(0.0, now - oldest)))
    tally = Tally((str(a.status), str(a.state)) for a in board.agents.values())
    return BoardFigures(tuple(queues), tuple(sorted(tally.items())))


Figures = Callable[[], BoardFigures | None]


def kpi_spec(queue: QueueRecord) -> QueueKpiSpec:
    return QueueKpiSpec(queue.service_level_seconds, queue.short_abandon_seconds, queue.sl_formula)


def floor(board: Board, now: float) -> Floor:
    """The agents and the queues' members, for the live KPIs (run by the board's owner)."""
    agents = tuple(
        (a.extension, str(a.status), str(a.state), a.pause_reason)
        for a in sorted(board.agents.values(), key=lambda a: a.extension)
    )
    members = {name: tuple(m.extension for m in q.members) for name, q in board.queues.items()}
    return Floor(agents, members)


class AcdMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        # collected before the counters below: every known queue's series exist, at 0,
        # before its first call (a dashboard shows 0 %, not "No data")
        registry.register(_KnownQueues(self))
        self.calls = Counter(
            "callcenter_queue_calls_total",
            "Callers leaving a queue, by queue and outcome (answered, abandoned, timeout, "
            "no_agent, full, exit_key, overflow, ...). Abandon rate = abandoned / sum over "
            "outcomes.",
            ["queue", "outcome"],
            registry=registry,
        )
        self.answered_in_sla = Counter(
            "callcenter_queue_answered_within_sla_total",
            "Callers answered within the queue's service_level_seconds. Service level = "
            "this / callcenter_queue_calls_total{outcome='answered'}.",
            ["queue"],
            registry=registry,
        )
        self.wait = Histogram(
            "callcenter_queue_wait_seconds",
            "Seconds from joining a queue to leaving it (answered or not).",
            ["queue", "outcome"],
            buckets=_WAIT_BUCKETS,
            registry=registry,
        )
        self.offers = Counter(
            "callcenter_queue_offers_total",
            "Calls offered to an agent's phone, by queue and result (answered, no_answer, "
            "busy (on another call), rejected (the phone refused while free: its busy or reject "
            "button), unreachable, caller_gone, lost_race (ring-all), error).",
            ["queue", "result"],
            registry=registry,
        )
        self.invariant_violations = Counter(
            "callcenter_acd_invariant_violations_total",
            "ACD invariants found broken on the live board (acd.auditor), by rule: "
            "offered_twice, no_live_call, passed_over, outcome_twice, no_outcome. Anything but "
            "0 is a bug.",
            ["rule"],
            registry=registry,
        )
        # the children the dispatcher counts into, by label values in the labels' order
        self.calls_by = Children(self.calls)  # queue, outcome
        self.wait_by = Children(self.wait)  # queue, outcome
        self.offers_by = Children(self.offers)  # queue, result
        self.answered_in_sla_by = Children(self.answered_in_sla)  # queue
        for rule in ("offered_twice", "no_live_call", "passed_over", "outcome_twice", "no_outcome"):
            self.invariant_violations.labels(rule=rule)
        self._gauges = _BoardGauges()
        registry.register(self._gauges)
        self.kpis: LiveKpis | None = None  # the live KPIs (kpi.live), fed from here

    # -- the live KPIs' hooks (called by the dispatcher, the board's owner) -------------------

    def queues_loaded(self, queues: Sequence[QueueRecord]) -> None:
        if self.kpis is not None:
            self.kpis.queues_loaded({q.name: kpi_spec(q) for q in queues})

    def queue_changed(self, name: str, record: QueueRecord | None) -> None:
        if self.kpis is not None:
            self.kpis.queue_changed(name, kpi_spec(record) if record is not None else None)

    def stay_closed(self, queue: str, outcome: QueueOutcome, waited: float) -> None:
        if self.kpis is not None:
            self.kpis.stay_closed(queue, str(outcome), waited)

    def watch(self, read: Figures) -> None:
        """Export the live gauges ``read`` gives at each scrape (None: nothing to show)."""
        self._gauges.read = read


class _KnownQueues(Collector):
    def __init__(self, metrics: AcdMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauges = getattr(self.metrics, "_gauges", None)
        known = gauges.take() if gauges is not None else None
        for name, _, _ in known.queues if known is not None else ():
            self.metrics.answered_in_sla.labels(queue=name)
            for outcome in QueueOutcome:
                self.metrics.calls.labels(queue=name, outcome=str(outcome))
        yield from ()


class _BoardGauges(Collector):
    def __init__(self) -> None:
        self.read: Figures = lambda: None
        self._taken: BoardFigures | None = None

    def take(self) -> BoardFigures | None:
        """Read the figures once per scrape (the known queues' collector runs first)."""
        self._taken = self.read()
        return self._taken

    def collect(self) -> Iterator[GaugeMetricFamily]:
        taken, self._taken = self._taken, None
        board = taken if taken is not None else self.read()
        waiting = GaugeMetricFamily(
            "callcenter_queue_waiting_calls",
            "Callers waiting in the queue now (not yet answered by an agent).",
            labels=["queue"],
        )
        longest = GaugeMetricFamily(
            "callcenter_queue_longest_wait_seconds",
            "Seconds the longest-waiting caller of the queue has waited so far (0: nobody).",
            labels=["queue"],
        )
        agents = GaugeMetricFamily(
            "callcenter_agents",
            "Agents known to the ACD, by status (logged_out, available, paused) and state "
            "(idle, offering, in_call, wrap_up).",
            labels=["status", "state"],
        )
        if board is not None:
            for name, count, seconds in board.queues:
                waiting.add_metric([name], count)
                longest.add_metric([name], seconds)
            for (status, state), count in board.agents:
                agents.add_metric([status, state], count)
        yield waiting
        yield longest
        yield agents

"""ACD metrics: live gauges read from the board at scrape time, counters as things happen.

Labels stay bounded: queue names and the agent status/state vocabularies, never a call.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from callcenter.vocabulary import QueueOutcome

if TYPE_CHECKING:
    from callcenter.acd.board import Board

_WAIT_BUCKETS = (1, 5, 10, 20, 30, 60, 120, 300, 600, 1800)


class AcdMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        # collected before the counters below: every known queue's series exist, at 0,
        # before its first call (a dashboard shows 0 %, not "No data")
        registry.register(_KnownQueues(self))
        self.calls = Counter(
            "callcenter_queue_calls_total",
            "Callers leaving a queue, by queue and outcome (answered, abandoned, timeout, "
            "overflow). Abandon rate = abandoned / sum over outcomes.",
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
            "busy, unreachable, caller_gone, lost_race (ring-all), error).",
            ["queue", "result"],
            registry=registry,
        )
        self._gauges = _BoardGauges()
        registry.register(self._gauges)

    def watch(self, board: Board, clock: Callable[[], float]) -> None:
        """Export the live gauges of this board (its times are ``clock`` seconds)."""
        self._gauges.board, self._gauges.clock = board, clock


class _KnownQueues(Collector):
    def __init__(self, metrics: AcdMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauges = getattr(self.metrics, "_gauges", None)
        board = gauges.board if gauges is not None else None
        for name in list(board.queues) if board is not None else ():
            self.metrics.answered_in_sla.labels(queue=name)
            for outcome in QueueOutcome:
                self.metrics.calls.labels(queue=name, outcome=str(outcome))
        yield from ()


class _BoardGauges(Collector):
    def __init__(self) -> None:
        self.board: Board | None = None
        self.clock: Callable[[], float] = lambda: 0.0

    def collect(self) -> Iterator[GaugeMetricFamily]:
        board = self.board
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
            now = self.clock()
            for name in sorted(board.queues):
                queue = board.waiting(name)
                waiting.add_metric([name], len(queue))
                oldest = min((t.joined_at for t in queue), default=now)
                longest.add_metric([name], max(0.0, now - oldest))
            tally = Tally((str(a.status), str(a.state)) for a in board.agents.values())
            for (status, state), count in sorted(tally.items()):
                agents.add_metric([status, state], count)
        yield waiting
        yield longest
        yield agents

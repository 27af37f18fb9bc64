"""Prometheus metrics of the ESL layer: connections, events, commands, queues."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

_COMMAND_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ESLMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.connected = Gauge(
            "callcenter_esl_connected",
            "1 while the ESL connection to the node is authenticated and subscribed, else 0.",
            ["node"],
            registry=registry,
        )
        self.reconnects = Counter(
            "callcenter_esl_reconnects_total",
            "Times the connection to the node was re-established after being lost.",
            ["node"],
            registry=registry,
        )
        # Counted in a plain dict per node on the reader's hot path, exported at scrape time:
        # a prometheus Counter.inc() (with its lock) costs more than routing the event.
        self._event_counts: dict[str, dict[str, int]] = {}
        registry.register(_EventCounts(self._event_counts))
        self.commands = Counter(
            "callcenter_esl_commands_total",
            "Commands sent to the node by kind (api, bgapi, execute) and outcome "
            "(ok, error, timeout, disconnected, call_gone).",
            ["node", "kind", "outcome"],
            registry=registry,
        )
        self.command_seconds = Histogram(
            "callcenter_esl_command_seconds",
            "Seconds from sending a command to its final result (api response, "
            "BACKGROUND_JOB, or CHANNEL_EXECUTE_COMPLETE).",
            ["node", "kind"],
            buckets=_COMMAND_BUCKETS,
            registry=registry,
        )
        self.queue_depth = Gauge(
            "callcenter_esl_event_queue_depth",
            "Events waiting in a router queue; 'calls' sums every live call's mailbox.",
            ["queue"],
            registry=registry,
        )
        self.drops = Counter(
            "callcenter_esl_event_drops_total",
            "Events dropped because the queue was full ('calls' = any call mailbox).",
            ["queue"],
            registry=registry,
        )
        self.parse_errors = Counter(
            "callcenter_esl_parse_errors_total",
            "Messages from the node that could not be framed or decoded.",
            ["node"],
            registry=registry,
        )
        self.events_rejected = Counter(
            "callcenter_esl_events_rejected_total",
            "Events from the node dropped one by one because their body did not decode "
            "(malformed, or nested too deep); the connection and "
            "the commands waiting on it carry on. Also counted in "
            "callcenter_esl_parse_errors_total.",
            ["node"],
            registry=registry,
        )
        self.greenlet_failures = Counter(
            "callcenter_esl_greenlet_failures_total",
            "ESL greenlets (supervisor, reader) that died with an unexpected exception.",
            ["node", "greenlet"],
            registry=registry,
        )
        self._command_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def set_connected(self, node: str, up: bool) -> None:
        self.connected.labels(node=node).set(1 if up else 0)

    def reconnected(self, node: str) -> None:
        self.reconnects.labels(node=node).inc()

    def events_total(self) -> int:
        return sum(sum(counts.values()) for counts in self._event_counts.values())

    def event_counts(self, node: str) -> dict[str, int]:
        """The node's events by name, for its reader to count into (``counts[name] += 1``)."""
        return self._event_counts.setdefault(node, {})

    def event(self, node: str, name: str) -> None:
        counts = self.event_counts(node)
        counts[name] = counts.get(name, 0) + 1

    def command(self, node: str, kind: str, outcome: str, seconds: float) -> None:
        key = (node, kind, outcome)
        children = self._command_children.get(key)
        if children is None:
            children = self._command_children[key] = (
                self.commands.labels(node=node, kind=kind, outcome=outcome),
                self.command_seconds.labels(node=node, kind=kind),
            )
        children[0].inc()
        children[1].observe(seconds)

    def parse_error(self, node: str) -> None:
        self.parse_errors.labels(node=node).inc()

    def event_rejected(self, node: str) -> None:
        self.events_rejected.labels(node=node).inc()
        self.parse_errors.labels(node=node).inc()

    def dropped(self, queue: str) -> None:
        self.drops.labels(queue=queue).inc()

    def track_queue(self, queue: str, depth: Callable[[], float]) -> None:
        self.queue_depth.labels(queue=queue).set_function(depth)

    def untrack_queue(self, queue: str) -> None:
        try:
            self.queue_depth.remove(queue)
        except KeyError:
            return

    def greenlet_failed(self, node: str, greenlet: str) -> None:
        self.greenlet_failures.labels(node=node, greenlet=greenlet).inc()


class _EventCounts(Collector):
    def __init__(self, counts: dict[str, dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "callcenter_esl_events",
            "Events received from the node and decoded, by Event-Name.",
            labels=["node", "event"],
        )
        for node, counts in sorted(list(self._counts.items())):
            for name, count in sorted(list(counts.items())):
                family.add_metric([node, name], count)
        yield family

    def describe(self) -> Iterator[CounterMetricFamily]:
        return self.collect()

"""IVR metrics. Labels stay bounded: flow and node names come from validated files."""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter


class NodeEvent(StrEnum):
    ENTERED = "entered"
    COMPLETED = "completed"
    TIMEOUT = "timeout"
    INVALID = "invalid"
    HANGUP = "hangup"


class IvrMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.nodes = Counter(
            "callcenter_ivr_node_total",
            "IVR node events by flow, node and event: entered (each visit), completed (left "
            "towards a next node or a final action), timeout (an input attempt with no digit), "
            "invalid (digits that matched nothing or failed validation), hangup (the caller "
            "left while in the node). Completion rate of a node = completed / entered.",
            ["flow", "node", "event"],
            registry=registry,
        )
        self.outcomes = Counter(
            "callcenter_ivr_outcomes_total",
            "Calls leaving an IVR flow, by flow and final action (queue, transfer, voicemail, "
            "hangup, goto_flow).",
            ["flow", "outcome"],
            registry=registry,
        )

    def node(self, flow: str, node: str, event: NodeEvent) -> None:
        self.nodes.labels(flow=flow, node=node, event=str(event)).inc()

    def outcome(self, flow: str, outcome: str) -> None:
        self.outcomes.labels(flow=flow, outcome=outcome).inc()

"""Call metrics. Labels stay bounded: direction and outcome, never a call UUID."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from callcenter.metrics.children import Children


class CallMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.active = Gauge(
            "callcenter_calls_active",
            "Calls the engine is handling now (parked or later, not yet ended), by direction.",
            ["direction"],
            registry=registry,
        )
        self.total = Counter(
            "callcenter_calls_total",
            "Calls ended, by direction and outcome (the CDR disposition).",
            ["direction", "outcome"],
            registry=registry,
        )
        self.active_by = Children(self.active)  # direction
        self.total_by = Children(self.total)  # direction, outcome
        self.adopted = Counter(
            "callcenter_calls_adopted_total",
            "Live calls taken over after an ESL reconnect or a controller restart.",
            registry=registry,
        )
        self.closed_on_resync = Counter(
            "callcenter_calls_closed_on_resync_total",
            "Calls found ended while the engine was away, closed with their CDR at resync.",
            registry=registry,
        )
        self.rejected = Counter(
            "callcenter_calls_rejected_total",
            "New calls hung up at once because the engine was shutting down.",
            registry=registry,
        )
        self.actor_errors = Counter(
            "callcenter_call_actor_errors_total",
            "Call actors that stopped on an unexpected error (a bug), by error type.",
            ["error"],
            registry=registry,
        )
        self.supervision = Counter(
            "callcenter_supervision_sessions_total",
            "Supervisor sessions asked through the CLI or API (listen, whisper, barge), ended, "
            "by the mode asked for and how they ended (supervisor_hangup, call_ended, "
            "not_answered, not_dialled, gone, failed).",
            ["mode", "end"],
            registry=registry,
        )

"""Per-trunk call metrics. Labels bounded: ``trunk`` is a configured trunk or a gateway an
outbound route names (never a number), ``cause`` a FreeSWITCH hangup cause name or OTHER."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from callcenter.vocabulary import HangupCause


def cause_label(cause: str) -> str:
    return cause if cause in HangupCause.__members__ else "OTHER"


class TrunkMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "callcenter_trunk_attempts_total",
            "Outbound calls tried through a trunk (each failover attempt counts); calls per "
            "second = rate(callcenter_trunk_attempts_total[1m]).",
            ["trunk"],
            registry=registry,
        )
        self.answers = Counter(
            "callcenter_trunk_answers_total",
            "Outbound calls through a trunk that were answered.",
            ["trunk"],
            registry=registry,
        )
        self.failures = Counter(
            "callcenter_trunk_failures_total",
            "Outbound attempts through a trunk that failed, by FreeSWITCH hangup cause.",
            ["trunk", "cause"],
            registry=registry,
        )
        self.refused = Counter(
            "callcenter_trunk_limited_total",
            "Attempts not placed on a trunk because of its limits, by limit (channels, cps).",
            ["trunk", "limit"],
            registry=registry,
        )
        self.asr = Gauge(
            "callcenter_trunk_answer_seizure_ratio",
            "Answer-seizure ratio = answers / attempts since the engine started, per trunk.",
            ["trunk"],
            registry=registry,
        )
        self.talk_seconds = Counter(
            "callcenter_trunk_call_seconds_total",
            "Answered time of calls through a trunk (billsec); average call duration = "
            "callcenter_trunk_call_seconds_total / callcenter_trunk_calls_ended_total.",
            ["trunk"],
            registry=registry,
        )
        self.ended = Counter(
            "callcenter_trunk_calls_ended_total",
            "Answered calls through a trunk that ended (inbound and outbound).",
            ["trunk"],
            registry=registry,
        )
        self.channels = Gauge(
            "callcenter_trunk_channels_active",
            "Channels in use on a trunk now, inbound and outbound (what max_channels limits).",
            ["trunk"],
            registry=registry,
        )
        self._counts: dict[str, tuple[int, int]] = {}

    def attempt(self, trunk: str, *, answered: bool, cause: str = "") -> None:
        self.attempts.labels(trunk).inc()
        tried, ok = self._counts.get(trunk, (0, 0))
        tried, ok = tried + 1, ok + int(answered)
        self._counts[trunk] = (tried, ok)
        if answered:
            self.answers.labels(trunk).inc()
        else:
            self.failures.labels(trunk, cause_label(cause)).inc()
        self.asr.labels(trunk).set(ok / tried)

    def call_ended(self, trunk: str, billsec: float) -> None:
        if billsec > 0:
            self.ended.labels(trunk).inc()
            self.talk_seconds.labels(trunk).inc(billsec)

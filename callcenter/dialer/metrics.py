"""Per-campaign dialer metrics. Labels bounded: ``campaign`` (a configured campaign's name),
``outcome`` (``compliance.Outcome``)."""

from __future__ import annotations

import contextlib

from prometheus_client import CollectorRegistry, Counter, Gauge

from callcenter.dialer.compliance import Outcome


class DialerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "callcenter_dialer_calls_total",
            "Calls a campaign placed, by outcome (answered: a person given an agent or a "
            "broadcast's flow; machine; abandoned: a person given no agent within the safe "
            "harbor; busy, no_answer, failed). Dials = sum over outcomes; live answers = "
            "answered + abandoned.",
            ["campaign", "outcome"],
            registry=registry,
        )
        self.lines = Gauge(
            "callcenter_dialer_lines",
            "A campaign's lines in flight: dialling, or answered and not yet ended.",
            ["campaign"],
            registry=registry,
        )
        self.dial_level = Gauge(
            "callcenter_dialer_dial_level",
            "Lines in flight per free or busy agent of the campaign (lines / staffed agents).",
            ["campaign"],
            registry=registry,
        )
        self.occupancy = Gauge(
            "callcenter_dialer_agent_occupancy_ratio",
            "The campaign's agents on a call or in wrap-up / its agents logged in.",
            ["campaign"],
            registry=registry,
        )
        self.abandon_rate = Gauge(
            "callcenter_dialer_abandon_rate_ratio",
            "Abandoned / live answered over the window (us_30_days: the TSR's 30 days and "
            "uk_today: the calendar day, AMD false positives counted as the campaign's "
            "estimate; window_30m: the last 30 minutes of this engine's calls, as measured).",
            ["campaign", "window"],
            registry=registry,
        )

    def dialled(self, campaign: str, outcome: Outcome) -> None:
        self.calls.labels(campaign, str(outcome)).inc()

    def forget(self, campaign: str) -> None:
        """A campaign no longer running: its gauges go (its counters stay)."""
        for gauge in (self.lines, self.dial_level, self.occupancy):
            with contextlib.suppress(KeyError):
                gauge.remove(campaign)
        for window in ("us_30_days", "uk_today", "window_30m"):
            with contextlib.suppress(KeyError):
                self.abandon_rate.remove(campaign, window)

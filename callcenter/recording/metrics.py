"""Recording metrics. Labels stay bounded: the check's status, never a path or call UUID."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class RecordingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.checked = Counter(
            "callcenter_recordings_checked_total",
            "Recordings checked after their stop, by status: ok, missing (no file), corrupt "
            "(no valid header, or a duration more than 1 s from what FreeSWITCH reported).",
            ["status"],
            registry=registry,
        )
        self.check_seconds = Histogram(
            "callcenter_recording_check_seconds",
            "Time to check one recording (header, duration, SHA-256 of the whole file), "
            "in a worker thread off the call path.",
            buckets=(0.005, 0.02, 0.1, 0.5, 2.0, 10.0, 60.0),
            registry=registry,
        )
        self.check_errors = Counter(
            "callcenter_recording_check_errors_total",
            "Checks whose result could not be stored (the row stays pending), by error type.",
            ["error"],
            registry=registry,
        )
        self.purged = Counter(
            "callcenter_recordings_purged_total",
            "Recording files deleted by retention (the queue's keep_days); the row is kept.",
            registry=registry,
        )

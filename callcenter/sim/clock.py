"""Simulated time: every duration the simulator waits is scaled by ``time_scale``.

``time_scale=0.01`` makes a 2 s tone last 20 ms of wall time. Timestamps in events run on
the simulated clock (start wall time + elapsed / scale), so durations computed from them
(billsec, playback_ms, record_ms) stay consistent with the simulated world.
"""

from __future__ import annotations

import time

import gevent
from gevent.event import Event


class Clock:
    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.time_scale = time_scale
        self._wall0 = time.time()
        self._mono0 = time.monotonic()

    def real(self, seconds: float) -> float:
        return max(0.0, seconds) * self.time_scale

    def sleep(self, seconds: float) -> None:
        gevent.sleep(self.real(seconds))

    def wait(self, event: Event, seconds: float) -> bool:
        """Wait for ``event`` at most ``seconds`` of simulated time; True when it is set."""
        return bool(event.wait(timeout=self.real(seconds)))

    def now(self) -> float:
        """Simulated epoch seconds."""
        return self._wall0 + (time.monotonic() - self._mono0) / self.time_scale

    def now_us(self) -> int:
        return int(self.now() * 1_000_000)

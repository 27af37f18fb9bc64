"""The per-trunk limiter of a running engine: one greenlet owns the ``Limits`` and answers
requests through a queue (as the ACD dispatcher owns queues and agents), so no two callers'
greenlets ever touch the counts. Calls placed by the engine (and, later, the dialer) ask
before they dial; every ask waits for its answer with a timeout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import gevent
from gevent.event import AsyncResult
from gevent.queue import Queue

from callcenter.trunks.limits import Decision, Limits, Verdict
from callcenter.trunks.spec import TrunkSpec

log = logging.getLogger(__name__)
ASK_TIMEOUT = 2.0
# a token due at the very end of the wait still counts (the request reached the owner a
# moment after the wait began)
SLACK = 0.1


@dataclass(frozen=True, slots=True)
class _Acquire:
    trunk: TrunkSpec
    leg: str
    outbound: bool
    reply: AsyncResult


@dataclass(frozen=True, slots=True)
class _Release:
    trunk: str
    leg: str


class TrunkLimiter:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_channels: Callable[[str, int], None] | None = None,
    ) -> None:
        self.clock = clock
        self.on_channels = on_channels  # (trunk, channels now): the active-channels gauge
        self._inbox: Queue[_Acquire | _Release | None] = Queue()
        self._limits = Limits()
        self._greenlet: gevent.Greenlet[[], None] | None = None
        # channels in use per trunk, replaced whole by the owner: what others may read
        self.in_use: Mapping[str, int] = MappingProxyType({})

    def start(self) -> None:
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._run)
            self._greenlet.link_exception(self._died)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._inbox.put(None)
            self._greenlet.join(timeout=2.0)
            self._greenlet.kill(block=False)

    def _died(self, greenlet: gevent.Greenlet[[], None]) -> None:
        log.error("trunk limiter stopped on an error, restarting: %r", greenlet.exception)
        self._greenlet = None
        self.start()

    def _run(self) -> None:
        while (message := self._inbox.get()) is not None:
            if isinstance(message, _Acquire):
                name = message.trunk.name
                decision = self._limits.acquire(
                    message.trunk, message.leg, self.clock(), outbound=message.outbound
                )
                message.reply.set(decision)
            else:
                name = message.trunk
                self._limits.release(name, message.leg)
            channels = self._limits.channels(name)
            if self.in_use.get(name, 0) != channels:
                self.in_use = MappingProxyType({**self.in_use, name: channels})
            if self.on_channels is not None:
                self.on_channels(name, channels)

    def ask(self, trunk: TrunkSpec, leg: str, *, outbound: bool = True) -> Decision:
        """One answer from the owner; a limiter that does not answer in time refuses."""
        self.start()
        reply: AsyncResult = AsyncResult()
        self._inbox.put(_Acquire(trunk, leg, outbound, reply))
        try:
            answer: Decision = reply.get(timeout=ASK_TIMEOUT)
        except gevent.Timeout:
            return Decision(Verdict.FULL, reason=f"{trunk.name}: the limiter did not answer")
        return answer

    def acquire(self, trunk: TrunkSpec, leg: str, *, wait_up_to: float = 0.0) -> Decision:
        """A channel and a token for an outbound ``leg`` on ``trunk``; waits for a token at
        most ``wait_up_to`` seconds (a full trunk is not waited for: the next one is tried)."""
        deadline = self.clock() + wait_up_to + SLACK
        while True:
            decision = self.ask(trunk, leg)
            if decision.verdict is not Verdict.WAIT or self.clock() + decision.wait > deadline:
                return decision
            gevent.sleep(decision.wait)

    def inbound(self, trunk: TrunkSpec, leg: str) -> None:
        """An inbound channel that arrived on ``trunk``: counted, never refused."""
        self.start()
        self._inbox.put(_Acquire(trunk, leg, False, AsyncResult()))

    def release(self, trunk: str, leg: str) -> None:
        """Never blocks (the ESL reader calls it on a leg's hang-up)."""
        self._inbox.put(_Release(trunk, leg))

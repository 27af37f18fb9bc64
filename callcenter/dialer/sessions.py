"""FreeSWITCH's sessions per second: how many new lines the dialer may start now, per node.

FreeSWITCH creates at most ``sessions-per-second`` sessions a second (switch.conf.xml,
default 30; ``fsctl sps`` answers ``+OK sessions per second: 30``). Its core timer sets a
count to that rate every second and each session asked for (an inbound caller, an
originated leg) decrements it; a request that leaves it at 0 or below is refused
("Throttle Error!", ``switch_core_session_request_uuid``), so ``sps - 1`` sessions a second
get through. A refused originate has no channel and no event: ``-ERR
DESTINATION_OUT_OF_ORDER`` (``placing.NodeRefused``); a refused INVITE gets a 503.

One ``NodeRate`` a node counts, over a sliding window of one second plus ``LATENCY`` (the
wall time between the engine's count and the switch's, so that two seconds of the engine
never land in one of FreeSWITCH's, whose seconds start where its timer does):

- the dialer's lines: a slot is taken when a campaign decides (``SessionBudget.take``,
  every campaign from the same budget), counted until the line's originate is sent
  (``Slot.sending``), then counted from that moment; a slot that sent nothing is given
  back (``Slot.release``);
- every other session, when its CHANNEL_CREATE arrives: inbound callers, agents' legs of
  queue and campaign calls, callbacks, transfers, a failed-over trunk's leg. These never
  ask and never wait: they take from the second what they need, and the dialer has less;
- a reserve for them: the dialer leaves room for at least ``max(ceil(share x usable), the
  most of them seen in one second over the last PEAK_SPAN seconds)``, the share
  RESERVE_SHARE once a minute of the node's sessions has been seen and WARM_SHARE before
  (at a start nothing says what the site's callers need), and never all of it (one line a
  second is always left to the dialer while nothing else arrives). The peak follows the
  site's own load, the dialer's agents' legs included; the share covers what arrives after
  a decision within the same second. Inbound callers come first: a busy inbound site slows
  the dialer down rather than see its callers refused (docs/dialer.md, measured there).

A refusal all the same (the switch's rate lowered by ``fsctl sps N`` since it was read, a
burst of callers) stops the dialer on that node for a window and reads its rate again. A
rate changed on a running switch is also seen at its next HEARTBEAT (every 20 s): its
``Session-Per-Sec`` is what the current second has left of the rate (``runtime.sps``),
the rate itself while the second is idle; a value other than the rate known has the rate
read again (``fsctl sps``: one command per heartbeat at most, only on a busy second).

Under gevent no method here yields (no I/O, no wait: the rate is read in a greenlet of its
own), so each runs whole: the ESL readers, the campaign runners and the readers of the
rate share the budget as they would a counter, without an owner greenlet to ask.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol

import gevent

from callcenter.calls.control import OriginateFailed
from callcenter.dialer.placing import NodeRefused, Originate
from callcenter.errors import ESLError

log = logging.getLogger(__name__)

DEFAULT_SPS = 30  # FreeSWITCH's own default, used while a node's is not known
LATENCY = 0.1  # wall seconds added to the window (the engine's count vs the switch's)
RESERVE_SHARE = 0.2  # of a node's usable rate, left to sessions the dialer does not start
WARM_SHARE = 0.5  # ... while less than PEAK_SPAN of the node's sessions has been seen
PEAK_SPAN = 60.0  # the reserve follows the most of them seen in one second this long
KEEP_WINDOWS = 30  # a slot neither sent nor given back (its greenlet died) is dropped then
READ_TIMEOUT = 5.0  # seconds ``fsctl sps`` is waited for
_SPS = re.compile(r"^\+OK sessions per second: (\d+)")
SUBSCRIPTION = ("HEARTBEAT",)  # the rate changed on a running switch (``heartbeat``)


def parse_sps(reply: str) -> int | None:
    """``+OK sessions per second: 30`` -> 30 (None: not that reply)."""
    found = _SPS.match(reply.strip())
    return int(found.group(1)) if found and int(found.group(1)) > 0 else None


class NodeRate:
    """One node's count (pure: ``now`` and ``window`` are the caller's seconds)."""

    def __init__(
        self, sps: int | None = None, cap: int | None = None, counted_from: float = -math.inf
    ) -> None:
        self.sps = sps  # the node's (``fsctl sps``); None: not read yet
        self.cap = cap  # the engine's own setting: at most this many
        self.counted_from = counted_from  # since when its sessions are seen (its first read)
        self._pending: dict[int, float] = {}  # slots taken, not sent yet: when taken
        self._sent: deque[float] = deque()  # the dialer's lines sent: when
        self._others: deque[float] = deque()  # sessions it did not start: when seen
        # (when, others in the window then), the counts decreasing: the first is the peak
        self._peaks: deque[tuple[float, int]] = deque()
        self._own: dict[str, float] = {}  # lines sent until their CHANNEL_CREATE: when sent
        self._full_until = -math.inf

    @property
    def usable(self) -> int:
        """Sessions a second the node lets through (``sps - 1``: see the module)."""
        if self.sps is None:
            return 0
        rate = self.sps if self.cap is None else min(self.sps, self.cap)
        return max(0, rate - 1)

    def reserve(self, now: float) -> int:
        """What the dialer leaves to the sessions it does not start (never all)."""
        self._forget(now, 0.0)
        usable = self.usable
        peak = self._peaks[0][1] if self._peaks else 0
        share = RESERVE_SHARE if now - self.counted_from >= PEAK_SPAN else WARM_SHARE
        return min(max(math.ceil(share * usable), peak), max(0, usable - 1))

    def read(self, sps: int, now: float) -> None:
        """The node's rate, as it answered (or assumed): its sessions counted from now on
        (the first time: the reserve is WARM_SHARE until PEAK_SPAN of them are seen)."""
        self.sps = sps
        if self.counted_from == -math.inf:
            self.counted_from = now

    def room(self, now: float, window: float) -> int:
        """New lines the dialer may start now."""
        self._forget(now, window)
        if now < self._full_until:
            return 0
        others = max(len(self._others), self.reserve(now))
        return max(0, self.usable - len(self._pending) - len(self._sent) - others)

    def take(self, slot: int, now: float) -> None:
        self._pending[slot] = now

    def send(self, slot: int, leg: str, now: float) -> None:
        """The slot's line goes out now: counted from now, its CHANNEL_CREATE not again."""
        if self._pending.pop(slot, None) is not None:
            self._sent.append(now)
            self._own[leg] = now

    def give_back(self, slot: int) -> None:
        self._pending.pop(slot, None)

    def created(self, uuid: str, now: float, window: float) -> None:
        """A CHANNEL_CREATE: counted, unless it is the dialer's own line (already)."""
        if self._own.pop(uuid, None) is not None:
            return
        self._forget(now, window)
        self._others.append(now)
        count = len(self._others)
        while self._peaks and self._peaks[-1][1] <= count:
            self._peaks.pop()  # never the peak again: a later count is as high
        self._peaks.append((now, count))

    def refused(self, now: float, window: float) -> bool:
        """The node refused a session all the same: no line through it for a window. True
        when that window begins now (not one refusal more of the same burst)."""
        began = now >= self._full_until
        self._full_until = now + window
        return began

    def _forget(self, now: float, window: float) -> None:
        if window > 0:
            for times in (self._sent, self._others):
                while times and times[0] <= now - window:
                    times.popleft()
            keep = now - KEEP_WINDOWS * window
            for slot in [s for s, at in self._pending.items() if at <= keep]:
                del self._pending[slot]  # its greenlet died between the take and the send
            for leg in [g for g, at in self._own.items() if at <= keep]:
                del self._own[leg]  # refused: no CHANNEL_CREATE ever came
        while self._peaks and self._peaks[0][0] <= now - PEAK_SPAN:
            self._peaks.popleft()


class Node(Protocol):
    """An ESL node as the budget and the lines use it (``ESLConnection``)."""

    @property
    def name(self) -> str: ...

    @property
    def connected(self) -> bool: ...

    def api(self, line: str, timeout: float | None = None) -> str: ...

    def bgapi(self, line: str, timeout: float | None = None) -> str: ...


class Clock(Protocol):
    """The pacing's seconds (``runner.DialerClock``)."""

    def now(self) -> float: ...

    def seconds(self, wall: float) -> float: ...


class SessionBudget:
    """Every node's ``NodeRate``, in the dialer's clock: what the campaigns take together."""

    def __init__(
        self,
        nodes: Callable[[], Iterable[Node]],
        clock: Callable[[], Clock],
        cap: int | None = None,
    ) -> None:
        self.nodes = nodes
        self.clock = clock  # read at each use: a test may pace on a simulator's clock
        self.cap = cap  # the ``sessions_per_second`` setting (None: the node's own)
        self._rates: dict[str, NodeRate] = {}
        self._ids = itertools.count()
        self._reading: set[str] = set()  # nodes whose rate is being read

    def _rate(self, node: str) -> NodeRate:
        rate = self._rates.get(node)
        if rate is None:
            rate = self._rates[node] = NodeRate(cap=self.cap)
        return rate

    def _now(self) -> tuple[float, float]:
        clock = self.clock()
        return clock.now(), 1.0 + clock.seconds(LATENCY)

    def rate(self, node: str) -> NodeRate:
        """The node's count (read-only use: tests, the live view)."""
        return self._rate(node)

    def room(self) -> int:
        """New lines the connected nodes take now (the pacing's ``Limits.max_new``)."""
        now, window = self._now()
        return sum(self._rate(n.name).room(now, window) for n in self.nodes() if n.connected)

    def take(self, wanted: int) -> list[Slot]:
        """Up to ``wanted`` slots, each on the connected node with the most room then."""
        now, window = self._now()
        up = [node for node in self.nodes() if node.connected]
        rooms = [self._rate(node.name).room(now, window) for node in up]
        slots: list[Slot] = []
        while len(slots) < wanted and rooms and max(rooms) > 0:
            best = rooms.index(max(rooms))
            rooms[best] -= 1
            slot = Slot(self, up[best], next(self._ids))
            self._rate(slot.node.name).take(slot.ident, now)
            slots.append(slot)
        return slots

    def sent(self, slot: Slot, leg: str) -> None:
        """``slot``'s line goes out now as ``leg``: counted from now, its CHANNEL_CREATE not
        again."""
        now, _ = self._now()
        self._rate(slot.node.name).send(slot.ident, leg, now)

    def given_back(self, slot: Slot) -> None:
        self._rate(slot.node.name).give_back(slot.ident)

    def created(self, node: str, uuid: str | None) -> None:
        """A CHANNEL_CREATE of ``node`` (from its ESL reader: never blocks)."""
        if uuid:
            now, window = self._now()
            self._rate(node).created(uuid, now, window)

    def read_rate(self, node: Node) -> None:
        """Ask the node its rate (at each connect, after a refusal), in a greenlet (one at
        a time per node)."""
        if node.name in self._reading:
            return
        self._reading.add(node.name)
        greenlet = gevent.spawn(self._read_rate, node)
        greenlet.link_exception(
            lambda g: log.error("ESL %s: sessions per second not read: %r", node.name, g.exception)
        )

    def _read_rate(self, node: Node) -> None:
        try:
            sps = parse_sps(node.api("fsctl sps", READ_TIMEOUT))
        except ESLError as exc:
            log.warning("ESL %s: fsctl sps failed (%s)", node.name, exc)
            sps = None
        finally:
            self._reading.discard(node.name)
        if sps is None:
            sps = self.cap or DEFAULT_SPS
            log.warning("ESL %s: its sessions per second unknown: %d assumed", node.name, sps)
        rate = self._rate(node.name)
        now, _ = self._now()
        changed = rate.sps != sps
        rate.read(sps, now)
        # a busy node's heartbeats have it read every 20 s: logged when it says something new
        say = log.info if changed else log.debug
        say("ESL %s: %d sessions per second (FreeSWITCH's), %d usable, the dialer's lines "
            "within %d of them", node.name, sps, rate.usable,
            rate.usable - rate.reserve(now))  # fmt: skip

    def heartbeat(self, node: Node, left: str | None) -> None:
        """A HEARTBEAT of ``node``: its ``Session-Per-Sec`` (what its current second has left
        of its rate) unlike the rate known: the rate read again. A second overdrawn by
        refused sessions prints a negative count as unsigned (``%u``): as good as 0."""
        try:
            value = int(left or "")
        except ValueError:
            return  # not FreeSWITCH's: nothing said
        if value >= 2**31:
            value = 0
        rate = self._rate(node.name)
        if rate.sps is not None and value != rate.sps:
            self.read_rate(node)

    def refused(self, node: Node) -> None:
        now, window = self._now()
        if self._rate(node.name).refused(now, window):
            log.warning("ESL %s: FreeSWITCH made no session for a campaign's line (its "
                        "sessions per second): none through it for %.1f s, its rate read "
                        "again", node.name, window)  # fmt: skip
            self.read_rate(node)


class Slot:
    """One new line the dialer may start on ``node`` (taken from its ``SessionBudget``)."""

    def __init__(self, budget: SessionBudget, node: Node, ident: int) -> None:
        self.budget, self.node, self.ident = budget, node, ident
        self.open = True  # taken: neither sent nor given back yet

    def sending(self, send: Originate, leg: str) -> Originate:
        """``send`` (the node's ``bgapi``), counting the slot as sent at its first use: the
        line's first leg ``leg`` (a failed-over trunk's next leg counts as FreeSWITCH makes
        it, as any session the dialer did not take a slot for)."""

        def originate(line: str, timeout: float) -> str:
            if self.open:
                self.open = False
                self.budget.sent(self, leg)
            return send(line, timeout)

        return originate

    def release(self) -> None:
        """Nothing was sent: the slot back to the budget (a no-op once sent)."""
        if self.open:
            self.open = False
            self.budget.given_back(self)

    def done(self, placed: str | OriginateFailed) -> None:
        """The line's dialling is over: the slot given back if it sent nothing; a refusal by
        the node (``NodeRefused``) stops its lines for a window."""
        self.release()
        if isinstance(placed, NodeRefused):
            self.budget.refused(self.node)

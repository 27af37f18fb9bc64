"""psycopg's wait loop, for gevent: one io watcher per command, and no wait to write.

psycopg drives each command as a generator that yields what it waits for (write, read, or
both) and is sent what is ready. Under gevent's monkey-patching it picks ``wait_poll``, which
runs on gevent's emulation of ``select.poll``: every wait registers a watcher, arms a
timer and builds the result list, twice per statement (once to send, once to read). Here a
wait to write (or to write and read) is first answered "ready to write" at once: a socket
almost always has room for a command. When psycopg asks again, the socket is asked (a
``poll`` with no timeout, not gevent's) and what it has ready is answered, again without the
hub; only when it has nothing ready does the greenlet wait. psycopg's pipeline (``executemany``)
asks to read or write once per row it queues: waiting in the hub there cost a wake-up per
row, 30-50 a writer transaction at 1 call/s (docs/benchmarks.md, "the writer's
wake-ups"). A wait to read uses one io watcher for the whole command, with no timer unless
psycopg set a deadline. psycopg treats readiness as a hint and tries again when a read or a
write finds nothing to do, so answering early is safe.
"""

from __future__ import annotations

from select import POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT
from time import monotonic
from typing import Any

import gevent.monkey
import gevent.socket
import psycopg.errors
import psycopg.waiting
from gevent.hub import get_hub
from psycopg.waiting import READY_NONE, READY_R, READY_RW, READY_W, WAIT_R, WAIT_RW, WAIT_W

_EVENTS = {WAIT_R: 1, WAIT_W: 2, WAIT_RW: 3}  # libev's READ, WRITE
_READY = {WAIT_R: READY_R, WAIT_W: READY_W, WAIT_RW: READY_RW}
_poll = gevent.monkey.get_original("select", "poll")  # the kernel's, not the hub's
_POLLED = {WAIT_W: POLLOUT, WAIT_RW: POLLIN | POLLOUT}


class _Elapsed(Exception):
    """A wait's interval passed (a new one each time: a raised instance keeps its traceback)."""


def wait_gevent(gen: Any, fileno: int, interval: float = 0.0, timeout: float | None = None) -> Any:
    deadline = None if timeout is None else monotonic() + timeout
    loop = get_hub().loop
    watchers: dict[Any, Any] = {}
    poller: Any = None
    try:
        wanted = next(gen)
        tried_write = False
        while True:
            if wanted != WAIT_R:
                if not tried_write:  # room to write: send first, then ask the socket
                    tried_write = True
                    wanted = gen.send(READY_W)
                    continue
                if poller is None:
                    poller = _poll()
                    poller.register(fileno, POLLIN | POLLOUT)
                ready = _ready_now(poller, wanted)
                if ready != READY_NONE:
                    wanted = gen.send(ready)
                    continue
            watcher = watchers.get(wanted)
            if watcher is None:
                watcher = watchers[wanted] = loop.io(fileno, _EVENTS[wanted])
            # no timer unless psycopg set a deadline: its interval only lets a blocking
            # wait see Ctrl-C, which gevent's hub handles; libev's io watcher is level-
            # triggered, so data already there wakes it at once
            left = None if deadline is None else max(0.001, deadline - monotonic())
            try:
                gevent.socket.wait(watcher, left, _Elapsed)
                ready = _READY[wanted]
            except _Elapsed:
                ready = READY_NONE
            if deadline is not None and monotonic() >= deadline:
                raise psycopg.errors._WaitTimeout("wait timeout expired")
            tried_write = False
            wanted = gen.send(ready)
    except StopIteration as done:
        return done.value
    finally:
        for watcher in watchers.values():
            watcher.close()


def _ready_now(poller: Any, wanted: Any) -> Any:
    """What the socket has ready at once, of what psycopg waits for (an error: both, for
    psycopg to find it)."""
    events = 0
    for _, revents in poller.poll(0):
        events |= revents
    if events & (POLLERR | POLLHUP | POLLNVAL):
        return _READY[wanted]
    events &= _POLLED[wanted]
    return (READY_R if events & POLLIN else READY_NONE) | (
        READY_W if events & POLLOUT else READY_NONE
    )


def install() -> None:
    """Make psycopg wait this way (only where gevent has patched select: the engine)."""
    if psycopg.waiting._is_select_patched():
        psycopg.waiting.wait = wait_gevent

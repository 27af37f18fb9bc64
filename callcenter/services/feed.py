"""The engine's side of the change feed: apply, in order and once, what operators changed.

Services write ``engine_changes`` rows (``changes.record``). An engine's ``ChangeFeed``
reads the rows above the last id it applied and hands each to ``apply``:

- on PostgreSQL it LISTENs on a dedicated connection (``NOTIFY callcenter_changes`` comes
  at each commit) and reads again at least every ``safety_poll`` seconds, in case a
  notification was lost with a connection;
- on SQLite it reads every ``poll`` seconds (0.5 by default).

The database going away is survived: the feed retries with a growing backoff, then
resumes from its last id, so nothing is skipped and nothing applied twice. A feed that
could not read the database at start does not know which changes it missed: at its first
read it asks for a full reload (``resync``) and goes on from the newest id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import gevent
import psycopg
from gevent.event import Event
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.engine import make_url

from callcenter.errors import CallCenterError
from callcenter.services import changes
from callcenter.services.changes import Change
from callcenter.store.base import utcnow
from callcenter.store.database import Database

log = logging.getLogger(__name__)


class FeedMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.applied = Counter(
            "callcenter_engine_changes_applied_total",
            "Operator changes this engine applied from the change feed, by kind.",
            ["kind"],
            registry=registry,
        )
        self.failed = Counter(
            "callcenter_engine_changes_failed_total",
            "Operator changes whose application raised (logged, not retried), by kind.",
            ["kind"],
            registry=registry,
        )
        self.lag = Gauge(
            "callcenter_engine_changes_lag_seconds",
            "Seconds from the commit of the last change applied to its application "
            "(now - change.at, measured when applied).",
            registry=registry,
        )
        self.read_failures = Counter(
            "callcenter_engine_changes_read_failures_total",
            "Times the change feed could not read or listen (the database away); it retries.",
            registry=registry,
        )


POLL = 0.5  # SQLite: seconds between reads
# PostgreSQL: seconds between reads when no notification comes. A notification is only
# lost with the connection, and a reconnect reads at once; a connection dead without a word
# (a partition) is found by its TCP keepalives in about 20 s (idle 10 s, 3 probes 3 s apart),
# so this read is a last resort, and each one is an idle engine's round trips
SAFETY_POLL = 300.0
BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)  # seconds before each retry while the database is away
PRUNE_EVERY = 3600.0
BATCH = 500


class ChangeFeed:
    def __init__(
        self,
        database: Database,
        apply: Callable[[Change], None],
        *,
        resync: Callable[[], None] | None = None,
        poll: float = POLL,
        safety_poll: float = SAFETY_POLL,
        listen_url: str | None = None,
        metrics: FeedMetrics | None = None,
    ) -> None:
        """``listen_url``: where to LISTEN (default: the database's own URL)."""
        self.database = database
        self.apply = apply
        self.resync = resync
        self.poll = poll
        self.safety_poll = safety_poll
        self.listen_url = listen_url or database.url
        self.metrics = metrics
        self.last_id: int | None = None  # None: not read yet
        self.applied = 0
        self.failures = 0  # reads that failed (the database away)
        self._listener: psycopg.Connection[Any] | None = None
        self._greenlet: gevent.Greenlet[Any] | None = None
        self._pruned_at = float("-inf")
        self._stopping = Event()  # set by stop(), cleared by start()
        self._marked = False

    @property
    def listens(self) -> bool:
        return self.database.dialect == "postgresql"

    def mark(self) -> None:
        """Take the newest id as the starting point: call it before the engine loads its
        configuration, so a change committed during the load is applied after it."""
        self._marked = True
        try:
            self._catch_up(first=True)
        except CallCenterError as exc:
            log.warning("change feed: database unavailable at start, will retry: %s", exc)

    def start(self) -> None:
        """Follow the feed in a supervised greenlet (from the mark, taken now if not yet)."""
        if not self._marked:
            self.mark()
        self._stopping.clear()
        self._spawn(0.0)

    def stop(self) -> None:
        """For good: no retry, no restart, the listener closed.

        The kill does not always arrive as a GreenletExit: library code can turn it into an
        error on its way out (SQLAlchemy's pool pre-ping, killed with its SELECT 1 in flight,
        raises "can't change 'autocommit' now" from its ``finally``). The feed's own catches
        (a retry, one change's boundary) would take that error for an outage or a failed
        change and go on; so each of them, and each loop, looks at ``_stopping`` first."""
        self._stopping.set()
        greenlet, self._greenlet = self._greenlet, None
        if greenlet is not None:
            greenlet.kill(block=True, timeout=5)
            if not greenlet.dead:
                log.error("change feed: still running 5 s after it was stopped")
        self._close_listener()

    def _spawn(self, delay: float) -> None:
        self._greenlet = gevent.spawn_later(delay, self._run)
        self._greenlet.link_exception(self._crashed)

    def _crashed(self, greenlet: gevent.Greenlet[Any]) -> None:
        self._close_listener()
        if self._stopping.is_set():  # died as it was being stopped: stays dead
            log.error("change feed died while stopping: %r", greenlet.exception)
            return
        log.error("change feed died: %r; restarting", greenlet.exception)
        self._spawn(1.0)

    def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            try:
                self._follow()
            except Exception as exc:  # the greenlet's boundary
                self._close_listener()
                if self._stopping.is_set():  # stop()'s kill, come back as an error
                    log.debug("change feed stopped: %s", _line(exc))
                    return
                if not isinstance(exc, CallCenterError | psycopg.Error | OSError):
                    raise  # a bug: the supervisor logs it and starts again
                self.failures += 1
                if self.metrics is not None:
                    self.metrics.read_failures.inc()
                delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
                attempt += 1
                log.warning("change feed: %s; retrying in %.1fs", _line(exc), delay)
                gevent.sleep(delay)

    def _follow(self) -> None:
        """Read, apply, wait for the next notification (or tick), until stopped; raise when
        the database fails."""
        if self.listens:
            self._listen()
        self._catch_up()
        while not self._stopping.is_set():
            self._wait()
            self._catch_up()

    def _wait(self) -> None:
        listener = self._listener
        if listener is None:
            gevent.sleep(self.poll)
            return
        # a notification (or several) wakes the read; none for safety_poll: read anyway
        for _notify in listener.notifies(timeout=self.safety_poll, stop_after=1):
            break
        listener.execute("SELECT 1")  # a dead connection fails here, not silently

    def _listen(self) -> None:
        if self._listener is not None:
            return
        url = make_url(self.listen_url).set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        listener = psycopg.connect(
            conninfo,
            autocommit=True,
            application_name=changes.LISTENER_NAME,  # how a CLI sees an engine listening
            connect_timeout=5,
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=3,
            keepalives_count=3,
        )
        try:
            listener.execute(f"LISTEN {changes.CHANNEL}")
        except BaseException:
            listener.close()
            raise
        log.info("change feed: listening on %s", changes.CHANNEL)
        self._listener = listener  # set last: whoever finds it set finds the LISTEN done

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.close()
            except (psycopg.Error, OSError) as exc:  # closing a dead connection
                log.debug("change feed: closing the listener: %s", exc)

    def _catch_up(self, *, first: bool = False) -> None:
        """Apply every change above the last id; on the first read, only take its id."""
        if self.last_id is None:
            with self.database.session_scope() as session:
                newest = changes.last_id(session)
            self.last_id = newest
            if not first and self.resync is not None:
                log.info("change feed: started without the database; reloading everything")
                self.resync()
            return
        while True:
            with self.database.session_scope() as session:
                batch = changes.after(session, self.last_id, BATCH)
            for change in batch:
                if self._stopping.is_set():
                    return
                self._apply(change)
            if len(batch) < BATCH:
                break
        self._prune()

    def _apply(self, change: Change) -> None:
        # the id moves first: a change whose application fails is logged, never retried
        self.last_id = change.id
        try:
            self.apply(change)
        except Exception:  # one change's boundary: the next ones still apply
            if self._stopping.is_set():  # stop()'s kill come back as an error: not a bug here
                raise
            log.exception(
                "change %d (%s %s %s by %s) not applied",
                change.id,
                change.kind,
                change.op,
                change.key,
                change.actor,
            )
            if self.metrics is not None:
                self.metrics.failed.labels(_kind(change.kind)).inc()
        else:
            self.applied += 1
            if self.metrics is not None:
                self.metrics.applied.labels(_kind(change.kind)).inc()
                self.metrics.lag.set(max(0.0, (utcnow() - change.at).total_seconds()))

    def _prune(self) -> None:
        now = time.monotonic()
        if now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        with self.database.session_scope() as session:
            gone = changes.prune(session)
        if gone:
            log.info("change feed: %d change(s) older than a day pruned", gone)


def _kind(kind: str) -> str:
    """A bounded label: the known kinds, else "other"."""
    return kind if kind in set(changes.ChangeKind) else "other"


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

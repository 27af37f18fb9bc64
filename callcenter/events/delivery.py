"""Webhook delivery: supervised greenlets that read the outbox and post to each endpoint.

One worker per enabled endpoint walks the outbox in ``seq`` order from the endpoint's cursor:
at least once (the cursor moves after the receiver said 2xx, so a crash repeats at most the
delivery in flight), in order (the next event waits until this one is delivered or given
up), with the event id in the body and in ``Callcenter-Event-Id`` for the receiver to drop
repeats. A failure is retried with exponential backoff and jitter until the event is
``retry_for`` old (24 h), then kept as a dead letter (replayable) and the cursor moves on.
The retry state lives in the webhook's row, so a restart picks it up where it was.

Nothing here runs in a call's actor or the ESL reader: a slow receiver costs its own
worker's time (each post has a hard timeout), never a call's.

Several engines on one PostgreSQL database: an endpoint is delivered by the engine holding
its session advisory lock (on one connection kept by the supervisor); another engine takes
it over when that connection goes (the engine stopped or was killed). SQLite: one engine.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import gevent
import urllib3
from gevent.event import Event
from gevent.pool import Group
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from callcenter.errors import DatabaseUnavailable
from callcenter.events.outbox import Subscriptions
from callcenter.events.signing import HEADER, signature
from callcenter.store.base import utcnow
from callcenter.store.database import HELD_IDLE, Database, first_line
from callcenter.store.records import OutboxEvent, WebhookRecord
from callcenter.store.repos.webhooks import WebhookRepository, mark_delivered

log = logging.getLogger(__name__)

CLAIM_NAMESPACE = 0x63630013  # pg_try_advisory_lock(CLAIM_NAMESPACE, webhook id)
PRUNE_EVERY = 3600.0


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    timeout: float = 5.0  # one post, connect to last byte
    retry_min: float = 1.0  # the first retry's delay; doubles each time
    retry_max: float = 600.0
    retry_for: float = 86_400.0  # an event this old that fails is given up (dead letter)
    poll: float = 0.5  # an idle worker looks at the outbox this often
    # the supervisor looks at the endpoints this often (an operator's change makes it look at
    # once, through the change feed); also how soon an engine takes over from a stopped one
    scan: float = 15.0
    # with no endpoint enabled, nothing to take over nor to keep claimed: the supervisor
    # looks this often (an endpoint added or enabled makes it look at once, as any change)
    idle_scan: float = 300.0
    batch: int = 100
    keep_events: float = 7 * 86_400.0  # outbox rows older than this are pruned


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "callcenter_webhook_deliveries_total",
            "Events a webhook endpoint accepted (2xx), replays included.",
            ["webhook"],
            registry=registry,
        )
        self.failures = Counter(
            "callcenter_webhook_failures_total",
            "Delivery attempts that failed (timeout, refused, non-2xx); each is retried.",
            ["webhook"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "callcenter_webhook_dead_letters_total",
            "Events given up after the retry window, kept as dead letters.",
            ["webhook"],
            registry=registry,
        )
        self.lag = Gauge(
            "callcenter_webhook_lag_seconds",
            "Age of the oldest event the endpoint has not got yet (now - its time; 0 when "
            "caught up), as this engine last saw it.",
            ["webhook"],
            registry=registry,
        )
        self.worker_errors = Counter(
            "callcenter_webhook_worker_errors_total",
            "Delivery workers that died on an unexpected error (restarted by the supervisor).",
            registry=registry,
        )


Post = Callable[[str, bytes, dict[str, str], float], "str | None"]


class HttpPoster:
    """POST with a hard deadline; returns None on 2xx, else what went wrong (one line)."""

    def __init__(self) -> None:
        self._pool = urllib3.PoolManager(num_pools=16, maxsize=1, retries=False)

    def __call__(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> str | None:
        try:
            with gevent.Timeout(timeout * 1.5, TimeoutError(f"no answer within {timeout}s")):
                response = self._pool.request(
                    "POST", url, body=body, headers=headers, redirect=False,
                    timeout=urllib3.Timeout(connect=timeout, read=timeout), preload_content=True,
                )  # fmt: skip
        except (urllib3.exceptions.HTTPError, OSError, TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= response.status < 300:
            return None
        return f"HTTP {response.status}"


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def headers_for(
    secret: str, body: bytes, event_id: str, event_type: str, now: float
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "callcenter-webhooks/1",
        "Callcenter-Event-Id": event_id,
        "Callcenter-Event-Type": event_type,
        HEADER: signature(secret, body, int(now)),
    }


class _Stop(Exception):
    """The endpoint was removed or disabled: its worker ends."""


class EndpointWorker:
    def __init__(
        self,
        webhook_id: int,
        database: Database,
        options: DeliveryOptions,
        metrics: WebhookMetrics,
        post: Post,
    ) -> None:
        self.webhook_id = webhook_id
        self.label = str(webhook_id)
        self.database = database
        self.options = options
        self.metrics = metrics
        self.post = post
        self.stopping = False  # end after the delivery in flight (a stop, a disable)
        self._cursor = _CursorConnection(database)
        self._secret = ""

    def run(self) -> None:
        try:
            while not self.stopping:
                try:
                    idle = self.step()
                except _Stop:
                    self.metrics.lag.labels(webhook=self.label).set(0)
                    return
                except DatabaseUnavailable as exc:
                    log.warning("webhook %s: %s; trying again", self.webhook_id, exc)
                    idle = True
                if idle:
                    gevent.sleep(self.options.poll)
        finally:
            self._cursor.close()

    def step(self) -> bool:
        """Deliver what is due; True when there was nothing to do."""
        with self.database.session_scope() as session:
            repo = WebhookRepository(session)
            found = repo.state(self.webhook_id)
            if found is None or not found[0].enabled:
                raise _Stop
            hook, self._secret = found
            replays = repo.replays(self.webhook_id)
            events = repo.next_events(hook.cursor, hook.events, self.options.batch)
        for dead in replays:
            self._replay(hook, dead.id, dead.event_id, dead.event_type, dead.payload)
        self._lag(events[0] if events else None)
        if not events:
            return not replays
        for done, event in enumerate(events, 1):
            after = self._deliver(hook, event)
            if after is None:
                return False  # failed: wait for its retry, reading the state afresh
            hook = after
            self._lag(events[done] if done < len(events) else None)
            if self.stopping:
                break
        return False

    def _lag(self, oldest: OutboxEvent | None) -> None:
        lag = (utcnow() - oldest.at).total_seconds() if oldest is not None else 0.0
        self.metrics.lag.labels(webhook=self.label).set(max(0.0, lag))

    def _send(
        self, hook: WebhookRecord, event_id: str, kind: str, payload: dict[str, Any]
    ) -> str | None:
        body = body_of(payload)
        headers = headers_for(self._secret, body, event_id, kind, time.time())
        error = self.post(hook.url, body, headers, self.options.timeout)
        if error is None:
            self.metrics.deliveries.labels(webhook=self.label).inc()
        else:
            self.metrics.failures.labels(webhook=self.label).inc()
        return error

    def _deliver(self, hook: WebhookRecord, event: OutboxEvent) -> WebhookRecord | None:
        """The webhook's state after delivering ``event``, or None if it is to be retried."""
        if hook.next_attempt_at is not None:
            left = (hook.next_attempt_at - utcnow()).total_seconds()
            if left > 0:
                gevent.sleep(min(left, self.options.scan))  # then look again: disabled?
                return None
        error = self._send(hook, event.event_id, event.type, event.payload)
        now = utcnow()
        if error is None:  # the common case: one statement on the worker's own connection
            self._cursor.delivered(self.webhook_id, event.seq, now)
            return dataclasses.replace(
                hook, cursor=event.seq, attempts=0, next_attempt_at=None, last_error=None
            )
        attempts = hook.attempts + 1
        with self.database.session_scope() as session:
            repo = WebhookRepository(session)
            if (now - event.at).total_seconds() >= self.options.retry_for:
                repo.give_up(self.webhook_id, event, attempts, error)
                self.metrics.dead_letters.labels(webhook=self.label).inc()
                log.error(
                    "webhook %s: event %s (%s) given up after %d attempts: %s",
                    self.webhook_id, event.event_id, event.type, attempts, error,
                )  # fmt: skip
                return None
            delay = self.backoff(attempts)
            repo.failed(self.webhook_id, attempts, now + timedelta(seconds=delay), error)
        log.warning(
            "webhook %s: event %s not delivered (attempt %d: %s); next try in %.1fs",
            self.webhook_id, event.event_id, attempts, error, delay,
        )  # fmt: skip
        return None

    def backoff(self, attempts: int) -> float:
        """Exponential from ``retry_min``, capped at ``retry_max``, with jitter (half to all)."""
        ceiling = min(self.options.retry_max, self.options.retry_min * 2 ** min(attempts - 1, 30))
        return float(ceiling * random.uniform(0.5, 1.0))

    def _replay(
        self, hook: WebhookRecord, dead_id: int, event_id: str, kind: str, payload: dict[str, Any]
    ) -> None:
        error = self._send(hook, event_id, kind, payload)
        with self.database.session_scope() as session:
            WebhookRepository(session).replay_done(dead_id, error)
        if error is None:
            log.info("webhook %s: dead letter %s replayed", self.webhook_id, dead_id)
        else:
            log.warning("webhook %s: replay of %s failed: %s", self.webhook_id, dead_id, error)


class _CursorConnection:
    """A worker's connection for moving its cursor: no pool checkout and ping per event;
    one idle longer than ``HELD_IDLE`` goes back to the pool (whose checkout pings it)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._conn: Connection | None = None
        self._used = 0.0

    def delivered(self, webhook_id: int, seq: int, at: datetime) -> None:
        with self.database.unavailable_as_error():
            if self._conn is not None and time.monotonic() - self._used > HELD_IDLE:
                self.close()
            if self._conn is None:
                self._conn = self.database.engine.connect()
            try:
                with self._conn.begin():
                    mark_delivered(self._conn, webhook_id, seq, at)
            except DBAPIError:
                self._conn.invalidate()
                self._conn = None
                raise
            finally:
                self._used = time.monotonic()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


class _Claims:
    """Which endpoints this engine delivers: all on SQLite; on PostgreSQL those whose session
    advisory lock it holds, on one connection kept for that."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.shared = database.dialect == "postgresql"
        self._conn: Connection | None = None

    def claim(self, webhook_id: int) -> bool:
        if not self.shared:
            return True
        if self._conn is None:
            with self.database.unavailable_as_error():
                conn = self.database.engine.connect()
            self._conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        return bool(self._scalar("SELECT pg_try_advisory_lock(:ns, :id)", webhook_id))

    def release(self, webhook_id: int) -> None:
        if self.shared and self._conn is not None:
            self._scalar("SELECT pg_advisory_unlock(:ns, :id)", webhook_id)

    def alive(self) -> bool:
        """False when the lock connection broke: every claim is gone with it."""
        if self._conn is None:
            return True
        try:
            self._scalar("SELECT 1", 0)
        except DatabaseUnavailable:
            return False
        return True

    def _scalar(self, sql: str, webhook_id: int) -> Any:
        assert self._conn is not None
        try:
            return self._conn.execute(text(sql), {"ns": CLAIM_NAMESPACE, "id": webhook_id}).scalar()
        except DBAPIError as exc:
            conn, self._conn = self._conn, None
            conn.invalidate()  # never back to the pool: a session holding locks, or broken
            raise DatabaseUnavailable(f"webhook claims lost: {first_line(exc)}") from exc

    def close(self) -> None:
        """Give every claim up (the connection goes back to the pool without them)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock_all()"))
            conn.close()
        except SQLAlchemyError as exc:  # broken, or its engine disposed: drop it
            log.info("webhook claims connection: %s", first_line(exc))
            conn.invalidate()


class WebhookDelivery:
    """The engine's delivery pool: a supervisor greenlet starting one worker per endpoint."""

    def __init__(
        self,
        database: Database,
        metrics: WebhookMetrics,
        options: DeliveryOptions | None = None,
        *,
        post: Post | None = None,
        subscriptions: Subscriptions | None = None,
    ) -> None:
        self.database = database
        self.metrics = metrics
        self.options = options or DeliveryOptions()
        self.post = post or HttpPoster()
        self.group = Group()
        self.workers: dict[int, gevent.Greenlet[Any]] = {}
        self._endpoints: dict[int, EndpointWorker] = {}
        self._claims = _Claims(database)
        self._pruned = 0.0
        self._greenlet: gevent.Greenlet[Any] | None = None
        self.subscriptions = subscriptions or Subscriptions()  # what the outbox writes
        self._wake = Event()

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._supervise)
        self._greenlet.link_exception(self._crashed)

    def stop(self) -> None:
        """Let each worker finish the delivery in flight (so a stop repeats none), then
        give the endpoints up for another engine."""
        if self._greenlet is not None:
            greenlet, self._greenlet = self._greenlet, None
            # killed mid-query, psycopg may end it with its own error rather than GreenletExit:
            # that is no crash to restart from (a stopped engine went on delivering)
            greenlet.unlink(self._crashed)
            greenlet.kill(block=True, timeout=5)
        for worker in self._endpoints.values():
            worker.stopping = True
        self.group.join(timeout=self.options.timeout * 1.5 + 1.0)
        self._stop_all()
        self._claims.close()

    def _crashed(self, greenlet: gevent.Greenlet[Any]) -> None:
        died = greenlet.exception
        if greenlet is not self._greenlet:
            return  # stopped meanwhile: nothing to restart
        log.error("webhook supervisor died: %r; restarting", died)
        self._stop_all()
        gevent.sleep(1.0)
        if greenlet is self._greenlet:  # not stopped during the pause
            self.start()

    def rescan(self) -> None:
        """An endpoint was added, removed, enabled or disabled (the change feed says so):
        look at them now, not at the next scan."""
        self._wake.set()

    def _supervise(self) -> None:
        while True:
            idle = False
            try:
                idle = not self.scan()
            except DatabaseUnavailable as exc:
                log.warning("webhooks: %s", exc)
                self._stop_all()
            self._wake.wait(self.options.idle_scan if idle else self.options.scan)
            self._wake.clear()

    def scan(self) -> bool:
        """Start workers for the endpoints this engine may deliver, stop the others; False
        when no endpoint is enabled and none is left running (nothing to watch: the
        supervisor looks again after ``idle_scan``, or at once on a change)."""
        if not self._claims.alive():
            self._stop_all()
        with self.database.session_scope() as session:
            repo = WebhookRepository(session)
            enabled = set(repo.enabled_ids())
            self.subscriptions.types = repo.subscribed_types()
            if time.monotonic() - self._pruned > PRUNE_EVERY:
                self._pruned = time.monotonic()
                pruned = repo.prune_events(timedelta(seconds=self.options.keep_events))
                if pruned:
                    log.info("outbox: %d event(s) older than retention pruned", pruned)
        for webhook_id, greenlet in list(self.workers.items()):
            if greenlet.ready():
                del self.workers[webhook_id], self._endpoints[webhook_id]
                self._claims.release(webhook_id)
            elif webhook_id not in enabled:  # it sees that itself; it ends after its delivery
                self._endpoints[webhook_id].stopping = True
        for webhook_id in sorted(enabled - set(self.workers)):
            if self._claims.claim(webhook_id):
                self._spawn(webhook_id)
        return bool(enabled or self.workers)

    def _spawn(self, webhook_id: int) -> None:
        worker = EndpointWorker(webhook_id, self.database, self.options, self.metrics, self.post)
        greenlet = self.group.spawn(worker.run)
        greenlet.link_exception(self._worker_died)
        self.workers[webhook_id] = greenlet
        self._endpoints[webhook_id] = worker

    def _worker_died(self, greenlet: gevent.Greenlet[Any]) -> None:
        self.metrics.worker_errors.inc()
        log.error("webhook worker died: %r; restarted at the next scan", greenlet.exception)

    def _stop_all(self) -> None:
        self.group.kill(block=True, timeout=5)
        self.workers.clear()
        self._endpoints.clear()

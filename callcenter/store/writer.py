"""Durable writes of CDRs and call state: to PostgreSQL when it answers, to the spool when not.

While anything is spooled, new writes go to the spool too, so the database sees every
change in order. A supervised greenlet replays the spool, with backoff, once the database
answers again. Every write is idempotent, so a replay interrupted by a crash is safe to redo.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import gevent
from gevent.event import Event
from prometheus_client import CollectorRegistry, Counter, Gauge

from callcenter.errors import DatabaseUnavailable
from callcenter.store.codec import decode_record, encode
from callcenter.store.database import Database
from callcenter.store.records import CallRecord, CdrRecord
from callcenter.store.repos import CallRepository, CdrRepository
from callcenter.store.spool import Spool, SpoolRecord

log = logging.getLogger(__name__)


class WriterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.cdrs_written = Counter(
            "callcenter_cdrs_written_total",
            "CDRs inserted into the database (a duplicate insert of the same call is not counted).",
            registry=registry,
        )
        self.cdrs_spooled = Counter(
            "callcenter_cdrs_spooled_total",
            "CDRs appended to the local spool because the database was unavailable.",
            registry=registry,
        )
        self.cdrs_replayed = Counter(
            "callcenter_cdrs_replayed_total",
            "CDRs written to the database from the spool after it came back.",
            registry=registry,
        )
        self.spool_pending = Gauge(
            "callcenter_spool_pending_records",
            "Records (CDRs and call state changes) waiting in the spool for the database.",
            registry=registry,
        )
        self.database_up = Gauge(
            "callcenter_database_up",
            "1 when the last database write succeeded, 0 while writes are being spooled.",
            registry=registry,
        )


class DurableWriter:
    def __init__(
        self,
        database: Database,
        spool: Spool,
        metrics: WriterMetrics,
        *,
        retry_min: float = 0.5,
        retry_max: float = 30.0,
    ) -> None:
        self.database = database
        self.spool = spool
        self.metrics = metrics
        self.retry_min = retry_min
        self.retry_max = retry_max
        self._spooling = spool.pending() > 0
        self._wake = Event()
        self._greenlet: gevent.Greenlet[Any] | None = None
        metrics.spool_pending.set(spool.pending())
        metrics.database_up.set(0 if self._spooling else 1)

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._replay_loop)
        self._greenlet.link_exception(self._crashed)
        if self._spooling:
            self._wake.set()

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=True, timeout=5)
            self._greenlet = None

    @property
    def spooling(self) -> bool:
        return self._spooling

    def write_cdr(self, cdr: CdrRecord) -> None:
        self._write("CdrRecord", cdr, self._apply_cdr)

    def write_call(self, call: CallRecord) -> None:
        self._write("CallRecord", call, self._apply_call)

    def _write(self, kind: str, record: Any, apply: Callable[[Any], object]) -> None:
        if not self._spooling:
            try:
                apply(record)
                return
            except DatabaseUnavailable as exc:
                if not self._spooling:
                    log.warning("database unavailable, spooling from now on: %s", exc)
                    self._spooling = True
                    self.metrics.database_up.set(0)
                    self._wake.set()  # the replay loop starts counting its retries now
        self.spool.append(SpoolRecord(kind, encode(record)))
        self.metrics.spool_pending.inc()
        if kind == "CdrRecord":
            self.metrics.cdrs_spooled.inc()

    def _apply_cdr(self, cdr: CdrRecord) -> bool:
        with self.database.session_scope() as session:
            written = CdrRepository(session).insert_once(cdr)
        if written:
            self.metrics.cdrs_written.inc()
        return written

    def _apply_call(self, call: CallRecord) -> None:
        with self.database.session_scope() as session:
            CallRepository(session).upsert(call)

    def _apply_spooled(self, record: SpoolRecord) -> None:
        try:
            value = decode_record(record.kind, record.data)
        except (ValueError, TypeError, KeyError) as exc:
            log.error("spooled %s record cannot be decoded (%s); set aside", record.kind, exc)
            self.spool.set_aside(record)
            return
        if record.kind == "CdrRecord":
            if self._apply_cdr(value):
                self.metrics.cdrs_replayed.inc()
        else:
            self._apply_call(value)

    def replay_now(self) -> int:
        """Replay what is spooled; True once the spool is empty. Raises DatabaseUnavailable."""
        done = self.spool.replay(self._apply_spooled)
        pending = self.spool.pending()
        self.metrics.spool_pending.set(pending)
        if pending == 0:
            self._spooling = False
            self.metrics.database_up.set(1)
            log.info("spool drained (%d records replayed); writing to the database again", done)
        return done

    def _replay_loop(self) -> None:
        delay = self.retry_min
        while True:
            self._wake.wait(timeout=delay if self._spooling else self.retry_max)
            self._wake.clear()
            if not self._spooling:
                continue
            try:
                self.replay_now()
                delay = self.retry_min
            except DatabaseUnavailable as exc:
                delay = min(delay * 2, self.retry_max)
                log.info("database still unavailable (%s); next replay in %.1fs", exc, delay)
            except Exception:
                delay = self.retry_max
                log.exception("spool replay failed; next try in %.1fs", delay)

    def _crashed(self, greenlet: gevent.Greenlet[Any]) -> None:
        log.error("spool replay greenlet died: %r; restarting", greenlet.exception)
        self.start()

"""Durable writes of CDRs and call state, off the call actors' path.

Actors hand records to one writer greenlet through a bounded queue and go on at once. The
writer takes them in batches (one transaction, a few statements for up to ``batch_size``
records) to PostgreSQL when it answers, and to the fsync'd local spool when it does not.
While anything is spooled, new batches are spooled behind it, so the database sees every
change in order; the spool is replayed, with backoff, once the database answers again.
Every write is idempotent (CDRs insert once per call, calls are upserts), so a replay
interrupted by a crash is safe to redo.

What a crash can lose is only what sits in the queue (at most ``max_delay`` of records);
the calls it concerns are still in the database as live, and the next start closes them
with a CDR built from what was last written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import gevent
from gevent.event import Event
from gevent.queue import Empty, Full, Queue
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from callcenter.errors import DatabaseUnavailable
from callcenter.store.codec import decode_record, encode
from callcenter.store.database import Database
from callcenter.store.records import (
    AgentStateRecord,
    CallRecord,
    CdrRecord,
    OpenStaysClosed,
    QueueStayRecord,
    RecordingRecord,
)
from callcenter.store.repos import CallRepository, CdrRepository, RecordingRepository
from callcenter.store.repos.acd_state import AcdStateRepository
from callcenter.store.spool import Spool, SpoolRecord

log = logging.getLogger(__name__)

AcdRecord = QueueStayRecord | AgentStateRecord | OpenStaysClosed
Record = CallRecord | CdrRecord | RecordingRecord | AcdRecord


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
        self.queue_depth = Gauge(
            "callcenter_writer_queue_depth",
            "Records handed over by calls and not yet written to the database or the spool.",
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "callcenter_writer_batch_seconds",
            "Time to write one batch of records to the database.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
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
        batch_size: int = 500,
        max_delay: float = 0.05,
        queue_size: int = 50_000,
    ) -> None:
        self.database = database
        self.spool = spool
        self.metrics = metrics
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.batch_size = batch_size
        self.max_delay = max_delay
        self._queue: Queue = Queue(queue_size)
        pending = spool.pending()
        self._spooling = pending > 0
        self._delay = retry_min
        self._next_retry = 0.0
        self._busy = False
        self._idle = Event()
        self._idle.set()
        self._greenlet: gevent.Greenlet[Any] | None = None
        metrics.spool_pending.set(pending)
        metrics.database_up.set(0 if self._spooling else 1)
        metrics.queue_depth.set_function(self._queue.qsize)

    # -- the calls' side ------------------------------------------------------------------

    def write_cdr(self, cdr: CdrRecord) -> None:
        self._put(cdr)

    def write_call(self, call: CallRecord) -> None:
        self._put(call)

    def write_recording(self, recording: RecordingRecord) -> None:
        self._put(recording)

    def write_acd(self, record: AcdRecord) -> None:
        self._put(record)

    def _put(self, record: Record) -> None:
        self._idle.clear()
        try:
            self._queue.put_nowait(record)
        except Full:  # the writer is far behind: keep the record durable, never block a call
            log.warning("writer queue full; spooling a %s directly", type(record).__name__)
            self._spool([record])

    @property
    def spooling(self) -> bool:
        return self._spooling

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every record handed over so far is in the database or the spool."""
        return bool(self._idle.wait(timeout))

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._run)
        self._greenlet.link_exception(self._crashed)

    def stop(self, timeout: float = 10.0) -> None:
        if not self.flush(timeout):
            log.error("writer: %d record(s) not written at stop", self._queue.qsize())
        if self._greenlet is not None:
            self._greenlet.kill(block=True, timeout=5)
            self._greenlet = None

    def _crashed(self, greenlet: gevent.Greenlet[Any]) -> None:
        log.error("writer greenlet died: %r; restarting", greenlet.exception)
        gevent.sleep(1.0)
        self.start()

    # -- the writer greenlet ----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if self._spooling and time.monotonic() >= self._next_retry:
                self._try_replay()
            if batch:
                self._busy = True
                try:
                    self._handle(batch)
                finally:
                    self._busy = False
            if self._queue.empty() and not self._busy:
                self._idle.set()

    def _next_batch(self) -> list[Record]:
        wait = max(0.05, self._next_retry - time.monotonic()) if self._spooling else 1.0
        try:
            first = self._queue.get(timeout=wait)
        except Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.max_delay
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except Empty:
                break
        return batch

    def _handle(self, batch: list[Record]) -> None:
        if not self._spooling:
            try:
                written = self._apply(batch)
                self.metrics.cdrs_written.inc(written)
                return
            except DatabaseUnavailable as exc:
                log.warning("database unavailable, spooling from now on: %s", exc)
                self._spooling = True
                self._delay = self.retry_min
                self._next_retry = time.monotonic() + self._delay
                self.metrics.database_up.set(0)
        self._spool(batch)

    def _apply(self, batch: Sequence[Record]) -> int:
        calls = [r for r in batch if isinstance(r, CallRecord)]
        cdrs = [r for r in batch if isinstance(r, CdrRecord)]
        recordings = [r for r in batch if isinstance(r, RecordingRecord)]
        stays = [r for r in batch if isinstance(r, QueueStayRecord)]
        agents = [r for r in batch if isinstance(r, AgentStateRecord)]
        closes = [r for r in batch if isinstance(r, OpenStaysClosed)]
        with self.metrics.batch_seconds.time(), self.database.session_scope() as session:
            if calls:
                CallRepository(session).upsert_many(calls)
            if recordings:
                RecordingRepository(session).add_many(recordings)
            if stays or agents or closes:
                acd = AcdStateRepository(session)
                acd.close_open_stays(closes)  # first: this run's stays come after it
                acd.save_stays(stays)
                acd.save_agent_states(agents)
            return CdrRepository(session).insert_many(cdrs) if cdrs else 0

    def _spool(self, batch: Sequence[Record]) -> None:
        self.spool.append_many([SpoolRecord(type(r).__name__, encode(r)) for r in batch])
        self.metrics.spool_pending.inc(len(batch))
        self.metrics.cdrs_spooled.inc(sum(1 for r in batch if isinstance(r, CdrRecord)))

    # -- replay ---------------------------------------------------------------------------

    def replay_now(self) -> int:
        """Replay what is spooled; raises DatabaseUnavailable if the database is still away."""
        done = self.spool.replay_batches(self._apply_spooled, self.batch_size)
        pending = self.spool.pending()
        self.metrics.spool_pending.set(pending)
        if pending == 0:
            self._spooling = False
            self.metrics.database_up.set(1)
            log.info("spool drained (%d records replayed); writing to the database again", done)
        return done

    def _try_replay(self) -> None:
        try:
            self.replay_now()
            self._delay = self.retry_min
        except DatabaseUnavailable as exc:
            self._delay = min(self._delay * 2, self.retry_max)
            log.info("database still unavailable (%s); next replay in %.1fs", exc, self._delay)
        except Exception:
            self._delay = self.retry_max
            log.exception("spool replay failed; next try in %.1fs", self._delay)
        self._next_retry = time.monotonic() + self._delay

    def _apply_spooled(self, records: Sequence[SpoolRecord]) -> None:
        decoded: list[Record] = []
        for record in records:
            try:
                decoded.append(decode_record(record.kind, record.data))
            except (ValueError, TypeError, KeyError) as exc:
                log.error("spooled %s record cannot be decoded (%s); set aside", record.kind, exc)
                self.spool.set_aside(record)
        written = self._apply(decoded)
        self.metrics.cdrs_written.inc(written)
        self.metrics.cdrs_replayed.inc(written)

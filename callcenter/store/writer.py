"""Durable writes of CDRs and call state, off the call actors' path.

Actors hand records to one writer greenlet through a bounded queue and go on at once. The
writer takes them in batches: what arrives within ``max_delay`` of the first record (or
``batch_size`` records), in one transaction on a connection it keeps, with statements built
once (``store.statements``) and run with many rows (on PostgreSQL straight through psycopg,
``store.direct``: SQLAlchemy's execute layer cost more than the rows; the whole transaction,
BEGIN to COMMIT, goes as one psycopg pipeline, one wait a batch). A call the writer
has written before is updated in the columns that changed; only a call it does not know is
upserted whole. Batches go to PostgreSQL when it answers, and to the fsync'd local spool
when it does not.
While anything is spooled, new batches are spooled behind it, so the database sees every
change in order; the spool is replayed, with backoff, once the database answers again.
Every write is idempotent (CDRs insert once per call, calls are upserts), so a replay
interrupted by a crash is safe to redo.

A record the database refuses (a constraint, a bad value) is set aside in the spool's
quarantine with a logged error; the rest of its batch is written.

What a crash can lose is only what sits in the queue (at most ``max_delay`` of records,
the ``writer_window`` setting, 2 s by default): the calls it concerns are still in the
database as live, or not there at all (created within the window); the next start adopts
those FreeSWITCH still has and closes the others, and a call the database never saw gets its
CDR from FreeSWITCH's own (``cdr/backstop.py``). The window is what keeps a quiet site from
paying a transaction for every record: at 10 calls/s, 0.5 s instead of 0.2 s took the
engine's CPU per call from 4.0 to 3.4 ms, and at 1 queue call/s 2 s instead of 0.5 s halved
the statements per call (docs/benchmarks.md). A busy site is not slowed by it: a full batch
ends the window at once. An outbox event (a webhook waits for it) ends the window within
``URGENT`` seconds, so a screen pop is not held back by a long window.
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
from sqlalchemy.exc import StatementError

from callcenter.errors import DatabaseUnavailable
from callcenter.store.codec import decode_record, encode
from callcenter.store.database import Database, first_line
from callcenter.store.records import (
    AcdCounterRecord,
    AgentStateRecord,
    CallRecord,
    CdrRecord,
    EventRecord,
    OpenStaysClosed,
    QueueStayRecord,
    RecordingRecord,
)
from callcenter.store.repos.acd_state import (
    close_open_stays,
    write_agent_states,
    write_counters,
    write_stays,
)
from callcenter.store.repos.calls import write_calls
from callcenter.store.repos.cdrs import write_cdrs
from callcenter.store.repos.events import write_events
from callcenter.store.repos.recordings import write_recordings
from callcenter.store.repos.report_totals import unroll
from callcenter.store.spool import PartlyApplied, Spool, SpoolRecord
from callcenter.vocabulary import CallState

log = logging.getLogger(__name__)

IDLE_WAKE = 30.0  # seconds the writer sleeps with nothing to write and nothing spooled
URGENT = 0.2  # seconds within which an outbox event is committed, whatever the window

AcdRecord = QueueStayRecord | AgentStateRecord | OpenStaysClosed | AcdCounterRecord
Record = CallRecord | CdrRecord | RecordingRecord | AcdRecord | EventRecord


class PartlyWritten(DatabaseUnavailable, PartlyApplied):
    """The database went away in the middle of a one-by-one write: the first ``applied``
    records are committed (``written`` CDRs among them) and must not be written again (an
    agent's status history row is an insert: a replay would add it twice)."""

    def __init__(self, cause: DatabaseUnavailable, applied: int, written: int) -> None:
        super().__init__(cause.message)
        self.applied = applied
        self.written = written


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
        self.records_set_aside = Counter(
            "callcenter_writer_records_set_aside_total",
            "Records the database refused (constraint, bad value), kept in the spool's "
            "quarantine file instead.",
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
        max_delay: float = 0.5,
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
        self._hurry = Event()  # end the batching window now (flush, a full batch)
        self._urgent: Any = None  # the hub timer that ends this window soon (an outbox event)
        self._written: dict[str, CallRecord] = {}  # live calls as last written by this writer
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

    def write_event(self, record: EventRecord) -> None:
        """An event for the outbox: in the transaction of the records handed over with it,
        committed within ``URGENT`` seconds whatever the window (a webhook waits for it)."""
        self._put(record)
        if self._urgent is None and self.max_delay > URGENT:
            self._urgent = gevent.get_hub().loop.timer(URGENT)
            self._urgent.start(self._hurry.set)

    def _put(self, record: Record) -> None:
        self._idle.clear()
        try:
            self._queue.put_nowait(record)
            if self._queue.qsize() >= self.batch_size:
                self._hurry.set()
        except Full:  # the writer is far behind: keep the record durable, never block a call
            log.warning("writer queue full; spooling a %s directly", type(record).__name__)
            self._spool([record])

    @property
    def spooling(self) -> bool:
        return self._spooling

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every record handed over so far is in the database or the spool."""
        self._hurry.set()
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
        self.database.release_held()

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
        wait = max(0.05, self._next_retry - time.monotonic()) if self._spooling else IDLE_WAKE
        try:
            first = self._queue.get(timeout=wait)
        except Empty:
            return []
        self._hurry.wait(self.max_delay)  # the window: what comes meanwhile shares the batch
        self._hurry.clear()
        if self._urgent is not None:  # this window is over: the events in it are taken
            self._urgent.close()
            self._urgent = None
        batch = [first]
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except Empty:
                break
        return batch

    def _handle(self, batch: list[Record]) -> None:
        if not self._spooling:
            try:
                written = self._apply_or_set_aside(batch)
                self.metrics.cdrs_written.inc(written)
                return
            except DatabaseUnavailable as exc:
                log.warning("database unavailable, spooling from now on: %s", exc)
                if isinstance(exc, PartlyWritten):
                    self.metrics.cdrs_written.inc(exc.written)
                    batch = batch[exc.applied :]
                self._spooling = True
                self._written.clear()  # what reached the database is unknown: upsert whole
                self._delay = self.retry_min
                self._next_retry = time.monotonic() + self._delay
                self.metrics.database_up.set(0)
        self._spool(batch)

    def _apply_or_set_aside(self, batch: Sequence[Record]) -> int:
        """Write the batch; if the database refuses it, write its records one by one and
        set aside the ones it refuses (never the whole batch for one bad record)."""
        try:
            return self._apply(batch)
        except (StatementError, ValueError) as exc:  # refused, not unreachable
            if len(batch) == 1:
                record = batch[0]
                log.error(
                    "database refused a %s (%s); set aside", type(record).__name__, first_line(exc)
                )
                self.spool.set_aside(SpoolRecord(type(record).__name__, encode(record)))
                self.metrics.records_set_aside.inc()
                return 0
            log.warning(
                "database refused a batch of %d (%s); writing one by one",
                len(batch),
                first_line(exc),
            )
            written = 0
            for applied, record in enumerate(batch):
                try:
                    written += self._apply_or_set_aside([record])
                except DatabaseUnavailable as lost:
                    raise PartlyWritten(lost, applied, written) from lost
            return written

    def _apply(self, batch: Sequence[Record]) -> int:
        calls = [r for r in batch if isinstance(r, CallRecord)]
        cdrs = [r for r in batch if isinstance(r, CdrRecord)]
        recordings = [r for r in batch if isinstance(r, RecordingRecord)]
        stays = [r for r in batch if isinstance(r, QueueStayRecord)]
        agents = [r for r in batch if isinstance(r, AgentStateRecord)]
        closes = [r for r in batch if isinstance(r, OpenStaysClosed)]
        events = [r for r in batch if isinstance(r, EventRecord)]
        counters = [r for r in batch if isinstance(r, AcdCounterRecord)]
        with self.metrics.batch_seconds.time(), self.database.writer_transaction() as conn:
            if calls:
                write_calls(conn, calls, self._written)
            if recordings:
                write_recordings(conn, recordings)
            if closes:  # in the batch's order: a spool replay carries the last run's stays
                first = next(i for i, r in enumerate(batch) if isinstance(r, OpenStaysClosed))
                before = {id(r) for r in batch[:first]}
                write_stays(conn, [s for s in stays if id(s) in before])
                close_open_stays(conn, closes)  # before this run's stays
                stays = [s for s in stays if id(s) not in before]
            write_stays(conn, stays)
            write_agent_states(conn, agents)
            write_counters(conn, counters)
            written = write_cdrs(conn, cdrs)  # counted at the commit (a pipeline's sync)
            # a stay or a call of an interval the reports may have totals of: read raw again
            joined = [r.joined_at for r in batch if isinstance(r, QueueStayRecord)]
            unroll(conn, joined + [c.started_at for c in cdrs])
            write_events(conn, events)  # last: its lock is held until the commit
        for call in calls:  # committed: later writes of these calls are updates
            if call.state is CallState.ENDED:
                self._written.pop(call.uuid, None)
            else:
                self._written[call.uuid] = call
        return int(written.rowcount)

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
        position: list[int] = []  # of each decoded record among ``records``
        for i, record in enumerate(records):
            try:
                decoded.append(decode_record(record.kind, record.data))
                position.append(i)
            except (ValueError, TypeError, KeyError) as exc:
                log.error("spooled %s record cannot be decoded (%s); set aside", record.kind, exc)
                self.spool.set_aside(record)
        try:
            written = self._apply_or_set_aside(decoded)
        except PartlyWritten as exc:  # in spool terms: up to the first record not written
            self.metrics.cdrs_written.inc(exc.written)
            self.metrics.cdrs_replayed.inc(exc.written)
            exc.applied = position[exc.applied]
            raise
        self.metrics.cdrs_written.inc(written)
        self.metrics.cdrs_replayed.inc(written)

"""The check after each stop, off the call path: the file's header, duration, size, SHA-256.

The call's actor only hands its recordings over (``submit``); a greenlet per file waits for
the worker thread that reads it, then stores the result on the recording's row. A missing or
corrupt file is stored as such, counted, and raised as ``recording.failed``; a good one
raises ``recording.stored``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import gevent
from gevent.pool import Group

from callcenter.errors import CallCenterError
from callcenter.events.bus import EventBus
from callcenter.events.types import (
    CallFacts,
    RecordingFailed,
    RecordingStored,
    VoicemailReceived,
    for_call,
)
from callcenter.recording import wav
from callcenter.recording.metrics import RecordingMetrics
from callcenter.store.database import Database
from callcenter.store.records import RecordingRecord
from callcenter.store.repos.recordings import RecordingRepository
from callcenter.store.repos.voicemail import box_of

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 300.0  # one file's read (a long call on a slow share)
STORE_TRIES = 5  # the row is written by the durable writer: it may not be there yet


class RecordingChecker:
    def __init__(
        self,
        database: Database,
        events: EventBus,
        metrics: RecordingMetrics,
        *,
        flush: Callable[[float], bool] = lambda _timeout: True,
        retry_delay: float = 1.0,
    ) -> None:
        self.database = database
        self.events = events
        self.metrics = metrics
        self.flush = flush  # the durable writer's: the row is written before it is updated
        self.retry_delay = retry_delay
        self.group = Group()

    def submit(self, call: CallFacts, records: list[RecordingRecord]) -> None:
        """Never blocks: each file is checked in its own greenlet."""
        for record in records:
            self.group.spawn(self._guarded, call, record)

    def wait(self, timeout: float) -> bool:
        return bool(self.group.join(timeout=timeout))

    def stop(self, timeout: float = 10.0) -> None:
        if not self.group.join(timeout=timeout):
            log.warning("recording checks: %d not finished at stop (rows stay pending)",
                        len(self.group))  # fmt: skip
            self.group.kill(block=True, timeout=5)

    def _guarded(self, call: CallFacts, record: RecordingRecord) -> None:
        try:
            self._check(call, record)
        except Exception as exc:  # a greenlet's boundary: said and counted
            self.metrics.check_errors.labels(error=type(exc).__name__).inc()
            log.exception("call %s: recording %s not checked", record.call_uuid, record.path)

    def _check(self, call: CallFacts, record: RecordingRecord) -> None:
        began = time.monotonic()
        pool = gevent.get_hub().threadpool
        result: wav.FileCheck = pool.spawn(wav.check, Path(record.path), record.duration_ms).get(
            timeout=CHECK_TIMEOUT
        )
        self.metrics.check_seconds.observe(time.monotonic() - began)
        self.metrics.checked.labels(status=str(result.status)).inc()
        self._store(record, result)
        fields = {"path": record.path, "duration_ms": record.duration_ms, "queue": record.queue,
                  "agent_extension": record.agent}  # fmt: skip
        if result.status is wav.FileStatus.OK:
            self.events.publish(
                for_call(RecordingStored, call, size_bytes=result.size_bytes,
                         sha256=result.sha256, channels=result.channels, **fields)
            )  # fmt: skip
            box = box_of(record.path)
            if box is not None:  # a message left in a voicemail box (after its recording.stored)
                self.events.publish(
                    for_call(VoicemailReceived, call, box=box, path=record.path,
                             duration_ms=record.duration_ms)
                )  # fmt: skip
            return
        log.error("call %s: recording %s: %s", record.call_uuid, result.status, result.problem)
        self.events.publish(
            for_call(RecordingFailed, call, status=str(result.status),
                     problem=result.problem or "", **fields)
        )  # fmt: skip

    def _store(self, record: RecordingRecord, result: wav.FileCheck) -> None:
        for attempt in range(STORE_TRIES):
            self.flush(5.0)
            try:
                with self.database.session_scope() as session:
                    if RecordingRepository(session).set_checked(
                        record.path, result, datetime.now(UTC)
                    ):
                        return
            except CallCenterError as exc:
                log.warning("recording %s: result not stored yet: %s", record.path, exc)
            gevent.sleep(self.retry_delay * (attempt + 1))
        self.metrics.check_errors.labels(error="row_not_found").inc()
        log.error("recording %s: checked %s, but its row was not found to store it",
                  record.path, result.status)  # fmt: skip

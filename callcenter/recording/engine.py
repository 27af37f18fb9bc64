"""The engine's recording parts, wired by the composition root: the recorder every call's
control uses, the file check after each call, and retention applied daily."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import gevent

from callcenter.calls.call import Call
from callcenter.errors import CallCenterError
from callcenter.events.types import CallFacts
from callcenter.recording.checker import RecordingChecker
from callcenter.recording.metrics import RecordingMetrics
from callcenter.recording.on_call import Recorder, closed
from callcenter.services import recordings as service
from callcenter.services.actor import Actor
from callcenter.store.database import Database
from callcenter.store.records import RecordingRecord
from callcenter.store.repos import RecordingRepository

log = logging.getLogger(__name__)

ENGINE = Actor("engine", "retention")
PENDING_AFTER = 600.0  # a recording still pending this long after its start: its check was lost
PENDING_BATCH = 1000


@dataclass(frozen=True, slots=True)
class _Facts:
    """What an event about a call needs, for a recording whose call is long gone."""

    uuid: str
    from_number: str = ""
    from_name: str = ""


PURGE_EVERY = 86_400.0
FIRST_PURGE_AFTER = 300.0  # after a start: the engine settles first


class Recordings:
    def __init__(
        self,
        recorder: Recorder,
        checker: RecordingChecker,
        database: Database,
        metrics: RecordingMetrics,
        root: Path,
        unqueued_days: int = 0,
    ) -> None:
        self.unqueued_days = unqueued_days  # the setting recording_keep_days (0: kept)
        self.recorder = recorder
        self.checker = checker
        recorder.check = checker.submit  # a file stopped during its call: checked at once
        self.database = database
        self.metrics = metrics
        self.root = root
        self._purger: gevent.Greenlet | None = None

    def closed(self, call: Call, records: list[RecordingRecord]) -> list[RecordingRecord]:
        return closed(call.recordings, records, time.time_ns() // 1000)

    def check(self, call: CallFacts, records: list[RecordingRecord]) -> None:
        self.checker.submit(call, records)

    # -- retention ------------------------------------------------------------------------

    def start(self, every: float = PURGE_EVERY, first: float = FIRST_PURGE_AFTER) -> None:
        self._purger = gevent.spawn(self._purge_daily, every, first)
        self.checker.group.spawn(self.recheck_pending)
        self._purger.link_exception(self._crashed)

    def stop(self, timeout: float = 10.0) -> None:
        if self._purger is not None:
            self._purger.kill(block=True, timeout=5)
        self.checker.stop(timeout)

    def recheck_pending(self, older_than: float = PENDING_AFTER) -> int:
        """Recordings still ``pending`` from an earlier run (the engine stopped, or the
        database was away when the check ended), and those still ``recording`` whose call
        ended: checked again, once, at start."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        try:
            with self.database.session_scope() as session:
                repo = RecordingRepository(session)
                unseen = repo.stopped_unseen(PENDING_BATCH)  # its call closed without them
                pending = repo.search(status="pending", until=cutoff, limit=PENDING_BATCH)
                rows = list({row.id: row for row in [*unseen, *pending]}.values())
        except CallCenterError as exc:
            log.warning("recordings pending a check not looked at: %s", exc)
            return 0
        for row in rows:
            record = RecordingRecord(
                call_uuid=row.call_uuid, path=row.path, started_at=row.started_at,
                duration_ms=row.duration_ms, queue=row.queue, agent=row.agent,
            )  # fmt: skip
            self.checker.submit(_Facts(row.call_uuid), [record])
        if rows:
            log.info("recordings: %d pending from an earlier run checked again", len(rows))
        return len(rows)

    def purge_once(self) -> int:
        done = service.purge(
            self.database, ENGINE, root=self.root, on_deleted=self.metrics.purged.inc,
            unqueued_days=self.unqueued_days,
        )  # fmt: skip
        if done.recordings:
            log.info("retention: %d recording file(s) deleted", len(done.recordings))
        return len(done.recordings)

    def _purge_daily(self, every: float, first: float) -> None:
        gevent.sleep(first)
        while True:
            try:
                self.purge_once()
            except CallCenterError as exc:  # the database away: tomorrow, or at the next start
                log.warning("retention: not applied: %s", exc)
            gevent.sleep(every)

    def _crashed(self, greenlet: gevent.Greenlet) -> None:
        log.error("retention greenlet died: %r", greenlet.exception)

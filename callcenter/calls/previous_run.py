"""The calls a previous run left live, from a start until each is adopted or closed.

The I/O side of ``calls.recovery``: reads the database and the spool once, hands the writer
the records that close a call FreeSWITCH no longer has, and remembers the others for the
resync to adopt (or to close, if they vanish before it can).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection

from callcenter.calls import recovery
from callcenter.calls.metrics import CallMetrics
from callcenter.errors import DatabaseUnavailable
from callcenter.recording import adopted
from callcenter.store.codec import decode_record
from callcenter.store.database import Database
from callcenter.store.records import CallRecord, RecordingRecord
from callcenter.store.repos import CallRepository, RecordingRepository
from callcenter.store.repos.acd_state import AcdStateRepository
from callcenter.store.writer import DurableWriter

log = logging.getLogger(__name__)

_READ = frozenset({"CallRecord", "CdrRecord", "QueueStayRecord"})  # what says a call is over


class PreviousRun:
    def __init__(
        self, node: str, database: Database, writer: DurableWriter, metrics: CallMetrics
    ) -> None:
        self.node = node
        self.database = database
        self.writer = writer
        self.metrics = metrics
        self.reconciled = False  # the database answered and the gone calls are closed
        self.waiting: dict[str, recovery.LeftOpen] = {}  # live at the start, not adopted yet
        self._seen: set[str] = set()  # calls this run had before the reconciliation
        self.check: Callable[[CallRecord, list[RecordingRecord]], None] | None = None

    def seen(self, uuid: str) -> None:
        """This run has the call (a new park, an adoption): not the previous run's to close."""
        self.waiting.pop(uuid, None)
        if not self.reconciled:
            self._seen.add(uuid)

    def reconcile(self, ours: Collection[str], gone: Callable[[str], bool]) -> list[str] | None:
        """Close the previous run's calls that are ``gone``; return the others (to adopt),
        or None when the database cannot say yet."""
        try:
            left = self._left_open()
        except DatabaseUnavailable as exc:
            log.warning("previous run not reconciled yet, the database is away: %s", exc)
            return None
        alive = []
        for uuid, previous in left.items():
            if uuid in ours or uuid in self._seen:
                continue  # this run has it, or had it and closed it
            if gone(uuid):
                self.close(previous)
            else:
                alive.append(uuid)
                self.waiting[uuid] = previous
        self.reconciled = True
        self._seen.clear()
        return alive

    def recheck(
        self, live: Collection[str], ours: Collection[str], gone: Callable[[str], bool]
    ) -> None:
        """Those a resync could not decide about: closed if FreeSWITCH no longer has them."""
        for uuid in [u for u in self.waiting if u not in live and u not in ours]:
            if gone(uuid):
                self.close(self.waiting.pop(uuid))

    def settle(self, live: Collection[str], undecided: Collection[str]) -> None:
        """After a resync: those FreeSWITCH answered about and the resync did not adopt (not
        a call the engine manages any more) are closed, not left live in the database."""
        for uuid in [u for u in self.waiting if u in live and u not in undecided]:
            log.info("call %s: FreeSWITCH has it, not as a call of the engine", uuid)
            self.close(self.waiting.pop(uuid))

    def vanished(self, uuid: str) -> None:
        """Listed by `show channels`, gone by the time it was asked about."""
        previous = self.waiting.pop(uuid, None)
        if previous is None:
            log.info("channel %s ended before it could be adopted", uuid)
            return
        log.info("call %s: ended as the engine asked about it", uuid)
        self.close(previous)

    def close(self, previous: recovery.LeftOpen) -> None:
        closing = recovery.close(previous, time.time_ns() // 1000)
        self.metrics.closed_on_resync.inc()
        self.writer.write_call(closing.call)
        for stay in closing.stays:
            self.writer.write_acd(stay)
        files = self._recorded(closing.call) if self.check is not None else []
        for file in files:
            self.writer.write_recording(file)
        self.writer.write_cdr(closing.cdr)  # last: a CDR written means the call is closed
        if files and self.check is not None:
            self.check(closing.call, files)  # off the call path, as at any call's end
        log.info(
            "call %s: ended while the engine was away; closed %s",
            previous.record.uuid, closing.cdr.disposition,
        )  # fmt: skip

    def _recorded(self, call: CallRecord) -> list[RecordingRecord]:
        """The files FreeSWITCH was recording when the call ended unseen: stopped then."""
        try:
            with self.database.session_scope() as session:
                rows = RecordingRepository(session).live([call.uuid]).get(call.uuid, [])
        except DatabaseUnavailable as exc:  # left "recording": said here
            log.warning("call %s: its recordings not closed yet: %s", call.uuid, exc)
            return []
        return [adopted.ended_away(row, call.ended_at) for row in rows]

    def _left_open(self) -> dict[str, recovery.LeftOpen]:
        # the spool first: a record replayed meanwhile is in the database when it is read
        spooled = self._spooled()
        with self.database.session_scope() as session:
            stored = CallRepository(session).live(self.node)
            calls = recovery.live_calls(stored, spooled, self.node)
            stays = AcdStateRepository(session).open_stays(calls)
        return recovery.left_open(calls, stays, spooled)

    def _spooled(self) -> list[object]:
        records: list[object] = []
        for item in self.writer.spool.peek():
            if item.kind not in _READ:
                continue
            try:
                records.append(decode_record(item.kind, item.data))
            except (ValueError, TypeError, KeyError):
                continue  # the writer sets it aside when it replays
        return records

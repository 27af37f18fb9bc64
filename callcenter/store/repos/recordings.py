from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcenter.errors import NotFound
from callcenter.recording.wav import FileStatus
from callcenter.store.direct import Counted, Executes, Rowcount
from callcenter.store.models import Call, Queue, Recording
from callcenter.store.records import RecordingRecord, StoredRecording
from callcenter.store.repos.voicemail import box_of
from callcenter.store.statements import LIVE_RECORDING, params, recording_insert
from callcenter.vocabulary import CallState

_FIELDS = tuple(f.name for f in dataclasses.fields(RecordingRecord))
_STORED = tuple(f.name for f in dataclasses.fields(StoredRecording))


def write_recordings(conn: Executes, recordings: Sequence[RecordingRecord]) -> Counted:
    """Record files not known yet (by path); the result's ``rowcount``: how many were new
    (in the writer's pipeline, known once it has synced)."""
    if not recordings:
        return Rowcount(0)
    rows = [params(r, _FIELDS) for r in recordings]
    return conn.execute(recording_insert(conn.dialect.name, _FIELDS), rows)


def stored(row: Recording) -> StoredRecording:
    values: dict[str, Any] = {n: getattr(row, n) for n in _STORED}
    values["paused"] = tuple((int(a), int(b)) for a, b in row.paused or ())
    return StoredRecording(**values)


class RecordingNotFound(NotFound):
    def __init__(self, what: str) -> None:
        super().__init__(f"no recording {what}", code="recording_not_found")


class RecordingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, recording: RecordingRecord) -> bool:
        return self.add_many([recording]) == 1

    def add_many(self, recordings: Sequence[RecordingRecord]) -> int:
        """Record files not known yet (by path); return how many were new."""
        return int(write_recordings(self.session.connection(), recordings).rowcount)

    def for_call(self, call_uuid: str) -> list[RecordingRecord]:
        rows = self.session.scalars(
            select(Recording).where(Recording.call_uuid == call_uuid).order_by(Recording.id)
        )
        return [RecordingRecord(**{n: getattr(r, n) for n in _FIELDS}) for r in rows]

    def stopped_unseen(self, limit: int) -> list[StoredRecording]:
        """Rows still ``recording`` whose call has ended (its close could not read them: the
        database was away): marked stopped (``pending``, ended with the call), returned to
        be checked."""
        rows = self.session.execute(
            select(Recording, Call.ended_at)
            .join(Call, Call.uuid == Recording.call_uuid)
            .where(Recording.status == LIVE_RECORDING, Call.state == CallState.ENDED)
            .order_by(Recording.id)
            .limit(limit)
        ).all()
        for row, ended in rows:
            row.status, row.ended_at = str(FileStatus.PENDING), row.ended_at or ended
        self.session.flush()
        return [stored(row) for row, _ in rows]

    def set_checked(self, path: str, check: Any, at: datetime) -> bool:
        """Store the check of ``path`` (``recording.wav.FileCheck``); False: no such row yet."""
        row = self.session.scalar(select(Recording).where(Recording.path == path))
        if row is None:
            return False
        row.status = str(check.status)
        row.size_bytes, row.sha256 = check.size_bytes, check.sha256
        row.channels, row.file_ms, row.problem = check.channels, check.file_ms, check.problem
        row.checked_at = at
        self.session.flush()
        return True

    def get(self, recording_id: int) -> StoredRecording:
        row = self.session.get(Recording, recording_id)
        if row is None:
            raise RecordingNotFound(str(recording_id))
        return stored(row)

    def search(
        self,
        *,
        call_uuid: str | None = None,
        queue: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[StoredRecording]:
        """Newest first; ``before_id``: the next page after the last id seen."""
        query = select(Recording).order_by(Recording.id.desc()).limit(limit)
        for column, value in (
            (Recording.call_uuid, call_uuid), (Recording.queue, queue), (Recording.status, status),
        ):  # fmt: skip
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(Recording.started_at >= since)
        if until is not None:
            query = query.where(Recording.started_at < until)
        if before_id is not None:
            query = query.where(Recording.id < before_id)
        return [stored(row) for row in self.session.scalars(query)]

    def due(self, now: datetime, unqueued_days: int | None = None) -> list[StoredRecording]:
        """Recordings older than their queue's ``recording_keep_days``, file not yet deleted.
        ``unqueued_days``: the keep of those in no queue (IVR only, direct calls, a queue
        since deleted); voicemail messages are never due (their box keeps them)."""
        shortest = self.session.scalar(select(func.min(Queue.recording_keep_days)))
        days = [d for d in (shortest, unqueued_days) if d is not None]
        if not days:
            return []
        rows = self.session.execute(
            select(Recording, Queue.name.is_(None), Queue.recording_keep_days)
            .outerjoin(Queue, Queue.name == Recording.queue)
            .where(
                Recording.deleted_at.is_(None),
                Recording.status != LIVE_RECORDING,
                Recording.started_at < now - timedelta(days=min(days)),  # the rest: one by one
            )
            .order_by(Recording.id)
        )
        out = []
        for row, unqueued, keep in rows:
            if unqueued:
                keep = unqueued_days if box_of(row.path) is None else None
            if keep is not None and row.started_at < now - timedelta(days=keep):
                out.append(stored(row))
        return out

    def live(self, call_uuids: Collection[str]) -> dict[str, list[StoredRecording]]:
        """The files still ``recording`` of these calls (a restart adopts them), by call."""
        out: dict[str, list[StoredRecording]] = {}
        if not call_uuids:
            return out
        rows = self.session.scalars(
            select(Recording)
            .where(Recording.call_uuid.in_(sorted(call_uuids)),
                   Recording.status == LIVE_RECORDING)
            .order_by(Recording.id)
        )  # fmt: skip
        for row in rows:
            out.setdefault(row.call_uuid, []).append(stored(row))
        return out

    def mark_deleted(self, recording_id: int, at: datetime) -> None:
        row = self.session.get(Recording, recording_id)
        if row is None:
            raise RecordingNotFound(str(recording_id))
        row.deleted_at, row.status = at, "deleted"
        self.session.flush()

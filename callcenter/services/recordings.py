"""Recordings: list, show and export them; PCI pause/resume and on-demand start/stop of a live
call's recording; retention (``purge``).

A live call's recording is changed through a ``call`` change (op ``record_pause``,
``record_resume``, ``record_start``, ``record_stop``): the engine holding the call hands its
actor a ``RecordingCommand``. Purge deletes the files older than their queue's
``recording_keep_days`` (calls in no queue: the setting ``recording_keep_days``) and keeps
the rows, with ``deleted_at``; each deletion is audited.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from callcenter.errors import DomainError
from callcenter.recording.state import Action
from callcenter.services import checks
from callcenter.services.actor import Actor
from callcenter.services.calls import CallRequested, request
from callcenter.services.changes import audited
from callcenter.store.database import Database
from callcenter.store.records import StoredRecording
from callcenter.store.repos import RecordingRepository
from callcenter.store.repos.recordings import RecordingNotFound

OPS = {action: f"record_{action}" for action in Action}
STATUSES = ("recording", "pending", "ok", "missing", "corrupt", "deleted")
LIMIT_MAX = 1000
ID_MAX = 2**31 - 1  # recordings.id is an INTEGER


@dataclass(frozen=True, slots=True)
class Purged:
    dry_run: bool
    recordings: tuple[StoredRecording, ...]  # deleted (or, dry run, that would be)
    missing: int = 0  # files already gone (the row is marked all the same)


def list_recordings(
    db: Database,
    *,
    call_uuid: str | None = None,
    queue: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[StoredRecording]:
    """Newest first."""
    if call_uuid is not None:
        checks.call_uuid(call_uuid)
    if status is not None and status not in STATUSES:
        raise checks.InvalidArgument("status", f"{checks.shown(status)}: one of {STATUSES}")
    checks.in_range(limit, 1, LIMIT_MAX, "limit")
    with db.session_scope() as session:
        return RecordingRepository(session).search(
            call_uuid=call_uuid, queue=queue, status=status, since=since, until=until,
            before_id=before_id, limit=limit,
        )  # fmt: skip


def get(db: Database, recording_id: int) -> StoredRecording:
    if not 1 <= recording_id <= ID_MAX:
        raise RecordingNotFound(str(recording_id))
    with db.session_scope() as session:
        return RecordingRepository(session).get(recording_id)


def file_of(db: Database, recording_id: int) -> tuple[StoredRecording, Path]:
    """The recording and its file, readable from here (recording_not_found, file_gone)."""
    found = get(db, recording_id)
    path = Path(found.path)
    if found.deleted_at is not None:
        raise DomainError(
            f"recording {recording_id}: file deleted {found.deleted_at:%Y-%m-%d} (retention)",
            code="recording_deleted",
        )
    if not path.is_file():
        raise DomainError(
            f"recording {recording_id}: {path} is not readable from here", code="file_gone"
        )
    return found, path


def export(db: Database, who: Actor, recording_id: int, out: BinaryIO) -> StoredRecording:
    """Copy the file to ``out``; audited (a recording is personal data)."""
    found, path = file_of(db, recording_id)
    with path.open("rb") as fh:
        shutil.copyfileobj(fh, out)
    with db.session_scope() as session:
        audited(session, who, "recording.export", str(recording_id), {"path": found.path})
    return found


def control(db: Database, who: Actor, call_uuid: str, action: str) -> CallRequested:
    """Pause (PCI), resume, start (on-demand) or stop a live call's recording."""
    checks.call_uuid(call_uuid)
    try:
        op = OPS[Action(action)]
    except ValueError:
        raise checks.InvalidArgument(
            "action", f"{checks.shown(action)}: one of {', '.join(Action)}"
        ) from None
    return request(db, who, call_uuid, op, {})


def purge(
    db: Database,
    who: Actor,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    root: Path | None = None,
    on_deleted: Callable[[], None] | None = None,
    unqueued_days: int = 0,
) -> Purged:
    """Delete the files older than their queue's ``recording_keep_days``, and those of calls
    in no queue (IVR only, direct) older than ``unqueued_days`` (the setting
    ``recording_keep_days``; 0: kept). ``root``: only files inside it are deleted (the rows
    of others are marked, the file left alone)."""
    at = now or datetime.now(UTC)
    with db.session_scope() as session:
        due = RecordingRepository(session).due(at, unqueued_days or None)
    if dry_run:
        return Purged(True, tuple(due))
    missing = 0
    for recording in due:
        path = Path(recording.path)
        if root is None or _inside(root, path):
            try:
                path.unlink()
            except FileNotFoundError:
                missing += 1
        with db.session_scope() as session:
            RecordingRepository(session).mark_deleted(recording.id, at)
            details = {"path": recording.path, "queue": recording.queue,
                       "started_at": recording.started_at.isoformat()}  # fmt: skip
            audited(session, who, "recording.purge", str(recording.id), details)
        if on_deleted is not None:
            on_deleted()
    return Purged(False, tuple(due), missing)


def _inside(root: Path, path: Path) -> bool:
    base = os.path.abspath(root)
    return os.path.commonpath([base, os.path.abspath(path)]) == base

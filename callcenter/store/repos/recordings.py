from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from callcenter.store.models import Recording
from callcenter.store.records import RecordingRecord
from callcenter.store.statements import params, recording_insert

_FIELDS = tuple(f.name for f in dataclasses.fields(RecordingRecord))


def write_recordings(conn: Connection, recordings: Sequence[RecordingRecord]) -> int:
    """Record files not known yet (by path); return how many were new."""
    if not recordings:
        return 0
    rows = [params(r, _FIELDS) for r in recordings]
    return conn.execute(recording_insert(conn.dialect.name, _FIELDS), rows).rowcount


class RecordingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, recording: RecordingRecord) -> bool:
        return self.add_many([recording]) == 1

    def add_many(self, recordings: Sequence[RecordingRecord]) -> int:
        """Record files not known yet (by path); return how many were new."""
        return write_recordings(self.session.connection(), recordings)

    def for_call(self, call_uuid: str) -> list[RecordingRecord]:
        rows = self.session.scalars(
            select(Recording).where(Recording.call_uuid == call_uuid).order_by(Recording.id)
        )
        return [RecordingRecord(**{n: getattr(r, n) for n in _FIELDS}) for r in rows]

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.store.models import Recording
from callcenter.store.records import RecordingRecord
from callcenter.store.repos._insert import insert_ignore

_FIELDS = [f.name for f in dataclasses.fields(RecordingRecord)]


class RecordingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, recording: RecordingRecord) -> bool:
        values = {name: getattr(recording, name) for name in _FIELDS}
        table = Recording.__table__
        return insert_ignore(self.session, table, values, key="path") is not None  # type: ignore[arg-type]

    def for_call(self, call_uuid: str) -> list[RecordingRecord]:
        rows = self.session.scalars(
            select(Recording).where(Recording.call_uuid == call_uuid).order_by(Recording.id)
        )
        return [RecordingRecord(**{n: getattr(r, n) for n in _FIELDS}) for r in rows]

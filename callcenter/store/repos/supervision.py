"""``supervision_sessions``: supervisors' eavesdrop sessions, by call."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.errors import NotFound
from callcenter.store.models import Call, SupervisionSession
from callcenter.store.records import SupervisionRecord

_FIELDS = tuple(f.name for f in dataclasses.fields(SupervisionRecord))


def to_record(row: SupervisionSession) -> SupervisionRecord:
    return SupervisionRecord(**{name: getattr(row, name) for name in _FIELDS})


class SupervisionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, **values: object) -> SupervisionRecord:
        row = SupervisionSession(**values)
        self.session.add(row)
        self.session.flush()
        return to_record(row)

    def get(self, session_id: int) -> SupervisionRecord:
        return to_record(self._get(session_id))

    def open_on(self, node: str) -> list[SupervisionRecord]:
        """The sessions not ended on the calls of ``node`` (a start looks at them)."""
        rows = self.session.scalars(
            select(SupervisionSession)
            .join(Call, Call.uuid == SupervisionSession.call_uuid)
            .where(SupervisionSession.ended_at.is_(None), Call.node == node)
            .order_by(SupervisionSession.id)
        )
        return [to_record(r) for r in rows]

    def _get(self, session_id: int) -> SupervisionSession:
        row = self.session.get(SupervisionSession, session_id)
        if row is None:
            raise NotFound(f"no supervision session {session_id}", code="supervision_not_found")
        return row

    def started(self, session_id: int, at: datetime) -> None:
        self._get(session_id).started_at = at

    def ended(
        self, session_id: int, *, modes: str, at: datetime, reason: str, started_at: datetime | None
    ) -> SupervisionRecord:
        row = self._get(session_id)
        row.modes = modes or row.modes
        row.ended_at = row.ended_at or at
        row.end_reason = row.end_reason or reason
        row.started_at = row.started_at or started_at
        self.session.flush()
        return to_record(row)

    def for_call(self, call_uuid: str) -> list[SupervisionRecord]:
        rows = self.session.scalars(
            select(SupervisionSession)
            .where(SupervisionSession.call_uuid == call_uuid)
            .order_by(SupervisionSession.id)
        )
        return [to_record(r) for r in rows]

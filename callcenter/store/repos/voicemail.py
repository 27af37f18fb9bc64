"""Voicemail messages: the recordings an IVR ``voicemail`` node made, in
``<recordings_dir>/voicemail/<box>/<call uuid>.wav`` (``ivr.on_call``), with their caller
from the call's CDR; the box is the file's folder."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from callcenter.errors import NotFound
from callcenter.store.models import Cdr, Recording
from callcenter.store.records import VoicemailRecord

FOLDER = "voicemail"
_IN_A_BOX = f"%/{FOLDER}/%/%"


def box_of(path: str) -> str | None:
    """The box a recording's path puts it in (None: not a voicemail)."""
    parts = PurePath(path).parts
    if len(parts) >= 3 and parts[-3] == FOLDER:
        return parts[-2]
    return None


class VoicemailRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _query(self) -> Select[Recording, Cdr]:
        return (
            select(Recording, Cdr)
            .outerjoin(Cdr, Cdr.call_uuid == Recording.call_uuid)
            .where(Recording.path.like(_IN_A_BOX), Recording.deleted_at.is_(None))
        )

    def list(
        self, *, box: str | None = None, unread: bool = False, limit: int = 100
    ) -> list[VoicemailRecord]:
        query = self._query()
        if box is not None:
            query = query.where(Recording.path.like(f"%/{FOLDER}/{box}/%"))
        if unread:
            query = query.where(Recording.read_at.is_(None))
        rows = self.session.execute(
            query.order_by(Recording.started_at.desc(), Recording.id.desc()).limit(limit * 2)
        )
        found = [_record(row[0], row[1]) for row in rows]
        return [v for v in found if v is not None and (box is None or v.box == box)][:limit]

    def get(self, voicemail_id: int) -> VoicemailRecord:
        row = self.session.execute(self._query().where(Recording.id == voicemail_id)).first()
        found = _record(row[0], row[1]) if row is not None else None
        if found is None:
            raise NotFound(f"no voicemail {voicemail_id}", code="voicemail_not_found")
        return found

    def mark(self, voicemail_id: int, read_at: datetime | None) -> VoicemailRecord:
        self.get(voicemail_id)
        row = self.session.get_one(Recording, voicemail_id)
        row.read_at = read_at
        self.session.flush()
        return self.get(voicemail_id)

    def delete(self, voicemail_id: int, at: datetime) -> VoicemailRecord:
        found = self.get(voicemail_id)
        self.session.get_one(Recording, voicemail_id).deleted_at = at
        self.session.flush()
        return found


def _record(recording: Recording, cdr: Cdr | None) -> VoicemailRecord | None:
    box = box_of(recording.path)
    if box is None:
        return None
    return VoicemailRecord(
        id=recording.id, box=box, call_uuid=recording.call_uuid, path=recording.path,
        received_at=recording.started_at, from_number=cdr.from_number if cdr else "",
        from_name=cdr.from_name if cdr else "", duration_ms=recording.duration_ms,
        size_bytes=recording.size_bytes, read_at=recording.read_at,
    )  # fmt: skip

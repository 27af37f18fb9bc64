"""CDRs are written exactly once per call UUID, however often a writer retries."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, selectinload

from callcenter.errors import NotFound
from callcenter.store.models import Cdr, CdrLeg
from callcenter.store.records import CdrLegRecord, CdrRecord
from callcenter.store.repos._insert import insert_ignore_many

_SCALARS = [f.name for f in dataclasses.fields(CdrRecord) if f.name not in ("legs", "ivr_path")]


def to_record(row: Cdr) -> CdrRecord:
    values = {name: getattr(row, name) for name in _SCALARS}
    return CdrRecord(
        **values,
        ivr_path=tuple(row.ivr_path or ()),
        legs=tuple(
            CdrLegRecord(
                leg_uuid=leg.leg_uuid,
                role=leg.role,
                started_at=leg.started_at,
                agent_extension=leg.agent_extension,
                answered_at=leg.answered_at,
                ended_at=leg.ended_at,
                hangup_cause=leg.hangup_cause,
            )
            for leg in row.legs
        ),
    )


class CdrRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def insert_once(self, cdr: CdrRecord) -> bool:
        """True if this call's CDR was written now, False if it was already there."""
        return self.insert_many([cdr]) == 1

    def insert_many(self, cdrs: Sequence[CdrRecord]) -> int:
        """Insert the CDRs of calls that have none yet; return how many were written."""
        unique = {cdr.call_uuid: cdr for cdr in cdrs}
        rows = []
        for cdr in unique.values():
            values = {name: getattr(cdr, name) for name in _SCALARS}
            values["ivr_path"] = list(cdr.ivr_path)
            rows.append(values)
        table = Cdr.__table__
        inserted = insert_ignore_many(self.session, table, rows, key="call_uuid")  # type: ignore[arg-type]
        legs = [
            {"cdr_id": cdr_id, **dataclasses.asdict(leg)}
            for call_uuid, cdr_id in inserted
            for leg in unique[call_uuid].legs
        ]
        if legs:
            self.session.execute(insert(CdrLeg), legs)
        return len(inserted)

    def get(self, call_uuid: str) -> CdrRecord:
        row = self.session.scalar(
            select(Cdr).where(Cdr.call_uuid == call_uuid).options(selectinload(Cdr.legs))
        )
        if row is None:
            raise NotFound(f"no CDR for call {call_uuid!r}", code="cdr_not_found")
        return to_record(row)

    def all(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        queue: str | None = None,
        limit: int = 100,
    ) -> list[CdrRecord]:
        query = select(Cdr).options(selectinload(Cdr.legs))
        if since is not None:
            query = query.where(Cdr.started_at >= since)
        if until is not None:
            query = query.where(Cdr.started_at < until)
        if queue is not None:
            query = query.where(Cdr.queue == queue)
        query = query.order_by(Cdr.started_at.desc(), Cdr.id.desc()).limit(limit)
        return [to_record(r) for r in self.session.scalars(query)]

    def count(self) -> int:
        return int(self.session.scalar(select(func.count(Cdr.id))) or 0)

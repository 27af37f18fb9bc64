"""CDRs are written exactly once per call UUID, however often a writer retries."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from callcenter.errors import NotFound
from callcenter.store.base import utcnow
from callcenter.store.direct import Counted, Executes, Rowcount
from callcenter.store.models import Cdr
from callcenter.store.records import CdrLegRecord, CdrRecord
from callcenter.store.statements import (
    cdr_insert,
    cdr_leg_insert,
    params,
    superseded_cdr_delete,
    superseded_cdr_legs_delete,
)
from callcenter.vocabulary import CdrSource, Disposition

_SCALARS = tuple(
    f.name for f in dataclasses.fields(CdrRecord) if f.name not in ("legs", "ivr_path")
)
_COLUMNS = (*_SCALARS, "ivr_path", "written_at")


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
                trunk=leg.trunk,
            )
            for leg in row.legs
        ),
    )


_LEG_FIELDS = tuple(f.name for f in dataclasses.fields(CdrLegRecord))


def write_cdrs(conn: Executes, cdrs: Sequence[CdrRecord]) -> Counted:
    """Insert the CDRs of calls that have none yet (with their legs); the result's
    ``rowcount`` says how many (in the writer's pipeline, known once it has synced)."""
    if not cdrs:
        return Rowcount(0)
    unique = _first_of_each_call(cdrs)
    written_at = utcnow()  # this batch's mark: the legs go to the rows it wrote
    rows = []
    for cdr in unique.values():
        row = params(cdr, _SCALARS)
        row.update(p_ivr_path=list(cdr.ivr_path), p_written_at=written_at)
        rows.append(row)
    dialect = conn.dialect.name
    written = conn.execute(cdr_insert(dialect, _COLUMNS), rows)
    legs = [
        {
            "p_call_uuid": uuid,
            "p_written_at": written_at,
            **params(leg, _LEG_FIELDS),
        }
        for uuid, cdr in unique.items()
        for leg in cdr.legs
    ]
    if legs:  # only the rows this batch wrote (by written_at) get them
        conn.execute(cdr_leg_insert(dialect, _LEG_FIELDS), legs)
    superseded = [{"p_call_uuid": uuid} for uuid in _attempts_of(unique.values())]
    if superseded:  # FreeSWITCH's CDR of each, whichever of the two was written first
        conn.execute(superseded_cdr_legs_delete(), superseded)
        conn.execute(superseded_cdr_delete(), superseded)
    return written


def _attempts_of(cdrs: Iterable[CdrRecord]) -> list[str]:
    """What may be a trunk attempt written twice: each trunk attempt the engine's CDRs keep
    as a leg (a leg that had a channel and failed over to the next trunk), and each of
    FreeSWITCH's CDRs (it posts such a leg's own CDR: an A leg tagged as the call). Either
    may be written first (the backstop holds FreeSWITCH's, the call may go on for long, a
    spool replays both): the statements delete FreeSWITCH's once both are stored."""
    return [
        *(
            leg.leg_uuid
            for cdr in cdrs
            if cdr.source is CdrSource.ENGINE
            for leg in cdr.legs
            # a trunk's leg that never answered, not the call's own: an attempt failed over
            if leg.trunk is not None and leg.answered_at is None and leg.leg_uuid != cdr.call_uuid
        ),
        *(cdr.call_uuid for cdr in cdrs if cdr.source is not CdrSource.ENGINE),
    ]


def _first_of_each_call(cdrs: Sequence[CdrRecord]) -> dict[str, CdrRecord]:
    """One CDR per call, as the insert-once rule picks between batches: the first one, but
    the engine's over FreeSWITCH's (both can meet in one replayed batch of the spool)."""
    unique: dict[str, CdrRecord] = {}
    for cdr in cdrs:
        kept = unique.get(cdr.call_uuid)
        if kept is None or (kept.source is not CdrSource.ENGINE and cdr.source is CdrSource.ENGINE):
            unique[cdr.call_uuid] = cdr
    return unique


class CdrRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def insert_once(self, cdr: CdrRecord) -> bool:
        """True if this call's CDR was written now, False if it was already there."""
        return self.insert_many([cdr]) == 1

    def insert_many(self, cdrs: Sequence[CdrRecord]) -> int:
        """Insert the CDRs of calls that have none yet; return how many were written."""
        return int(write_cdrs(self.session.connection(), cdrs).rowcount)

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
        agent: str | None = None,
        did: str | None = None,
        disposition: Disposition | None = None,
        before: tuple[datetime, str] | None = None,
        limit: int = 100,
    ) -> list[CdrRecord]:
        """Newest first (by start, then call UUID); ``before``: the (started_at, call_uuid)
        of the last CDR already seen, for the next page."""
        query = select(Cdr).options(selectinload(Cdr.legs))
        for column, value in (
            (Cdr.queue, queue),
            (Cdr.agent_extension, agent),
            (Cdr.did, did),
            (Cdr.disposition, disposition),
        ):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(Cdr.started_at >= since)
        if until is not None:
            query = query.where(Cdr.started_at < until)
        if before is not None:
            started, uuid = before
            query = query.where(
                or_(Cdr.started_at < started, and_(Cdr.started_at == started, Cdr.call_uuid < uuid))
            )
        query = query.order_by(Cdr.started_at.desc(), Cdr.call_uuid.desc()).limit(limit)
        return [to_record(r) for r in self.session.scalars(query)]

    def count(self) -> int:
        return int(self.session.scalar(select(func.count(Cdr.id))) or 0)

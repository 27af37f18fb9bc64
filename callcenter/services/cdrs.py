"""Call detail records: one per call, read with the filters operators and CRMs need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from callcenter.services import checks
from callcenter.store.database import Database
from callcenter.store.records import CdrRecord
from callcenter.store.repos import CdrRepository
from callcenter.vocabulary import Disposition

LIMIT_MAX = 100_000


@dataclass(frozen=True, slots=True)
class CdrFilter:
    since: datetime | None = None  # started at or after
    until: datetime | None = None  # started before
    queue: str | None = None
    agent: str | None = None  # the agent extension that took the call
    did: str | None = None
    disposition: Disposition | None = None


def list_cdrs(
    db: Database,
    where: CdrFilter | None = None,
    *,
    limit: int = 50,
    before: tuple[datetime, str] | None = None,
) -> list[CdrRecord]:
    """CDRs newest first; ``before``: (started_at, call_uuid) of the last one already seen."""
    where = where or CdrFilter()
    checks.in_range(limit, 1, LIMIT_MAX, "limit")
    if where.queue is not None:
        checks.queue_name(where.queue)
    if where.agent is not None:
        checks.extension(where.agent, "agent")
    with db.session_scope() as session:
        return CdrRepository(session).all(
            since=where.since,
            until=where.until,
            queue=where.queue,
            agent=where.agent,
            did=where.did,
            disposition=where.disposition,
            before=before,
            limit=limit,
        )


def get(db: Database, call_uuid: str) -> CdrRecord:
    checks.call_uuid(call_uuid)
    with db.session_scope() as session:
        return CdrRepository(session).get(call_uuid)

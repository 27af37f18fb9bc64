"""``/cdrs``: call detail records, newest first, filtered by time, queue, agent, DID,
disposition."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from callcenter.api.env import ApiEnv
from callcenter.api.pages import Page, PageQuery, decode_cursor, encode_cursor
from callcenter.api.problems import ApiProblem
from callcenter.api.routing import Ask, Operation
from callcenter.services import cdrs, supervision
from callcenter.services.cdrs import CdrFilter
from callcenter.services.reports import aware
from callcenter.store.models.tokens import TokenScope
from callcenter.store.records import CdrRecord, SupervisionRecord
from callcenter.vocabulary import CdrSource, Direction, Disposition, HangupBy, LegRole

READ = TokenScope.READ
TAG = "cdrs"


class CdrLeg(BaseModel):
    leg_uuid: str
    role: LegRole
    started_at: datetime
    agent_extension: str | None
    answered_at: datetime | None
    ended_at: datetime | None
    hangup_cause: str | None
    trunk: str | None = None


class Cdr(BaseModel):
    call_uuid: str
    direction: Direction
    node: str
    started_at: datetime
    ended_at: datetime
    hangup_cause: str
    hangup_by: HangupBy
    disposition: Disposition
    from_number: str
    from_name: str
    to_number: str
    did: str
    queue: str | None
    agent_extension: str | None
    answered_at: datetime | None
    ring_ms: int
    ivr_ms: int
    queue_wait_ms: int
    talk_ms: int
    hold_ms: int
    wrapup_ms: int = Field(
        description="Always 0: the wrap-up begins once the call has ended "
        "and its CDR is written; it is in the agent status history "
        "(the reports, the metrics)."
    )
    total_ms: int
    ivr_path: list[dict[str, Any]]
    legs: list[CdrLeg]
    source: CdrSource
    transfers: int = Field(0, description="Transfers from agents' phones (each hop in ivr_path).")
    transferred_by: str | None = Field(None, description="Agent extension of the last one.")


class Supervision(BaseModel):
    """A supervisor's session on the call (listen, whisper, barge)."""

    supervisor: str
    agent: str
    mode: str = Field(description="Asked for: listen, whisper or barge.")
    modes: list[str] = Field(description="As the supervisor's keys switched them, in order.")
    source: str = Field(description="api, cli or phone (*33)")
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None


class CdrDetail(Cdr):
    supervision: list[Supervision] = Field(
        default_factory=list, description="Supervisors' sessions on the call."
    )


def supervision_out(row: SupervisionRecord) -> Supervision:
    return Supervision(
        supervisor=row.supervisor, agent=row.agent, mode=row.mode,
        modes=[m for m in row.modes.split(",") if m], source=row.source,
        requested_by=row.requested_by, requested_at=row.requested_at,
        started_at=row.started_at, ended_at=row.ended_at, end_reason=row.end_reason,
    )  # fmt: skip


class CdrQuery(PageQuery):
    since: datetime | None = Field(
        None, description="Started at or after (ISO 8601; without a zone: the engine's "
        "time_zone, as the reports read it).",
    )  # fmt: skip
    until: datetime | None = Field(None, description="Started before (as since).")
    queue: str | None = Field(None, max_length=64)
    agent: str | None = Field(None, max_length=64, description="Agent extension.")
    did: str | None = Field(None, max_length=128)
    disposition: Disposition | None = None


def cdr_out(record: CdrRecord) -> Cdr:
    values = {
        name: getattr(record, name) for name in Cdr.model_fields if name not in ("legs", "ivr_path")
    }
    legs = [
        CdrLeg(leg_uuid=leg.leg_uuid, role=leg.role, started_at=leg.started_at,
               agent_extension=leg.agent_extension, answered_at=leg.answered_at,
               ended_at=leg.ended_at, hangup_cause=leg.hangup_cause, trunk=leg.trunk)
        for leg in record.legs
    ]  # fmt: skip
    return Cdr(**values, ivr_path=[dict(step) for step in record.ivr_path], legs=legs)


def _before(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    key = decode_cursor(cursor)
    try:
        started, uuid = key
        return datetime.fromisoformat(started), str(uuid)
    except (TypeError, ValueError):
        raise ApiProblem(400, "cursor_invalid", "cursor: not a cursor of this list") from None


def operations(env: ApiEnv) -> list[Operation]:
    db = env.database

    def list_cdrs(ask: Ask) -> Page[Cdr]:
        query: CdrQuery = ask.query
        where = CdrFilter(
            since=query.since and aware(query.since, env.time_zone),
            until=query.until and aware(query.until, env.time_zone), queue=query.queue,
            agent=query.agent, did=query.did, disposition=query.disposition,
        )  # fmt: skip
        found = cdrs.list_cdrs(db, where, limit=query.limit + 1, before=_before(query.cursor))
        page = found[: query.limit]
        more = None
        if len(found) > query.limit:
            last = page[-1]
            more = encode_cursor([last.started_at.isoformat(), last.call_uuid])
        return Page[Cdr](items=[cdr_out(c) for c in page], next=more)

    def show_cdr(ask: Ask) -> CdrDetail:
        found = cdrs.get(db, ask.path["uuid"])
        sessions = [supervision_out(s) for s in supervision.for_call(db, found.call_uuid)]
        return CdrDetail(**cdr_out(found).model_dump(), supervision=sessions)

    return [
        Operation("GET", "/cdrs", READ, list_cdrs, "Call detail records, newest first", TAG,
                  Page[Cdr], query=CdrQuery, errors=(400, 422)),
        Operation("GET", "/cdrs/{uuid}", READ, show_cdr, "One call's CDR with its legs", TAG,
                  CdrDetail, errors=(404, 422)),
    ]  # fmt: skip

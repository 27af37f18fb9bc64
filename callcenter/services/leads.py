"""Leads in and results out: ``import_file`` streams a CSV file into a campaign in batches,
``import_rows`` takes rows already read (the HTTP API's twin, in parts of one import),
``results`` and ``audit_entries`` stream what the campaign did, for export.

An import commits every batch: one stopped halfway keeps what it stored, and running it
again adds the rest (a number is stored once per campaign: the same file twice adds
nothing). Rejected rows come with their line and the reason, never silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from callcenter.dialer.compliance import CallingWindow
from callcenter.dialer.export import RESULT_COLUMNS, column_field, field_column
from callcenter.dialer.importer import (
    Cells,
    ColumnMap,
    CsvRows,
    LeadRow,
    Rejected,
    RowChecker,
    checked_batches,
    open_leads,
)
from callcenter.dialer.store import upsert
from callcenter.dialer.vocabulary import LeadState
from callcenter.errors import NotFound
from callcenter.events import outbox
from callcenter.events.types import CampaignLeadsImported
from callcenter.services import checks
from callcenter.services.actor import Actor
from callcenter.services.changes import ChangeKind, audited
from callcenter.store.base import utcnow
from callcenter.store.database import Database
from callcenter.store.models import (
    Campaign,
    CampaignDisposition,
    DialerAuditEntry,
    Lead,
    LeadImport,
)
from callcenter.store.repos.campaigns import CampaignRepository

BATCH = 1000
SOURCE_MAX = 255


@dataclass(frozen=True, slots=True)
class ImportReport:
    import_id: int
    rows: int
    added: int
    existing: int  # already in the campaign (from an earlier import)
    rejected: int


@dataclass(slots=True)
class _Run:
    campaign_id: int
    campaign: str
    import_id: int
    rows: int = 0
    added: int = 0
    existing: int = 0
    rejected: int = 0


Progress = Callable[[int], None]
OnReject = Callable[[Rejected], None]


def _campaign(session: Session, name: str) -> Campaign:
    return CampaignRepository(session).row(name)


def _begin(db: Database, who: Actor, name: str, source: str, columns: list[str]) -> _Run:
    with db.session_scope() as session:
        campaign = _campaign(session, name)
        row = LeadImport(
            campaign_id=campaign.id,
            source=source[:SOURCE_MAX],
            columns=columns,
            actor=str(who),
            started_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return _Run(campaign.id, name, row.id)


def _store(db: Database, run: _Run, batch: list[LeadRow], on_reject: OnReject) -> None:
    """One batch in one transaction: new numbers added; a number already in the campaign is
    ``existing`` (an earlier import's) or a duplicate of an earlier line (this import's)."""
    if not batch:
        return
    fresh = [r for r in batch if not r.stored]
    with db.session_scope() as session:
        added = _insert(session, run, fresh) if fresh else set()
        run.added += len(added)
        missed = [r for r in batch if (r.phone, r.line) not in added]
        if not missed:
            return
        holders = _stored(session, run.campaign_id, {r.phone for r in missed})
    for r in missed:
        held_by, first = holders.get(r.phone, (None, None))
        if held_by == run.import_id and first is not None and first != r.line:
            run.rejected += 1
            on_reject(Rejected(r.line, f"{r.phone}: a duplicate of line {first}", r.cells))
        else:
            run.existing += 1


_UNNEST = text(
    "INSERT INTO leads (campaign_id, phone, zones, priority, state, attempts, next_attempt_at,"
    " fields, created_at, import_id, source_line, callback_at, callback_agent, disposition,"
    " last_outcome)"
    " SELECT :campaign_id, u.phone, u.zones, u.priority, u.state, 0,"
    " COALESCE(u.callback_at, :now), CAST(u.fields AS json), :now, :import_id, u.line,"
    " u.callback_at, u.callback_agent, u.disposition, u.last_outcome"
    " FROM unnest(CAST(:phones AS text[]), CAST(:zones AS text[]),"
    " CAST(:priorities AS integer[]), CAST(:fields AS text[]), CAST(:lines AS integer[]),"
    " CAST(:states AS text[]), CAST(:callback_ats AS timestamptz[]),"
    " CAST(:callback_agents AS text[]), CAST(:dispositions AS text[]),"
    " CAST(:last_outcomes AS text[]))"
    " AS u(phone, zones, priority, fields, line, state, callback_at, callback_agent,"
    " disposition, last_outcome)"
    " ON CONFLICT (campaign_id, phone) DO NOTHING RETURNING phone, source_line"
)


_STORED = text(
    "SELECT phone, import_id, source_line FROM leads WHERE campaign_id = :campaign_id"
    " AND phone = ANY(CAST(:phones AS text[]))"
)


def _stored(
    session: Session, campaign_id: int, phones: set[str]
) -> dict[str, tuple[int | None, int | None]]:
    """Which of ``phones`` are leads of the campaign: the import and line of each. On
    PostgreSQL one array parameter: a thousand ``IN`` parameters make a statement whose
    generic plan (prepared while the table was small) scans the table for every batch."""
    if session.get_bind().dialect.name == "postgresql":
        found = session.execute(_STORED, {"campaign_id": campaign_id, "phones": list(phones)})
    else:
        found = session.execute(
            select(Lead.phone, Lead.import_id, Lead.source_line).where(
                Lead.campaign_id == campaign_id, Lead.phone.in_(phones)
            )
        )
    return {phone: (import_id, line) for phone, import_id, line in found}


def _insert(session: Session, run: _Run, batch: list[LeadRow]) -> set[tuple[str, int]]:
    """Insert the batch's new numbers; the (phone, line) of each row stored. PostgreSQL
    takes the batch as arrays in one statement (a VALUES list of a thousand rows costs the
    driver more than the database); SQLite a statement run per row."""
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        returned = session.execute(
            _UNNEST,
            {
                "campaign_id": run.campaign_id,
                "import_id": run.import_id,
                "now": now,
                "phones": [r.phone for r in batch],
                "zones": [" ".join(r.zones) for r in batch],
                "priorities": [r.priority for r in batch],
                "fields": [json.dumps(r.fields, ensure_ascii=False) for r in batch],
                "lines": [r.line for r in batch],
                "states": [str(_state(r)) for r in batch],
                "callback_ats": [r.restored.callback_at for r in batch],
                "callback_agents": [r.restored.callback_agent for r in batch],
                "dispositions": [r.restored.disposition for r in batch],
                "last_outcomes": [r.restored.last_outcome for r in batch],
            },
        )
        return {(phone, line) for phone, line in returned}
    values = [
        {
            "campaign_id": run.campaign_id,
            "phone": r.phone,
            "zones": " ".join(r.zones),
            "priority": r.priority,
            "state": _state(r),
            "attempts": 0,
            "next_attempt_at": r.restored.callback_at or now,
            "fields": r.fields,
            "created_at": now,
            "import_id": run.import_id,
            "source_line": r.line,
            "callback_at": r.restored.callback_at,
            "callback_agent": r.restored.callback_agent,
            "disposition": r.restored.disposition,
            "last_outcome": r.restored.last_outcome,
        }
        for r in batch
    ]
    statement = upsert(session, Lead).on_conflict_do_nothing(
        index_elements=["campaign_id", "phone"]
    )
    returned = session.execute(statement.returning(Lead.phone, Lead.source_line), values)
    return {(phone, line) for phone, line in returned}


def _state(row: LeadRow) -> LeadState:
    """A new lead is due; one an export read back shows closed by do-not-call is not."""
    return LeadState.DONE if row.restored.closed else LeadState.PENDING


def _finish(db: Database, who: Actor, run: _Run, sha256: str | None) -> ImportReport:
    with db.session_scope() as session:
        row = session.get(LeadImport, run.import_id)
        assert row is not None
        row.rows, row.added, row.existing, row.rejected = (
            run.rows,
            run.added,
            run.existing,
            run.rejected,
        )
        row.finished_at = utcnow()
        row.sha256 = sha256 or row.sha256
        details = {
            "import": run.import_id,
            "source": row.source,
            "rows": run.rows,
            "added": run.added,
            "existing": run.existing,
            "rejected": run.rejected,
        }
        audited(
            session,
            who,
            "campaign.import",
            run.campaign,
            details,
            kind=ChangeKind.CAMPAIGN,
            op="import",
        )
        outbox.append(
            session,
            CampaignLeadsImported(
                campaign=run.campaign,
                source=row.source,
                rows=run.rows,
                added=run.added,
                existing=run.existing,
                rejected=run.rejected,
            ),
        )
    return ImportReport(run.import_id, run.rows, run.added, run.existing, run.rejected)


def _consume(
    db: Database,
    run: _Run,
    checker: RowChecker,
    records: Iterable[Cells | Rejected],
    on_reject: OnReject,
    progress: Callable[[], None] = lambda: None,
    *,
    text_checked: bool = True,
) -> None:
    with db.session_scope() as session:  # an empty campaign has nothing to look up
        had = session.scalar(select(Lead.id).where(Lead.campaign_id == run.campaign_id).limit(1))

    def stored(phones: set[str]) -> set[str]:
        if had is None:
            return set()
        with db.session_scope() as session:
            return set(_stored(session, run.campaign_id, phones))

    for batch in checked_batches(checker, records, stored, BATCH, text_checked=text_checked):
        rows: list[LeadRow] = []
        for item in batch:
            run.rows += 1
            if isinstance(item, Rejected):
                run.rejected += 1
                on_reject(item)
            else:
                rows.append(item)
        _store(db, run, rows, on_reject)
        progress()


@dataclass(frozen=True, slots=True)
class _Target:
    """What an import reads a file by: the campaign's window and region, the codes of
    every campaign's do-not-call dispositions (an export read back names its own
    campaign's), the campaign's custom fields so far."""

    window: CallingWindow
    region: str
    dnc_codes: frozenset[str]
    fields: tuple[str, ...]

    def checker(self, **options: Any) -> dict[str, Any]:
        return {"window": self.window, "dnc_codes": self.dnc_codes, "known_fields": self.fields,
                **options}  # fmt: skip


def _target(db: Database, name: str) -> _Target:
    with db.session_scope() as session:
        campaign = _campaign(session, name)
        codes = session.scalars(
            select(CampaignDisposition.code).where(CampaignDisposition.dnc.is_(True)).distinct()
        )
        return _Target(
            CallingWindow(campaign.window_start, campaign.window_end),
            campaign.region,
            frozenset(codes),
            _custom_fields(session, campaign.id),
        )


def _custom_fields(session: Session, campaign_id: int) -> tuple[str, ...]:
    """The custom fields of a campaign's imports, in the order they first came, each in
    its first spelling (one ``Name`` after a ``name`` is that field)."""
    seen: dict[str, str] = {}
    for columns in session.scalars(
        select(LeadImport.columns)
        .where(LeadImport.campaign_id == campaign_id)
        .order_by(LeadImport.id)
    ):
        for column in columns or ():
            seen.setdefault(str(column).lower(), str(column))
    return tuple(seen.values())


def import_file(
    db: Database,
    who: Actor,
    name: str,
    stream: BinaryIO,
    *,
    source: str,
    mapping: ColumnMap | None = None,
    region: str | None = None,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    progress: Progress = lambda read_bytes: None,
    on_reject: OnReject = lambda rejected: None,
    on_header: Callable[[Sequence[str]], None] = lambda names: None,
) -> ImportReport:
    """Stream the CSV ``stream`` into campaign ``name``: its first line names the columns
    (``phone`` required, ``priority`` and ``timezone`` read when present, ``mapping`` says
    which column holds each); every other column is kept as the lead's custom fields.
    Numbers without ``+`` are read in ``region`` (the campaign's by default); cells are
    split at ``delimiter``, by default the first line's (``CsvRows``)."""
    target = _target(db, name)
    rows = CsvRows(stream, encoding=encoding, delimiter=delimiter, source=source)
    checker, records = open_leads(
        rows, **target.checker(region=checks.region(region or target.region), mapping=mapping)
    )
    on_header(checker.header.names)
    run = _begin(db, who, name, source, list(checker.header.custom))
    _consume(db, run, checker, records, on_reject, lambda: progress(rows.read_bytes))
    return _finish(db, who, run, rows.sha256)


def import_rows(
    db: Database,
    who: Actor,
    name: str,
    header: list[str],
    rows: list[tuple[int, list[str]]],
    *,
    source: str,
    mapping: ColumnMap | None = None,
    region: str | None = None,
    import_id: int | None = None,
) -> tuple[ImportReport, list[Rejected]]:
    """Rows already read from a file (``(line, cells)``, the HTTP API's import), in parts:
    the first part starts an import, the next ones give its ``import_id`` to go on with it
    (duplicates across parts are named as such). The import so far, and this part's
    rejected rows."""
    target = _target(db, name)
    checker = RowChecker(
        header, **target.checker(region=checks.region(region or target.region), mapping=mapping)
    )
    if import_id is None:
        run = _begin(db, who, name, source, list(checker.header.custom))
    else:
        run = _resume(db, name, import_id)
    rejected: list[Rejected] = []
    records = (Cells(line, cells) for line, cells in rows)
    _consume(db, run, checker, records, rejected.append, text_checked=False)
    return _finish(db, who, run, None), rejected


def _resume(db: Database, name: str, import_id: int) -> _Run:
    with db.session_scope() as session:
        campaign = _campaign(session, name)
        row = session.get(LeadImport, import_id)
        if row is None or row.campaign_id != campaign.id:
            raise NotFound(f"campaign {name!r} has no import {import_id}", code="import_not_found")
        return _Run(campaign.id, name, row.id, row.rows, row.added, row.existing, row.rejected)


# -- out ---------------------------------------------------------------------------------------


def result_columns(db: Database, name: str) -> tuple[str, ...]:
    """The results' columns: the lead's own, then every custom field of the campaign's
    imports, in the order they first came (``field:NAME`` for one named as a results
    column: ``export.field_column``)."""
    with db.session_scope() as session:
        fields = _custom_fields(session, _campaign(session, name).id)
    return RESULT_COLUMNS + tuple(field_column(c) for c in fields)


def _result(lead: Lead, custom: tuple[str, ...]) -> dict[str, Any]:
    # by name, case aside: a lead imported (before they were one field) with ``Name`` in a
    # campaign whose first file said ``name``
    fields = {k.lower(): v for k, v in (lead.fields or {}).items()}
    return {
        "lead_id": lead.id,
        "phone": lead.phone,
        "state": str(lead.state),
        "attempts": lead.attempts,
        "last_outcome": lead.last_outcome,
        "last_attempt_at": lead.last_attempt_at,
        "disposition": lead.disposition,
        "next_attempt_at": lead.next_attempt_at if lead.state is LeadState.PENDING else None,
        "callback_at": lead.callback_at,
        "callback_agent": lead.callback_agent,
        "priority": lead.priority,
        "zones": lead.zones,
        "source_line": lead.source_line,
        **{c: fields.get(column_field(c).lower()) for c in custom},
    }


def result_rows(
    db: Database,
    name: str,
    *,
    after: int = 0,
    limit: int = 5000,
    columns: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """Up to ``limit`` leads of the campaign with an id above ``after``, by id, each a dict
    of ``result_columns`` (custom fields included)."""
    custom = (columns or result_columns(db, name))[len(RESULT_COLUMNS) :]
    with db.session_scope() as session:
        campaign = _campaign(session, name)
        page = session.scalars(
            select(Lead)
            .where(Lead.campaign_id == campaign.id, Lead.id > after)
            .order_by(Lead.id)
            .limit(limit)
        ).all()
        return [_result(lead, custom) for lead in page]


def results(db: Database, name: str, batch: int = 5000) -> Iterator[list[Any]]:
    """Each lead of the campaign as a row of ``result_columns``, by id, read in batches."""
    columns = result_columns(db, name)
    after = 0
    while True:
        page = result_rows(db, name, after=after, limit=batch, columns=columns)
        yield from ([row[c] for c in columns] for row in page)
        if len(page) < batch:
            return
        after = page[-1]["lead_id"]


AUDIT_COLUMNS = ("id", "at", "campaign", "kind", "phone", "lead_id", "call_uuid", "details")


def audit_rows(
    db: Database,
    name: str,
    *,
    after: int = 0,
    limit: int = 5000,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Up to ``limit`` entries of the campaign's compliance audit log with an id above
    ``after``, oldest first."""
    with db.session_scope() as session:
        _campaign(session, name)  # a campaign that does not exist is named as such
        query = select(DialerAuditEntry).where(
            DialerAuditEntry.campaign == name, DialerAuditEntry.id > after
        )
        if since is not None:
            query = query.where(DialerAuditEntry.at >= since)
        if until is not None:
            query = query.where(DialerAuditEntry.at < until)
        return [
            {
                "id": r.id,
                "at": r.at.isoformat(),
                "campaign": r.campaign,
                "kind": str(r.kind),
                "phone": r.phone,
                "lead_id": r.lead_id,
                "call_uuid": r.call_uuid,
                "details": dict(r.details or {}),
            }
            for r in session.scalars(query.order_by(DialerAuditEntry.id).limit(limit))
        ]


def audit_entries(
    db: Database,
    name: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = 5000,
) -> Iterator[dict[str, Any]]:
    """The campaign's compliance audit log, oldest first, read in batches."""
    after = 0
    while True:
        page = audit_rows(db, name, after=after, limit=batch, since=since, until=until)
        yield from page
        if len(page) < batch:
            return
        after = page[-1]["id"]

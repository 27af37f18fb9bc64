"""Do-not-call lists: one global (``campaign`` None), one per campaign. ``add``, ``remove``,
``check`` one number; ``import_file`` a list (a CSV column, or one number a line). Numbers
are stored in E.164; a number written without ``+`` is read in ``region``. The dialer
checks both lists before every call (``dialer.store.claim_due``) and logs each hit.
Without a ``region``, a number of a campaign's list is read in the campaign's region (as
its lead files are), one of the global list in ``DEFAULT_REGION``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from callcenter.dialer import leads, store
from callcenter.dialer.campaign import check_name
from callcenter.dialer.importer import CsvRows, Rejected, read_numbers, store_numbers
from callcenter.dialer.store import upsert
from callcenter.errors import NotFound
from callcenter.events import outbox
from callcenter.events.types import DncChanged
from callcenter.services import checks
from callcenter.services.actor import Actor
from callcenter.services.changes import ChangeKind, audited
from callcenter.services.checks import InvalidArgument, shown
from callcenter.store.base import utcnow
from callcenter.store.database import Database
from callcenter.store.models import DncNumber
from callcenter.store.repos.campaigns import CampaignRepository

DNC = ChangeKind.DNC
# a batch of numbers as one array: a VALUES list of 2,000 rows cost SQLAlchemy ~0.3 s to
# compile (three quarters of an import's time), the database a few milliseconds
_UNNEST = text(
    "INSERT INTO dnc_numbers (phone, campaign, reason, added_by, added_at)"
    " SELECT u.phone, :campaign, :reason, :by, :now"
    " FROM unnest(CAST(:phones AS text[])) AS u(phone)"
    " ON CONFLICT (phone, campaign) DO NOTHING RETURNING id"
)
BATCH = 2000
REASON_MAX = 128
DEFAULT_REGION = "US"


@dataclass(frozen=True, slots=True)
class DncCheck:
    number: str  # E.164
    lists: tuple[str, ...]  # "" the global list, else campaign names

    @property
    def blocked(self) -> bool:
        return bool(self.lists)

    @property
    def names(self) -> list[str]:
        """The lists as operators read them: ``global``, ``campaign:NAME``."""
        return [store.dnc_list_name(c) for c in self.lists]


@dataclass(frozen=True, slots=True)
class DncImport:
    rows: int
    added: int
    existing: int
    rejected: int


def _scope(session: Session, campaign: str | None) -> str:
    if campaign is None:
        return ""
    CampaignRepository(session).row(check_name(campaign, "campaign"))
    return campaign


def _region(session: Session, campaign: str | None, region: str | None) -> str:
    """``region``, else the campaign's (its existence checked), else ``DEFAULT_REGION``."""
    if region is not None:
        return checks.region(region)
    if campaign is None:
        return DEFAULT_REGION
    return CampaignRepository(session).row(check_name(campaign, "campaign")).region


def number(raw: str, region: str = DEFAULT_REGION) -> str:
    region = checks.region(region)
    try:
        return leads.normalize(raw, region)
    except leads.BadNumber as exc:
        raise InvalidArgument("number", f"{shown(raw)}: {exc}") from None


def _reason(reason: str) -> str:
    if len(reason) > REASON_MAX or not reason.isprintable():
        raise InvalidArgument("reason", f"at most {REASON_MAX} printable characters")
    return reason


def add(
    db: Database,
    who: Actor,
    numbers: Sequence[str],
    *,
    campaign: str | None = None,
    reason: str = "",
    region: str | None = None,
) -> list[str]:
    """Put ``numbers`` on the global list (or ``campaign``'s); the ones that were not on
    it yet. Every number is checked before any is stored."""
    if not numbers:
        raise InvalidArgument("number", "give at least one number")
    with db.session_scope() as session:
        scope = _scope(session, campaign)
        read_in = _region(session, campaign, region)
        checked = [number(n, read_in) for n in numbers]
        added = [
            n
            for n in dict.fromkeys(checked)
            if store.add_dnc(session, n, scope, reason=_reason(reason), who=str(who))
        ]
        details = {"campaign": campaign, "numbers": added, "reason": reason}
        audited(session, who, "dnc.add", scope, details, kind=DNC, op="add")
        for n in added:
            outbox.append(session, DncChanged(op="add", campaign=campaign, number=n))
    return added


def remove(
    db: Database, who: Actor, raw: str, *, campaign: str | None = None, region: str | None = None
) -> str:
    """Take one number off the global list (or ``campaign``'s)."""
    with db.session_scope() as session:
        scope = _scope(session, campaign)
        phone = number(raw, _region(session, campaign, region))
        result = session.execute(
            delete(DncNumber).where(DncNumber.phone == phone, DncNumber.campaign == scope)
        )
        if not getattr(result, "rowcount", 0):
            where = f"campaign {campaign}'s list" if campaign else "the global list"
            raise NotFound(f"{phone} is not on {where}", code="dnc_not_found")
        audited(
            session,
            who,
            "dnc.remove",
            scope,
            {"campaign": campaign, "number": phone},
            kind=DNC,
            op="remove",
        )
        outbox.append(session, DncChanged(op="remove", campaign=campaign, number=phone))
    return phone


def check(
    db: Database, raw: str, *, campaign: str | None = None, region: str | None = None
) -> DncCheck:
    """Which lists hold the number: the global one ("") and, with ``campaign``, that
    campaign's; without, every campaign's."""
    with db.session_scope() as session:
        _scope(session, campaign)
        phone = number(raw, _region(session, campaign, region))
        return DncCheck(phone, tuple(store.dnc_lists(session, phone, campaign)))


def import_file(
    db: Database,
    who: Actor,
    stream: BinaryIO,
    *,
    campaign: str | None = None,
    column: str | None = None,
    reason: str = "",
    region: str | None = None,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    source: str = "the file",
    on_reject: Callable[[Rejected], None] = lambda rejected: None,
    on_header: Callable[[Sequence[str]], None] = lambda names: None,
    progress: Callable[[int], None] = lambda read_bytes: None,
) -> DncImport:
    """Numbers from a file (``column`` of a CSV with a header, or the first cell of each
    line), in batches; bad lines rejected with their line number; ``source`` names the
    file in the errors that refuse it; ``delimiter`` None: the header's (``CsvRows``)."""
    with db.session_scope() as session:
        scope = _scope(session, campaign)
        region = _region(session, campaign, region)
    rows = CsvRows(stream, encoding=encoding, delimiter=delimiter, source=source)
    who_text, why = str(who), _reason(reason)

    def store_batch(numbers: list[str]) -> int:
        now = utcnow()
        with db.session_scope() as session:
            if session.get_bind().dialect.name == "postgresql":  # arrays: one short statement
                given = {"phones": numbers, "campaign": scope, "reason": why, "by": who_text}
                return len(session.execute(_UNNEST, {**given, "now": now}).all())
            values = [
                {
                    "phone": n,
                    "campaign": scope,
                    "reason": why,
                    "added_by": who_text,
                    "added_at": now,
                }
                for n in numbers
            ]
            statement = upsert(session, DncNumber).values(values)
            statement = statement.on_conflict_do_nothing(index_elements=["phone", "campaign"])
            return len(session.execute(statement.returning(DncNumber.id)).all())

    counts = store_numbers(
        read_numbers(rows, region=region, column=column, on_header=on_header),
        store_batch,
        batch=BATCH,
        on_reject=on_reject,
        stored=lambda: progress(rows.read_bytes),
    )
    report = DncImport(**counts)
    with db.session_scope() as session:
        audited(
            session,
            who,
            "dnc.import",
            scope,
            {"campaign": campaign, **counts, "sha256": rows.sha256},
            kind=DNC,
            op="import",
        )
        outbox.append(session, DncChanged(op="import", campaign=campaign, count=report.added))
    return report


def listed(db: Database, campaign: str | None = None, limit: int = 1000) -> list[dict[str, object]]:
    """The newest entries of one list (the global one, or ``campaign``'s)."""
    with db.session_scope() as session:
        scope = _scope(session, campaign)
        rows = session.scalars(
            select(DncNumber)
            .where(DncNumber.campaign == scope)
            .order_by(DncNumber.id.desc())
            .limit(limit)
        )
        return [
            {
                "number": r.phone,
                "campaign": r.campaign or None,
                "reason": r.reason,
                "added_by": r.added_by,
                "added_at": r.added_at.isoformat(timespec="seconds"),
            }
            for r in rows
        ]

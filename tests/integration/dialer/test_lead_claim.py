"""The dialer's pick (``store.claim_due``) on PostgreSQL and SQLite: it walks an index in its
order instead of sorting every pending lead, and leads it must pass over (outside their
calling window) cost a few reads, not one each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session

from callcenter.dialer import leads, store
from callcenter.dialer.compliance import Outcome
from callcenter.dialer.vocabulary import AuditKind, LeadState
from callcenter.store import migrate
from callcenter.store.database import Database
from callcenter.store.models import Campaign, DialerAuditEntry, Lead
from tests.integration.dialer.test_dialer_store import LA, NOON_NY, NY, _campaign, _lead

AT = NOON_NY - timedelta(hours=2)  # 10:00 New York, 07:00 Los Angeles (closed until 08:00)
LA_OPENS = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgresql":
        yield request.getfixturevalue("db")
        return
    database = Database(f"sqlite:///{tmp_path / 'claim.db'}")
    migrate.upgrade(database)
    try:
        yield database
    finally:
        database.dispose()


def _add(session: Session, campaign: Campaign, prefix: str, n: int, **values: object) -> None:
    """``n`` due leads, numbers ``prefix`` + 7 digits, in one statement."""
    rows = [
        {
            "campaign_id": campaign.id, "phone": f"{prefix}{i:07d}",
            "next_attempt_at": AT - timedelta(hours=1, seconds=i), "fields": {}, **values,
        }
        for i in range(n)
    ]  # fmt: skip
    session.execute(insert(Lead), rows)


@contextmanager
def _statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def before(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", before)


def _reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith("SELECT leads.id")]


def _bounded(database: Database, seen: list[str]) -> bool:
    """A few dozen statements, however many leads were passed over; on SQLite the ORM writes
    each audit row by an INSERT of its own (no insertmanyvalues with RETURNING there): an
    in-process call, no scan, left out of the count."""
    if database.dialect == "sqlite":
        seen = [s for s in seen if not s.startswith("INSERT INTO dialer_audit")]
    return len(seen) <= 60


def _plan(session: Session, query: object) -> str:
    bind = session.get_bind()
    sql = query.compile(dialect=bind.dialect, compile_kwargs={"literal_binds": True})  # type: ignore[attr-defined]
    if bind.dialect.name == "postgresql":
        session.execute(text("ANALYZE leads"))
        return "\n".join(session.execute(text(f"EXPLAIN {sql}")).scalars())
    return "\n".join(str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))


def test_the_pick_walks_the_claim_order_index_without_sorting(database: Database) -> None:
    # the only index was (campaign_id, state, next_attempt_at): every pick read and sorted
    # every due lead (1M: 3.3-3.7 s and 111 MB spilled to disk for LIMIT 1)
    with database.session_scope() as session:
        c = _campaign(session)
        _add(session, c, "+1212", 5000, zones=NY, priority=3)
        rules = store.campaign_rules(session, "spring")
        for free in (None, ("1001",)):  # the callbacks kept for agents filtered, or not
            plan = _plan(session, store._due_query(session, rules, AT, 1, free))
            assert "ix_leads_claim_order" in plan, plan
            assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_a_list_with_no_lead_due_is_found_empty_by_the_due_range_index(
    database: Database,
) -> None:
    # the claim order's index alone passed over every pending lead's entry at every pick of
    # a list all waiting for its next opening (overnight: 122-250 ms at 1M leads)
    if database.dialect != "postgresql":
        pytest.skip("the planner's choice between the two indexes is PostgreSQL's")
    with database.session_scope() as session:
        c = _campaign(session)
        _add(session, c, "+1212", 5000, zones=NY, priority=3)
        session.execute(Lead.__table__.update().values(next_attempt_at=AT + timedelta(hours=10)))
        rules = store.campaign_rules(session, "spring")
        plan = _plan(session, store._due_query(session, rules, AT, 1, None))
        assert "ix_leads_campaign_id_state_next_attempt_at" in plan, plan
        assert store.claim_due(session, "spring", AT, 1) == []


def test_leads_outside_their_window_at_the_top_cost_a_few_reads_not_one_each(
    database: Database,
) -> None:
    # 1,000 Los Angeles leads above the New York ones, before 08:00 in Los Angeles: each was
    # read by a query of its own (a full sorted scan each: 1,000+ reads, ~3,000 statements)
    with database.session_scope() as session:
        c = _campaign(session)
        _add(session, c, "+1415", 1000, zones=LA, priority=9)
        _add(session, c, "+1212", 30, zones=NY, priority=0)
        with _statements(database) as seen:
            got = store.claim_due(session, "spring", AT, 1)
        assert [g.phone for g in got] == ["+12120000029"]  # the longest due
        assert len(_reads(seen)) <= 15, len(_reads(seen))  # 1, 2, 4 ... 128, then 200 a time
        assert _bounded(database, seen)
        deferred = session.scalars(select(Lead.next_attempt_at).where(Lead.zones == LA))
        assert set(deferred) == {LA_OPENS}
        kinds = session.scalars(select(DialerAuditEntry.kind)).all()
        assert kinds.count(AuditKind.WINDOW_BLOCK) == 1000


def test_the_scan_bound_still_holds_and_the_next_pick_goes_on(database: Database) -> None:
    with database.session_scope() as session:
        c = _campaign(session)
        _add(session, c, "+1415", 2000, zones=LA, priority=9)
        _add(session, c, "+1212", 30, zones=NY, priority=0)
        with _statements(database) as seen:
            assert store.claim_due(session, "spring", AT, 1) == []  # 1,020 read at most
        assert len(_reads(seen)) <= 15 and _bounded(database, seen)
        blocked = select(Lead).where(Lead.zones == LA, Lead.next_attempt_at == LA_OPENS)
        assert len(session.scalars(blocked).all()) == 20 * 1 + 1000
        got = store.claim_due(session, "spring", AT, 20)  # the rest passed over, 20 claimed
        assert len(got) == 20 and {g.phone[:5] for g in got} == {"+1212"}


def test_a_pick_with_nothing_to_pass_over_reads_only_what_it_claims(database: Database) -> None:
    # a row read is a row locked (SKIP LOCKED) until the caller commits: another dialer of
    # the campaign must find the rest free
    with database.session_scope() as session:
        c = _campaign(session)
        _add(session, c, "+1212", 50, zones=NY)
        with _statements(database) as seen:
            got = store.claim_due(session, "spring", AT, 3)
        assert len(got) == 3
        assert len(_reads(seen)) == 1  # its leads once, as many as wanted
        assert store.lead_counts(session, "spring")[LeadState.DIALING] == 3


def test_each_lead_of_a_read_is_written_with_its_verdict_and_its_audit_row(
    database: Database,
) -> None:
    # every reason to pass a lead over in one pick: each lead, its audit row and the
    # session's own objects of them, as the ORM's writes lead by lead left them (now a
    # statement per due time and outcome; the audit rows one per verdict several share,
    # from the leads table, and one for the rest). The number's type is asked last
    # (``screening``), so a premium-rate lead outside its window is moved like any other
    # (and closed once it is due and open), no longer closed at once
    premium = "+19002345678"  # US 900: premium rate
    with database.session_scope() as session:
        c = _campaign(session)
        other = _campaign(session, "autumn")
        la = [
            _lead(session, c, f"+1415555000{i}", LA, priority=9, next_attempt_at=AT) for i in (1, 2)
        ]
        dnc = _lead(session, c, "+12125550010", NY, priority=8, next_attempt_at=AT)
        store.add_dnc(session, dnc.phone, "", reason="asked")
        refused = _lead(session, c, premium, NY, priority=7, next_attempt_at=AT)
        later = _lead(session, c, "+19002345679", LA, priority=6, next_attempt_at=AT)
        held = _lead(session, c, "+12125550012", NY, priority=5, next_attempt_at=AT)
        abandoned = AT - timedelta(hours=10)
        elsewhere = _lead(session, other, held.phone, NY)
        store.record_attempt(session, elsewhere.id, Outcome.ABANDONED, abandoned)
        ok = _lead(session, c, "+12125550013", NY, priority=0, next_attempt_at=AT)
        assert leads.refusal(later.phone) == leads.PREMIUM  # moved for its window, not typed
        got = store.claim_due(session, "spring", AT, 1)
        assert [g.id for g in got] == [ok.id]
        held_until = datetime(2026, 7, 4, 12, 0, tzinfo=UTC)  # 72 h: midnight NY, then 08:00
        expected = {  # state, next attempt, last outcome
            la[0].id: (LeadState.PENDING, LA_OPENS, None),
            la[1].id: (LeadState.PENDING, LA_OPENS, None),
            dnc.id: (LeadState.DONE, AT, "dnc"),
            refused.id: (LeadState.DONE, AT, "refused"),
            later.id: (LeadState.PENDING, LA_OPENS, None),
            held.id: (LeadState.PENDING, held_until, None),
            ok.id: (LeadState.DIALING, AT, None),
        }
        for lead in (*la, dnc, refused, later, held, ok):  # not refreshed: synchronized
            assert (lead.state, lead.next_attempt_at, lead.last_outcome) == expected[lead.id]
        assert ok.claimed_at == AT
        stored = session.execute(
            select(Lead.id, Lead.state, Lead.next_attempt_at, Lead.last_outcome).where(
                Lead.campaign_id == c.id
            )
        )
        assert {i: tuple(rest) for i, *rest in stored} == expected
        window = {"zones": [LA], "until": LA_OPENS.isoformat()}
        rows = session.scalars(
            select(DialerAuditEntry).where(DialerAuditEntry.kind != AuditKind.ABANDON)
        ).all()
        assert {(r.at, r.campaign) for r in rows} == {(AT, "spring")}
        assert sorted(((r.kind, r.phone, r.lead_id, r.details) for r in rows), key=str) == sorted(
            [
                (AuditKind.WINDOW_BLOCK, la[0].phone, la[0].id, window),
                (AuditKind.WINDOW_BLOCK, la[1].phone, la[1].id, window),
                (AuditKind.DNC_HIT, dnc.phone, dnc.id, {"lists": ["global"]}),
                (AuditKind.NUMBER_REFUSED, premium, refused.id, {"reason": leads.PREMIUM}),
                (AuditKind.WINDOW_BLOCK, later.phone, later.id, window),
                (
                    AuditKind.HOLD_BLOCK, held.phone, held.id,
                    {"abandoned_at": abandoned.isoformat(), "until": held_until.isoformat()},
                ),
            ],
            key=str,
        )  # fmt: skip
        opened = store.claim_due(session, "spring", LA_OPENS, 5)  # 08:00 in Los Angeles
        assert [g.id for g in opened] == [lead.id for lead in la]
        assert (later.state, later.last_outcome) == (LeadState.DONE, "refused")  # never dialled

"""The dialer's questions to PostgreSQL: due leads, attempts, dispositions, the measures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.dialer import leads, store
from callcenter.dialer.compliance import Outcome
from callcenter.dialer.vocabulary import AuditKind, CampaignMode, LeadState
from callcenter.store.database import Database
from callcenter.store.models import Campaign, CampaignDisposition, DialerAuditEntry, Lead

NY = "America/New_York"
LA = "America/Los_Angeles"
NOON_NY = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)  # 12:00 New York, 09:00 Los Angeles


def _campaign(session: Session, name: str = "spring", **values: object) -> Campaign:
    row = Campaign(name=name, mode=CampaignMode.PROGRESSIVE, report_zone=NY, **values)
    session.add(row)
    session.flush()
    for key, code, retry, dnc in [(1, "sale", None, False), (2, "later", 3600, False),
                                  (3, "stop", None, True)]:  # fmt: skip
        session.add(CampaignDisposition(campaign_id=row.id, code=code, key=key,
                                        retry_after=retry, dnc=dnc))  # fmt: skip
    session.flush()
    return row


def _lead(
    session: Session, campaign: Campaign, phone: str, zone: str = NY, **values: object
) -> Lead:
    row = Lead(
        campaign_id=campaign.id, phone=phone, zones=zone,
        next_attempt_at=values.pop("next_attempt_at", NOON_NY - timedelta(hours=6)), **values,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def _audit(session: Session) -> list[tuple[AuditKind, str | None]]:
    rows = session.scalars(select(DialerAuditEntry).order_by(DialerAuditEntry.id))
    return [(r.kind, r.phone) for r in rows]


def test_claim_order_callbacks_then_priority_then_longest_due(db: Database) -> None:
    with db.session_scope() as session:
        c = _campaign(session)
        _lead(session, c, "+12125550001", priority=0, next_attempt_at=NOON_NY - timedelta(hours=3))
        _lead(session, c, "+12125550002", priority=5)
        _lead(session, c, "+12125550003", priority=0, next_attempt_at=NOON_NY - timedelta(hours=2))
        _lead(session, c, "+12125550004", priority=0, callback_at=NOON_NY)
        _lead(session, c, "+12125550005", next_attempt_at=NOON_NY + timedelta(minutes=1))
        got = store.claim_due(session, "spring", NOON_NY, 3)
        assert [g.phone for g in got] == ["+12125550004", "+12125550002", "+12125550001"]
        again = store.claim_due(session, "spring", NOON_NY, 10)
        assert [g.phone for g in again] == ["+12125550003"]  # 0005 is not due yet
        states = session.scalars(select(Lead.state).order_by(Lead.phone)).all()
        assert states.count(LeadState.DIALING) == 4


def test_dnc_window_and_hold_block_with_audit_rows(db: Database) -> None:
    with db.session_scope() as session:
        c = _campaign(session)
        other = _campaign(session, "autumn")
        dnc = _lead(session, c, "+12125550010")
        store.add_dnc(session, "+12125550010", "", reason="asked")
        store.add_dnc(session, "+12125550010", "spring", reason="asked again")
        store.add_dnc(session, "+12125550010", "autumn")  # not this campaign's list
        early = _lead(session, c, "+14155550011", zone=LA)  # 07:00 in Los Angeles at 10:00 NY
        held = _lead(session, c, "+12125550012")
        ok = _lead(session, c, "+12125550013")
        # the same number abandoned 10 hours ago in another campaign: no call for 72 h
        elsewhere = _lead(session, other, "+12125550012")
        store.record_attempt(
            session, elsewhere.id, Outcome.ABANDONED, NOON_NY - timedelta(hours=12)
        )
        at = NOON_NY - timedelta(hours=2)
        got = store.claim_due(session, "spring", at, 10)
        assert [g.id for g in got] == [ok.id]
        session.refresh(dnc), session.refresh(early), session.refresh(held)
        assert (dnc.state, dnc.last_outcome) == (LeadState.DONE, "dnc")
        assert early.state is LeadState.PENDING
        assert early.next_attempt_at == datetime(2026, 7, 1, 15, 0, tzinfo=UTC)  # 08:00 LA
        # abandoned at 00:00 New York: 72 h later is midnight again, the window opens at 08:00
        assert held.next_attempt_at == datetime(2026, 7, 4, 12, 0, tzinfo=UTC)
        kinds = _audit(session)
        assert (AuditKind.ABANDON, "+12125550012") in kinds
        assert (AuditKind.DNC_HIT, "+12125550010") in kinds
        hit = session.scalars(
            select(DialerAuditEntry).where(DialerAuditEntry.kind == AuditKind.DNC_HIT)
        ).one()
        assert hit.details == {"lists": ["global", "campaign:spring"]}  # which list said no
        assert (AuditKind.WINDOW_BLOCK, "+14155550011") in kinds
        assert (AuditKind.HOLD_BLOCK, "+12125550012") in kinds
        # a campaign-scoped entry blocks only that campaign
        store.add_dnc(session, "+12125550013", "autumn")
        assert store.dnc_lists(session, "+12125550013", "spring") == []
        assert store.dnc_lists(session, "+12125550013") == ["autumn"]


def test_a_premium_rate_lead_stored_before_the_rule_is_closed_not_dialled(db: Database) -> None:
    # the importer rejects premium-rate numbers (a hostile file's way to bill the caller),
    # but leads stored before it did (or under older phonenumbers data) were still dialled
    premium = "+19002345678"  # US 900: premium rate
    with pytest.raises(leads.BadNumber) as rejected:
        leads.NumberReader("US").read(premium)
    assert str(rejected.value) == leads.PREMIUM  # the importer's rule and the dialer's: one
    with db.session_scope() as session:
        c = _campaign(session)
        billed = _lead(session, c, premium)
        uk = _lead(session, c, "+449098790000", zone="Europe/London")  # UK 09: premium too
        ok = _lead(session, c, "+12125550013")
        got = store.claim_due(session, "spring", NOON_NY, 10)
        assert [g.id for g in got] == [ok.id]
        for lead in (billed, uk):
            session.refresh(lead)
            assert (lead.state, lead.last_outcome) == (LeadState.DONE, "refused")
        rows = session.scalars(
            select(DialerAuditEntry).where(DialerAuditEntry.kind == AuditKind.NUMBER_REFUSED)
        ).all()
        assert sorted((r.phone, r.lead_id) for r in rows) == sorted(
            [(premium, billed.id), ("+449098790000", uk.id)]
        )
        assert {r.details["reason"] for r in rows} == {leads.PREMIUM}
        assert store.claim_due(session, "spring", NOON_NY, 10) == []  # closed: not again


def test_attempt_retries_by_outcome_until_max_attempts(db: Database) -> None:
    with db.session_scope() as session:
        c = _campaign(session, max_attempts=3, retry_rules={"busy": {"times": 5, "after": 300}})
        lead = _lead(session, c, "+12125550020")
        t = NOON_NY
        assert store.record_attempt(session, lead.id, Outcome.BUSY, t) == t + timedelta(minutes=5)
        assert store.record_attempt(session, lead.id, Outcome.NO_ANSWER, t + timedelta(minutes=5)) \
            == t + timedelta(minutes=5, hours=2)  # fmt: skip
        assert store.record_attempt(session, lead.id, Outcome.BUSY, t + timedelta(hours=3)) is None
        session.refresh(lead)
        assert (lead.state, lead.attempts, lead.last_outcome) == (LeadState.DONE, 3, "busy")


def test_a_retry_landing_at_night_waits_for_the_window(db: Database) -> None:
    with db.session_scope() as session:
        c = _campaign(session)
        lead = _lead(session, c, "+12125550021")
        late = datetime(2026, 7, 2, 0, 30, tzinfo=UTC)  # 20:30 New York: +2 h is 22:30
        assert store.record_attempt(session, lead.id, Outcome.NO_ANSWER, late) == datetime(
            2026, 7, 2, 12, 0, tzinfo=UTC
        )  # 08:00 the next morning


def test_dispositions_retry_close_callback_and_dnc(db: Database) -> None:
    with db.session_scope() as session:
        c = _campaign(session)
        leads = [_lead(session, c, f"+1212555003{i}") for i in range(4)]
        for lead in leads:
            store.record_attempt(session, lead.id, Outcome.ANSWERED, NOON_NY, agent="1001")
        assert store.record_disposition(session, leads[0].id, "sale", NOON_NY) is LeadState.DONE
        assert store.record_disposition(session, leads[1].id, "later", NOON_NY) is LeadState.PENDING
        session.refresh(leads[1])
        assert leads[1].next_attempt_at == NOON_NY + timedelta(hours=1)
        when = NOON_NY + timedelta(days=1)
        assert (
            store.record_disposition(
                session, leads[2].id, "later", NOON_NY, callback_at=when, callback_agent="1001"
            )
            is LeadState.PENDING
        )
        assert store.record_disposition(session, leads[3].id, "stop", NOON_NY) is LeadState.DONE
        assert store.dnc_lists(session, leads[3].phone) == ["spring"]
        due = store.claim_due(session, "spring", when, 5)
        assert [(d.id, d.callback_agent) for d in due] == [
            (leads[2].id, "1001"),
            (leads[1].id, None),
        ]
        assert store.disposition_by_key(session, "spring", 3).code == "stop"


def test_abandon_rates_us_30_days_and_uk_today(db: Database) -> None:
    with db.session_scope() as session:
        c = _campaign(session, amd_false_positive=0.0)
        day1 = NOON_NY - timedelta(days=2)
        for i in range(20):
            lead = _lead(session, c, f"+121255501{i:02d}")
            outcome = Outcome.ABANDONED if i < 2 else Outcome.ANSWERED
            store.record_attempt(session, lead.id, outcome, day1 if i % 2 else NOON_NY)
        rates = store.abandon_rates(session, "spring", NOON_NY)
        assert (rates.us_30_days.abandoned, rates.us_30_days.live) == (2, 20)
        assert (rates.uk_today.abandoned, rates.uk_today.live) == (1, 10)
        assert rates.worst == 0.1
        days = store.day_counts(session, "spring")
        assert [d.day for d in days] == [date(2026, 6, 29), date(2026, 7, 1)]
        assert sum(d.live for d in days) == 20


def test_release_and_stale_claims_go_back_to_pending(db: Database) -> None:
    with db.session_scope() as session:
        c = _campaign(session)
        leads = [_lead(session, c, f"+1212555006{i}") for i in range(3)]
        got = store.claim_due(session, "spring", NOON_NY, 3)
        assert len(got) == 3
        store.release(session, leads[0].id, NOON_NY)  # a preview skipped: due again, no attempt
        assert store.release_stale(session, "spring", NOON_NY + timedelta(minutes=1)) == 2
        assert store.lead_counts(session, "spring") == {"pending": 3, "dialing": 0, "done": 0}
        assert {lead.attempts for lead in session.scalars(select(Lead))} == {0}


def test_two_dialers_never_claim_one_lead() -> None:
    """SKIP LOCKED: a second dialer's claim passes over the rows the first holds."""
    from tests.conftest import migrated_database

    with migrated_database("cc_claim") as url:
        first, second = Database(url), Database(url)
        try:
            with first.session_scope() as session:
                c = _campaign(session)
                for i in range(6):
                    _lead(session, c, f"+1212555007{i}")
            with first.session_scope() as a:
                mine = store.claim_due(a, "spring", NOON_NY, 3)  # held, not committed yet
                with second.session_scope() as b:
                    theirs = store.claim_due(b, "spring", NOON_NY, 10)
                assert len(mine) == 3 and len(theirs) == 3
                assert not {m.id for m in mine} & {t.id for t in theirs}
        finally:
            first.dispose()
            second.dispose()


def test_a_call_recorded_twice_counts_once(db: Database) -> None:
    # a campaign call adopted after a restart may be recorded by both runs
    with db.session_scope() as session:
        c = _campaign(session)
        lead = _lead(session, c, "+12125550070")
        first = store.record_attempt(session, lead.id, Outcome.ABANDONED, NOON_NY, call_uuid="u-1")
        later = NOON_NY + timedelta(minutes=3)
        again = store.record_attempt(session, lead.id, Outcome.ABANDONED, later, call_uuid="u-1")
        assert first is not None and again == first  # the 72 h hold, unchanged
        assert store.attempt_of(session, lead.id, "u-1") is Outcome.ABANDONED
        assert store.attempt_of(session, lead.id, "u-2") is None
        session.refresh(lead)
        assert lead.attempts == 1
        [day] = store.day_counts(session, "spring")
        assert (day.live, day.abandoned) == (1, 1)
        assert _audit(session).count((AuditKind.ABANDON, "+12125550070")) == 1
        store.record_attempt(session, lead.id, Outcome.BUSY, later, call_uuid="u-2")
        session.refresh(lead)
        assert lead.attempts == 2  # another call: counted

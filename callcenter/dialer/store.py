"""What the running dialer asks of the database, one function per question, each inside the
caller's session (``Database.session_scope()``), the caller's transaction.

- ``claim_due``: the next dialable leads of a campaign at a time, claimed (``dialing``), after
  the do-not-call lists, the hold after an abandoned call and the calling window in the
  lead's local time (each deferral or block an audit row);
- ``record_attempt``: a call's outcome, the lead's next attempt by the campaign's retry rules
  (``compliance.next_attempt``), the day's counts for the abandon rates;
- ``record_disposition``: what the agent said, which may reopen, schedule or close the lead;
- ``audit``: a compliance-relevant act; ``day_counts`` and ``abandon_rates``: the measures.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, insert, literal, literal_column, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from callcenter.dialer import leads, screening
from callcenter.dialer.compliance import (
    DEFAULT_RETRIES,
    AbandonRate,
    Attempt,
    CallingWindow,
    DayCounts,
    Outcome,
    RetryRule,
    daily_rate,
    next_attempt,
    rolling_rate,
)
from callcenter.dialer.vocabulary import AuditKind, LeadState
from callcenter.errors import DomainError, NotFound
from callcenter.store.models import (
    Campaign,
    CampaignDay,
    CampaignDisposition,
    DialerAuditEntry,
    DncNumber,
    Lead,
    LeadAttempt,
)

_SCAN_BATCH = 200
# a callback kept for an agent waits for that agent to be free this long after its time;
# then any agent of the campaign may take it
CALLBACK_AGENT_GRACE = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class CampaignRules:
    """The compliance and retry settings of one campaign, as the pure rules take them."""

    campaign_id: int
    name: str
    window: CallingWindow
    retries: Mapping[Outcome, RetryRule]
    max_attempts: int
    hold: timedelta
    report_zone: str
    amd_false_positive: float


@dataclass(frozen=True, slots=True)
class LeadRecord:
    id: int
    campaign: str
    phone: str
    zones: tuple[str, ...]
    priority: int
    attempts: int
    fields: Mapping[str, Any]
    callback_at: datetime | None
    callback_agent: str | None
    kept_for: str | None = None  # a callback only this agent may take (within its grace)


def kept_for(lead: Lead, at: datetime) -> str | None:
    """The agent a callback is kept for at ``at``: its ``callback_agent`` until
    ``CALLBACK_AGENT_GRACE`` after its time (then None: any agent)."""
    return _kept(lead.callback_agent, lead.callback_at, at)


def _kept(agent: str | None, callback_at: datetime | None, at: datetime) -> str | None:
    if agent is None or callback_at is None:
        return None
    return agent if at < callback_at + CALLBACK_AGENT_GRACE else None


def retry_rules(stored: Mapping[str, Any]) -> dict[Outcome, RetryRule]:
    """``{"busy": {"times": 3, "after": 600}, ...}`` over the defaults (seconds)."""
    rules = dict(DEFAULT_RETRIES)
    for outcome, rule in stored.items():
        rules[Outcome(outcome)] = RetryRule(int(rule["times"]), timedelta(seconds=rule["after"]))
    return rules


def rules_of(row: Campaign) -> CampaignRules:
    return CampaignRules(
        campaign_id=row.id,
        name=row.name,
        window=CallingWindow(row.window_start, row.window_end),
        retries=retry_rules(row.retry_rules or {}),
        max_attempts=row.max_attempts,
        hold=timedelta(seconds=row.redial_hold_seconds),
        report_zone=row.report_zone,
        amd_false_positive=row.amd_false_positive,
    )


def campaign_rules(session: Session, name: str) -> CampaignRules:
    row = session.scalar(select(Campaign).where(Campaign.name == name))
    if row is None:
        raise NotFound(f"no campaign {name!r}", code="campaign_not_found")
    return rules_of(row)


def _record(row: Any, campaign: str, at: datetime) -> LeadRecord:
    """A lead read by ``_due_query``."""
    return LeadRecord(
        id=row.id,
        campaign=campaign,
        phone=row.phone,
        zones=tuple(row.zones.split()),
        priority=row.priority,
        attempts=row.attempts,
        fields=dict(row.fields or {}),
        callback_at=row.callback_at,
        callback_agent=row.callback_agent,
        kept_for=_kept(row.callback_agent, row.callback_at, at),
    )


def claim_due(
    session: Session,
    campaign: str,
    at: datetime,
    limit: int,
    free: Collection[str] | None = None,
) -> list[LeadRecord]:
    """Up to ``limit`` leads of ``campaign`` due at ``at``, now ``dialing``: callbacks due
    first, then by priority (highest first), then the longest due. A callback kept for an
    agent (``kept_for``) is claimed only when that agent is among the ``free`` ones (None:
    any agent is), one per agent. Leads due but on a do-not-call list, or whose number is no
    lead's (``leads.refusal``: premium rate), are closed; those within the hold after an
    abandoned call to their number, or outside their calling window, move to when they may
    be called; each an audit row (``screening.Screen``). On PostgreSQL each row read is
    locked (``SKIP LOCKED``) until the caller's transaction ends: two dialers never claim
    one lead, and a first read asks only for as many rows as are wanted (a row read is a
    row locked); while leads are being passed over, each next read asks for twice as many
    as the last (``scan_batch``). At most ``20 x limit + 1,000`` leads are read. Commit
    soon after."""
    rules = campaign_rules(session, campaign)
    screen = screening.Screen(rules.window, rules.hold, at)
    claimed: list[LeadRecord] = []
    scanned = batch = passed = 0
    bound = 20 * limit + 1000
    agents = None if free is None else set(free)
    while len(claimed) < limit and scanned < bound:
        batch = scan_batch(limit - len(claimed), batch, passed > 0, bound - scanned)
        rows = session.execute(_due_query(session, rules, at, batch, agents)).all()
        scanned += len(rows)
        passed = 0
        writes = screening.Writes()
        for row in rows:
            if len(claimed) == limit:
                break  # read ahead of what was wanted, while leads were passed over
            agent = _kept(row.callback_agent, row.callback_at, at)
            if agent is not None and agents is not None and agent not in agents:
                passed += 1
                continue  # its agent's other callback, claimed in this batch
            due = screening.Due(row.id, row.phone, row.zones, row.on_dnc, row.abandoned_at)
            why = screen.verdict(due)
            if why is None:
                writes.claimed.append(row.id)
                claimed.append(_record(row, campaign, at))
                if agent is not None and agents is not None:
                    agents.discard(agent)
            else:
                passed += 1
                writes.pass_over(due, _lists_named(session, rules, due, why))
        _write(session, rules, at, writes)
        if len(rows) < batch:
            break
    return claimed


def scan_batch(wanted: int, last: int, passed_over: bool, room: int) -> int:
    """How many due leads ``claim_due``'s next read asks for: the ``wanted`` ones, or, after
    a read whose leads were passed over (not dialable: each deferred or closed), twice the
    ``last`` read (a list whose top is outside its calling window costs a few reads, not
    one each); never more than ``_SCAN_BATCH`` nor the ``room`` left under the scan bound."""
    size = max(wanted, 2 * last) if passed_over else wanted
    return max(1, min(size, _SCAN_BATCH, room))


def _due_query(
    session: Session,
    rules: CampaignRules,
    at: datetime,
    wanted: int,
    free: Collection[str] | None = None,
) -> Any:
    on_dnc = exists().where(DncNumber.phone == Lead.phone, DncNumber.campaign.in_(("", rules.name)))
    abandoned_at = (
        select(func.max(LeadAttempt.at))
        .where(LeadAttempt.phone == Lead.phone, LeadAttempt.outcome == Outcome.ABANDONED)
        .correlate(Lead)
        .scalar_subquery()
    )
    due: Any = Lead.next_attempt_at
    if session.get_bind().dialect.name == "sqlite":
        # ``+column``: SQLite (no statistics) would take the due range's index and sort every
        # due lead; this term kept off any index, it walks the claim order's
        due = literal_column("+leads.next_attempt_at", Lead.next_attempt_at.type)
    query = (
        select(
            Lead.id,
            Lead.phone,
            Lead.zones,
            Lead.priority,
            Lead.attempts,
            Lead.fields,
            Lead.callback_at,
            Lead.callback_agent,
            on_dnc.label("on_dnc"),
            abandoned_at.label("abandoned_at"),
        )
        .where(
            Lead.campaign_id == rules.campaign_id,
            Lead.state == LeadState.PENDING,
            due <= at,
        )
        .order_by(Lead.callback_at.is_(None), Lead.priority.desc(), Lead.next_attempt_at, Lead.id)
        .limit(wanted)
    )
    if free is not None:  # a callback kept for an agent not free waits (kept_for)
        query = query.where(
            or_(
                Lead.callback_agent.is_(None),
                Lead.callback_at.is_(None),
                Lead.callback_at <= at - CALLBACK_AGENT_GRACE,
                Lead.callback_agent.in_(sorted(free)),
            )
        )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Lead)
    return query


def _lists_named(
    session: Session, rules: CampaignRules, lead: screening.Due, why: screening.PassOver
) -> screening.PassOver:
    """A do-not-call hit says which lists said no: the global one, the campaign's."""
    if why.kind is not AuditKind.DNC_HIT:
        return why
    lists = [dnc_list_name(c) for c in dnc_lists(session, lead.phone, rules.name)]
    return replace(why, details={"lists": lists})


def _write(session: Session, rules: CampaignRules, at: datetime, writes: screening.Writes) -> None:
    """One read's verdicts (``screening.Writes``): a statement per due time and per closing
    outcome, not one per lead (the ORM's unit of work, object by object, cost a pick passing
    over 1,000 leads more than all its checks); the audit rows of a verdict several leads
    share in one (``_audit_each``), the others in one."""
    if writes.claimed:
        _update(session, writes.claimed, state=LeadState.DIALING, claimed_at=at)
    for until, ids in writes.moved.items():
        _update(session, ids, next_attempt_at=until)
    for outcome, ids in writes.closed.items():
        _update(session, ids, state=LeadState.DONE, last_outcome=outcome)
    rows = []
    for why, passed in writes.audits.values():
        if len(passed) > 1:  # one verdict, many leads: the row each from the leads table
            _audit_each(session, rules.name, at, why, [lead.id for lead in passed])
            continue
        [lead] = passed
        rows.append(
            {"at": at, "campaign": rules.name, "kind": why.kind, "phone": lead.phone,
             "lead_id": lead.id, "details": dict(why.details)}
        )  # fmt: skip
    if rows:
        session.execute(insert(DialerAuditEntry), rows)


def _audit_each(
    session: Session, campaign: str, at: datetime, why: screening.PassOver, ids: list[int]
) -> None:
    """The audit row of ``why`` for each of the leads ``ids``, in one statement."""
    column = DialerAuditEntry.__table__.c
    values = (
        select(
            literal(at, column.at.type),
            literal(campaign, column.campaign.type),
            literal(why.kind, column.kind.type),
            Lead.phone,
            Lead.id,
            literal(dict(why.details), column.details.type),
        )
        .where(Lead.id.in_(ids))
        .order_by(Lead.id)
    )
    names = ["at", "campaign", "kind", "phone", "lead_id", "details"]
    session.execute(insert(DialerAuditEntry).from_select(names, values))


def _update(session: Session, ids: list[int], **values: Any) -> None:
    """The leads ``ids`` set to ``values`` in one statement; the session's own objects of
    them read the new values when next used (the ORM's synchronizing would leave as it was
    an attribute never loaded: ``last_outcome`` of a lead just added)."""
    statement = update(Lead).where(Lead.id.in_(ids)).values(**values)
    session.execute(statement.execution_options(synchronize_session=False))
    wanted = set(ids)
    for key in list(session.identity_map.keys()):
        held = session.identity_map.get(key) if key[0] is Lead and key[1][0] in wanted else None
        if held is not None:
            session.expire(held, list(values))


def _lead(session: Session, lead_id: int) -> tuple[Lead, Campaign]:
    found = session.execute(
        select(Lead, Campaign)
        .join(Campaign, Campaign.id == Lead.campaign_id)
        .where(Lead.id == lead_id)
    ).first()
    if found is None:
        raise NotFound(f"no lead {lead_id}", code="lead_not_found")
    return found[0], found[1]


def record_attempt(
    session: Session,
    lead_id: int,
    outcome: Outcome,
    at: datetime,
    *,
    call_uuid: str | None = None,
    agent: str | None = None,
    talk_seconds: float | None = None,
) -> datetime | None:
    """A call to lead ``lead_id`` placed at ``at`` ended with ``outcome``: the attempt row,
    the lead's next attempt (None: it is done, or waits for its disposition after a live
    answer), the campaign day's counts, and an ``abandon`` audit row for an abandoned call.
    A call already recorded (``call_uuid``: by an engine that stopped, its call adopted) is
    not counted twice: nothing changes, its lead's next attempt is returned."""
    lead, campaign = _lead(session, lead_id)
    if call_uuid is not None and attempt_of(session, lead_id, call_uuid) is not None:
        return lead.next_attempt_at if lead.state is LeadState.PENDING else None
    rules = rules_of(campaign)
    session.add(
        LeadAttempt(
            lead_id=lead.id,
            campaign_id=campaign.id,
            phone=lead.phone,
            at=at,
            outcome=outcome,
            call_uuid=call_uuid,
            agent=agent,
            talk_seconds=talk_seconds,
        )
    )
    session.flush()
    history = [
        Attempt(a_at, Outcome(a_outcome))
        for a_at, a_outcome in session.execute(
            select(LeadAttempt.at, LeadAttempt.outcome)
            .where(LeadAttempt.lead_id == lead.id)
            .order_by(LeadAttempt.at, LeadAttempt.id)
        )
    ]
    lead.attempts = len(history)
    lead.last_outcome = str(outcome)
    lead.last_attempt_at = at
    lead.callback_at = None
    lead.claimed_at = None
    zones = lead.zones.split()
    following = next_attempt(
        history,
        zones[0] if zones else "UTC",
        rules.retries,
        rules.max_attempts,
        rules.window,
        rules.hold,
    )
    if following is not None:
        following = leads.next_opening(rules.window, following, zones)
    if following is None:
        lead.state = LeadState.DONE
    else:
        lead.state = LeadState.PENDING
        lead.next_attempt_at = following
    _count(session, rules, at, outcome)
    if outcome is Outcome.ABANDONED:
        audit(
            session,
            rules.name,
            AuditKind.ABANDON,
            at,
            phone=lead.phone,
            lead_id=lead.id,
            call_uuid=call_uuid,
        )
    session.flush()
    return following


def attempt_of(session: Session, lead_id: int, call_uuid: str) -> Outcome | None:
    """How call ``call_uuid`` to lead ``lead_id`` was recorded, or None: not yet."""
    found = session.scalar(
        select(LeadAttempt.outcome)
        .where(LeadAttempt.lead_id == lead_id, LeadAttempt.call_uuid == call_uuid)
        .limit(1)
    )
    return Outcome(found) if found is not None else None


def _count(session: Session, rules: CampaignRules, at: datetime, outcome: Outcome) -> None:
    live = int(outcome in (Outcome.ANSWERED, Outcome.ABANDONED))
    values = {
        "dials": 1,
        "live": live,
        "abandoned": int(outcome is Outcome.ABANDONED),
        "machine": int(outcome is Outcome.MACHINE),
    }
    day = at.astimezone(ZoneInfo(rules.report_zone)).date()
    statement = upsert(session, CampaignDay).values(
        campaign_id=rules.campaign_id, day=day, **values
    )
    statement = statement.on_conflict_do_update(
        index_elements=["campaign_id", "day"],
        set_={k: getattr(CampaignDay, k) + v for k, v in values.items()},
    )
    session.execute(statement)


def upsert(session: Session, table: Any) -> Any:
    """An INSERT with ``on_conflict_do_*`` for the session's database (PostgreSQL, SQLite)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def release(session: Session, lead_id: int, at: datetime, *, parked: str | None = None) -> None:
    """A claimed lead not dialled after all (a preview skipped, the campaign paused): due
    again from ``at``, no attempt counted; or, ``parked``, set aside: done, with that
    reason as its last outcome (a preview skipped too often; the results export)."""
    lead, _campaign = _lead(session, lead_id)
    if lead.state is LeadState.DIALING:
        lead.state = LeadState.PENDING if parked is None else LeadState.DONE
        lead.claimed_at = None
        if parked is None:
            lead.next_attempt_at = at
        else:
            lead.last_outcome = parked
        session.flush()


def release_stale(session: Session, campaign: str, older_than: datetime) -> int:
    """Leads claimed before ``older_than`` and never recorded (a dialer that died): pending
    again. How many."""
    rules = campaign_rules(session, campaign)
    result = session.execute(
        update(Lead)
        .where(
            Lead.campaign_id == rules.campaign_id,
            Lead.state == LeadState.DIALING,
            Lead.claimed_at < older_than,
        )
        .values(state=LeadState.PENDING, claimed_at=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class DispositionRecord:
    campaign: str
    code: str
    key: int
    label: str
    retry_after: int | None
    dnc: bool
    success: bool
    global_dnc: bool


def dispositions(session: Session, campaign: str) -> list[DispositionRecord]:
    rules = campaign_rules(session, campaign)
    rows = session.scalars(
        select(CampaignDisposition)
        .where(CampaignDisposition.campaign_id == rules.campaign_id)
        .order_by(CampaignDisposition.key)
    )
    return [
        DispositionRecord(
            campaign, r.code, r.key, r.label, r.retry_after, r.dnc, r.success, r.global_dnc
        )
        for r in rows
    ]


def disposition_by_key(session: Session, campaign: str, key: int) -> DispositionRecord:
    """The disposition an agent's ``*30N`` names in ``campaign``."""
    for found in dispositions(session, campaign):
        if found.key == key:
            return found
    raise NotFound(f"campaign {campaign!r} has no disposition {key}", code="disposition_not_found")


def record_disposition(
    session: Session,
    lead_id: int,
    code: str,
    at: datetime,
    *,
    callback_at: datetime | None = None,
    callback_agent: str | None = None,
    who: str = "agent",
) -> LeadState:
    """What ``who`` said of the last call to lead ``lead_id``: a callback (``callback_at``,
    optionally kept for ``callback_agent``) schedules it; a ``dnc`` disposition puts the
    number on the campaign's list (a ``global_dnc`` one on the global list) and closes it;
    a ``retry_after`` one calls it again (within max attempts); any other closes it. The
    lead's state after."""
    lead, campaign = _lead(session, lead_id)
    rules = rules_of(campaign)
    found = next((d for d in dispositions(session, campaign.name) if d.code == code), None)
    if found is None:
        raise NotFound(
            f"campaign {campaign.name!r} has no disposition {code!r}", code="disposition_not_found"
        )
    if callback_at is not None and callback_at.tzinfo is None:
        raise DomainError("a callback time needs a time zone", code="callback_time_naive")
    lead.disposition = code
    zones = lead.zones.split()
    if found.dnc:
        scope = "" if found.global_dnc else campaign.name
        add_dnc(session, lead.phone, scope, reason=f"{campaign.name}: disposition {code}", who=who)
        lead.state = LeadState.DONE
    elif callback_at is not None:
        opening = leads.next_opening(rules.window, callback_at, zones)
        lead.state = LeadState.PENDING if opening else LeadState.DONE
        lead.next_attempt_at = opening or lead.next_attempt_at
        lead.callback_at = opening
        lead.callback_agent = callback_agent
    elif found.retry_after is not None and lead.attempts < rules.max_attempts:
        opening = leads.next_opening(rules.window, at + timedelta(seconds=found.retry_after), zones)
        lead.state = LeadState.PENDING if opening else LeadState.DONE
        lead.next_attempt_at = opening or lead.next_attempt_at
    else:
        lead.state = LeadState.DONE
    session.flush()
    return lead.state


def add_dnc(
    session: Session, phone: str, campaign: str = "", *, reason: str = "", who: str = ""
) -> bool:
    """``phone`` (E.164) on the do-not-call list of ``campaign`` ("" everywhere); False
    when it was there already."""
    if session.scalar(
        select(DncNumber.id).where(DncNumber.phone == phone, DncNumber.campaign == campaign)
    ):
        return False
    session.add(DncNumber(phone=phone, campaign=campaign, reason=reason[:128], added_by=who))
    session.flush()
    return True


def dnc_lists(session: Session, phone: str, campaign: str | None = None) -> list[str]:
    """The lists ``phone`` is on ("" the global one), only those that apply to ``campaign``
    when given."""
    query = select(DncNumber.campaign).where(DncNumber.phone == phone)
    if campaign is not None:
        query = query.where(DncNumber.campaign.in_(("", campaign)))
    return sorted(session.scalars(query))


def dnc_list_name(campaign: str) -> str:
    """A do-not-call list as operators read it: ``global`` or ``campaign:NAME``."""
    return "global" if campaign == "" else f"campaign:{campaign}"


def audit(
    session: Session,
    campaign: str,
    kind: AuditKind,
    at: datetime,
    *,
    phone: str | None = None,
    lead_id: int | None = None,
    call_uuid: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """One compliance-relevant act in the dialer's audit log."""
    session.add(
        DialerAuditEntry(
            at=at,
            campaign=campaign,
            kind=kind,
            phone=phone,
            lead_id=lead_id,
            call_uuid=call_uuid,
            details=dict(details or {}),
        )
    )


def last_state_change(session: Session, campaign: str) -> dict[str, Any] | None:
    """The details of the campaign's last start, pause or stop in the audit log (``by``,
    and ``reason`` when the dialer paused it), or None."""
    found = session.scalar(
        select(DialerAuditEntry.details)
        .where(DialerAuditEntry.campaign == campaign, DialerAuditEntry.kind == AuditKind.STATE)
        .order_by(DialerAuditEntry.id.desc())
        .limit(1)
    )
    return dict(found) if found is not None else None


def day_counts(session: Session, campaign: str, since: Any = None) -> list[DayCounts]:
    """The campaign's counts per day in its report zone, oldest first (from ``since``)."""
    rules = campaign_rules(session, campaign)
    query = select(CampaignDay).where(CampaignDay.campaign_id == rules.campaign_id)
    if since is not None:
        query = query.where(CampaignDay.day >= since)
    return [
        DayCounts(r.day, r.live, r.abandoned, r.machine)
        for r in session.scalars(query.order_by(CampaignDay.day))
    ]


@dataclass(frozen=True, slots=True)
class AbandonRates:
    us_30_days: AbandonRate  # abandoned / live answered, the 30 days ending today
    uk_today: AbandonRate  # today's, calendar day in the report zone

    @property
    def worst(self) -> float:
        return max(self.us_30_days.rate, self.uk_today.rate)


def abandon_rates(session: Session, campaign: str, at: datetime) -> AbandonRates:
    """The campaign's abandon rates at ``at`` (AMD false positives counted as the campaign's
    ``amd_false_positive`` estimate says)."""
    rules = campaign_rules(session, campaign)
    today = at.astimezone(ZoneInfo(rules.report_zone)).date()
    days = day_counts(session, campaign, today - timedelta(days=31))
    share = rules.amd_false_positive
    return AbandonRates(
        rolling_rate(days, today, amd_false_positive=share), daily_rate(days, today, share)
    )


def lead_counts(session: Session, campaign: str) -> dict[str, int]:
    """How many leads of the campaign are in each state (every state named)."""
    rules = campaign_rules(session, campaign)
    rows = session.execute(
        select(Lead.state, func.count())
        .where(Lead.campaign_id == rules.campaign_id)
        .group_by(Lead.state)
    )
    counts = {str(s): 0 for s in LeadState}
    counts.update({str(state): int(n) for state, n in rows})
    return counts

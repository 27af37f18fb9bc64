"""Outbound campaigns: create, change, list, show, start, pause, stop; their dispositions;
the dispositions agents give (``dispose``). Each change reaches every running engine as a
``campaign`` change (the dialer starts, pauses, stops or rereads the campaign) and as a
``campaign.changed`` event. Lead files: ``services.leads``; do-not-call lists: ``services.dnc``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcenter.dialer import store
from callcenter.dialer.campaign import (
    DEFAULT_DISPOSITIONS,
    CampaignSpec,
    DispositionSpec,
    check,
    check_caller_id,
    check_disposition,
    check_disposition_code,
    check_name,
)
from callcenter.dialer.compliance import AbandonRate, DayCounts
from callcenter.dialer.vocabulary import (
    AmdAction,
    AuditKind,
    CampaignMode,
    CampaignState,
    LeadState,
)
from callcenter.errors import DomainError, NotFound
from callcenter.events import outbox
from callcenter.events.types import CampaignChanged
from callcenter.services.actor import Actor
from callcenter.services.changes import ChangeKind, audited
from callcenter.services.checks import InvalidArgument, extension
from callcenter.store.base import utcnow
from callcenter.store.database import Database
from callcenter.store.models import Lead, LeadImport
from callcenter.store.repos import AgentRepository, OutboundRouteRepository, QueueRepository
from callcenter.store.repos.campaigns import CampaignRecord, CampaignRepository
from callcenter.store.repos.trunks import TrunkRepository

CAMPAIGN = ChangeKind.CAMPAIGN
CHANGEABLE = frozenset(f.name for f in fields(CampaignSpec)) - {"name"}
# a setting cleared (set to None) clears these too, unless the change names them: no route
# means the outbound routes pick, as for any call, so no trunks of the campaign's own either
CLEARS_TOO: dict[str, dict[str, Any]] = {"outbound_route": {"trunks": ()}}


def view(record: CampaignRecord) -> dict[str, Any]:
    """What the CLI and the API show of a campaign (percentages in percent)."""
    spec = record.spec
    shown: dict[str, Any] = {"name": spec.name, "mode": str(spec.mode), "state": str(record.state)}
    for f in fields(spec):
        value = getattr(spec, f.name)
        if f.name in ("name", "mode", "window_start", "window_end", "retries"):
            continue
        shown[f.name] = list(value) if isinstance(value, tuple) else value
    shown["amd"] = str(spec.amd)
    shown["hours"] = f"{spec.window_start:%H:%M}-{spec.window_end:%H:%M}"
    shown["retries"] = {
        str(o): {"times": r.times, "after_seconds": int(r.after.total_seconds())}
        for o, r in spec.retries.items()
    }
    shown["state_changed_at"] = record.state_changed_at.isoformat(timespec="seconds")
    shown["created_at"] = record.created_at.isoformat(timespec="seconds")
    return shown


def _details(spec: CampaignSpec, only: Mapping[str, Any] | None = None) -> dict[str, Any]:
    shown = view(CampaignRecord(spec, CampaignState.STOPPED, utcnow(), utcnow()))
    for key in ("state", "state_changed_at", "created_at"):
        shown.pop(key)
    if only is not None:
        wanted = set(only) | {"hours"} if {"window_start", "window_end"} & set(only) else set(only)
        shown = {k: v for k, v in shown.items() if k in wanted}
    return shown


def _event(session: Session, who: Actor, name: str, op: str, state: CampaignState) -> None:
    outbox.append(session, CampaignChanged(campaign=name, op=op, state=str(state), by=str(who)))


def create(
    db: Database,
    who: Actor,
    spec: CampaignSpec,
    dispositions: tuple[DispositionSpec, ...] = DEFAULT_DISPOSITIONS,
) -> CampaignRecord:
    """A new campaign, stopped, with ``dispositions`` (the defaults: sale, not_interested,
    call_back, do_not_call, wrong_number on *301 to *305)."""
    checked = check(spec)
    for d in dispositions:
        check_disposition(d)
    with db.session_scope() as session:
        repo = CampaignRepository(session)
        stored = repo.add(checked)
        for d in dispositions:
            repo.add_disposition(checked.name, d)
        audited(session, who, "campaign.create", checked.name, _details(checked), kind=CAMPAIGN)
        _event(session, who, checked.name, "create", stored.state)
    return stored


def update(
    db: Database,
    who: Actor,
    name: str,
    changes: Mapping[str, Any],
    *,
    flows: Collection[str] | None = None,
) -> CampaignRecord:
    """Change some settings; the whole campaign is checked again. ``retries`` given are
    merged into the campaign's (an outcome not named keeps its rule); a setting cleared
    clears what ``CLEARS_TOO`` names with it (the route: the trunks). A running campaign
    takes the change at once: what it names must exist (``flows``: the IVR flows an engine
    serves, None when they are not known)."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise InvalidArgument(
            sorted(unknown)[0], f"not a campaign setting ({', '.join(sorted(CHANGEABLE))})"
        )
    if not changes:
        raise InvalidArgument("changes", "nothing to change")
    with db.session_scope() as session:
        repo = CampaignRepository(session)
        record = repo.get(check_name(name))
        before = record.spec
        given = dict(changes)
        for cleared, too in CLEARS_TOO.items():
            if cleared in given and given[cleared] is None:
                given = {**too, **given}
        if "retries" in given:
            given["retries"] = {**before.retries, **given["retries"]}
        after = check(replace(before, **given))
        if record.state is CampaignState.RUNNING:  # it dials with the change at once
            _ready(session, after, "is running: it cannot take this change", flows)
        stored = repo.replace(after)
        audited(session, who, "campaign.set", name, _details(stored.spec, given), kind=CAMPAIGN)
        _event(session, who, name, "set", stored.state)
    return stored


def list_campaigns(db: Database) -> list[CampaignRecord]:
    with db.session_scope() as session:
        return CampaignRepository(session).all()


def get(db: Database, name: str) -> CampaignRecord:
    with db.session_scope() as session:
        return CampaignRepository(session).get(check_name(name))


def flows_named(spec: CampaignSpec) -> list[str]:
    """The IVR flows the campaign sends calls to: a broadcast's answers, machines."""
    named = [spec.flow] if spec.mode is CampaignMode.BROADCAST and spec.flow else []
    return named + ([spec.amd_flow] if spec.amd is AmdAction.FLOW and spec.amd_flow else [])


def _ready(
    session: Session,
    spec: CampaignSpec,
    refused: str = "cannot start",
    flows: Collection[str] | None = None,
) -> None:
    """What must exist before a campaign may dial (the flows only when ``flows`` are known:
    a call sent to a flow an engine does not serve is hung up on, a silent call)."""
    if spec.caller_id is None:
        raise InvalidArgument(
            "caller_id",
            "a campaign dials with a caller ID the called party can call back "
            "(TSR 310.4(a)(8)): set one first",
            code="campaign_not_ready",
        )
    try:  # one stored before caller IDs were checked as E.164 (``2125550199``, ``+1234``)
        check_caller_id(spec.caller_id, spec.region)
    except InvalidArgument as exc:
        raise InvalidArgument(
            "caller_id",
            f"campaign {spec.name!r} {refused}: {exc.reason}; `campaign set "
            f"{spec.name} --caller-id +...` first",
            code="campaign_not_ready",
        ) from None
    try:
        if spec.queue is not None:
            QueueRepository(session).get(spec.queue)
        for agent in spec.agents:
            AgentRepository(session).get(agent)
        if spec.outbound_route is not None:
            OutboundRouteRepository(session).get(spec.outbound_route)
        for trunk in spec.trunks:
            TrunkRepository(session).get(trunk)
    except NotFound as exc:
        raise DomainError(
            f"campaign {spec.name!r} {refused}: {exc.message}", code="campaign_not_ready"
        ) from exc
    missing = [f for f in flows_named(spec) if flows is not None and f not in flows]
    if missing:
        known = ", ".join(sorted(flows or ())[:10]) or "none"
        raise DomainError(
            f"campaign {spec.name!r} {refused}: no IVR flow {missing[0]!r} (known: {known})",
            code="campaign_not_ready",
        )


_MOVES: dict[str, tuple[frozenset[CampaignState], CampaignState]] = {
    "start": (frozenset({CampaignState.STOPPED, CampaignState.PAUSED}), CampaignState.RUNNING),
    "pause": (frozenset({CampaignState.RUNNING}), CampaignState.PAUSED),
    "stop": (frozenset({CampaignState.RUNNING, CampaignState.PAUSED}), CampaignState.STOPPED),
}


def _move(
    db: Database,
    who: Actor,
    name: str,
    action: str,
    flows: Collection[str] | None = None,
    reason: Mapping[str, Any] | None = None,
) -> CampaignRecord:
    allowed, target = _MOVES[action]
    with db.session_scope() as session:
        repo = CampaignRepository(session)
        before = repo.get(check_name(name))
        if before.state not in allowed:
            raise DomainError(  # a precondition on the current state: 409 over the API
                f"campaign {name!r} is {before.state}: it cannot {action}",
                code=f"campaign_already_{before.state}",
            )
        if action == "start":
            _ready(session, before.spec, flows=flows)
        after = repo.set_state(name, target)
        details: dict[str, Any] = {"from": str(before.state), "to": str(target), **(reason or {})}
        audited(session, who, f"campaign.{action}", name, details, kind=CAMPAIGN)
        store.audit(
            session,
            name,
            AuditKind.STATE,
            after.state_changed_at,
            details={**details, "by": str(who)},
        )
        _event(session, who, name, action, target)
    return after


def start(
    db: Database, who: Actor, name: str, *, flows: Collection[str] | None = None
) -> CampaignRecord:
    """Dial: the running engines' dialer takes the campaign (a paused one resumes).
    ``flows``: the IVR flows an engine serves, when known (a broadcast's flow and the
    machines' must be one of them)."""
    return _move(db, who, name, "start", flows)


def pause(
    db: Database, who: Actor, name: str, *, reason: Mapping[str, Any] | None = None
) -> CampaignRecord:
    """No new calls; the calls in flight finish. ``start`` resumes. ``reason``: why, in
    the audit rows' details (the dialer's pause at the hard limit: ``{"reason":
    "hard_limit", "rate": ...}``), told by ``campaign show``."""
    return _move(db, who, name, "pause", reason=reason)


def stop(db: Database, who: Actor, name: str) -> CampaignRecord:
    """No new calls; the calls in flight finish (the dialer gives back the leads it claimed
    and did not dial)."""
    return _move(db, who, name, "stop")


# -- what `campaign show` tells --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    record: CampaignRecord
    leads: dict[str, int]  # by state (pending, dialing, done) and "total"
    due: int  # pending leads whose next attempt is due now (window and lists not yet applied)
    rates: store.AbandonRates
    today: DayCounts | None
    dispositions: list[DispositionSpec]
    imports: int
    paused: dict[str, Any] | None = None  # paused: why (its audit row's details)


def summary(db: Database, name: str, at: datetime | None = None) -> CampaignSummary:
    at = at or utcnow()
    with db.session_scope() as session:
        repo = CampaignRepository(session)
        record = repo.get(check_name(name))
        row_id = repo.row(name).id
        counts = store.lead_counts(session, name)
        counts["total"] = sum(counts.values())
        due = session.scalar(
            select(func.count()).where(
                Lead.campaign_id == row_id,
                Lead.state == LeadState.PENDING,
                Lead.next_attempt_at <= at,
            )
        )
        rates = store.abandon_rates(session, name, at)
        days = store.day_counts(session, name)
        imports = session.scalar(select(func.count()).where(LeadImport.campaign_id == row_id))
        paused = None
        if record.state is CampaignState.PAUSED:
            paused = store.last_state_change(session, name)
        return CampaignSummary(
            record,
            counts,
            int(due or 0),
            rates,
            days[-1] if days else None,
            repo.dispositions(name),
            int(imports or 0),
            paused,
        )


def summary_view(found: CampaignSummary, at: datetime | None = None) -> dict[str, Any]:
    rates = found.rates
    today = found.today
    return {
        **view(found.record),
        "leads": found.leads,
        "due": found.due,
        "abandon_rate": {
            "us_30_days_pct": round(rates.us_30_days.rate * 100, 3),
            "us_30_days": _rate(rates.us_30_days),
            "uk_today_pct": round(rates.uk_today.rate * 100, 3),
            "uk_today": _rate(rates.uk_today),
            "over_target": rates.worst * 100 > found.record.spec.abandon_target_pct,
            "at_limit": rates.worst * 100 >= found.record.spec.abandon_limit_pct,
        },
        "last_day": None
        if today is None
        else {
            "day": today.day.isoformat(),
            "live": today.live,
            "abandoned": today.abandoned,
            "machine": today.machine,
        },
        "dispositions": [disposition_view(d) for d in found.dispositions],
        "imports": found.imports,
        "paused": found.paused,  # by whom ("by") and, the dialer's, why ("reason", "rate")
    }


def _rate(rate: AbandonRate) -> dict[str, float]:
    """Counts, with the AMD false positives estimated (counted in both) apart."""
    return {
        "abandoned": round(rate.abandoned, 3),
        "live": round(rate.live, 3),
        "amd_estimated": round(rate.amd_estimated, 3),
    }


# -- dispositions ------------------------------------------------------------------------------


def disposition_view(d: DispositionSpec) -> dict[str, Any]:
    return {
        "code": d.code,
        "key": d.key,
        "feature_code": f"*30{d.key}",
        "label": d.label,
        "retry_after": d.retry_after,
        "dnc": d.dnc,
        "global_dnc": d.global_dnc,
        "success": d.success,
    }


def dispositions(db: Database, name: str) -> list[DispositionSpec]:
    with db.session_scope() as session:
        return CampaignRepository(session).dispositions(check_name(name))


def add_disposition(db: Database, who: Actor, name: str, spec: DispositionSpec) -> DispositionSpec:
    checked = check_disposition(spec)
    with db.session_scope() as session:
        repo = CampaignRepository(session)
        repo.add_disposition(check_name(name), checked)
        details = disposition_view(checked)
        audited(
            session, who, "campaign.disposition_add", name, details, kind=CAMPAIGN, op="disposition"
        )
        _event(session, who, name, "disposition", repo.get(name).state)
    return checked


def remove_disposition(db: Database, who: Actor, name: str, code: str) -> None:
    with db.session_scope() as session:
        repo = CampaignRepository(session)
        repo.remove_disposition(check_name(name), check_disposition_code(code))
        audited(
            session,
            who,
            "campaign.disposition_remove",
            name,
            {"code": code},
            kind=CAMPAIGN,
            op="disposition",
        )
        _event(session, who, name, "disposition", repo.get(name).state)


def dispose(
    db: Database,
    who: Actor,
    name: str,
    lead_id: int,
    code: str,
    *,
    callback_at: datetime | None = None,
    callback_agent: str | None = None,
) -> LeadState:
    """What the agent says of the last call to lead ``lead_id`` (the API's twin of ``*30N``):
    it may schedule a callback (``callback_at``, for ``callback_agent`` only when given),
    retry, close the lead, or put its number on the campaign's (or the global) do-not-call
    list, recorded as added by ``who``."""
    check_disposition_code(code)
    if callback_agent is not None:
        extension(callback_agent, "callback_agent")
    if callback_at is not None and callback_at.tzinfo is None:
        raise InvalidArgument("callback_at", "a time with its zone, e.g. 2026-12-07T15:00:00+01:00")
    if callback_at is None and callback_agent is not None:
        raise InvalidArgument("callback_agent", "only with callback_at")
    with db.session_scope() as session:
        campaign_id = CampaignRepository(session).row(check_name(name)).id
        lead = session.get(Lead, lead_id)
        if lead is None or lead.campaign_id != campaign_id:
            raise NotFound(f"campaign {name!r} has no lead {lead_id}", code="lead_not_found")
        if callback_agent is not None:
            AgentRepository(session).get(callback_agent)  # a callback kept for nobody never comes
        state = store.record_disposition(
            session,
            lead_id,
            code,
            utcnow(),
            callback_at=callback_at,
            callback_agent=callback_agent,
            who=str(who),
        )
        details = {
            "lead": lead_id,
            "code": code,
            "state": str(state),
            "callback_at": callback_at.isoformat() if callback_at else None,
            "callback_agent": callback_agent,
        }
        audited(session, who, "campaign.dispose", name, details)
    return state

"""Campaigns and their dispositions, loaded as the ``CampaignSpec`` the dialer reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from callcenter.dialer.campaign import CampaignSpec, DispositionSpec
from callcenter.dialer.store import retry_rules
from callcenter.dialer.vocabulary import AmdAction, CampaignMode, CampaignState
from callcenter.errors import AlreadyExists, NotFound
from callcenter.store.base import utcnow
from callcenter.store.models import Campaign, CampaignDisposition, OutboundRoute


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    spec: CampaignSpec
    state: CampaignState
    state_changed_at: datetime
    created_at: datetime


def to_spec(row: Campaign) -> CampaignSpec:
    return CampaignSpec(
        name=row.name,
        mode=CampaignMode(row.mode),
        queue=row.queue,
        agents=tuple(str(a) for a in row.agents or ()),
        flow=row.flow,
        outbound_route=row.outbound_route,
        trunks=tuple(str(t) for t in row.trunks or ()),
        caller_id=row.caller_id,
        caller_id_name=row.caller_id_name,
        region=row.region,
        window_start=row.window_start,
        window_end=row.window_end,
        report_zone=row.report_zone,
        retries=retry_rules(row.retry_rules or {}),
        max_attempts=row.max_attempts,
        redial_hold_hours=row.redial_hold_seconds / 3600,
        ring_seconds=row.ring_seconds,
        abandon_target_pct=round(row.abandon_target * 100, 6),
        abandon_limit_pct=round(row.abandon_limit * 100, 6),
        amd_false_positive_pct=round(row.amd_false_positive * 100, 6),
        amd=AmdAction(row.amd),
        amd_message=row.amd_message,
        amd_flow=row.amd_flow,
        recording=row.recording_policy,
        safe_harbor_message=row.safe_harbor_message,
        max_lines=row.max_lines,
        max_lines_per_agent=row.max_lines_per_agent,
        description=row.description,
    )


def _columns(spec: CampaignSpec) -> dict[str, Any]:
    return {
        "mode": spec.mode,
        "queue": spec.queue,
        "agents": list(spec.agents),
        "flow": spec.flow,
        "outbound_route": spec.outbound_route,
        "trunks": list(spec.trunks),
        "caller_id": spec.caller_id,
        "caller_id_name": spec.caller_id_name,
        "region": spec.region.upper(),
        "window_start": spec.window_start,
        "window_end": spec.window_end,
        "report_zone": spec.report_zone,
        "retry_rules": {
            str(o): {"times": r.times, "after": int(r.after.total_seconds())}
            for o, r in spec.retries.items()
        },
        "max_attempts": spec.max_attempts,
        "redial_hold_seconds": int(timedelta(hours=spec.redial_hold_hours).total_seconds()),
        "ring_seconds": spec.ring_seconds,
        "abandon_target": spec.abandon_target_pct / 100,
        "abandon_limit": spec.abandon_limit_pct / 100,
        "amd_false_positive": spec.amd_false_positive_pct / 100,
        "amd": spec.amd,
        "amd_message": spec.amd_message,
        "amd_flow": spec.amd_flow,
        "recording_policy": spec.recording,
        "safe_harbor_message": spec.safe_harbor_message,
        "max_lines": spec.max_lines,
        "max_lines_per_agent": spec.max_lines_per_agent,
        "description": spec.description,
    }


def _record(row: Campaign) -> CampaignRecord:
    return CampaignRecord(
        to_spec(row), CampaignState(row.state), row.state_changed_at, row.created_at
    )


class CampaignRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def row(self, name: str) -> Campaign:
        row = self.session.scalar(select(Campaign).where(Campaign.name == name))
        if row is None:
            raise NotFound(f"no campaign {name!r}", code="campaign_not_found")
        return row

    def add(self, spec: CampaignSpec) -> CampaignRecord:
        if self.session.scalar(select(Campaign.id).where(Campaign.name == spec.name)):
            raise AlreadyExists(f"campaign {spec.name!r} already exists", code="campaign_exists")
        row = Campaign(name=spec.name, state=CampaignState.STOPPED, **_columns(spec))
        self.session.add(row)
        self.session.flush()
        return _record(row)

    def get(self, name: str) -> CampaignRecord:
        return _record(self.row(name))

    def all(self) -> list[CampaignRecord]:
        return [_record(r) for r in self.session.scalars(select(Campaign).order_by(Campaign.name))]

    def replace(self, spec: CampaignSpec) -> CampaignRecord:
        row = self.row(spec.name)
        for name, value in _columns(spec).items():
            setattr(row, name, value)
        self.session.flush()
        return _record(row)

    def running_with(
        self,
        *,
        queue: str | None = None,
        agent: str | None = None,
        trunk: str | None = None,
        group: str | None = None,
        route: str | None = None,
    ) -> list[str]:
        """The running campaigns whose calls ``queue``'s agents, or ``agent``, take; or
        that dial through ``trunk`` (one of its trunks, or its outbound route's), trunk
        ``group`` (its outbound route's) or outbound ``route``. A campaign with neither
        trunks nor a route of its own dials through whichever route takes each number: it
        names none of them."""
        rows = self.session.execute(
            select(
                Campaign.name, Campaign.queue, Campaign.agents, Campaign.trunks,
                Campaign.outbound_route,
            )
            .where(Campaign.state == CampaignState.RUNNING)
            .order_by(Campaign.name)
        )  # fmt: skip
        routes = {r.name: r for r in self.session.scalars(select(OutboundRoute))}

        def uses(its_route: str | None, trunks: list[Any]) -> bool:
            found = routes.get(its_route) if its_route is not None else None
            through = list(trunks or [])
            if found is not None:
                through += [found.gateway, *filter(None, found.failover_gateways.split(","))]
            return (
                (trunk is not None and trunk in through)
                or (group is not None and found is not None and found.trunk_group == group)
                or (route is not None and its_route == route)
            )

        return [
            name
            for name, its_queue, agents, trunks, its_route in rows
            if (queue is not None and its_queue == queue)
            or (agent is not None and agent in (agents or []))
            or uses(its_route, trunks)
        ]

    def set_state(self, name: str, state: CampaignState) -> CampaignRecord:
        row = self.row(name)
        row.state = state
        row.state_changed_at = utcnow()
        self.session.flush()
        return _record(row)

    # -- dispositions -----------------------------------------------------------------------

    def dispositions(self, name: str) -> list[DispositionSpec]:
        rows = self.session.scalars(
            select(CampaignDisposition)
            .where(CampaignDisposition.campaign_id == self.row(name).id)
            .order_by(CampaignDisposition.key)
        )
        return [
            DispositionSpec(r.code, r.key, r.label, r.retry_after, r.dnc, r.success, r.global_dnc)
            for r in rows
        ]

    def add_disposition(self, name: str, spec: DispositionSpec) -> None:
        campaign_id = self.row(name).id
        for found in self.dispositions(name):
            if found.code == spec.code or found.key == spec.key:
                which = "code" if found.code == spec.code else "key"
                raise AlreadyExists(
                    f"campaign {name!r} has a disposition with {which} "
                    f"{getattr(spec, which)!r} already ({found.code}, *30{found.key})",
                    code="disposition_exists",
                )
        self.session.add(
            CampaignDisposition(
                campaign_id=campaign_id,
                code=spec.code,
                key=spec.key,
                label=spec.label,
                retry_after=spec.retry_after,
                dnc=spec.dnc,
                success=spec.success,
                global_dnc=spec.global_dnc,
            )
        )
        self.session.flush()

    def remove_disposition(self, name: str, code: str) -> None:
        result = self.session.execute(
            delete(CampaignDisposition).where(
                CampaignDisposition.campaign_id == self.row(name).id,
                CampaignDisposition.code == code,
            )
        )
        if not getattr(result, "rowcount", 0):
            raise NotFound(
                f"campaign {name!r} has no disposition {code!r}", code="disposition_not_found"
            )

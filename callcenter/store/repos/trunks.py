"""Trunks, loaded as the ``TrunkSpec`` the engine reads, and their last seen gateway state.

Rows are stored as ``callcenter.trunks.checks.check`` returned them; a row changed around
the services is checked again where it is used (rendering, the engine's directory).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from callcenter.errors import AlreadyExists, NotFound
from callcenter.store.base import utcnow
from callcenter.store.models import OutboundRoute, Trunk, TrunkGroup, TrunkState
from callcenter.trunks.groups import Strategy
from callcenter.trunks.groups import TrunkGroup as GroupSpec
from callcenter.trunks.spec import NumberStyle, Transport, TrunkSpec

FIELDS = (
    "proxy", "transport", "register", "username", "password", "realm", "from_domain",
    "caller_id_in_from", "codecs", "country", "number_style", "max_channels", "max_cps",
    "inbound_cidrs", "enabled",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TrunkStateRecord:
    node: str
    trunk: str
    state: str
    ping_status: str
    detail: str
    changed_at: datetime


def to_spec(row: Trunk) -> TrunkSpec:
    def enum_or_raw(kind: Any, value: str) -> Any:
        try:
            return kind(value)
        except ValueError:  # stored around the services: the checks name it when used
            return value

    return TrunkSpec(
        name=row.name,
        proxy=row.proxy,
        transport=enum_or_raw(Transport, row.transport),
        register=row.register,
        username=row.username,
        password=row.password,
        realm=row.realm,
        from_domain=row.from_domain,
        caller_id_in_from=row.caller_id_in_from,
        codecs=tuple(str(c) for c in row.codecs or ()),
        country=row.country,
        number_style=enum_or_raw(NumberStyle, row.number_style),
        max_channels=row.max_channels,
        max_cps=row.max_cps,
        inbound_cidrs=tuple(str(c) for c in row.inbound_cidrs or ()),
        enabled=row.enabled,
    )


def _columns(spec: TrunkSpec) -> dict[str, Any]:
    values = {name: getattr(spec, name) for name in FIELDS}
    values["transport"] = str(spec.transport)
    values["number_style"] = str(spec.number_style)
    values["codecs"] = list(spec.codecs)
    values["inbound_cidrs"] = list(spec.inbound_cidrs)
    return values


class TrunkRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _get(self, name: str) -> Trunk:
        row = self.session.scalar(select(Trunk).where(Trunk.name == name))
        if row is None:
            raise NotFound(f"no trunk {name!r}", code="trunk_not_found")
        return row

    def add(self, spec: TrunkSpec) -> TrunkSpec:
        if self.session.scalar(select(Trunk.id).where(Trunk.name == spec.name)) is not None:
            raise AlreadyExists(f"trunk {spec.name!r} already exists", code="trunk_exists")
        row = Trunk(name=spec.name, **_columns(spec))
        self.session.add(row)
        self.session.flush()
        return to_spec(row)

    def get(self, name: str) -> TrunkSpec:
        return to_spec(self._get(name))

    def find(self, name: str) -> TrunkSpec | None:
        row = self.session.scalar(select(Trunk).where(Trunk.name == name))
        return None if row is None else to_spec(row)

    def all(self) -> list[TrunkSpec]:
        return [to_spec(r) for r in self.session.scalars(select(Trunk).order_by(Trunk.name))]

    def replace(self, spec: TrunkSpec) -> TrunkSpec:
        row = self._get(spec.name)
        for name, value in _columns(spec).items():
            setattr(row, name, value)
        self.session.flush()
        return to_spec(row)

    def delete(self, name: str) -> None:
        self.session.delete(self._get(name))
        self.session.execute(delete(TrunkState).where(TrunkState.trunk == name))
        self.session.flush()

    # -- the gateway state the engines saw ------------------------------------------------

    def states(self) -> list[TrunkStateRecord]:
        rows = self.session.scalars(select(TrunkState).order_by(TrunkState.trunk, TrunkState.node))
        return [
            TrunkStateRecord(r.node, r.trunk, r.state, r.ping_status, r.detail, r.changed_at)
            for r in rows
        ]

    def save_state(self, node: str, trunk: str, state: str, ping: str, detail: str) -> None:
        row = self.session.get(TrunkState, (node, trunk))
        if row is None:
            row = TrunkState(node=node, trunk=trunk)
            self.session.add(row)
        row.state, row.ping_status, row.detail = state, ping, detail[:255]
        row.changed_at = utcnow()
        self.session.flush()


def _group(row: TrunkGroup) -> GroupSpec:
    try:
        strategy = Strategy(row.strategy)
    except ValueError:  # stored around the services (the CHECK constraint refuses it)
        strategy = Strategy.IN_ORDER
    return GroupSpec(row.name, tuple(str(m) for m in row.members or ()), strategy)


class TrunkGroupRepository:
    """Trunk groups, as ``callcenter.trunks.groups.check_group`` returned them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _get(self, name: str) -> TrunkGroup:
        row = self.session.scalar(select(TrunkGroup).where(TrunkGroup.name == name))
        if row is None:
            raise NotFound(f"no trunk group {name!r}", code="trunk_group_not_found")
        return row

    def add(self, group: GroupSpec) -> GroupSpec:
        if self.session.scalar(select(TrunkGroup.id).where(TrunkGroup.name == group.name)):
            raise AlreadyExists(
                f"trunk group {group.name!r} already exists", code="trunk_group_exists"
            )
        row = TrunkGroup(name=group.name, strategy=str(group.strategy), members=list(group.members))
        self.session.add(row)
        self.session.flush()
        return _group(row)

    def get(self, name: str) -> GroupSpec:
        return _group(self._get(name))

    def all(self) -> list[GroupSpec]:
        rows = self.session.scalars(select(TrunkGroup).order_by(TrunkGroup.name))
        return [_group(r) for r in rows]

    def replace(self, group: GroupSpec) -> GroupSpec:
        row = self._get(group.name)
        row.strategy, row.members = str(group.strategy), list(group.members)
        self.session.flush()
        return _group(row)

    def delete(self, name: str) -> None:
        self.session.delete(self._get(name))
        self.session.flush()

    def with_member(self, trunk: str) -> list[str]:
        """The groups ``trunk`` is a member of."""
        return [g.name for g in self.all() if trunk in g.members]

    def routes_naming(self, name: str) -> list[str]:
        """The outbound routes that point at group ``name``."""
        query = select(OutboundRoute.name).where(OutboundRoute.trunk_group == name)
        return list(self.session.scalars(query.order_by(OutboundRoute.name)))

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
from callcenter.store.models import Trunk, TrunkState
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

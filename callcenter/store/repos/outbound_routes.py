"""Outbound routes: which gateway an external number leaves through.

The rows are stored as given; ``callcenter.trunks.outbound.OutboundRoute`` is what checks
them (the CLI builds one before adding, the engine skips a row that fails it).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.errors import AlreadyExists, NotFound
from callcenter.store.models import OutboundRoute
from callcenter.store.records import OutboundRouteRecord


def to_record(route: OutboundRoute) -> OutboundRouteRecord:
    return OutboundRouteRecord(
        id=route.id,
        name=route.name,
        pattern=route.pattern,
        gateway=route.gateway,
        number_format=route.number_format,
        caller_id_number=route.caller_id_number,
        priority=route.priority,
        enabled=route.enabled,
        failover_gateways=route.failover_gateways,
        failover_causes=route.failover_causes,
        trunk_group=route.trunk_group,
    )


class OutboundRouteRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _get(self, name: str) -> OutboundRoute:
        route = self.session.scalar(select(OutboundRoute).where(OutboundRoute.name == name))
        if route is None:
            raise NotFound(f"no outbound route {name!r}", code="outbound_route_not_found")
        return route

    def add(
        self,
        name: str,
        pattern: str,
        gateway: str,
        *,
        number_format: str = "$0",
        caller_id_number: str | None = None,
        priority: int = 100,
        enabled: bool = True,
        failover_gateways: str = "",
        failover_causes: str = "",
        trunk_group: str | None = None,
    ) -> OutboundRouteRecord:
        exists = select(OutboundRoute.id).where(OutboundRoute.name == name)
        if self.session.scalar(exists) is not None:
            raise AlreadyExists(
                f"outbound route {name!r} already exists", code="outbound_route_exists"
            )
        route = OutboundRoute(
            name=name,
            pattern=pattern,
            gateway=gateway,
            number_format=number_format,
            caller_id_number=caller_id_number,
            priority=priority,
            enabled=enabled,
            failover_gateways=failover_gateways,
            failover_causes=failover_causes,
            trunk_group=trunk_group,
        )
        self.session.add(route)
        self.session.flush()
        return to_record(route)

    def get(self, name: str) -> OutboundRouteRecord:
        return to_record(self._get(name))

    def all(self) -> list[OutboundRouteRecord]:
        """Every route in the order they are tried: priority, then name."""
        rows = self.session.scalars(
            select(OutboundRoute).order_by(OutboundRoute.priority, OutboundRoute.name)
        )
        return [to_record(r) for r in rows]

    def set_enabled(self, name: str, enabled: bool) -> OutboundRouteRecord:
        route = self._get(name)
        route.enabled = enabled
        self.session.flush()
        return to_record(route)

    def delete(self, name: str) -> None:
        self.session.delete(self._get(name))
        self.session.flush()

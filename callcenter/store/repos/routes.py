from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.errors import AlreadyExists, NotFound
from callcenter.store.models import Route
from callcenter.store.records import RouteRecord
from callcenter.vocabulary import RouteTarget


def to_record(route: Route) -> RouteRecord:
    return RouteRecord(
        id=route.id,
        did=route.did,
        target_type=route.target_type,
        target=route.target,
        description=route.description,
        enabled=route.enabled,
        match_kind=route.match_kind,
        priority=route.priority,
    )


class RouteRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _get(self, did: str) -> Route:
        route = self.session.scalar(select(Route).where(Route.did == did))
        if route is None:
            raise NotFound(f"no route for DID {did!r}", code="route_not_found")
        return route

    def add(
        self,
        did: str,
        target_type: RouteTarget,
        target: str = "",
        description: str = "",
        *,
        match_kind: str = "exact",
        priority: int = 100,
    ) -> RouteRecord:
        if self.session.scalar(select(Route.id).where(Route.did == did)) is not None:
            raise AlreadyExists(f"DID {did!r} already has a route", code="route_exists")
        route = Route(
            did=did,
            target_type=target_type,
            target=target,
            description=description,
            match_kind=match_kind,
            priority=priority,
        )
        self.session.add(route)
        self.session.flush()
        return to_record(route)

    def get(self, did: str) -> RouteRecord:
        return to_record(self._get(did))

    def lookup(self, did: str) -> RouteRecord | None:
        route = self.session.scalar(select(Route).where(Route.did == did, Route.enabled))
        return to_record(route) if route is not None else None

    def all(self) -> list[RouteRecord]:
        return [to_record(r) for r in self.session.scalars(select(Route).order_by(Route.did))]

    def set_enabled(self, did: str, enabled: bool) -> RouteRecord:
        route = self._get(did)
        route.enabled = enabled
        self.session.flush()
        return to_record(route)

    def delete(self, did: str) -> None:
        self.session.delete(self._get(did))
        self.session.flush()

"""``/routes`` (DID -> target) and ``/outbound-routes`` (number -> gateway)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from callcenter.api.env import ApiEnv
from callcenter.api.pages import Page, PageQuery, paginate
from callcenter.api.routing import Ask, Body, Operation
from callcenter.errors import NotFound
from callcenter.services import routes
from callcenter.store.models.tokens import TokenScope
from callcenter.store.records import OutboundRouteRecord, RouteRecord
from callcenter.trunks.failover import parse_causes
from callcenter.vocabulary import RouteTarget

READ, ADMIN = TokenScope.READ, TokenScope.ADMIN
TAG, OUT_TAG = "routes", "outbound routes"


class Route(BaseModel):
    did: str
    target_type: RouteTarget
    target: str = Field(description="The argument of the target (queue name, flow, ...).")
    route: str = Field(description="The whole target, e.g. queue:sales.")
    description: str
    enabled: bool
    match: str = Field("exact", description="How did matches: exact, range, prefix, regex.")
    priority: int = 100


class RouteCreate(Body):
    did: str = Field(max_length=128, examples=["+15551230000"])
    target: str = Field(max_length=1024, examples=["queue:sales", "ivr:main", "extension:1001"])
    description: str = Field("", max_length=1000)
    match: str = Field("exact", description="exact, range, prefix or regex (see docs/trunks.md)")
    priority: int = Field(100, ge=0, le=1_000_000)


class RouteCreated(Route):
    unverified: str | None = Field(description="What could not be checked, if anything.")


class Enabled(Body):
    enabled: bool


class RouteTestOut(BaseModel):
    did: str
    target: str
    by: str = Field(description="route: the DID's own route; default: none (or disabled).")
    route: str = Field("", description="The matching route's DID, range, prefix or regex.")
    why: str = Field("", description="Why it matches, e.g. in range ... (0301234 read as ...).")


class OutboundRoute(BaseModel):
    name: str
    pattern: str
    gateway: str
    number_format: str
    caller_id_number: str | None
    priority: int
    enabled: bool
    failover: list[str] = Field([], description="Trunks tried after gateway, in order.")
    failover_causes: list[str] = Field([], description="Causes that try the next trunk.")
    group: str | None = Field(None, description="A trunk group instead of gateway/failover.")


class OutboundCreate(Body):
    name: str = Field(max_length=64, examples=["national"])
    pattern: str = Field(max_length=1024, examples=[r"^\+1\d{10}$"])
    gateway: str = Field("", max_length=128, examples=["carrier-a"])
    group: str | None = Field(
        None, max_length=64, description="A trunk group instead of gateway and failover."
    )
    number_format: str = Field("$0", max_length=255)
    caller_id_number: str | None = Field(None, max_length=64)
    priority: int = Field(100, ge=-1_000_000, le=1_000_000)
    failover: list[str] = Field([], max_length=7, examples=[["carrier-b", "carrier-c"]])
    failover_causes: list[str] = Field([], max_length=32, examples=[["GATEWAY_DOWN"]])


class Dialout(BaseModel):
    route: str
    gateway: str
    failover: list[str] = Field([], description="The trunks tried next, in this call's order.")
    group: str | None = None
    number: str
    caller_id_number: str | None
    dial_string: str


class RouteTestQuery(BaseModel):
    trunk: str | None = Field(
        None, max_length=64, description="As a call arriving on this trunk (its country)."
    )


class NumberIn(Body):
    number: str = Field(max_length=64, examples=["+15551234567"])


def _route(record: RouteRecord) -> Route:
    whole = f"{record.target_type}:{record.target}" if record.target else str(record.target_type)
    return Route(
        did=record.did,
        target_type=record.target_type,
        target=record.target,
        route=whole,
        description=record.description,
        enabled=record.enabled,
        match=record.match_kind,
        priority=record.priority,
    )


def _outbound(record: OutboundRouteRecord) -> OutboundRoute:
    return OutboundRoute(
        name=record.name,
        pattern=record.pattern,
        gateway=record.gateway,
        number_format=record.number_format,
        caller_id_number=record.caller_id_number,
        priority=record.priority,
        enabled=record.enabled,
        failover=[g for g in record.failover_gateways.split(",") if g],
        failover_causes=sorted(parse_causes(record.failover_causes)),
        group=record.trunk_group,
    )


def operations(env: ApiEnv) -> list[Operation]:
    db = env.database

    def list_routes(ask: Ask) -> Page[Route]:
        page, more = paginate(routes.list_routes(db), lambda r: [r.did], ask.query)
        return Page[Route](items=[_route(r) for r in page], next=more)

    def create_route(ask: Ask) -> RouteCreated:
        body: RouteCreate = ask.body
        flows = env.flow_names()
        added = routes.add(
            db,
            ask.who,
            body.did,
            body.target,
            description=body.description,
            flows=flows,
            flows_why="" if flows is not None else "the engine's flows are not known here",
            match=body.match,
            priority=body.priority,
            country=env.default_country or None,
        )
        return RouteCreated(**_route(added.route).model_dump(), unverified=added.unverified)

    def show_route(ask: Ask) -> Route:
        did = ask.path["did"]
        found = [r for r in routes.list_routes(db) if r.did == did]
        if not found:
            raise NotFound(f"no route for DID {did!r}", code="route_not_found")
        return _route(found[0])

    def update_route(ask: Ask) -> Route:
        body: Enabled = ask.body
        return _route(routes.set_enabled(db, ask.who, ask.path["did"], body.enabled))

    def delete_route(ask: Ask) -> None:
        routes.remove(db, ask.who, ask.path["did"])

    def test_route(ask: Ask) -> RouteTestOut:
        query: RouteTestQuery = ask.query
        found = routes.test(
            db, ask.path["did"], default=env.default_route, country=env.default_country or None,
            trunk=query.trunk,
        )  # fmt: skip
        return RouteTestOut(
            did=found.did, target=found.target, by=found.by, route=found.route, why=found.why
        )

    def list_outbound_routes(ask: Ask) -> Page[OutboundRoute]:
        ordered = routes.list_outbound(db)
        rank = {r.name: i for i, r in enumerate(ordered)}  # the order they are tried in
        page, more = paginate(ordered, lambda r: [rank[r.name], r.name], ask.query)
        return Page[OutboundRoute](items=[_outbound(r) for r in page], next=more)

    def create_outbound_route(ask: Ask) -> OutboundRoute:
        body: OutboundCreate = ask.body
        record = routes.add_outbound(
            db,
            ask.who,
            body.name,
            pattern=body.pattern,
            gateway=body.gateway,
            group=body.group,
            number_format=body.number_format,
            caller_id_number=body.caller_id_number,
            priority=body.priority,
            failover=body.failover,
            failover_causes=body.failover_causes,
        )
        return _outbound(record)

    def show_outbound_route(ask: Ask) -> OutboundRoute:
        name = ask.path["name"]
        found = [r for r in routes.list_outbound(db) if r.name == name]
        if not found:
            raise NotFound(f"no outbound route {name!r}", code="outbound_route_not_found")
        return _outbound(found[0])

    def update_outbound_route(ask: Ask) -> OutboundRoute:
        body: Enabled = ask.body
        return _outbound(routes.set_outbound_enabled(db, ask.who, ask.path["name"], body.enabled))

    def delete_outbound_route(ask: Ask) -> None:
        routes.remove_outbound(db, ask.who, ask.path["name"])

    def test_outbound_route(ask: Ask) -> Dialout:
        body: NumberIn = ask.body
        found = routes.test_outbound(db, body.number)
        return Dialout(
            route=found.route,
            gateway=found.gateway,
            failover=list(found.failover),
            group=found.group,
            number=found.number,
            caller_id_number=found.caller_id_number,
            dial_string=found.dial_string,
        )

    item, out = "/routes/{did}", "/outbound-routes/{name}"
    return [
        Operation("GET", "/routes", READ, list_routes, "List DID routes", TAG, Page[Route],
                  query=PageQuery, errors=(400, 422)),
        Operation("POST", "/routes", ADMIN, create_route, "Route a DID to a target", TAG,
                  RouteCreated, body=RouteCreate, status=201, errors=(400, 404, 409, 422)),
        Operation("GET", item, READ, show_route, "One DID's route", TAG, Route,
                  errors=(404, 422)),
        Operation("PATCH", item, ADMIN, update_route, "Enable or disable a route", TAG, Route,
                  body=Enabled),
        Operation("DELETE", item, ADMIN, delete_route, "Delete a route", TAG,
                  errors=(404, 409, 422)),
        Operation("GET", item + "/test", READ, test_route,
                  "Where a call to this DID would go now", TAG, RouteTestOut,
                  query=RouteTestQuery, errors=(404, 422)),
        Operation("GET", "/outbound-routes", READ, list_outbound_routes,
                  "List outbound routes in the order they are tried", OUT_TAG,
                  Page[OutboundRoute], query=PageQuery, errors=(400, 422)),
        Operation("POST", "/outbound-routes", ADMIN, create_outbound_route,
                  "Add an outbound route", OUT_TAG, OutboundRoute, body=OutboundCreate,
                  status=201, errors=(400, 404, 409, 422)),
        Operation("POST", "/outbound-test", READ, test_outbound_route,
                  "The route and dial string a number would get", OUT_TAG, Dialout,
                  body=NumberIn, errors=(400, 422)),
        Operation("GET", out, READ, show_outbound_route, "One outbound route", OUT_TAG,
                  OutboundRoute, errors=(404, 422)),
        Operation("PATCH", out, ADMIN, update_outbound_route,
                  "Enable or disable an outbound route", OUT_TAG, OutboundRoute, body=Enabled),
        Operation("DELETE", out, ADMIN, delete_outbound_route, "Delete an outbound route",
                  OUT_TAG, errors=(404, 409, 422)),
    ]  # fmt: skip

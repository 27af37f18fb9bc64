"""DID routes (which target a dialled number goes to) and outbound routes (which gateway an
external number leaves through). Each change reaches every running engine as a ``route``
or ``outbound_route`` change: the engine reloads that table only."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from callcenter.calls.routing import RouteTable
from callcenter.errors import AlreadyExists, InvalidOutboundRoute
from callcenter.services import in_use
from callcenter.services.actor import Actor
from callcenter.services.changes import ChangeKind, audited
from callcenter.store.database import Database
from callcenter.store.records import OutboundRouteRecord, RouteRecord
from callcenter.store.repos import (
    AgentRepository,
    OutboundRouteRepository,
    QueueRepository,
    RouteRepository,
    TrunkGroupRepository,
    TrunkRepository,
)
from callcenter.trunks.did import DidRoute, MatchKind
from callcenter.trunks.failover import causes_text, check_causes
from callcenter.trunks.outbound import Dialout, OutboundRoute, check_number
from callcenter.trunks.table import OutboundRoutes
from callcenter.trunks.targets import (
    InvalidRoute,
    Target,
    check_description,
    check_did,
    check_target,
    unverified,
)
from callcenter.vocabulary import RouteTarget

ROUTE = ChangeKind.ROUTE
OUTBOUND_ROUTE = ChangeKind.OUTBOUND_ROUTE


@dataclass(frozen=True, slots=True)
class RouteAdded:
    route: RouteRecord
    target: Target
    unverified: str | None  # what could not be checked (the flows were not known), or None


@dataclass(frozen=True, slots=True)
class RouteTest:
    did: str
    target: str
    by: str  # "route": the DID's own route; "default": none, or disabled
    route: str = ""  # the route's DID (an exact number, a range, a prefix, a regex)
    why: str = ""  # "in range +4930123400-+4930123499 (0301234 read as +49301234)"


def add(
    db: Database,
    who: Actor,
    did: str,
    target: str,
    *,
    description: str = "",
    flows: Collection[str] | None = None,
    flows_why: str = "",
    match: str = "exact",
    priority: int = 100,
    country: str | None = None,
) -> RouteAdded:
    """Route ``did`` to ``target``, checked first (a ``queue:`` target must name a stored
    queue, an ``extension:`` one an agent; an ``ivr:`` one a flow of ``flows`` when given).
    ``match`` says how ``did`` matches (``trunks.did``: exact, range, prefix, regex)."""
    try:
        kind = MatchKind(match)
    except ValueError:
        kinds = ", ".join(k.value for k in MatchKind)
        raise InvalidRoute("match", f"{match[:20]!r} is not one of {kinds}") from None
    if isinstance(priority, bool) or not 0 <= priority <= 1_000_000:
        raise InvalidRoute("priority", f"{priority} is not in 0..1000000")
    new = DidRoute(did, check_target(target), kind, priority, country)  # checked for its kind
    check_description(description)
    with db.session_scope() as session:
        if kind is MatchKind.EXACT:
            _refuse_same_number(RouteRepository(session).all(), new, country)
        queues = {q.name for q in QueueRepository(session).all()}
        agents = {a.extension for a in AgentRepository(session).all()}
        parsed = check_target(target, queues=queues, flows=flows, agents=agents)
        record = RouteRepository(session).add(
            did, parsed.kind, parsed.arg, description, match_kind=kind, priority=priority
        )
        details = {"target": str(parsed), "match": str(kind), "priority": priority}
        audited(session, who, "route.add", did, details, kind=ROUTE)
    return RouteAdded(record, parsed, unverified(parsed, queues=queues, flows=flows, why=flows_why))


def _refuse_same_number(rows: list[RouteRecord], new: DidRoute, country: str | None) -> None:
    """Two exact routes for one number written two ways (``0301234``, ``+49301234``)."""
    for row in rows:
        if row.match_kind != MatchKind.EXACT or row.did == new.did:
            continue
        try:
            other = DidRoute(row.did, new.target, MatchKind.EXACT, row.priority, country)
        except InvalidRoute:
            continue  # a stored row the checks refuse is never matched
        if other.key == new.key:
            raise AlreadyExists(
                f"DID {new.did!r} is {new.key}, which route {row.did!r} already takes",
                code="route_exists",
            )


def remove(db: Database, who: Actor, did: str) -> None:
    """Delete the route of ``did`` (its calls then go to the default target)."""
    with db.session_scope() as session:
        RouteRepository(session).delete(did)
        audited(session, who, "route.remove", did, kind=ROUTE)


def set_enabled(db: Database, who: Actor, did: str, enabled: bool) -> RouteRecord:
    with db.session_scope() as session:
        record = RouteRepository(session).set_enabled(did, enabled)
        action = "route.enable" if enabled else "route.disable"
        audited(session, who, action, did, kind=ROUTE)
    return record


def list_routes(db: Database) -> list[RouteRecord]:
    with db.session_scope() as session:
        return RouteRepository(session).all()


def test(
    db: Database, did: str, *, default: str, country: str | None = None, trunk: str | None = None
) -> RouteTest:
    """Where a call to ``did`` would go and why: the route it matches as the engine matches
    it (normalized in ``country``; exact, range, prefix, regex), else ``default``. With
    ``trunk``: as a call arriving on that trunk, read in its country (``NotFound``)."""
    check_did(did)
    arrived_in = None
    if trunk is not None:
        with db.session_scope() as session:
            arrived_in = TrunkRepository(session).get(trunk).country
    table = RouteTable(db, Target(RouteTarget.HANGUP), country=country or None)
    table.reload()
    found = table.match(did, country=arrived_in)
    if found is None:
        return RouteTest(did, default, "default", why="no route matches")
    return RouteTest(did, str(found.route.target), "route", found.route.did, found.why)


def add_outbound(
    db: Database,
    who: Actor,
    name: str,
    *,
    pattern: str,
    gateway: str = "",
    number_format: str = "$0",
    caller_id_number: str | None = None,
    priority: int = 100,
    failover: Sequence[str] = (),
    failover_causes: Sequence[str] = (),
    group: str | None = None,
) -> OutboundRouteRecord:
    """Add an outbound route; ``InvalidOutboundRoute`` (its ``field`` names the bad part)
    for a pattern that could backtrack for long, a bad gateway, format or caller ID, a
    failover cause that is the callee's answer. ``failover``: the trunks tried after
    ``gateway``, in order (``trunks.failover``); or ``group``: a stored trunk group whose
    members are tried in the order of its strategy (``NotFound`` when there is none)."""
    if not gateway and group is None:
        raise InvalidOutboundRoute(
            "gateway: a route needs a gateway (its trunks) or a trunk group", field="gateway"
        )
    route = OutboundRoute(
        name, pattern, gateway, number_format, caller_id_number, priority,
        failover=tuple(failover), failover_causes=check_causes(failover_causes), group=group,
    )  # fmt: skip
    with db.session_scope() as session:
        if group is not None:
            TrunkGroupRepository(session).get(group)
        record = OutboundRouteRepository(session).add(
            route.name,
            route.pattern,
            route.gateway,
            number_format=route.number_format,
            caller_id_number=route.caller_id_number,
            priority=route.priority,
            failover_gateways=",".join(route.failover),
            failover_causes=causes_text(route.failover_causes),
            trunk_group=route.group,
        )
        details = {
            "group": route.group,
            "failover": list(route.failover),
            "failover_causes": sorted(route.failover_causes),
            "pattern": route.pattern,
            "gateway": route.gateway,
            "number_format": route.number_format,
            "caller_id_number": route.caller_id_number,
            "priority": route.priority,
        }
        audited(session, who, "outbound_route.add", name, details, kind=OUTBOUND_ROUTE)
    return record


def remove_outbound(db: Database, who: Actor, name: str) -> None:
    """Delete outbound route ``name``, unless a running campaign dials through it."""
    with db.session_scope() as session:
        in_use.not_dialling(
            session,
            f"outbound route {name!r}",
            "carries the calls of",
            "give them another route",
            "outbound_route_in_use",
            route=name,
        )
        OutboundRouteRepository(session).delete(name)
        audited(session, who, "outbound_route.remove", name, kind=OUTBOUND_ROUTE)


def set_outbound_enabled(db: Database, who: Actor, name: str, enabled: bool) -> OutboundRouteRecord:
    with db.session_scope() as session:
        record = OutboundRouteRepository(session).set_enabled(name, enabled)
        action = "outbound_route.enable" if enabled else "outbound_route.disable"
        audited(session, who, action, name, kind=OUTBOUND_ROUTE)
    return record


def list_outbound(db: Database) -> list[OutboundRouteRecord]:
    """Every outbound route, in the order they are tried."""
    with db.session_scope() as session:
        return OutboundRouteRepository(session).all()


def test_outbound(db: Database, number: str) -> Dialout:
    """The route and dial string ``number`` would get, as an engine resolves it:
    ``InvalidNumber`` or ``NoOutboundRoute`` otherwise (a stored route that fails the
    checks is left out, with a logged error, as the engine leaves it out)."""
    check_number(number)
    table = OutboundRoutes(db)
    table.reload()
    return table.resolve(number)

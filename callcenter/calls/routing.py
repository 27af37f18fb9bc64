"""Which target a dialled number (DID) goes to: the routes table, cached, with a default.

The table comes from the database, and from the local cache (``store.cache``) when a start
finds the database away. With neither, a call is turned away with a congestion cause
(``NORMAL_TEMPORARY_FAILURE``: try again), never with the default route, whose cause
(``UNALLOCATED_NUMBER`` out of the box) a carrier reads as "this number does not exist".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Container

from callcenter.errors import ConfigError, DatabaseUnavailable
from callcenter.store.cache import LocalCache
from callcenter.store.database import Database
from callcenter.store.repos import RouteRepository
from callcenter.trunks.did import DidMatch, DidRoute, DidTable, MatchKind
from callcenter.trunks.targets import InvalidRoute, Target, check_target
from callcenter.vocabulary import RouteTarget

__all__ = ["NO_TABLE", "RouteTable", "Target", "parse_target"]

log = logging.getLogger(__name__)

# No routes known at all (no database, no local cache): the caller may try again later.
NO_TABLE = Target(RouteTarget.HANGUP, "NORMAL_TEMPORARY_FAILURE")


def parse_target(text: str, where: str = "target") -> Target:
    """A route target (``playback:<file>``, ``hangup[:CAUSE]``, ``extension:<ext>``,
    ``ivr:<flow>``, ``queue:<queue>``), checked as ``route add`` checks it."""
    try:
        return check_target(text)
    except InvalidRoute as exc:
        raise ConfigError(f"{where}: {exc.reason}") from exc


RETRY = 5.0  # seconds before a route table that failed to load is read again


class RouteTable:
    """Routes by DID, reloaded when an operator changes one (``refresh``, from the change
    feed) and at the latest every ``ttl`` seconds (``RETRY`` after a failed load).

    When the database is away the last good table keeps routing calls; a process that has
    none yet takes the local cache's. A stored row that fails the checks ``route add`` makes
    (written before them, or around the CLI) is left out with one logged error: its DID goes
    to the default target, never to FreeSWITCH.
    """

    def __init__(
        self,
        database: Database,
        default: Target,
        *,
        ttl: float = 300.0,
        cache: LocalCache | None = None,
        country: str | None = None,
    ) -> None:
        self.database = database
        self.default = default
        self.ttl = ttl
        self.cache = cache
        self.country = country  # DIDs are compared in E.164, national ones read in it
        self._routes = DidTable((), country)
        self._skipped: dict[str, str] = {}
        self._loaded_at = float("-inf")
        self._failure = ""
        self.source = ""  # "database", "cache", or "" while no table is known

    @property
    def problems(self) -> list[str]:
        """Why the table is not what the database holds: not loaded, rows left out."""
        found = [f"routes not loaded: {self._failure}"] if self._failure else []
        if self._failure and self.source == "cache":
            found.append("routes taken from the local cache of the last run")
        elif self._failure and not self.source:
            found.append("no routes known: calls are turned away with NORMAL_TEMPORARY_FAILURE")
        found += [f"route {did!r} left out: {why}" for did, why in sorted(self._skipped.items())]
        return found

    def missing_flows(self, live: Container[str]) -> list[str]:
        """Routes (the default one too) to an IVR flow not in ``live``: their calls are
        turned away until a reload loads it."""
        routes = [(r.did, r.target) for r in (*self._routes.exact.values(), *self._routes.others)]
        routes.append(("default", self.default))
        return [
            f"route {did!r} -> {target}: flow {target.arg!r} is not loaded (its file is "
            "rejected or not in dialplans_dir): its calls are turned away"
            for did, target in routes
            if target.kind is RouteTarget.IVR and target.arg not in live
        ]

    def reload(self) -> None:
        with self.database.session_scope() as session:
            rows = RouteRepository(session).all()
        routes: list[DidRoute] = []
        skipped: dict[str, str] = {}
        for row in rows:
            if not row.enabled:
                continue
            try:
                target = check_target(f"{row.target_type}:{row.target}".rstrip(":"))
                kind = MatchKind(row.match_kind)
                routes.append(DidRoute(row.did, target, kind, row.priority, self.country))
            except (InvalidRoute, ValueError) as exc:
                why = exc.message if isinstance(exc, InvalidRoute) else str(exc)
                skipped[row.did] = why
                if self._skipped.get(row.did) != why:
                    log.error("route %r left out: %s", row.did, why)
        self._routes, self._skipped = DidTable(routes, self.country), skipped
        self._loaded_at = time.monotonic()
        self._failure = ""
        self.source = "database"
        if self.cache is not None:
            self.cache.save_routes({_cache_key(r): str(r.target) for r in routes})

    def refresh(self) -> None:
        """Reload; a database that is down leaves the last table (and says so), or, in a
        process that has none, the local cache's."""
        try:
            self.reload()
        except DatabaseUnavailable as exc:
            # don't hammer a database that is down; try again in RETRY seconds
            self._loaded_at = time.monotonic() - self.ttl + RETRY
            self._failure = exc.message
            if not self.source and self._load_cache():
                log.warning("routes not loaded, using the local cache of the last run: %s", exc)
            elif self.source:
                log.warning("routes not reloaded, using the last table: %s", exc)
            else:
                log.error("routes not loaded and no local cache: calls are turned away: %s", exc)

    def _load_cache(self) -> bool:
        cached = self.cache.load_routes() if self.cache is not None else None
        if cached is None:
            return False
        routes: list[DidRoute] = []
        for key, text in cached.routes.items():
            kind, priority, did = _from_cache_key(key)
            try:
                routes.append(DidRoute(did, check_target(text), kind, priority, self.country))
            except InvalidRoute as exc:
                log.error("cached route %r left out: %s", did, exc.message)
        self._routes, self.source = DidTable(routes, self.country), "cache"
        log.info("%d route(s) from the local cache saved at %s", len(routes), cached.saved_at)
        return True

    def match(self, did: str, *, country: str | None = None) -> DidMatch | None:
        """The route ``did`` takes and why (``trunks.did``), or None (no default).
        ``country``: the arriving trunk's, that ``did`` is read in (else the default)."""
        if time.monotonic() - self._loaded_at > self.ttl:
            self.refresh()
        return self._routes.match(did, country=country)

    def lookup(self, did: str) -> Target | None:
        """The route stored for ``did``, or None (no default): an agent's phone transferring
        a caller to a number that has a route (``calls.transfers``)."""
        found = self.match(did)
        return found.route.target if found is not None else None

    def resolve(self, did: str, *, country: str | None = None) -> Target:
        found = self.match(did, country=country)
        if not self.source:  # no table at all: not "this number does not exist"
            return NO_TABLE
        return found.route.target if found is not None else self.default


def _cache_key(route: DidRoute) -> str:
    """An exact DID as itself (as caches before 0015 hold them), others ``kind priority did``."""
    if route.kind is MatchKind.EXACT and route.priority == 100:
        return route.did
    return f"{route.kind} {route.priority} {route.did}"


def _from_cache_key(key: str) -> tuple[MatchKind, int, str]:
    kind, _, rest = key.partition(" ")
    priority, _, did = rest.partition(" ")
    if kind in MatchKind.__members__.values() and priority.isdigit() and did:
        return MatchKind(kind), int(priority), did
    return MatchKind.EXACT, 100, key

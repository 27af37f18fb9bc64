"""Which target a dialled number (DID) goes to: the routes table, cached, with a default."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from callcenter.errors import ConfigError, DatabaseUnavailable
from callcenter.store.database import Database
from callcenter.store.repos import RouteRepository
from callcenter.vocabulary import RouteTarget

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Target:
    kind: RouteTarget
    arg: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.arg}" if self.arg else str(self.kind)


def parse_target(text: str, where: str = "target") -> Target:
    """Parse ``playback:<file>``, ``hangup[:CAUSE]``, ``extension:<ext>``, ``ivr:``, ``queue:``."""
    kind, _, arg = text.partition(":")
    try:
        target = Target(RouteTarget(kind.strip()), arg.strip())
    except ValueError as exc:
        kinds = ", ".join(t.value for t in RouteTarget)
        raise ConfigError(f"{where}: unknown target type {kind!r} (one of {kinds})") from exc
    if target.kind in (RouteTarget.EXTENSION, RouteTarget.IVR, RouteTarget.QUEUE) and not arg:
        raise ConfigError(f"{where}: {target.kind} needs a name, e.g. {target.kind}:1001")
    return target


class RouteTable:
    """Routes by DID, reloaded from the database at most every ``ttl`` seconds.

    When the database is away the last good table keeps routing calls.
    """

    def __init__(self, database: Database, default: Target, *, ttl: float = 5.0) -> None:
        self.database = database
        self.default = default
        self.ttl = ttl
        self._routes: dict[str, Target] = {}
        self._loaded_at = float("-inf")

    def reload(self) -> None:
        with self.database.session_scope() as session:
            rows = RouteRepository(session).all()
        self._routes = {r.did: Target(r.target_type, r.target) for r in rows if r.enabled}
        self._loaded_at = time.monotonic()

    def resolve(self, did: str) -> Target:
        if time.monotonic() - self._loaded_at > self.ttl:
            try:
                self.reload()
            except DatabaseUnavailable as exc:
                self._loaded_at = time.monotonic()  # don't hammer a database that is down
                log.warning("routes not reloaded, using the last table: %s", exc)
        return self._routes.get(did, self.default)

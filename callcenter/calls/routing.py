"""Which target a dialled number (DID) goes to: the routes table, cached, with a default."""

from __future__ import annotations

import logging
import time

from callcenter.errors import ConfigError, DatabaseUnavailable
from callcenter.store.database import Database
from callcenter.store.repos import RouteRepository
from callcenter.trunks.targets import InvalidRoute, Target, check_did, check_target

__all__ = ["RouteTable", "Target", "parse_target"]

log = logging.getLogger(__name__)


def parse_target(text: str, where: str = "target") -> Target:
    """A route target (``playback:<file>``, ``hangup[:CAUSE]``, ``extension:<ext>``,
    ``ivr:<flow>``, ``queue:<queue>``), checked as ``route add`` checks it."""
    try:
        return check_target(text)
    except InvalidRoute as exc:
        raise ConfigError(f"{where}: {exc.reason}") from exc


class RouteTable:
    """Routes by DID, reloaded from the database at most every ``ttl`` seconds.

    When the database is away the last good table keeps routing calls. A stored row that
    fails the checks ``route add`` makes (written before them, or around the CLI) is left
    out with one logged error: its DID goes to the default target, never to FreeSWITCH.
    """

    def __init__(self, database: Database, default: Target, *, ttl: float = 5.0) -> None:
        self.database = database
        self.default = default
        self.ttl = ttl
        self._routes: dict[str, Target] = {}
        self._skipped: dict[str, str] = {}
        self._loaded_at = float("-inf")
        self._failure = ""

    @property
    def problems(self) -> list[str]:
        """Why the table is not what the database holds: not loaded, rows left out."""
        found = [f"routes not loaded: {self._failure}"] if self._failure else []
        found += [f"route {did!r} left out: {why}" for did, why in sorted(self._skipped.items())]
        return found

    def reload(self) -> None:
        with self.database.session_scope() as session:
            rows = RouteRepository(session).all()
        routes: dict[str, Target] = {}
        skipped: dict[str, str] = {}
        for row in rows:
            if not row.enabled:
                continue
            try:
                check_did(row.did)
                routes[row.did] = check_target(f"{row.target_type}:{row.target}".rstrip(":"))
            except InvalidRoute as exc:
                skipped[row.did] = exc.message
                if self._skipped.get(row.did) != exc.message:
                    log.error("route %r left out: %s", row.did, exc.message)
        self._routes, self._skipped = routes, skipped
        self._loaded_at = time.monotonic()
        self._failure = ""

    def refresh(self) -> None:
        """Reload; a database that is down leaves the last table (and says so)."""
        try:
            self.reload()
        except DatabaseUnavailable as exc:
            self._loaded_at = time.monotonic()  # don't hammer a database that is down
            self._failure = exc.message
            log.warning("routes not reloaded, using the last table: %s", exc)

    def resolve(self, did: str) -> Target:
        if time.monotonic() - self._loaded_at > self.ttl:
            self.refresh()
        return self._routes.get(did, self.default)

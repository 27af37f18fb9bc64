"""The outbound routes table, cached: what ``transfer_out`` resolves a number against."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Mapping
from types import MappingProxyType

from callcenter.errors import DatabaseUnavailable, InvalidOutboundRoute, NoOutboundRoute
from callcenter.store.database import Database
from callcenter.store.records import OutboundRouteRecord
from callcenter.store.repos import OutboundRouteRepository, TrunkGroupRepository
from callcenter.trunks.checks import InvalidTrunk
from callcenter.trunks.failover import parse_causes
from callcenter.trunks.groups import TrunkGroup, check_group, order
from callcenter.trunks.outbound import Dialout, OutboundRoute, check_number, pick
from callcenter.trunks.trunking import Trunking

log = logging.getLogger(__name__)


def from_record(record: OutboundRouteRecord) -> OutboundRoute:
    return OutboundRoute(
        name=record.name,
        pattern=record.pattern,
        gateway=record.gateway,
        number_format=record.number_format,
        caller_id_number=record.caller_id_number,
        priority=record.priority,
        enabled=record.enabled,
        failover=tuple(g for g in record.failover_gateways.split(",") if g),
        failover_causes=parse_causes(record.failover_causes),
        group=record.trunk_group,
    )


RETRY = 5.0  # seconds before a table that failed to load is read again


class OutboundRoutes:
    """Enabled outbound routes, reloaded when an operator changes one (the change feed) and
    at the latest every ``ttl`` seconds (``RETRY`` after a failed load).

    When the database is away the last good table keeps routing calls. A stored row that
    fails the checks (written around the CLI, or before a check existed: a pattern that
    could backtrack for long) is left out, never matched, with one logged error.
    """

    def __init__(
        self, database: Database, *, ttl: float = 300.0, trunking: Trunking | None = None
    ) -> None:
        self.database = database
        self.ttl = ttl
        self.trunking = trunking or Trunking()  # trunks, country, limiter, metrics
        self._routes: tuple[OutboundRoute, ...] = ()
        self._groups: Mapping[str, TrunkGroup] = MappingProxyType({})
        # round-robin: each group's next call number (next() never yields: one at a time)
        self._turns: dict[str, itertools.count[int]] = {}
        self._skipped: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")

    @property
    def routes(self) -> tuple[OutboundRoute, ...]:
        return self._routes

    def reload(self) -> None:
        with self.database.session_scope() as session:
            rows = OutboundRouteRepository(session).all()
            groups = TrunkGroupRepository(session).all()
        checked: dict[str, TrunkGroup] = {}
        for group in groups:
            try:
                checked[group.name] = check_group(group.name, group.members, group.strategy)
            except InvalidTrunk as exc:  # stored around the services: its routes fail
                log.error("trunk group %r left out: %s", group.name, exc.message)
        self._groups = MappingProxyType(checked)
        routes: list[OutboundRoute] = []
        skipped: set[str] = set()
        for row in rows:
            if not row.enabled:
                continue
            try:
                routes.append(from_record(row))
            except InvalidOutboundRoute as exc:
                skipped.add(row.name)
                if row.name not in self._skipped:
                    log.error("outbound route %r left out: %s", row.name, exc.message)
        self._routes = tuple(routes)
        self._skipped = frozenset(skipped)
        self._loaded_at = time.monotonic()

    def resolve(self, number: str) -> Dialout:
        """The route for ``number``; ``InvalidNumber`` or ``NoOutboundRoute`` otherwise."""
        check_number(number)
        if time.monotonic() - self._loaded_at > self.ttl:
            try:
                self.reload()
            except DatabaseUnavailable as exc:
                # don't hammer a database that is down; try again in RETRY seconds
                self._loaded_at = time.monotonic() - self.ttl + RETRY
                log.warning("outbound routes not reloaded, using the last table: %s", exc)
        dialout = pick(self._routes, number, self.members)
        if dialout is None:
            raise NoOutboundRoute(f"no outbound route matches {number}")
        return dialout

    @property
    def groups(self) -> Mapping[str, TrunkGroup]:
        return self._groups

    def members(self, name: str) -> tuple[str, ...]:
        """Group ``name``'s enabled trunks in the order one call tries them (its strategy:
        the next round-robin turn, or the limiter's channels in use); () for no such group."""
        group = self._groups.get(name)
        if group is None:
            return ()
        turn = next(self._turns.setdefault(name, itertools.count()))
        limiter = self.trunking.limiter
        ordered = order(group, turn=turn, busy=limiter.in_use if limiter is not None else None)
        directory = self.trunking.directory  # a disabled trunk is not rendered: not tried
        return tuple(m for m in ordered if (t := directory.get(m)) is None or t.enabled)

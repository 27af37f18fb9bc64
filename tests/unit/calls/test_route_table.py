"""The route table when the database is away: the local cache, else a congestion cause."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from callcenter.calls.routing import NO_TABLE, RouteTable, Target
from callcenter.errors import DatabaseUnavailable
from callcenter.store.cache import LocalCache
from callcenter.vocabulary import RouteTarget

DEFAULT = Target(RouteTarget.HANGUP, "UNALLOCATED_NUMBER")


class Down:
    def session_scope(self) -> AbstractContextManager[Any]:
        raise DatabaseUnavailable("connection refused")


def table(cache: LocalCache | None) -> RouteTable:
    return RouteTable(Down(), DEFAULT, cache=cache)  # type: ignore[arg-type]


def test_no_database_and_no_cache_is_a_congestion_not_an_unknown_number(tmp_path: Path) -> None:
    routes = table(LocalCache(tmp_path))
    assert (
        routes.resolve("8001") == NO_TABLE == Target(RouteTarget.HANGUP, "NORMAL_TEMPORARY_FAILURE")
    )
    assert routes.source == ""
    assert any("no routes known" in p for p in routes.problems)


def test_no_database_routes_from_the_cache_and_unknown_dids_get_the_default(
    tmp_path: Path,
) -> None:
    cache = LocalCache(tmp_path)
    cache.save_routes({"8001": "queue:sales", "8002": "playback:${system(id)}"})
    routes = table(LocalCache(tmp_path))
    assert routes.resolve("8001") == Target(RouteTarget.QUEUE, "sales")
    assert routes.resolve("8002") == DEFAULT  # a bad cached row is left out, as a stored one
    assert routes.resolve("9999") == DEFAULT
    assert routes.source == "cache"
    assert "routes taken from the local cache of the last run" in routes.problems


def test_ranges_prefixes_and_priorities_survive_the_cache(tmp_path: Path) -> None:
    from callcenter.calls.routing import _cache_key
    from callcenter.trunks.did import DidRoute, MatchKind

    kept = [
        DidRoute("0301234", Target(RouteTarget.QUEUE, "berlin"), country="DE"),
        DidRoute("+4930123400-+4930123499", Target(RouteTarget.QUEUE, "block"), MatchKind.RANGE),
        DidRoute("+4989", Target(RouteTarget.QUEUE, "munich"), MatchKind.PREFIX, priority=5),
    ]
    LocalCache(tmp_path).save_routes({_cache_key(r): str(r.target) for r in kept})
    routes = RouteTable(Down(), DEFAULT, cache=LocalCache(tmp_path), country="DE")  # type: ignore[arg-type]
    assert routes.resolve("0049301234") == Target(RouteTarget.QUEUE, "berlin")
    assert routes.resolve("030123450") == Target(RouteTarget.QUEUE, "block")
    assert routes.resolve("0891234567") == Target(RouteTarget.QUEUE, "munich")
    assert routes.resolve("0401234567") == DEFAULT

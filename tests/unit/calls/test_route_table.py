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

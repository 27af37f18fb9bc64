"""Outbound routes in PostgreSQL: the repository and the cached table the engine resolves on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.orm import Session

from callcenter.errors import (
    AlreadyExists,
    DatabaseUnavailable,
    InvalidNumber,
    NoOutboundRoute,
    NotFound,
)
from callcenter.store.database import Database
from callcenter.store.records import OutboundRouteRecord
from callcenter.store.repos import OutboundRouteRepository
from callcenter.trunks.outbound import Dialout
from callcenter.trunks.table import OutboundRoutes


def test_add_get_all_in_the_order_they_are_tried(db: Database) -> None:
    with db.session_scope() as session:
        repo = OutboundRouteRepository(session)
        added = repo.add("intl", r"^00(\d+)$", "carrier", number_format="+$1", priority=20)
        repo.add("us", r"^1(\d{10})$", "us-trunk", caller_id_number="+15550100", priority=10)
        repo.add("b-any", r"^\+\d+$", "carrier", priority=20)
    assert added == OutboundRouteRecord(
        id=added.id, name="intl", pattern=r"^00(\d+)$", gateway="carrier",
        number_format="+$1", caller_id_number=None, priority=20, enabled=True,
    )  # fmt: skip
    with db.session_scope() as session:
        repo = OutboundRouteRepository(session)
        assert [r.name for r in repo.all()] == ["us", "b-any", "intl"]
        assert repo.get("us").caller_id_number == "+15550100"
        assert repo.get("b-any").number_format == "$0"


def test_duplicates_missing_disable_delete(db: Database) -> None:
    with db.session_scope() as session:
        repo = OutboundRouteRepository(session)
        repo.add("intl", r"^00(\d+)$", "carrier")
        with pytest.raises(AlreadyExists) as exists:
            repo.add("intl", r"^\d+$", "other")
        assert exists.value.code == "outbound_route_exists"
        assert repo.set_enabled("intl", False).enabled is False
        assert repo.get("intl").enabled is False
        repo.delete("intl")
        for action in (lambda: repo.get("intl"), lambda: repo.delete("intl"),
                       lambda: repo.set_enabled("intl", True)):  # fmt: skip
            with pytest.raises(NotFound) as missing:
                action()
            assert missing.value.code == "outbound_route_not_found"


def test_the_table_resolves_and_sees_changes_after_its_ttl(db: Database) -> None:
    with db.session_scope() as session:
        OutboundRouteRepository(session).add("intl", r"^00(\d+)$", "carrier", number_format="+$1")
    table = OutboundRoutes(db, ttl=0.0)
    assert table.resolve("0049301234") == Dialout("intl", "carrier", "+49301234")
    with pytest.raises(NoOutboundRoute, match="no outbound route matches 5551234"):
        table.resolve("5551234")
    with pytest.raises(InvalidNumber):
        table.resolve("0049\n301234")
    with db.session_scope() as session:
        OutboundRouteRepository(session).set_enabled("intl", False)
    with pytest.raises(NoOutboundRoute):
        table.resolve("0049301234")


def test_a_stored_row_that_fails_the_checks_is_left_out(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with db.session_scope() as session:
        repo = OutboundRouteRepository(session)
        repo.add("broken", r"^(\d+$", "carrier", priority=1)  # written around the CLI
        repo.add("evil", r"^\d+$", "carrier/x,user/1000", priority=2)
        repo.add("good", r"^\d+$", "carrier", priority=3)
    table = OutboundRoutes(db, ttl=0.0)
    assert table.resolve("123").route == "good"
    assert table.resolve("456").route == "good"
    warnings = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert len(warnings) == 2  # once per bad row, not once per reload
    assert [r.name for r in table.routes] == ["good"]


class DownDatabase:
    """A Database that was reachable, then went away."""

    def __init__(self, real: Database) -> None:
        self.real = real
        self.down = False

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        if self.down:
            raise DatabaseUnavailable("database unreachable: connection refused")
        with self.real.session_scope() as session:
            yield session


def test_the_last_good_table_keeps_routing_when_the_database_is_down(db: Database) -> None:
    with db.session_scope() as session:
        OutboundRouteRepository(session).add("intl", r"^00(\d+)$", "carrier", number_format="+$1")
    database = DownDatabase(db)
    table = OutboundRoutes(database, ttl=0.0)  # type: ignore[arg-type]
    assert table.resolve("0049301234").number == "+49301234"
    database.down = True
    assert table.resolve("0033123").number == "+33123"

"""The reports' fixed tables, loaded into PostgreSQL (the test's rolled-back database) and
into a fresh SQLite file: every report test runs on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.store import migrate
from callcenter.store.database import Database
from tests.integration.reports import fixed


@pytest.fixture(params=["postgresql", "sqlite"])
def either(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database: PostgreSQL (the test's rolled-back one), then a SQLite file."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'r.db'}")
        migrate.upgrade(database)
    else:
        database = request.getfixturevalue("db")
    yield database
    database.dispose() if request.param == "sqlite" else None


@pytest.fixture
def loaded(either: Database) -> Database:
    fixed.load(either)
    return either

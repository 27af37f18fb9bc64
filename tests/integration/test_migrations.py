"""Every migration runs up and down on a real PostgreSQL, and on SQLite for the embedded default."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

import callcenter.store.models  # noqa: F401  (fills Base.metadata)
from callcenter.errors import MigrationError
from callcenter.store import migrate
from callcenter.store.base import Base
from callcenter.store.database import Database


def _walk_up_and_down(database: Database) -> None:
    revisions = [rev for rev, _down, _doc in reversed(migrate.history(database))]
    assert revisions, "no migrations found"
    for rev in revisions:
        migrate.upgrade(database, rev)
        assert migrate.current(database) == rev
    migrate.check(database)
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    for _ in revisions:
        migrate.downgrade(database, "-1")
    assert migrate.current(database) is None
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(database)
    migrate.check(database)


def test_postgresql_up_down_and_check(empty_pg_url: str) -> None:
    database = Database(empty_pg_url)
    try:
        _walk_up_and_down(database)
    finally:
        database.dispose()


def test_sqlite_up_down_and_check(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'cc.db'}")
    try:
        _walk_up_and_down(database)
    finally:
        database.dispose()


def test_check_detects_drift(empty_pg_url: str) -> None:
    database = Database(empty_pg_url)
    try:
        migrate.upgrade(database)
        with database.engine.begin() as conn:
            conn.execute(text("ALTER TABLE agents DROP COLUMN pause_reason"))
        with pytest.raises(MigrationError) as info:
            migrate.check(database)
        assert info.value.code == "schema_drift"
    finally:
        database.dispose()


def test_every_constraint_and_index_is_named(pg_url: str) -> None:
    database = Database(pg_url)
    try:
        inspector = inspect(database.engine)
        for table in Base.metadata.tables:
            for fk in inspector.get_foreign_keys(table):
                assert fk["name"].startswith("fk_"), (table, fk)
            for uq in inspector.get_unique_constraints(table):
                assert uq["name"].startswith("uq_"), (table, uq)
            for ix in inspector.get_indexes(table):
                assert ix["name"].startswith(("ix_", "uq_")), (table, ix)
            assert inspector.get_pk_constraint(table)["name"] == f"pk_{table}"
    finally:
        database.dispose()


def test_migrations_are_found_from_the_installed_package() -> None:
    path = migrate.migrations_dir()
    assert (path / "env.py").exists()
    assert any(p.name.endswith(".py") for p in (path / "versions").iterdir())

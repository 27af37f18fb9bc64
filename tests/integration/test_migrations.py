"""Every migration runs up and down on a real PostgreSQL, and on SQLite for the embedded default."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

import callcenter.store.models  # noqa: F401  (fills Base.metadata)
from callcenter.dialer.vocabulary import CampaignMode
from callcenter.errors import MigrationError
from callcenter.store import migrate
from callcenter.store.base import Base
from callcenter.store.database import Database
from callcenter.store.models import Campaign, CampaignDay, Lead


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


def test_sqlite_keeps_every_row_through_migrations_that_rebuild_a_table(tmp_path: Path) -> None:
    """A batch migration on SQLite rebuilds its table (copy, DROP, rename): with the
    engine's foreign keys on, the DROP took every row that referenced it (0025 rebuilt
    ``campaigns``: a campaign's leads and days were gone, with no error)."""
    database = Database(f"sqlite:///{tmp_path / 'cc.db'}")
    try:
        migrate.upgrade(database, "0024")
        _one_campaign(database)
        before = _counts(database)
        assert before == (1, 3, 1)
        migrate.upgrade(database)
        assert _counts(database) == before
        migrate.downgrade(database, "0024")  # the downgrade rebuilds it too
        assert _counts(database) == before
    finally:
        database.dispose()


def _one_campaign(database: Database) -> None:
    with database.session_scope() as session:
        campaign = Campaign(name="c1", queue="q1", mode=CampaignMode.PROGRESSIVE)
        session.add(campaign)
        session.flush()
        for n in range(3):
            lead = Lead(campaign_id=campaign.id, phone=f"+1212555010{n}", zones="UTC", fields={})
            lead.next_attempt_at = datetime.now(UTC)
            session.add(lead)
        session.add(CampaignDay(campaign_id=campaign.id, day=date(2026, 12, 7)))


def _counts(database: Database) -> tuple[int, int, int]:
    with database.engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("campaigns", "leads", "campaign_days")
        )

"""Shared fixtures: a real PostgreSQL database per test run, migrated to head.

PostgreSQL is not optional: when it cannot be reached the run fails and says how to get one.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from callcenter.store import migrate
from callcenter.store.database import Database

ADMIN_URL = os.environ.get(
    "CALLCENTER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
HOW_TO_GET_ONE = (
    "PostgreSQL is required for the test suite and is not reachable at {url}.\n"
    "Start it with:  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
    "or point CALLCENTER_TEST_PG_URL at a server where the user may CREATE DATABASE\n"
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres). Cause: {cause}"
)


def _admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(
        ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )


def create_database(prefix: str = "cc_test") -> str:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(
            HOW_TO_GET_ONE.format(url=make_url(ADMIN_URL).render_as_string(), cause=exc),
            pytrace=False,
        )
    finally:
        engine.dispose()
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    name = make_url(url).database
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@contextlib.contextmanager
def migrated_database(prefix: str = "cc_test") -> Iterator[str]:
    """A fresh PostgreSQL database migrated to head (its URL), dropped at the end: for a
    module whose engines and CLI processes commit, away from the session's database."""
    url = create_database(prefix)
    database = Database(url)
    try:
        migrate.upgrade(database)
        database.dispose()
        yield url
    finally:
        database.dispose()
        drop_database(url)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, migrated to head, dropped at the end."""
    with migrated_database() as url:
        yield url


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A brand-new, empty PostgreSQL database (for migration tests)."""
    url = create_database("cc_mig")
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    """A Database whose every session runs inside one transaction rolled back after the test."""
    engine = Database(pg_url).engine
    connection = engine.connect()
    transaction = connection.begin()
    try:
        yield Database(pg_url, engine=engine, bind=connection)
    finally:
        transaction.rollback()
        connection.close()
        engine.dispose()

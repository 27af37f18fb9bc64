"""Alembic environment. Configured in code by ``callcenter.store.migrate``; no alembic.ini."""

from __future__ import annotations

import warnings

from alembic import context
from sqlalchemy import Connection

import callcenter.store.models  # noqa: F401  (fills Base.metadata)
from callcenter.store.base import Base
from callcenter.store.database import make_engine

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=False,
    )
    with context.begin_transaction(), warnings.catch_warnings():
        # SQLite's indexes on expressions (leads' claim order) cannot be reflected, so a
        # check cannot compare them there: said once here rather than at every check;
        # PostgreSQL compares them (tests/integration/test_migrations.py)
        warnings.filterwarnings("ignore", r".*expression-based index")
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()

"""Engine, session scope, and the mapping of connection failures to ``DatabaseUnavailable``."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from callcenter.errors import ConfigError, DatabaseUnavailable, MigrationError
from callcenter.paths import ensure_dir
from callcenter.settings import redact_url
from callcenter.store import pgwait
from callcenter.store.direct import CompiledStatements, DirectConnection, Executes

log = logging.getLogger(__name__)

HELD_IDLE = 10.0  # seconds a held connection may sit unused before it is pinged again
IDLE = TransactionStatus.IDLE
PIPELINED = True  # on PostgreSQL, a writer transaction in one psycopg pipeline (store.direct)


def make_engine(url: str, *, connect_timeout: float = 5.0) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"database_url: cannot parse {redact_url(url)!r}") from exc
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            ensure_dir(folder, "the SQLite database's directory")
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        pgwait.install()
        kwargs["connect_args"] = {"connect_timeout": max(1, int(connect_timeout))}
        kwargs["pool_pre_ping"] = True
        kwargs["pool_size"] = 5
        kwargs["max_overflow"] = 10
        return create_engine(parsed, **kwargs)
    raise ConfigError(f"database_url: unsupported backend {parsed.get_backend_name()!r}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_SQLITE_FILE_ERRORS = ("unable to open database file", "readonly database", "disk i/o error")
_NO_SCHEMA = ("no such table", "no such column", "does not exist")


def is_unavailable(exc: BaseException) -> bool:
    """True for failures that mean 'the database is not there', not 'the query is wrong'."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError) and not is_missing_schema(exc)


def is_missing_schema(exc: BaseException) -> bool:
    """A table or column the code expects is not there: migrations were not run."""
    if not isinstance(exc, DBAPIError):
        return False
    text = str(exc.orig).lower()
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate in ("42P01", "42703") or any(s in text for s in _NO_SCHEMA[:2])


class Database:
    def __init__(
        self, url: str, *, engine: Engine | None = None, bind: Connection | None = None
    ) -> None:
        """``bind`` runs every session inside an outer transaction (tests roll it back)."""
        self.url = url
        self.engine = engine or make_engine(url)
        self._bind = bind
        self._held: Connection | None = None
        self._held_at = 0.0
        pg = self.engine.dialect.name == "postgresql"
        self.direct = CompiledStatements(self.engine.dialect) if pg else None
        self.pipelined = PIPELINED  # the writer's transaction in one psycopg pipeline
        self._writing = False  # the next held_transaction is the writer's (writer_transaction)
        if bind is None:
            self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        else:
            self._sessions = sessionmaker(
                bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            with self.unavailable_as_error():
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            session.close()

    @contextmanager
    def unavailable_as_error(self) -> Iterator[None]:
        """Turn 'cannot reach the database' into DatabaseUnavailable; query errors pass."""
        try:
            yield
        except PoolTimeout as exc:
            raise DatabaseUnavailable(
                f"database {redact_url(self.url)} unavailable: no free connection ({exc})"
            ) from exc
        except DBAPIError as exc:
            if is_unavailable(exc):
                raise DatabaseUnavailable(
                    f"database {redact_url(self.url)} unavailable: {first_line(exc)}"
                    f"{self._sqlite_hint(exc)}"
                ) from exc
            if is_missing_schema(exc):
                raise MigrationError(
                    f"database {redact_url(self.url)} has no schema or an old one "
                    f"({first_line(exc)}): run `callcenter db upgrade`",
                    code="schema_outdated",
                ) from exc
            raise

    def _sqlite_hint(self, exc: DBAPIError) -> str:
        """SQLite says only "unable to open database file": say which file and what to do."""
        text = str(exc.orig).lower()
        if self.dialect != "sqlite" or not any(s in text for s in _SQLITE_FILE_ERRORS):
            return ""
        path = Path(make_url(self.url).database or "").expanduser()
        return (
            f" (file {path.resolve()}: SQLite needs to write the file and its directory "
            f"{path.resolve().parent}; make both writable by this user, or set data_dir / "
            "CALLCENTER_DATA_DIR or CALLCENTER_DATABASE_URL to a writable place)"
        )

    @contextmanager
    def held_transaction(self) -> Iterator[Connection]:
        """One transaction on a connection kept between calls, for the one writer greenlet:
        a batch pays no pool checkout and no ping. A connection idle longer than
        ``HELD_IDLE`` goes back to the pool first (whose checkout pings it), so one that
        died meanwhile is not used; one that fails is dropped."""
        writing, self._writing = self._writing, False
        with self.unavailable_as_error():
            now = time.monotonic()
            conn = self._held
            if conn is not None and (conn.invalidated or now - self._held_at > HELD_IDLE):
                self.release_held()
                conn = None
            if conn is None:
                conn = self._held = self._bind_or_engine_connect()
            if self.direct is not None and self._bind is None:
                _autocommit(conn, writing and self.pipelined)
            try:
                with conn.begin_nested() if self._bind is not None else conn.begin():
                    yield conn
            except BaseException:
                if conn.invalidated:
                    self.release_held()
                raise
            finally:
                self._held_at = time.monotonic()

    @contextmanager
    def writer_transaction(self) -> Iterator[Executes]:
        """``held_transaction`` for the writer's statements: on PostgreSQL those built once
        (``store.statements``) go straight through psycopg (``store.direct``), the whole
        transaction in one pipeline (``pipelined``): BEGIN, the statements and COMMIT sent
        together, one wait for the lot. The held connection is in psycopg's autocommit mode
        meanwhile (the pipeline's own BEGIN makes the batch one transaction), and leaves it
        when anything else takes it (``held_transaction``, ``release_held``)."""
        if self.direct is None:
            with self.held_transaction() as conn:
                yield conn
            return
        self._writing = True
        with self.held_transaction() as conn:
            own = self._bind is None and conn.connection.dbapi_connection.autocommit  # type: ignore[union-attr]
            direct = DirectConnection(
                conn, self.direct, pipelined=self.pipelined, own_transaction=own
            )
            try:
                yield direct
                direct.finish()
            finally:
                direct.close()

    def release_held(self) -> None:
        conn, self._held = self._held, None
        if conn is not None and self._bind is None:
            if self.direct is not None and not conn.invalidated and not conn.closed:
                _autocommit(conn, False)  # back to the pool as the pool gave it
            conn.close()

    def _bind_or_engine_connect(self) -> Connection:
        return self._bind if self._bind is not None else self.engine.connect()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except DBAPIError as exc:
            log.warning("database ping failed: %s", first_line(exc))
            return False
        return True

    def dispose(self) -> None:
        self.release_held()
        self.engine.dispose()


def _autocommit(conn: Connection, on: bool) -> None:
    """psycopg's autocommit mode on the held connection, set between transactions: on for
    the writer's pipelined batches (they send their own BEGIN), off for anything else."""
    raw: Any = conn.connection.dbapi_connection
    if raw.autocommit is not on and raw.pgconn.transaction_status == IDLE and not raw.closed:
        with suppress(psycopg.Error):  # a broken connection: its statements will say so
            raw.autocommit = on


def first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__

"""The writer's statements sent straight through psycopg, on PostgreSQL.

SQLAlchemy's execute path costs about a hundred Python calls a statement (its compiled
cache lookup, the execution context, parameter processing, events, the result object),
more than the row itself at one call a second. The statements built in ``store.statements``
never change shape, so each is compiled here once, into its SQL text, the fixed values of
its own literals and the bind processors of its typed parameters (enums, UTC times, JSON);
a batch then converts its rows with those and hands them to the cursor of the connection
SQLAlchemy holds, in the transaction SQLAlchemy began (so commit, rollback, savepoints and
the pool's pings are unchanged). psycopg prepares a query it has run five times.

Any other statement (one built per call, a text) goes through SQLAlchemy as before. Errors
are wrapped as SQLAlchemy wraps them (``DBAPIError.instance``), and a lost connection is
invalidated as SQLAlchemy does, so the writer tells "refused" from "unreachable" as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

import psycopg
from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.base import Executable

FEW = 2  # rows a statement runs one by one rather than in psycopg's pipeline (_run_many)
ONCE = "compiled_once"  # the execution option that marks a statement built once (statements.py)


class Counted(Protocol):
    @property
    def rowcount(self) -> int: ...


class Executes(Protocol):
    """What the writer's repositories need of a connection: SQLAlchemy's, or the direct one."""

    @property
    def dialect(self) -> Dialect: ...

    def execute(self, statement: Executable, parameters: Any = None, /) -> Counted: ...


class Compiled(NamedTuple):
    sql: str
    fixed: dict[str, Any]  # the statement's own literals, already processed
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]
    keeps_none: frozenset[str]  # processed even when None (JSON: None is the JSON null)

    def row(self, params: Mapping[str, Any]) -> dict[str, Any]:
        row = {**self.fixed, **params}
        for key, process in self.processors:
            value = row[key]
            if value is not None or key in self.keeps_none:
                row[key] = process(value)
        return row


class Rowcount(NamedTuple):
    """What the repositories read of a result."""

    rowcount: int


class CompiledStatements:
    """Statements marked ``compiled_once``, compiled for one dialect (kept for the process)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._compiled: dict[int, tuple[Executable, Compiled | None]] = {}
        self.compilations = 0

    def get(self, statement: Executable) -> Compiled | None:
        """The compiled form, or None for a statement SQLAlchemy should run itself."""
        found = self._compiled.get(id(statement))
        if found is not None and found[0] is statement:
            return found[1]
        if not statement.get_execution_options().get(ONCE):
            return None
        compiled = self._compile(statement)  # None: one SQLAlchemy runs, compiled once too
        self._compiled[id(statement)] = (statement, compiled)  # with it: its id is not reused
        return compiled

    def _compile(self, statement: Executable) -> Compiled | None:
        done: Any = statement.compile(dialect=self.dialect)  # type: ignore[attr-defined]
        if done.insert_prefetch or done.update_prefetch or done.positiontup:
            return None  # Python-side column defaults, or positional: SQLAlchemy's own path
        self.compilations += 1
        processors = done._bind_processors
        given = {name for bind, name in done.bind_names.items() if bind.required}
        fixed = {
            key: processors[key](value) if key in processors else value
            for key, value in done.construct_params(_check=False).items()
            if key not in given
        }
        named = tuple((key, f) for key, f in processors.items() if key not in fixed)
        keeps_none = frozenset(key for key, f in named if f(None) is not None)
        return Compiled(done.string, fixed, named, keeps_none)


class DirectConnection:
    """One writer transaction on PostgreSQL: ``execute`` as SQLAlchemy's, for the
    statements of ``store.statements``, through the held connection's own cursor."""

    def __init__(self, connection: Connection, statements: CompiledStatements) -> None:
        self.connection = connection
        self.statements = statements
        self._cursor: Any = None

    @property
    def dialect(self) -> Dialect:
        return self.connection.dialect

    def execute(self, statement: Executable, parameters: Any = None, /) -> Counted:
        compiled = self.statements.get(statement)
        if compiled is None:
            return self.connection.execute(statement, parameters)
        cursor = self._cursor
        if cursor is None:
            cursor = self._cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        rows: Any = None
        try:
            if parameters is None or isinstance(parameters, Mapping):
                rows = compiled.row(parameters or {})
                cursor.execute(compiled.sql, rows)
            else:
                rows = [compiled.row(p) for p in parameters]
                return Rowcount(_run_many(cursor, compiled.sql, rows))
        except psycopg.Error as exc:
            raise self._wrapped(exc, compiled.sql, rows) from exc
        except Exception as exc:  # a value a bind processor or psycopg cannot take
            raise StatementError(str(exc), compiled.sql, rows, exc) from exc
        return Rowcount(cursor.rowcount)

    def _wrapped(self, exc: psycopg.Error, sql: str, rows: Any) -> BaseException:
        raw = self.connection.connection.dbapi_connection
        lost = self.dialect.is_disconnect(exc, raw, self._cursor)  # type: ignore[arg-type]
        if lost:  # as SQLAlchemy does: the held connection is not used again
            self.connection.invalidate(exc)
        return DBAPIError.instance(
            sql, rows, exc, psycopg.Error, connection_invalidated=lost, dialect=self.dialect
        )

    def close(self) -> None:
        if self._cursor is not None and not self.connection.invalidated:
            self._cursor.close()
        self._cursor = None


def _run_many(cursor: Any, sql: str, rows: Sequence[Mapping[str, Any]]) -> int:
    """The rows' statements, in order; how many rows they touched. psycopg's executemany
    runs a pipeline: one round trip, one wake-up (``pgwait``), for a setup that costs more
    instructions than two round trips. Up to ``FEW`` rows go one by one (callgrind, a batch
    of 2 / 3 calls created: 695 k / 892 k instructions one by one, 766 k / 906 k with
    executemany, which saves 1 / 2 wake-ups a statement; docs/benchmarks.md)."""
    if len(rows) > FEW:
        cursor.executemany(sql, rows)
        return int(cursor.rowcount)
    count = 0
    for row in rows:
        cursor.execute(sql, row)
        count += cursor.rowcount
    return count

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

A writer transaction that owns its transaction (``pipelined``, ``own_transaction``) goes to
PostgreSQL as one psycopg pipeline: BEGIN, its statements and COMMIT are queued and sent
together, and the greenlet waits once, at the pipeline's sync, instead of once for BEGIN
(psycopg sends it before the first statement and waits for it), once per statement and once
for COMMIT. The connection is in psycopg's autocommit mode meanwhile, so psycopg sends no
BEGIN of its own; the BEGIN queued first makes the batch one transaction all the same, and
SQLAlchemy's commit then finds nothing left to commit (its rollback, after an error, rolls
the failed transaction back). A rowcount is known at the sync: ``execute`` returns a
``Pending`` whose count is read there (read early, it syncs first), and ``when_counted``
runs a check then. A statement SQLAlchemy runs itself (one built per call) first syncs the
pipeline. An error the sync meets (a refused row, a lost connection) is raised, wrapped as
above, from ``finish``: the writer tells refused from unreachable as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

import psycopg
from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.base import Executable

FEW = 2  # rows run one by one rather than in an executemany (_run_many: not pipelined)
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
    counted: bool  # its rowcount is read (``preserve_rowcount``): a cursor of its own

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


class Pending:
    """A statement's rowcount in a pipeline: its cursor's, once the pipeline has synced.
    Only a statement marked ``preserve_rowcount`` has a cursor of its own (``counted``);
    the others share one, whose count is the last statement's: reading it is an error."""

    __slots__ = ("_checks", "_counted", "_cursor", "_owner")

    def __init__(self, owner: DirectConnection, cursor: Any, counted: bool) -> None:
        self._owner = owner
        self._cursor = cursor
        self._counted = counted
        self._checks: list[Callable[[int], None]] | None = None

    @property
    def rowcount(self) -> int:
        if not self._counted:
            raise TypeError("a pipelined statement's rowcount needs preserve_rowcount")
        if self._owner.in_pipeline:  # read before the sync: sync now
            self._owner.sync()
        return int(self._cursor.rowcount)

    def when_counted(self, check: Callable[[int], None]) -> None:
        if not self._counted:
            raise TypeError("a pipelined statement's rowcount needs preserve_rowcount")
        if not self._owner.in_pipeline:
            check(int(self._cursor.rowcount))
            return
        if self._checks is None:
            self._checks = []
            self._owner.pending.append(self)
        self._checks.append(check)

    def counted(self) -> None:
        for check in self._checks or ():
            check(int(self._cursor.rowcount))


def when_counted(result: Counted, check: Callable[[int], None]) -> None:
    """``check(result.rowcount)``: at once, or at the sync of the pipeline the statement is
    in (not at all if that sync fails: its transaction is rolled back)."""
    if isinstance(result, Pending):
        result.when_counted(check)
    else:
        check(result.rowcount)


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
        counted = bool(statement.get_execution_options().get("preserve_rowcount"))
        return Compiled(done.string, fixed, named, keeps_none, counted)


class DirectConnection:
    """One writer transaction on PostgreSQL: ``execute`` as SQLAlchemy's, for the
    statements of ``store.statements``, through the held connection's own cursor.

    ``pipelined``: the statements are queued in one psycopg pipeline, sent at ``finish``
    (or when a rowcount or a statement SQLAlchemy runs needs them sent);
    ``own_transaction``: the connection is in autocommit mode and the pipeline carries the
    transaction's BEGIN and COMMIT itself (``Database.writer_transaction``)."""

    def __init__(
        self,
        connection: Connection,
        statements: CompiledStatements,
        *,
        pipelined: bool = False,
        own_transaction: bool = False,
    ) -> None:
        self.connection = connection
        self.statements = statements
        self.pipelined = pipelined
        self.own_transaction = own_transaction
        self.raw: Any = connection.connection.dbapi_connection
        self.pending: list[Pending] = []  # results with checks to run at the sync
        self._cursor: Any = None
        self._pipeline: Any = None  # the open ``raw.pipeline()`` context
        self._begun = False  # BEGIN queued (own_transaction)

    @property
    def dialect(self) -> Dialect:
        return self.connection.dialect

    @property
    def in_pipeline(self) -> bool:
        return self._pipeline is not None

    def execute(self, statement: Executable, parameters: Any = None, /) -> Counted:
        compiled = self.statements.get(statement)
        if compiled is None:
            if self.pipelined:
                self._before_sqlalchemy()
            return self.connection.execute(statement, parameters)
        if self.pipelined:
            return self._queue(compiled, parameters)
        cursor = self._shared_cursor()
        count = self._send(cursor, compiled, parameters, _run_many)
        return Rowcount(cursor.rowcount if count is None else count)

    def _queue(self, compiled: Compiled, parameters: Any) -> Pending:
        """The statement queued in the pipeline (opened, with BEGIN, at the first one)."""
        if self._pipeline is None:
            self._open()
        # a counted statement gets its own cursor: the results of a cursor's last statement win
        cursor = self.raw.cursor() if compiled.counted else self._shared_cursor()
        self._send(cursor, compiled, parameters, _queue_many)
        return Pending(self, cursor, compiled.counted)

    def _shared_cursor(self) -> Any:
        if self._cursor is None:
            self._cursor = self.raw.cursor()
        return self._cursor

    def _send(
        self,
        cursor: Any,
        compiled: Compiled,
        parameters: Any,
        many: Callable[[Any, str, Sequence[Mapping[str, Any]]], int | None],
    ) -> int | None:
        """One statement, or ``many`` for a list of rows (its count, if it has one), with
        errors wrapped as SQLAlchemy wraps them."""
        rows: Any = None
        try:
            if parameters is None or isinstance(parameters, Mapping):
                rows = compiled.row(parameters or {})
                cursor.execute(compiled.sql, rows)
                return None
            rows = [compiled.row(p) for p in parameters]
            return many(cursor, compiled.sql, rows)
        except psycopg.Error as exc:
            raise self._wrapped(exc, compiled.sql, rows) from exc
        except Exception as exc:  # a value a bind processor or psycopg cannot take
            raise StatementError(str(exc), compiled.sql, rows, exc) from exc

    def _open(self) -> None:
        try:
            context = self.raw.pipeline()
            context.__enter__()
            self._pipeline = context
            if self.own_transaction and not self._begun:
                self._begun = True
                self._shared_cursor().execute("BEGIN")  # queued: a pipeline sends at the sync
        except psycopg.Error as exc:
            raise self._wrapped(exc, "BEGIN", None) from exc

    def _before_sqlalchemy(self) -> None:
        """A statement SQLAlchemy runs: what is queued (BEGIN first) goes before it."""
        if self.own_transaction and not self._begun:
            self._open()
        if self._pipeline is not None:
            self.sync()

    def sync(self) -> None:
        """Send what is queued and read its results (one round trip); leave the pipeline."""
        context, self._pipeline = self._pipeline, None
        if context is None:
            return
        try:
            context.__exit__(None, None, None)
        except psycopg.Error as exc:
            raise self._wrapped(exc, "(pipeline)", None) from exc
        pending, self.pending = self.pending, []
        for result in pending:
            result.counted()

    def finish(self) -> None:
        """The transaction's end: its COMMIT queued behind its statements, and one sync."""
        if self.own_transaction and self._begun:
            if self._pipeline is None:
                self._open()
            try:
                self._shared_cursor().execute("COMMIT")
            except psycopg.Error as exc:
                raise self._wrapped(exc, "COMMIT", None) from exc
        self.sync()

    def _wrapped(self, exc: psycopg.Error, sql: str, rows: Any) -> BaseException:
        raw = self.raw
        lost = self.dialect.is_disconnect(exc, raw, self._cursor)  # type: ignore[arg-type]
        if lost:  # as SQLAlchemy does: the held connection is not used again
            self.connection.invalidate(exc)
        return DBAPIError.instance(
            sql, rows, exc, psycopg.Error, connection_invalidated=lost, dialect=self.dialect
        )

    def close(self) -> None:
        context, self._pipeline = self._pipeline, None
        if context is not None:  # an error on the way: what was queued is sent, and rolled back
            with contextlib.suppress(psycopg.Error):  # the error that brought us here is raised
                context.__exit__(None, None, None)
        if self._cursor is not None and not self.connection.invalidated:
            self._cursor.close()
        self._cursor = None


def _queue_many(cursor: Any, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """The rows queued in the pipeline: a pipeline's executemany (the rowcount is the sum of
    the rows'), one row as a plain statement."""
    if len(rows) == 1:
        cursor.execute(sql, rows[0])
    else:
        cursor.executemany(sql, rows)


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

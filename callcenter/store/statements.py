"""The writer's statements, built once per dialect and run with many parameter sets.

A statement whose shape never changes is compiled once and, on PostgreSQL, prepared once by
psycopg; a batch then costs its rows, not its SQL. Each builder here takes the dialect's
name and is memoized (``compiled_once``: on PostgreSQL the writer then sends it through
psycopg itself, ``store.direct``); the rows are plain dicts whose keys are the bound
parameters (``p_<column>``, since SQLAlchemy reserves a column's own name in VALUES/SET).

Foreign keys are resolved inside the statement (``(SELECT id FROM calls WHERE uuid = ...)``)
so no batch needs a round trip to learn an id before it writes.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, and_, bindparam, case, delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import ColumnElement

from callcenter.store.direct import ONCE
from callcenter.store.models import (
    AcdCounter,
    Agent,
    AgentStatusChange,
    Call,
    CallLeg,
    Cdr,
    CdrLeg,
    EventRow,
    QueueEntry,
    Recording,
)
from callcenter.store.models import Queue as QueueModel
from callcenter.vocabulary import CdrSource

CALLS: Table = Call.__table__  # type: ignore[assignment]
LEGS: Table = CallLeg.__table__  # type: ignore[assignment]
CDRS: Table = Cdr.__table__  # type: ignore[assignment]
CDR_LEGS: Table = CdrLeg.__table__  # type: ignore[assignment]
AGENTS: Table = Agent.__table__  # type: ignore[assignment]
HISTORY: Table = AgentStatusChange.__table__  # type: ignore[assignment]
STAYS: Table = QueueEntry.__table__  # type: ignore[assignment]
RECORDINGS: Table = Recording.__table__  # type: ignore[assignment]
COUNTERS: Table = AcdCounter.__table__  # type: ignore[assignment]
EVENTS: Table = EventRow.__table__  # type: ignore[assignment]

FREESWITCH_SOURCE = CdrSource.FREESWITCH.value  # a backstop CDR
LIVE_RECORDING = "recording"  # recording.wav.FileStatus.RECORDING: its call still records it

CALL_COLUMNS = (
    "uuid", "direction", "state", "node", "from_number", "from_name", "to_number", "did",
    "created_at", "answered_at", "bridged_at", "ended_at", "hangup_cause", "disposition",
)  # fmt: skip
LEG_COLUMNS = (
    "uuid", "role", "direction", "channel_name", "from_number", "to_number",
    "created_at", "answered_at", "bridged_at", "ended_at", "hangup_cause",
)  # fmt: skip
STAY_COLUMNS = (
    "ticket", "call_uuid", "priority", "position_at_join", "joined_at", "offers",
    "offered_at", "answered_at", "left_at", "outcome", "reason",
    "caller_number", "callback_number", "callback_attempts", "callback_result",
)  # fmt: skip


def compiled_once(build: Callable[..., Any]) -> Callable[..., Any]:
    """Memoize a statement builder and mark what it builds: on PostgreSQL the writer sends
    such a statement straight through psycopg, compiled once (``store.direct``)."""

    @functools.cache
    @functools.wraps(build)
    def built(*args: Any) -> Any:
        return build(*args).execution_options(**{ONCE: True})

    return built


def p(name: str) -> str:
    """The bound parameter that carries column ``name``."""
    return "p_" + name


def lp(name: str) -> str:
    """The bound parameter that carries leg column ``name`` in a statement that also
    writes its call (whose columns have the same names)."""
    return "l_" + name


@functools.cache
def _getter(
    columns: tuple[str, ...], name: Callable[[str], str] = p
) -> tuple[Callable[[Any], Any], tuple[str, ...]]:
    get = operator.attrgetter(*columns)
    if len(columns) == 1:
        return (lambda record: (get(record),)), (name(columns[0]),)
    return get, tuple(name(c) for c in columns)


def params(record: Any, columns: tuple[str, ...], name: Callable[[str], str] = p) -> dict[str, Any]:
    """The bound parameters of ``columns``, read from ``record``'s attributes of those names."""
    get, keys = _getter(columns, name)
    return dict(zip(keys, get(record), strict=True))


def _insert(dialect: str, table: Table) -> Any:
    """The dialect's INSERT, ``inline``: no RETURNING of the new id (nothing reads it)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table).inline()


def _params(columns: tuple[str, ...], name: Callable[[str], str] = p) -> dict[str, Any]:
    return {c: bindparam(name(c)) for c in columns}


def _id_of(table: Table, column: str, param: str) -> ColumnElement[Any]:
    return select(table.c.id).where(table.c[column] == bindparam(param)).scalar_subquery()


@compiled_once
def call_upsert(dialect: str) -> Any:
    """Insert or replace a call row by uuid (its creation time is never overwritten)."""
    stmt = _insert(dialect, CALLS).values(_params(CALL_COLUMNS))
    kept = ("uuid", "created_at")
    changes = {c: stmt.excluded[c] for c in CALL_COLUMNS if c not in kept}
    return stmt.on_conflict_do_update(index_elements=["uuid"], set_=changes)


@compiled_once
def leg_upsert(dialect: str) -> Any:
    """Insert or replace a leg by uuid; its call and agent are found by uuid and extension."""
    values = _params(LEG_COLUMNS)
    values["call_id"] = _id_of(CALLS, "uuid", "p_call_uuid")
    values["agent_id"] = _id_of(AGENTS, "extension", "p_agent_extension")
    stmt = _insert(dialect, LEGS).values(values)
    return _leg_conflict(stmt)


def _leg_conflict(stmt: Any) -> Any:
    kept = ("uuid", "created_at", "call_id")
    changes = {c: stmt.excluded[c] for c in (*LEG_COLUMNS, "agent_id") if c not in kept}
    return stmt.on_conflict_do_update(index_elements=["uuid"], set_=changes)


@compiled_once
def call_and_leg_upsert() -> Any:
    """PostgreSQL: a call and one leg in one statement (a call parked: one round trip, not
    two): the call's upsert in a CTE whose id the leg's insert selects. Leg parameters are
    ``l_<column>``; the leg's agent is found by ``l_agent_extension``."""
    call = call_upsert("postgresql").returning(CALLS.c.id).cte("written_call")
    source = select(
        *(bindparam(lp(c), type_=LEGS.c[c].type) for c in LEG_COLUMNS),
        call.c.id,
        _id_of(AGENTS, "extension", "l_agent_extension"),
    )
    stmt = postgresql.insert(LEGS).from_select([*LEG_COLUMNS, "call_id", "agent_id"], source)
    return _leg_conflict(stmt.inline())


@compiled_once
def call_update(columns: tuple[str, ...]) -> Any:
    """Set only ``columns`` of one call (a state change, not a rewrite of the row)."""
    return update(CALLS).where(CALLS.c.uuid == bindparam("p_key")).values(_params(columns))


@compiled_once
def leg_update(columns: tuple[str, ...]) -> Any:
    return update(LEGS).where(LEGS.c.uuid == bindparam("p_key")).values(_params(columns))


@compiled_once
def cdr_insert(dialect: str, columns: tuple[str, ...]) -> Any:
    """Insert a CDR unless its call has one (its rowcount: how many were written now)."""
    stmt = _insert(dialect, CDRS).values(_params(columns))
    return stmt.on_conflict_do_nothing(index_elements=["call_uuid"]).execution_options(
        preserve_rowcount=True
    )


@compiled_once
def cdr_leg_insert(dialect: str, columns: tuple[str, ...]) -> Any:
    """The legs of a CDR written by this batch: its row is found by call uuid and by the
    batch's own ``written_at``, so a CDR that was already there keeps the legs it had."""
    source = select(*(bindparam(p(c), type_=CDR_LEGS.c[c].type) for c in columns), CDRS.c.id).where(
        CDRS.c.call_uuid == bindparam("p_call_uuid"),
        CDRS.c.written_at == bindparam("p_written_at"),
    )
    stmt = _insert(dialect, CDR_LEGS).from_select([*columns, "cdr_id"], source)
    return stmt.on_conflict_do_nothing(index_elements=["cdr_id", "leg_uuid"])


def _kept_as_a_leg() -> ColumnElement[bool]:
    """FreeSWITCH's CDR of ``p_call_uuid`` while an engine CDR holds that UUID as a leg."""
    engine = CDRS.alias("engine")
    held = (
        select(CDR_LEGS.c.id)
        .join(engine, engine.c.id == CDR_LEGS.c.cdr_id)
        .where(
            CDR_LEGS.c.leg_uuid == bindparam("p_call_uuid"),
            engine.c.source != FREESWITCH_SOURCE,
        )
    )
    return and_(
        CDRS.c.call_uuid == bindparam("p_call_uuid"),
        CDRS.c.source == FREESWITCH_SOURCE,
        held.exists(),
    )


@compiled_once
def superseded_cdr_legs_delete() -> Any:
    """The legs of FreeSWITCH's CDR of ``p_call_uuid`` when an engine CDR holds that UUID
    as a leg (before the CDR itself: SQLite does not cascade)."""
    cdr = select(CDRS.c.id).where(_kept_as_a_leg())
    return delete(CDR_LEGS).where(CDR_LEGS.c.cdr_id.in_(cdr.scalar_subquery()))


@compiled_once
def superseded_cdr_delete() -> Any:
    """FreeSWITCH's CDR of ``p_call_uuid`` when an engine CDR holds that UUID as a leg (a
    trunk attempt that failed over: FreeSWITCH posted it as a call of its own)."""
    return delete(CDRS).where(_kept_as_a_leg())


@compiled_once
def recording_insert(dialect: str, columns: tuple[str, ...]) -> Any:
    """Record a file unless its path is known; a row still ``recording`` (written at its
    start, the call live) is brought up to date instead (its rowcount: new or updated)."""
    stmt = _insert(dialect, RECORDINGS).values(_params(columns))
    changes = {c: stmt.excluded[c] for c in columns if c != "path"}
    return stmt.on_conflict_do_update(
        index_elements=["path"], set_=changes, where=RECORDINGS.c.status == LIVE_RECORDING
    ).execution_options(preserve_rowcount=True)


@compiled_once
def stay_upsert(dialect: str) -> Any:
    """Insert or update a queue stay by ticket, its queue found by name in the same statement
    (a queue deleted meanwhile: no row, counted short in the rowcount). A stay resumed after
    a restart writes again from its start: the join time and position stay the first ones,
    the first offer time is kept, and the offer count never goes down."""
    queues = QueueModel.__table__
    columns = (*STAY_COLUMNS, "queue_id", "agent_id")
    source = select(
        *(bindparam(p(c), type_=STAYS.c[c].type) for c in STAY_COLUMNS),
        queues.c.id,
        _id_of(AGENTS, "extension", "p_agent_extension"),
    ).where(queues.c.name == bindparam("p_queue"))
    stmt = _insert(dialect, STAYS).from_select(columns, source)
    new = stmt.excluded
    kept = ("ticket", "joined_at", "position_at_join")
    changes: dict[str, Any] = {c: new[c] for c in columns if c not in kept}
    changes["offered_at"] = func.coalesce(STAYS.c.offered_at, new.offered_at)
    for kept_once in ("caller_number", "callback_number"):  # a stay resumed may not know them
        changes[kept_once] = func.coalesce(new[kept_once], STAYS.c[kept_once])
    changes["offers"] = case((new.offers > STAYS.c.offers, new.offers), else_=STAYS.c.offers)
    return stmt.on_conflict_do_update(index_elements=["ticket"], set_=changes).execution_options(
        preserve_rowcount=True
    )


@compiled_once
def agent_state_update() -> Any:
    """The engine's write of an agent: its state always; its status only when the engine
    changed it (``p_status`` set), and then the reason and time only if it really changed."""
    status = bindparam("p_status", type_=AGENTS.c.status.type)
    at = bindparam("p_at", type_=AGENTS.c.status_changed_at.type)
    moved = (AGENTS.c.status != status) & status.isnot(None)
    return (
        update(AGENTS)
        .where(AGENTS.c.extension == bindparam("p_extension"))
        .values(
            state=bindparam("p_state"),
            status=func.coalesce(status, AGENTS.c.status),
            pause_reason=case(
                (moved, bindparam("p_reason", type_=AGENTS.c.pause_reason.type)),
                else_=AGENTS.c.pause_reason,
            ),
            status_changed_at=case((moved, at), else_=AGENTS.c.status_changed_at),
        )
    )


@compiled_once
def agent_history_insert() -> Any:
    """One history row per change, with the status the agent has once the change is made:
    ``p_status`` when the batch knows it, else the stored one, unless an operator stored it
    after the change was made (the write came late: a writer's batch, a spool replay), when
    the engine's (``p_engine_status``) was the agent's at that moment. Without that a state
    change made before a pause but written after it began the pause early, without its
    reason."""
    stored = case(
        (AGENTS.c.status_changed_at > bindparam("p_at", type_=HISTORY.c.at.type),
         bindparam("p_engine_status", type_=AGENTS.c.status.type)),
        else_=AGENTS.c.status,
    )  # fmt: skip
    source = select(
        AGENTS.c.id,
        func.coalesce(bindparam("p_status", type_=AGENTS.c.status.type), stored),
        bindparam("p_state", type_=HISTORY.c.state.type),
        bindparam("p_reason", type_=HISTORY.c.reason.type),
        bindparam("p_at", type_=HISTORY.c.at.type),
        bindparam("p_missed", type_=HISTORY.c.missed.type),
        bindparam("p_queue", type_=HISTORY.c.queue.type),
    ).where(AGENTS.c.extension == bindparam("p_extension"))
    return HISTORY.insert().from_select(
        ["agent_id", "status", "state", "reason", "at", "missed", "queue"], source
    )


@compiled_once
def agent_state_with_history() -> Any:
    """PostgreSQL: an agent's history row and its update in one statement (the history's
    SELECT reads the agent as it was before the update, as when written first)."""
    history = agent_history_insert().returning(HISTORY.c.id).cte("history_row")
    return agent_state_update().add_cte(history)


@compiled_once
def event_insert(dialect: str, columns: tuple[str, ...]) -> Any:
    """Append an event to the outbox unless its id is there (a spool replay)."""
    stmt = _insert(dialect, EVENTS).values(_params(columns))
    return stmt.on_conflict_do_nothing(index_elements=["event_id"])


@compiled_once
def counter_upsert(dialect: str) -> Any:
    """A queue's or an agent's counters (round-robin place, calls, talk), by scope and name."""
    stmt = _insert(dialect, COUNTERS).values(_params(("scope", "name", "data", "updated_at")))
    return stmt.on_conflict_do_update(
        index_elements=["scope", "name"],
        set_={"data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at},
    )


@compiled_once
def advisory_xact_lock() -> Any:
    """PostgreSQL: take the advisory lock ``:key`` until the transaction ends."""
    return text("SELECT pg_advisory_xact_lock(:key)")


@compiled_once
def rolled_buckets_delete() -> Any:
    """PostgreSQL: the reports' buckets ``:buckets`` (a list) to be read raw again (built
    once, so a writer's pipeline carries it: ``report_totals.unroll``)."""
    return text("DELETE FROM kpi_rolled_buckets WHERE bucket = ANY(:buckets)")

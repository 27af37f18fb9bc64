"""Live calls mirrored to the database: created on park, updated as they move, closed once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callcenter.errors import NotFound
from callcenter.store.base import utcnow
from callcenter.store.direct import Executes
from callcenter.store.models import Agent, Call, CallLeg
from callcenter.store.records import CallRecord, LegRecord
from callcenter.store.statements import (
    CALL_COLUMNS,
    LEG_COLUMNS,
    call_and_leg_upsert,
    call_update,
    call_upsert,
    leg_update,
    leg_upsert,
    lp,
    params,
)
from callcenter.vocabulary import CallState, Disposition


def _leg_record(leg: CallLeg, extension: str | None) -> LegRecord:
    return LegRecord(
        uuid=leg.uuid,
        role=leg.role,
        direction=leg.direction,
        channel_name=leg.channel_name,
        from_number=leg.from_number,
        to_number=leg.to_number,
        agent_extension=extension,
        created_at=leg.created_at,
        answered_at=leg.answered_at,
        bridged_at=leg.bridged_at,
        ended_at=leg.ended_at,
        hangup_cause=leg.hangup_cause,
    )


def _call_row(call: CallRecord, now: datetime) -> dict[str, Any]:
    row = params(call, CALL_COLUMNS)
    row["p_created_at"] = call.created_at or now
    return row


def _leg_row(call_uuid: str, leg: LegRecord, now: datetime) -> dict[str, Any]:
    row = params(leg, LEG_COLUMNS)
    row.update(p_created_at=leg.created_at or now, p_call_uuid=call_uuid)
    row["p_agent_extension"] = leg.agent_extension
    return row


def _call_and_leg_row(call: CallRecord, now: datetime) -> dict[str, Any]:
    [leg] = call.legs
    row = _call_row(call, now)
    row.update(params(leg, LEG_COLUMNS, lp))
    row.update(l_created_at=leg.created_at or now, l_agent_extension=leg.agent_extension)
    return row


def _changes(before: Any, after: Any, columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for c in columns if c != "uuid" and getattr(before, c) != getattr(after, c))


def write_calls(
    conn: Executes, calls: Sequence[CallRecord], known: Mapping[str, CallRecord] | None = None
) -> None:
    """Write calls as they are now; for a call given twice, the last state wins.

    A call in ``known`` (its row as this process last wrote it) is updated in the columns
    that changed, and so are its legs; any other call is upserted whole, which is always
    safe to repeat (replay, recovery)."""
    latest = {call.uuid: call for call in calls}
    known = known or {}
    now = utcnow()
    dialect = conn.dialect.name
    whole = [c for uuid, c in latest.items() if uuid not in known]
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    leg_updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    if dialect == "postgresql":  # a call with one leg (parked) in one statement
        paired = [c for c in whole if len(c.legs) == 1]
        if paired:
            conn.execute(call_and_leg_upsert(), [_call_and_leg_row(c, now) for c in paired])
            whole = [c for c in whole if len(c.legs) != 1]
    new_legs = [_leg_row(c.uuid, leg, now) for c in whole for leg in c.legs]
    for uuid, call in latest.items():
        before = known.get(uuid)
        if before is None:
            continue
        columns = _changes(before, call, CALL_COLUMNS)
        if columns:
            row = params(call, columns)
            updates.setdefault(columns, []).append({"p_key": uuid, **row})
        old_legs = {leg.uuid: leg for leg in before.legs}
        for leg in call.legs:
            old = old_legs.get(leg.uuid)
            if old is None or old.agent_extension != leg.agent_extension:
                new_legs.append(_leg_row(uuid, leg, now))
            elif columns := _changes(old, leg, LEG_COLUMNS):
                row = params(leg, columns)
                leg_updates.setdefault(columns, []).append({"p_key": leg.uuid, **row})
    if whole:
        conn.execute(call_upsert(dialect), [_call_row(c, now) for c in whole])
    for columns, rows in updates.items():
        conn.execute(call_update(columns), rows)
    if new_legs:
        conn.execute(leg_upsert(dialect), new_legs)
    for columns, rows in leg_updates.items():
        conn.execute(leg_update(columns), rows)


class CallRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert(self, call: CallRecord) -> None:
        """Write the call and its legs as they are now; safe to repeat (replay, recovery)."""
        self.upsert_many([call])

    def upsert_many(self, calls: Sequence[CallRecord]) -> None:
        """Many calls in two statements; for a call given twice, the last state wins."""
        write_calls(self.session.connection(), calls)

    def get(self, uuid: str) -> CallRecord:
        row = self.session.scalar(
            select(Call).where(Call.uuid == uuid).options(selectinload(Call.legs))
        )
        if row is None:
            raise NotFound(f"no call {uuid!r}", code="call_not_found")
        return self._record(row)

    def live(self, node: str | None = None) -> list[CallRecord]:
        query = select(Call).where(Call.state != CallState.ENDED).options(selectinload(Call.legs))
        if node is not None:
            query = query.where(Call.node == node)
        return [self._record(c) for c in self.session.scalars(query.order_by(Call.created_at))]

    def close(self, uuid: str, *, ended_at: datetime, cause: str, disposition: Disposition) -> None:
        row = self.session.scalar(select(Call).where(Call.uuid == uuid))
        if row is None:
            raise NotFound(f"no call {uuid!r}", code="call_not_found")
        row.state = CallState.ENDED
        row.ended_at = row.ended_at or ended_at
        row.hangup_cause = row.hangup_cause or cause
        row.disposition = row.disposition or disposition
        self.session.flush()

    def _record(self, row: Call) -> CallRecord:
        agent_ids = {leg.agent_id for leg in row.legs if leg.agent_id is not None}
        extensions: dict[int, str] = {}
        if agent_ids:
            rows = self.session.execute(
                select(Agent.id, Agent.extension).where(Agent.id.in_(agent_ids))
            )
            extensions = {agent_id: extension for agent_id, extension in rows}
        return CallRecord(
            uuid=row.uuid,
            direction=row.direction,
            state=row.state,
            node=row.node,
            from_number=row.from_number,
            from_name=row.from_name,
            to_number=row.to_number,
            did=row.did,
            created_at=row.created_at,
            answered_at=row.answered_at,
            bridged_at=row.bridged_at,
            ended_at=row.ended_at,
            hangup_cause=row.hangup_cause,
            disposition=row.disposition,
            legs=tuple(
                _leg_record(leg, extensions.get(leg.agent_id) if leg.agent_id else None)
                for leg in row.legs
            ),
        )

"""Live calls mirrored to the database: created on park, updated as they move, closed once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callcenter.errors import NotFound
from callcenter.store.base import utcnow
from callcenter.store.models import Agent, Call, CallLeg
from callcenter.store.records import CallRecord, LegRecord
from callcenter.store.repos._insert import upsert_many
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


_CALL_FIELDS = (
    "uuid", "direction", "state", "node", "from_number", "from_name", "to_number", "did",
    "answered_at", "bridged_at", "ended_at", "hangup_cause", "disposition",
)  # fmt: skip
_LEG_FIELDS = (
    "uuid", "role", "direction", "channel_name", "from_number", "to_number",
    "answered_at", "bridged_at", "ended_at", "hangup_cause",
)  # fmt: skip


def _call_row(call: CallRecord, now: datetime) -> dict[str, Any]:
    row = {name: getattr(call, name) for name in _CALL_FIELDS}
    row["created_at"] = call.created_at or now
    return row


def _leg_row(leg: LegRecord, call_id: int, agent_id: int | None, now: datetime) -> dict[str, Any]:
    row = {name: getattr(leg, name) for name in _LEG_FIELDS}
    row.update(call_id=call_id, agent_id=agent_id, created_at=leg.created_at or now)
    return row


class CallRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert(self, call: CallRecord) -> None:
        """Write the call and its legs as they are now; safe to repeat (replay, recovery)."""
        self.upsert_many([call])

    def upsert_many(self, calls: Sequence[CallRecord]) -> None:
        """Many calls in two statements; for a call given twice, the last state wins."""
        latest = {call.uuid: call for call in calls}
        now = utcnow()
        ids = upsert_many(
            self.session,
            Call.__table__,  # type: ignore[arg-type]
            [_call_row(call, now) for call in latest.values()],
            key="uuid",
            keep=("created_at",),
        )
        extensions = {
            leg.agent_extension
            for call in latest.values()
            for leg in call.legs
            if leg.agent_extension
        }
        agents: dict[str, int] = {}
        if extensions:
            query = select(Agent.extension, Agent.id).where(Agent.extension.in_(extensions))
            agents = {extension: agent_id for extension, agent_id in self.session.execute(query)}
        legs = {
            leg.uuid: _leg_row(leg, ids[call.uuid], agents.get(leg.agent_extension or ""), now)
            for call in latest.values()
            for leg in call.legs
        }
        upsert_many(
            self.session,
            CallLeg.__table__,  # type: ignore[arg-type]
            list(legs.values()),
            key="uuid",
            keep=("created_at", "call_id"),
        )

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

"""Live calls mirrored to the database: created on park, updated as they move, closed once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callcenter.errors import NotFound
from callcenter.store.models import Agent, Call, CallLeg
from callcenter.store.records import CallRecord, LegRecord
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


class CallRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert(self, call: CallRecord) -> None:
        """Write the call and its legs as they are now; safe to repeat (replay, recovery)."""
        row = self.session.scalar(
            select(Call).where(Call.uuid == call.uuid).options(selectinload(Call.legs))
        )
        if row is None:
            row = Call(uuid=call.uuid)
            self.session.add(row)
        for name in (
            "direction", "state", "node", "from_number", "from_name", "to_number", "did",
            "answered_at", "bridged_at", "ended_at", "hangup_cause", "disposition",
        ):  # fmt: skip
            setattr(row, name, getattr(call, name))
        if call.created_at is not None:
            row.created_at = call.created_at
        known = {leg.uuid: leg for leg in row.legs}
        for leg in call.legs:
            self._merge_leg(row, known.get(leg.uuid), leg)
        self.session.flush()

    def _merge_leg(self, call: Call, row: CallLeg | None, leg: LegRecord) -> None:
        if row is None:
            row = CallLeg(uuid=leg.uuid)
            call.legs.append(row)
        for name in (
            "role", "direction", "channel_name", "from_number", "to_number",
            "answered_at", "bridged_at", "ended_at", "hangup_cause",
        ):  # fmt: skip
            setattr(row, name, getattr(leg, name))
        if leg.created_at is not None:
            row.created_at = leg.created_at
        if leg.agent_extension:
            row.agent_id = self.session.scalar(
                select(Agent.id).where(Agent.extension == leg.agent_extension)
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

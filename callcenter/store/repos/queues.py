from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callcenter.errors import AlreadyExists, NotFound
from callcenter.store.base import utcnow
from callcenter.store.models import Agent, Queue, QueueEntry, QueueMember, QueueSkill
from callcenter.store.records import QueueEntryRecord, QueueMemberRecord, QueueRecord
from callcenter.vocabulary import QueueOutcome

_SETTABLE = {
    "strategy",
    "max_wait_seconds",
    "max_callers",
    "agent_ring_seconds",
    "service_level_seconds",
    "music_on_hold",
    "announcements",
    "announce_position_seconds",
    "overflow_target",
    "recording_policy",
    "recording_sample_percent",
    "callback_enabled",
    "number",
    "routing",
    "rejoin_window_seconds",
    "recording_keep_days",
    "recording_announcement",
    "sl_formula",
    "short_abandon_seconds",
    "time_zone",
}


def to_record(queue: Queue) -> QueueRecord:
    return QueueRecord(
        id=queue.id,
        name=queue.name,
        strategy=queue.strategy,
        max_wait_seconds=queue.max_wait_seconds,
        max_callers=queue.max_callers,
        agent_ring_seconds=queue.agent_ring_seconds,
        service_level_seconds=queue.service_level_seconds,
        music_on_hold=queue.music_on_hold,
        announcements=dict(queue.announcements or {}),
        announce_position_seconds=queue.announce_position_seconds,
        overflow_target=queue.overflow_target,
        recording_policy=queue.recording_policy,
        recording_sample_percent=queue.recording_sample_percent,
        callback_enabled=queue.callback_enabled,
        members=tuple(
            QueueMemberRecord(m.agent.extension, m.tier, m.position) for m in queue.members
        ),
        required_skills={s.skill: s.min_level for s in queue.required_skills},
        number=queue.number,
        routing=dict(queue.routing or {}),
        rejoin_window_seconds=queue.rejoin_window_seconds,
        recording_keep_days=queue.recording_keep_days,
        recording_announcement=queue.recording_announcement,
        sl_formula=queue.sl_formula,
        short_abandon_seconds=queue.short_abandon_seconds,
        time_zone=queue.time_zone,
    )


class QueueRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _get(self, name: str) -> Queue:
        queue = self.session.scalar(
            select(Queue)
            .where(Queue.name == name)
            .options(
                selectinload(Queue.members).selectinload(QueueMember.agent),
                selectinload(Queue.required_skills),
            )
        )
        if queue is None:
            raise NotFound(f"no queue named {name!r}", code="queue_not_found")
        return queue

    def add(self, name: str, **fields: Any) -> QueueRecord:
        if self.session.scalar(select(Queue.id).where(Queue.name == name)) is not None:
            raise AlreadyExists(f"queue {name!r} already exists", code="queue_exists")
        unknown = set(fields) - _SETTABLE
        if unknown:
            raise ValueError(f"unknown queue fields: {sorted(unknown)}")
        self._number_free(fields.get("number"), name)
        queue = Queue(name=name, **fields)
        self.session.add(queue)
        self.session.flush()
        return self.get(name)

    def get(self, name: str) -> QueueRecord:
        return to_record(self._get(name))

    def by_number(self, number: str) -> str | None:
        """The name of the queue an agent's phone reaches with ``*8<number>``."""
        return self.session.scalar(select(Queue.name).where(Queue.number == number))

    def _number_free(self, number: str | None, name: str) -> None:
        holder = self.by_number(number) if number else None
        if holder is not None and holder != name:
            raise AlreadyExists(
                f"queue number {number!r} is already queue {holder!r}'s",
                code="queue_number_taken",
            )

    def all(self) -> list[QueueRecord]:
        rows = self.session.scalars(
            select(Queue)
            .options(
                selectinload(Queue.members).selectinload(QueueMember.agent),
                selectinload(Queue.required_skills),
            )
            .order_by(Queue.name)
        )
        return [to_record(q) for q in rows]

    def add_member(self, name: str, extension: str, *, tier: int = 1, position: int = 1) -> None:
        queue = self._get(name)
        agent = self.session.scalar(select(Agent).where(Agent.extension == extension))
        if agent is None:
            raise NotFound(f"no agent with extension {extension!r}", code="agent_not_found")
        if any(m.agent_id == agent.id for m in queue.members):
            raise AlreadyExists(f"agent {extension!r} is already in queue {name!r}")
        queue.members.append(QueueMember(agent_id=agent.id, tier=tier, position=position))
        self.session.flush()

    def set_member(
        self, name: str, extension: str, *, tier: int | None, position: int | None, create: bool
    ) -> tuple[int, int] | None:
        """Set a member's tier and position (None: kept, or 1 for a new member); the
        member's (tier, position) before, or None when ``create`` made it a member."""
        queue = self._get(name)
        found = [m for m in queue.members if m.agent.extension == extension]
        if not found:
            if not create:
                raise NotFound(
                    f"agent {extension!r} is not a member of queue {name!r}: add it first "
                    "(callcenter queue member add)",
                    code="queue_member_not_found",
                )
            self.add_member(name, extension, tier=tier or 1, position=position or 1)
            return None
        member = found[0]
        before = (member.tier, member.position)
        member.tier = before[0] if tier is None else tier
        member.position = before[1] if position is None else position
        self.session.flush()
        return before

    def update(self, name: str, **fields: Any) -> QueueRecord:
        """Change only the given settings; the others keep their stored value."""
        unknown = set(fields) - _SETTABLE
        if unknown:
            raise ValueError(f"unknown queue fields: {sorted(unknown)}")
        queue = self._get(name)
        self._number_free(fields.get("number"), name)
        for field, value in fields.items():
            setattr(queue, field, value)
        self.session.flush()
        return to_record(queue)

    def remove_member(self, name: str, extension: str) -> None:
        queue = self._get(name)
        for member in queue.members:
            if member.agent.extension == extension:
                queue.members.remove(member)
                self.session.flush()
                return
        raise NotFound(
            f"agent {extension!r} is not a member of queue {name!r}", code="queue_member_not_found"
        )

    def require_skill(self, name: str, skill: str, min_level: int = 1) -> None:
        queue = self._get(name)
        for existing in queue.required_skills:
            if existing.skill == skill:
                existing.min_level = min_level
                break
        else:
            queue.required_skills.append(QueueSkill(skill=skill, min_level=min_level))
        self.session.flush()

    def drop_skill(self, name: str, skill: str) -> None:
        queue = self._get(name)
        for existing in queue.required_skills:
            if existing.skill == skill:
                queue.required_skills.remove(existing)
                self.session.flush()
                return
        raise NotFound(
            f"queue {name!r} does not require skill {skill!r}", code="queue_skill_not_found"
        )

    def join(self, name: str, call_uuid: str, *, priority: int = 0, position: int = 1) -> int:
        queue = self._get(name)
        entry = QueueEntry(
            queue_id=queue.id, call_uuid=call_uuid, priority=priority, position_at_join=position
        )
        self.session.add(entry)
        self.session.flush()
        return entry.id

    def leave(self, entry_id: int, outcome: QueueOutcome, *, reason: str | None = None) -> None:
        entry = self.session.get(QueueEntry, entry_id)
        if entry is None:
            raise NotFound(f"no queue entry {entry_id}", code="queue_entry_not_found")
        entry.left_at = utcnow()
        entry.outcome = outcome
        entry.reason = reason
        self.session.flush()

    def entries(
        self, name: str, limit: int = 100, *, waiting: bool = False
    ) -> list[QueueEntryRecord]:
        """The last stays, newest first; ``waiting``: those still waiting (not answered, not
        left), in the order they are served (priority, then arrival)."""
        queue = self._get(name)
        query = (
            select(QueueEntry, Agent.extension)
            .outerjoin(Agent, Agent.id == QueueEntry.agent_id)
            .where(QueueEntry.queue_id == queue.id)
        )
        if waiting:
            query = query.where(QueueEntry.left_at.is_(None), QueueEntry.answered_at.is_(None))
            query = query.order_by(QueueEntry.priority.desc(), QueueEntry.joined_at)
        else:
            query = query.order_by(QueueEntry.joined_at.desc(), QueueEntry.id.desc())
        rows = self.session.execute(query.limit(limit))
        return [
            QueueEntryRecord(
                id=e.id,
                queue=name,
                call_uuid=e.call_uuid,
                priority=e.priority,
                joined_at=e.joined_at,
                offered_at=e.offered_at,
                offers=e.offers,
                answered_at=e.answered_at,
                agent_extension=ext,
                left_at=e.left_at,
                outcome=e.outcome,
                reason=e.reason,
                callback_number=e.callback_number,
                callback_attempts=e.callback_attempts,
                callback_result=e.callback_result,
            )
            for e, ext in rows
        ]

    def delete(self, name: str) -> None:
        self.session.delete(self._get(name))
        self.session.flush()

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callcenter.errors import AlreadyExists, DomainError, NotFound
from callcenter.store.base import utcnow
from callcenter.store.models import Agent, AgentSkill, AgentStatusChange
from callcenter.store.records import AgentRecord
from callcenter.vocabulary import AgentState, AgentStatus

_PIN_ITERATIONS = 200_000
_PHONE_FIELDS = frozenset(
    {"auto_answer", "whisper", "outbound_caller_id", "on_demand", "recording_policy"}
)


def hash_pin(pin: str) -> str:
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise DomainError("a PIN is 4 to 12 digits", code="invalid_pin")
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), _PIN_ITERATIONS).hex()
    return f"pbkdf2_sha256${_PIN_ITERATIONS}${salt}${digest}"


def verify_pin(pin: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(candidate, digest)


def to_record(agent: Agent) -> AgentRecord:
    return AgentRecord(
        id=agent.id,
        extension=agent.extension,
        display_name=agent.display_name,
        wrapup_seconds=agent.wrapup_seconds,
        status=agent.status,
        state=agent.state,
        status_changed_at=agent.status_changed_at,
        skills={s.skill: s.level for s in agent.skills},
        has_pin=agent.pin_hash is not None,
        pause_reason=agent.pause_reason,
        auto_answer=agent.auto_answer,
        whisper=agent.whisper,
        outbound_caller_id=agent.outbound_caller_id,
        on_demand=agent.on_demand,
        recording_policy=agent.recording_policy,
        routing=dict(agent.routing or {}),
        role=agent.role or "agent",
    )


class AgentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _get(self, extension: str) -> Agent:
        agent = self.session.scalar(
            select(Agent).where(Agent.extension == extension).options(selectinload(Agent.skills))
        )
        if agent is None:
            raise NotFound(f"no agent with extension {extension!r}", code="agent_not_found")
        return agent

    def add(
        self,
        extension: str,
        display_name: str = "",
        *,
        pin: str | None = None,
        wrapup_seconds: int = 10,
        skills: dict[str, int] | None = None,
        sip_a1_hash: str | None = None,
    ) -> AgentRecord:
        if self.session.scalar(select(Agent.id).where(Agent.extension == extension)) is not None:
            raise AlreadyExists(f"agent {extension!r} already exists", code="agent_exists")
        agent = Agent(
            extension=extension,
            display_name=display_name,
            pin_hash=hash_pin(pin) if pin else None,
            sip_a1_hash=sip_a1_hash,
            wrapup_seconds=wrapup_seconds,
            status=AgentStatus.LOGGED_OUT,
            state=AgentState.IDLE,
            skills=[AgentSkill(skill=k, level=v) for k, v in (skills or {}).items()],
        )
        self.session.add(agent)
        self.session.flush()
        return to_record(agent)

    def get(self, extension: str) -> AgentRecord:
        return to_record(self._get(extension))

    def all(self) -> list[AgentRecord]:
        rows = self.session.scalars(
            select(Agent).options(selectinload(Agent.skills)).order_by(Agent.extension)
        )
        return [to_record(a) for a in rows]

    def set_status(
        self,
        extension: str,
        status: AgentStatus,
        state: AgentState | None = None,
        *,
        reason: str | None = None,
    ) -> AgentRecord:
        agent = self._get(extension)
        agent.status = status
        if state is not None:
            agent.state = state
        agent.pause_reason = reason if status is AgentStatus.PAUSED else None
        agent.status_changed_at = utcnow()
        self.session.add(
            AgentStatusChange(
                agent_id=agent.id, status=agent.status, state=agent.state, reason=reason,
                queue=self._wrapping_up(agent),
            )
        )  # fmt: skip
        self.session.flush()
        return to_record(agent)

    def _wrapping_up(self, agent: Agent) -> str | None:
        """In wrap-up: the queue of the call wrapped up, as its last history row says (a
        pause or a logout during a wrap-up keeps it the queue's)."""
        if agent.state is not AgentState.WRAP_UP:
            return None
        return self.session.scalar(
            select(AgentStatusChange.queue)
            .where(AgentStatusChange.agent_id == agent.id)
            .order_by(AgentStatusChange.at.desc(), AgentStatusChange.id.desc())
            .limit(1)
        )

    def set_skill(self, extension: str, skill: str, level: int) -> AgentRecord:
        agent = self._get(extension)
        for existing in agent.skills:
            if existing.skill == skill:
                existing.level = level
                break
        else:
            agent.skills.append(AgentSkill(skill=skill, level=level))
        self.session.flush()
        return to_record(agent)

    def remove_skill(self, extension: str, skill: str) -> AgentRecord:
        agent = self._get(extension)
        for existing in agent.skills:
            if existing.skill == skill:
                agent.skills.remove(existing)
                self.session.flush()
                return to_record(agent)
        raise NotFound(f"agent {extension!r} has no skill {skill!r}", code="agent_skill_not_found")

    def update(
        self,
        extension: str,
        *,
        display_name: str | None = None,
        pin: str | None = None,
        wrapup_seconds: int | None = None,
    ) -> AgentRecord:
        """Change the fields given (a PIN is stored hashed); the others keep their value."""
        agent = self._get(extension)
        if display_name is not None:
            agent.display_name = display_name
        if pin is not None:
            agent.pin_hash = hash_pin(pin)
        if wrapup_seconds is not None:
            agent.wrapup_seconds = wrapup_seconds
        self.session.flush()
        return to_record(agent)

    def set_routing(self, extension: str, routing: dict[str, Any]) -> AgentRecord:
        agent = self._get(extension)
        agent.routing = dict(routing)
        self.session.flush()
        return to_record(agent)

    def set_sip_a1_hash(self, extension: str, a1_hash: str) -> None:
        self._get(extension).sip_a1_hash = a1_hash
        self.session.flush()

    def directory(self) -> list[tuple[AgentRecord, str | None]]:
        """Every agent with its SIP a1-hash, for rendering FreeSWITCH's directory."""
        rows = self.session.scalars(
            select(Agent).options(selectinload(Agent.skills)).order_by(Agent.extension)
        )
        return [(to_record(a), a.sip_a1_hash) for a in rows]

    def check_pin(self, extension: str, pin: str) -> bool:
        return verify_pin(pin, self._get(extension).pin_hash)

    def pin_lock(self, extension: str) -> tuple[str | None, datetime | None]:
        """(the PIN's hash, phone login locked until) for a check made outside the
        transaction: the hash is slow on purpose, and a database row is not held meanwhile."""
        agent = self._get(extension)
        return agent.pin_hash, agent.pin_locked_until

    def record_pin(
        self, extension: str, ok: bool, now: datetime, *, max_failures: int, lockout: float
    ) -> datetime | None:
        """The outcome of one PIN typed at the phone: right, the count starts again; wrong,
        counted, and the ``max_failures``-th in a row locks phone login for ``lockout``
        seconds. Returns the lock's end (None: not locked). The row is locked meanwhile."""
        agent = self.session.scalar(
            select(Agent).where(Agent.extension == extension).with_for_update()
        )
        if agent is None:
            raise NotFound(f"no agent with extension {extension!r}", code="agent_not_found")
        if ok:
            agent.pin_failures, agent.pin_locked_until = 0, None
        else:
            agent.pin_failures += 1
            if agent.pin_failures >= max_failures:
                agent.pin_failures = 0
                agent.pin_locked_until = now + timedelta(seconds=lockout)
        self.session.flush()
        return agent.pin_locked_until

    def set_phone(self, extension: str, **values: object) -> AgentRecord:
        """``auto_answer``, ``whisper``, ``outbound_caller_id``, ``on_demand``: those given."""
        agent = self._get(extension)
        for name, value in values.items():
            if name not in _PHONE_FIELDS:
                raise ValueError(f"not a phone setting: {name}")
            setattr(agent, name, value)
        self.session.flush()
        return to_record(agent)

    def set_role(self, extension: str, role: str) -> AgentRecord:
        agent = self._get(extension)
        agent.role = role
        self.session.flush()
        return to_record(agent)

    def history(self, extension: str, limit: int = 50) -> list[AgentStatusChange]:
        agent = self._get(extension)
        return list(
            self.session.scalars(
                select(AgentStatusChange)
                .where(AgentStatusChange.agent_id == agent.id)
                .order_by(AgentStatusChange.at.desc(), AgentStatusChange.id.desc())
                .limit(limit)
            )
        )

    def delete(self, extension: str) -> None:
        self.session.delete(self._get(extension))
        self.session.flush()

"""Agents: their phone's SIP account, name, PIN, skills, and the status an operator sets.

The engine owns an agent's state (idle, offering, in_call, wrap_up); an operator sets its
status (logged_out, available, paused), never cutting a call. Each change reaches every
running engine as an ``agent`` change keyed by the extension.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from callcenter.acd import rules
from callcenter.errors import ConfigError, DomainError
from callcenter.events import outbox
from callcenter.events.types import AgentStatusChanged
from callcenter.phone.codes import DEFAULT_PAUSE_REASONS
from callcenter.recording import policy as recording_policy
from callcenter.services import checks, in_use
from callcenter.services.actor import Actor
from callcenter.services.changes import ChangeKind, audited
from callcenter.store.database import Database
from callcenter.store.records import AgentRecord
from callcenter.store.repos import AgentRepository, QueueRepository
from callcenter.store.repos.agents import verify_pin
from callcenter.store.repos.sip import a1_hash
from callcenter.vocabulary import AgentState, AgentStatus

AGENT = ChangeKind.AGENT
WRAPUP_MAX = 3600
ROLES = ("agent", "supervisor")  # a supervisor may listen to, whisper to, barge into calls


@dataclass(frozen=True, slots=True)
class AgentAdded:
    agent: AgentRecord
    sip_password: str | None  # the generated one, to be shown once; None when given


@dataclass(frozen=True, slots=True)
class Membership:
    queue: str
    tier: int
    position: int


@dataclass(frozen=True, slots=True)
class StatusChange:
    at: datetime
    status: AgentStatus
    state: AgentState
    reason: str | None


@dataclass(frozen=True, slots=True)
class AgentDetail:
    agent: AgentRecord
    queues: tuple[Membership, ...]
    history: tuple[StatusChange, ...]  # newest first


@dataclass(frozen=True, slots=True)
class AgentDirectoryEntry:
    agent: AgentRecord
    has_sip_account: bool


def add(
    db: Database,
    who: Actor,
    extension: str,
    *,
    domain: str,
    name: str = "",
    sip_password: str | None = None,
    pin: str | None = None,
    wrapup_seconds: int = 10,
    skills: dict[str, int] | None = None,
) -> AgentAdded:
    """Create an agent and its phone's SIP account (stored as FreeSWITCH's a1-hash of
    ``<extension>:<domain>:<password>``); without ``sip_password`` one is generated."""
    checks.extension(extension)
    checks.agent_name(name)
    checks.pin(pin)
    checks.in_range(wrapup_seconds, 0, WRAPUP_MAX, "wrapup_seconds")
    skills = checks.skills(skills or {})
    generated = sip_password is None
    password = checks.new_sip_password() if sip_password is None else sip_password
    checks.sip_password(password, extension)
    with db.session_scope() as session:
        record = AgentRepository(session).add(
            extension,
            name,
            pin=pin,
            wrapup_seconds=wrapup_seconds,
            skills=skills,
            sip_a1_hash=a1_hash(extension, domain, password),
        )
        audited(session, who, "agent.add", extension, {"name": name}, kind=AGENT)
    return AgentAdded(record, password if generated else None)


def update(
    db: Database,
    who: Actor,
    extension: str,
    *,
    name: str | None = None,
    pin: str | None = None,
    wrapup_seconds: int | None = None,
    auto_answer: bool | None = None,
    whisper: str | None = None,
    caller_id: str | None = None,
    role: str | None = None,
    recording: str | None = None,
) -> AgentRecord:
    """Change what is given; the others keep their value. ``auto_answer``: offers ask the
    phone to answer by itself; ``whisper``: what the agent hears before a queue caller
    (``queue``: its name spoken; a file; ``""``: nothing); ``caller_id``: the number its
    external calls show (``""``: the route's)."""
    checks.extension(extension)
    if name is not None:
        checks.agent_name(name)
    checks.pin(pin)
    if wrapup_seconds is not None:
        checks.in_range(wrapup_seconds, 0, WRAPUP_MAX, "wrapup_seconds")
    checks.whisper(whisper)
    checks.caller_id(caller_id)
    if role is not None and role not in ROLES:
        raise checks.InvalidArgument("role", f"{checks.shown(role)}: expected agent or supervisor")
    if recording:  # overrides its queues' recording policy ("": theirs again)
        try:
            recording = str(recording_policy.parse(recording, "recording"))
        except ConfigError as exc:
            raise checks.InvalidArgument("recording", str(exc).removeprefix("recording: ")) from exc
    phone = {
        k: v
        for k, v in {
            "auto_answer": auto_answer, "whisper": whisper, "outbound_caller_id": caller_id,
            "recording_policy": recording,
        }.items()
        if v is not None
    }  # fmt: skip
    if name is None and pin is None and wrapup_seconds is None and not phone and role is None:
        raise DomainError(
            "nothing to change: give a name, a PIN, a wrap-up, a role or a phone setting",
            code="no_change",
        )
    with db.session_scope() as session:
        agents = AgentRepository(session)
        record = agents.update(extension, display_name=name, pin=pin, wrapup_seconds=wrapup_seconds)
        if phone:
            record = agents.set_phone(
                extension, **{k: (v if v != "" else None) for k, v in phone.items()}
            )
        if role is not None:
            record = agents.set_role(extension, role)
        details: dict[str, object] = {
            k: v
            for k, v in {
                "name": name,
                "wrapup_seconds": wrapup_seconds,
                "role": role,
                **phone,
            }.items()
            if v is not None
        }
        if pin is not None:
            details["pin"] = "changed"  # never the PIN itself
        audited(session, who, "agent.set", extension, details, kind=AGENT)
    return record


def set_failure_policy(
    db: Database, who: Actor, extension: str, policy: Mapping[str, Any]
) -> AgentRecord:
    """Override the queues' failure policy for this agent (``no_answer_delay``,
    ``busy_delay``, ``reject_delay``, ``unregistered_delay``, ``max_no_answer``,
    ``pause_reason``); a key given None takes the queue's again."""
    checks.extension(extension)
    if not policy:
        raise DomainError("nothing to change: give at least one setting", code="no_change")
    with db.session_scope() as session:
        agents = AgentRepository(session)
        before = agents.get(extension)
        merged = {k: v for k, v in {**before.routing, **policy}.items() if v is not None}
        try:
            stored = rules.agent_overrides(merged)
        except rules.RuleError as exc:
            raise checks.InvalidArgument(exc.key, exc.reason) from exc
        record = agents.set_routing(extension, stored)
        audited(session, who, "agent.failure_policy", extension, dict(policy), kind=AGENT)
    return record


def set_password(
    db: Database, who: Actor, extension: str, sip_password: str, *, domain: str
) -> AgentRecord:
    """Set the SIP password of an agent's phone (stored as its a1-hash)."""
    checks.extension(extension)
    checks.sip_password(sip_password, extension)
    with db.session_scope() as session:
        agents = AgentRepository(session)
        agents.set_sip_a1_hash(extension, a1_hash(extension, domain, sip_password))
        audited(session, who, "agent.password", extension)
        return agents.get(extension)


def remove(db: Database, who: Actor, extension: str) -> None:
    """Delete an agent with its skills, memberships and status history; refused
    (``agent_in_use``) while a running campaign dials for it, or a stored DID route or a
    queue's overflow or exit key rings it (``in_use``)."""
    checks.extension(extension)
    with db.session_scope() as session:
        in_use.not_dialling(
            session,
            f"agent {extension!r}",
            "takes the calls of",
            "take the agent out of them",
            "agent_in_use",
            agent=extension,
        )
        target = f"extension:{extension}"
        in_use.not_targeted(session, f"agent {extension!r}", target, "agent_in_use")
        AgentRepository(session).delete(extension)
        audited(session, who, "agent.remove", extension, kind=AGENT)


# what an operator may do from which status; the engine owns `state` (a call is never cut)
_CHANGES: dict[str, tuple[frozenset[AgentStatus], AgentStatus]] = {
    "login": (frozenset({AgentStatus.LOGGED_OUT}), AgentStatus.AVAILABLE),
    "logout": (frozenset({AgentStatus.AVAILABLE, AgentStatus.PAUSED}), AgentStatus.LOGGED_OUT),
    "pause": (frozenset({AgentStatus.AVAILABLE}), AgentStatus.PAUSED),
    "ready": (frozenset({AgentStatus.PAUSED}), AgentStatus.AVAILABLE),
}


def login(db: Database, who: Actor, extension: str) -> AgentRecord:
    """Available for the queues the agent is a member of."""
    return _change_status(db, who, extension, "login")


def logout(db: Database, who: Actor, extension: str) -> AgentRecord:
    """No more calls offered (a call in progress goes on)."""
    return _change_status(db, who, extension, "logout")


@dataclass(frozen=True, slots=True)
class PauseReasons:
    """The pause reasons a site configured (settings ``pause_reasons``, code -> name, and
    ``pause_default_reason``, the phone's ``*23`` without a code): a pause gives one by
    code or name and is stored under the name, so reports and metrics count one pause
    reason in one place (``2`` and ``lunch`` are the same pause)."""

    codes: tuple[tuple[str, str], ...] = DEFAULT_PAUSE_REASONS
    default: str = "phone"

    def named(self, given: str | None) -> str | None:
        if given is None:
            return None
        for code, name in self.codes:
            if given in (code, name):
                return name
        if given == self.default:
            return given
        known = ", ".join(f"{code}={name}" for code, name in self.codes)
        raise checks.InvalidArgument(
            "reason", f"unknown pause reason {given!r}: give a configured one ({known}, or "
            f"{self.default}), by code or name", code="unknown_pause_reason",
        )  # fmt: skip


def pause(
    db: Database,
    who: Actor,
    extension: str,
    reason: str | None = None,
    *,
    reasons: PauseReasons = PauseReasons(),
) -> AgentRecord:
    """No calls offered until ``ready``; the reason (a configured one, by code or name) is
    kept for reports under its name."""
    named = reasons.named(checks.pause_reason(reason))
    return _change_status(db, who, extension, "pause", named)


def ready(db: Database, who: Actor, extension: str) -> AgentRecord:
    """End a pause: available again."""
    return _change_status(db, who, extension, "ready")


def _refused(extension: str, action: str, status: AgentStatus) -> DomainError:
    if status is AgentStatus.LOGGED_OUT:
        return DomainError(f"agent {extension} is not logged in", code="agent_not_logged_in")
    if action == "login":
        return DomainError(
            f"agent {extension} is already logged in ({status})", code="agent_already_logged_in"
        )
    if action == "pause":
        return DomainError(f"agent {extension} is already paused", code="agent_already_paused")
    return DomainError(f"agent {extension} is not paused", code="agent_not_paused")


def _change_status(
    db: Database, who: Actor, extension: str, action: str, reason: str | None = None
) -> AgentRecord:
    checks.extension(extension)
    allowed, status = _CHANGES[action]
    with db.session_scope() as session:
        agents = AgentRepository(session)
        before = agents.get(extension)
        if before.status not in allowed:
            raise _refused(extension, action, before.status)
        after = agents.set_status(extension, status, reason=reason)
        details = {"from": str(before.status), "to": str(status), "reason": reason}
        audited(session, who, f"agent.{action}", extension, details, kind=AGENT)
        changed = AgentStatusChanged(
            agent_extension=extension, status=str(status), reason=reason, by=str(who)
        )
        outbox.append(session, changed)  # last: the outbox lock is held until the commit
    return after


# -- from the agent's own phone (feature codes, docs/phone.md) ------------------------------


class PinRefused(DomainError):
    code = "wrong_pin"


def phone_login(
    db: Database,
    who: Actor,
    extension: str,
    pin: str,
    *,
    max_failures: int = 5,
    lockout_seconds: float = 300.0,
    now: datetime | None = None,
    verify: Callable[[str, str | None], bool] = verify_pin,
) -> AgentRecord:
    """``*21``: log in with the PIN typed on the phone. A wrong PIN is counted (and audited)
    though the login is refused; the ``max_failures``-th in a row locks phone login for
    ``lockout_seconds`` (the CLI and the API still log the agent in). ``verify`` checks the
    PIN against its hash (slow on purpose: the engine runs it off its event loop)."""
    checks.extension(extension)
    at = now or datetime.now(UTC)
    with db.session_scope() as session:
        stored, locked = AgentRepository(session).pin_lock(extension)
    if stored is None:
        raise DomainError(f"agent {extension} has no PIN", code="no_pin")
    if locked is not None and locked > at:
        raise _locked(extension, locked)
    ok = verify(pin, stored)
    with db.session_scope() as session:
        locked = AgentRepository(session).record_pin(
            extension, ok, at, max_failures=max_failures, lockout=lockout_seconds
        )
        if not ok:
            details = {"locked_until": locked.isoformat() if locked else None}
            audited(session, who, "agent.pin_refused", extension, details)
    if locked is not None:
        raise _locked(extension, locked)
    if not ok:
        raise PinRefused(f"agent {extension}: wrong PIN")
    return login(db, who, extension)


def _locked(extension: str, until: datetime) -> PinRefused:
    return PinRefused(
        f"agent {extension}: phone login locked until {until:%H:%M:%S} UTC (too many wrong PINs)",
        code="pin_locked",
    )


def end_wrapup(db: Database, who: Actor, extension: str) -> AgentRecord:
    """``*25``: end the wrap-up now; the engine makes the agent idle at once."""
    checks.extension(extension)
    with db.session_scope() as session:
        record = AgentRepository(session).get(extension)
        if record.status is AgentStatus.LOGGED_OUT:
            raise _refused(extension, "wrapup_end", record.status)
        if record.state is not AgentState.WRAP_UP:
            raise DomainError(
                f"agent {extension} is not in wrap-up ({record.state})", code="agent_not_in_wrapup"
            )
        audited(session, who, "agent.wrapup_end", extension, kind=AGENT, op="wrapup_end")
    return record


def toggle_on_demand(db: Database, who: Actor, extension: str) -> AgentRecord:
    """``*26``: available on demand (one call, then paused again), or back to normal. Turned
    on while paused, the agent is made available for that one call."""
    checks.extension(extension)
    with db.session_scope() as session:
        agents = AgentRepository(session)
        before = agents.get(extension)
        if before.status is AgentStatus.LOGGED_OUT:
            raise _refused(extension, "on_demand", before.status)
        on = not before.on_demand
        record = agents.set_phone(extension, on_demand=on)
        if on and before.status is AgentStatus.PAUSED:
            record = agents.set_status(extension, AgentStatus.AVAILABLE)
        details = {"on_demand": on, "from": str(before.status), "to": str(record.status)}
        audited(session, who, "agent.on_demand", extension, details, kind=AGENT)
    return record


def set_skill(db: Database, who: Actor, extension: str, skill: str, level: int) -> AgentRecord:
    """Give the agent ``skill`` at ``level`` (0-100); again: changes the level."""
    checks.extension(extension)
    checks.skill(skill)
    checks.level(level)
    with db.session_scope() as session:
        record = AgentRepository(session).set_skill(extension, skill, level)
        details = {"skill": skill, "level": level}
        audited(session, who, "agent.skill", extension, details, kind=AGENT, op="skill")
    return record


def remove_skill(db: Database, who: Actor, extension: str, skill: str) -> AgentRecord:
    checks.extension(extension)
    checks.skill(skill)
    with db.session_scope() as session:
        record = AgentRepository(session).remove_skill(extension, skill)
        details = {"skill": skill}
        audited(session, who, "agent.skill.remove", extension, details, kind=AGENT, op="skill")
    return record


def list_agents(db: Database) -> list[AgentDirectoryEntry]:
    """Every agent, by extension, with whether its phone has a SIP account."""
    with db.session_scope() as session:
        return [
            AgentDirectoryEntry(a, a1 is not None) for a, a1 in AgentRepository(session).directory()
        ]


def sip_directory(db: Database) -> list[tuple[AgentRecord, str | None]]:
    """Every agent with its SIP a1-hash (None: no SIP account), for FreeSWITCH's directory."""
    with db.session_scope() as session:
        return AgentRepository(session).directory()


def get(db: Database, extension: str) -> AgentRecord:
    checks.extension(extension)
    with db.session_scope() as session:
        return AgentRepository(session).get(extension)


def show(db: Database, extension: str, history: int = 10) -> AgentDetail:
    """The agent, the queues it serves and its last ``history`` status changes."""
    checks.extension(extension)
    with db.session_scope() as session:
        agents = AgentRepository(session)
        record = agents.get(extension)
        changes = tuple(
            StatusChange(h.at, h.status, h.state, h.reason)
            for h in agents.history(extension, limit=history)
        )
        queues = tuple(
            Membership(q.name, m.tier, m.position)
            for q in QueueRepository(session).all()
            for m in q.members
            if m.extension == extension
        )
    return AgentDetail(record, queues, changes)

"""Supervisors on agents' calls: listen, whisper, barge (FreeSWITCH's ``eavesdrop``).

Only an agent whose role is ``supervisor`` may do it, from the CLI/API (``request``: its phone
rings, and on answer it hears the agent's leg) or from its phone (``*33<agent>``:
``from_phone``). Each session is a row of ``supervision_sessions`` keyed by the agent's call,
audited when asked for; the engine fills in when it started, the modes the supervisor's keys
went through, and when and why it ended (``finish``). ``cdr show`` lists them with the call.

``request`` is a ``call`` change (op ``supervise``) like a hang-up: the engine holding the
call originates the supervisor's leg with ``&eavesdrop(<agent leg>)``; the call itself (its
actor, its legs, its CDR's timing) is not touched.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass
from datetime import UTC, datetime

from callcenter.errors import DomainError
from callcenter.services import checks
from callcenter.services.actor import Actor
from callcenter.services.changes import ChangeKind, audited, record
from callcenter.services.tokens import Forbidden
from callcenter.store.database import Database
from callcenter.store.records import CallRecord, LegRecord, SupervisionRecord
from callcenter.store.repos import AgentRepository, CallRepository
from callcenter.store.repos.supervision import SupervisionRepository
from callcenter.supervision.modes import REQUESTABLE, Mode
from callcenter.vocabulary import CallState, LegRole

OP = "supervise"
RECOVERY = Actor("engine", "recovery")


class NotASupervisor(Forbidden):
    code = "not_a_supervisor"


@dataclass(frozen=True, slots=True)
class SupervisionRequested:
    session: SupervisionRecord
    node: str
    change_id: int


def mode_of(text: str) -> Mode:
    if text not in REQUESTABLE:
        raise checks.InvalidArgument(
            "mode", f"{checks.shown(text)}: expected listen, whisper or barge"
        )
    return Mode(text)


def request(
    db: Database, who: Actor, uuid: str, mode: str, supervisor: str, *, source: str = "api"
) -> SupervisionRequested:
    """Ring ``supervisor``'s phone; on answer it joins the agent's leg of call ``uuid`` in
    ``mode`` (listen, whisper: the agent hears it, barge: both do)."""
    checks.call_uuid(uuid)
    checks.extension(supervisor)
    asked = mode_of(mode)
    with db.session_scope() as session:
        _check_supervisor(AgentRepository(session), supervisor)
        call = CallRepository(session).get(uuid)  # call_not_found
        leg = _agent_leg(call)
        _not_self(leg, supervisor)
        row = SupervisionRepository(session).add(
            call_uuid=uuid, leg_uuid=str(uuidlib.uuid4()), agent_leg_uuid=leg.uuid,
            supervisor=supervisor, agent=leg.agent_extension or "", mode=str(asked),
            modes="", source=source, requested_by=str(who), requested_at=_now(),
        )  # fmt: skip
        details = _details(row) | {"by": str(who), "node": call.node}
        audited(session, who, f"call.{asked}", uuid, details)
        change_id = record(session, who, ChangeKind.CALL, uuid, OP, details)
    return SupervisionRequested(row, call.node, change_id)


def from_phone(
    db: Database, who: Actor, supervisor: str, agent: str, leg_uuid: str
) -> SupervisionRecord:
    """``*33<agent>`` dialled by ``supervisor``'s phone (its leg ``leg_uuid``): the session
    on the agent's live call, listening; the phone's call runs the eavesdrop itself."""
    checks.extension(agent)
    with db.session_scope() as session:
        _check_supervisor(AgentRepository(session), supervisor)
        AgentRepository(session).get(agent)  # agent_not_found
        found = [
            (call, leg)
            for call in CallRepository(session).live()
            for leg in call.legs
            if leg.agent_extension == agent and _on_call(leg)
        ]
        if not found:
            raise DomainError(f"agent {agent} is on no call", code="agent_not_on_call")
        call, leg = found[-1]
        _not_self(leg, supervisor)
        row = SupervisionRepository(session).add(
            call_uuid=call.uuid, leg_uuid=leg_uuid, agent_leg_uuid=leg.uuid,
            supervisor=supervisor, agent=agent, mode=str(Mode.LISTEN), modes="",
            source="phone", requested_by=str(who), requested_at=_now(), started_at=_now(),
        )  # fmt: skip
        audited(session, who, f"call.{Mode.LISTEN}", call.uuid, _details(row) | {"by": str(who)})
    return row


def finish(
    db: Database,
    session_id: int,
    *,
    modes: str,
    ended_at: datetime,
    reason: str,
    started_at: datetime | None = None,
) -> SupervisionRecord:
    """The engine's end of a session: the modes it went through, when and why it ended."""
    with db.session_scope() as session:
        return SupervisionRepository(session).ended(
            session_id, modes=modes, at=ended_at, reason=reason, started_at=started_at
        )


def get(db: Database, session_id: int) -> SupervisionRecord:
    with db.session_scope() as session:
        return SupervisionRepository(session).get(session_id)  # supervision_not_found


def left_open(db: Database, node: str) -> list[SupervisionRecord]:
    """The sessions a previous run of the engine of ``node`` left without an end."""
    with db.session_scope() as session:
        return SupervisionRepository(session).open_on(node)


def close_left(
    db: Database, session_id: int, *, reason: str, at: datetime | None = None
) -> SupervisionRecord:
    """A session a restart found over (its leg gone) or cut (a phone's): its end stored
    and audited, by the engine."""
    with db.session_scope() as session:
        row = SupervisionRepository(session).ended(
            session_id, modes="", at=at or _now(), reason=reason, started_at=None
        )
        audited(session, RECOVERY, "supervision.closed", row.call_uuid,
                _details(row) | {"reason": reason})  # fmt: skip
    return row


def for_call(db: Database, uuid: str) -> list[SupervisionRecord]:
    checks.call_uuid(uuid)
    with db.session_scope() as session:
        return SupervisionRepository(session).for_call(uuid)


def _check_supervisor(agents: AgentRepository, extension: str) -> None:
    found = agents.get(extension)  # agent_not_found
    if found.role != "supervisor":
        raise NotASupervisor(
            f"agent {extension} is not a supervisor (callcenter agent set {extension} "
            "--role supervisor)"
        )


def _on_call(leg: LegRecord) -> bool:
    return leg.role is LegRole.AGENT and leg.ended_at is None and leg.answered_at is not None


def _agent_leg(call: CallRecord) -> LegRecord:
    if call.state is CallState.ENDED:
        raise DomainError(f"call {call.uuid} has ended", code="call_ended")
    legs = [leg for leg in call.legs if _on_call(leg)]
    if not legs:
        raise DomainError(f"call {call.uuid} has no agent on it", code="no_agent_on_call")
    return legs[-1]


def _not_self(leg: LegRecord, supervisor: str) -> None:
    if leg.agent_extension == supervisor:
        raise DomainError(f"agent {supervisor} cannot listen to its own call", code="own_call")


def _details(row: SupervisionRecord) -> dict[str, str | int]:
    return {
        "session": row.id, "supervisor": row.supervisor, "agent": row.agent, "mode": row.mode,
        "leg": row.leg_uuid, "agent_leg": row.agent_leg_uuid, "source": row.source,
    }  # fmt: skip


def _now() -> datetime:
    return datetime.now(UTC)

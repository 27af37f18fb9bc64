"""Live calls: list and show them (the ``calls`` and ``call_legs`` tables engines keep), and
ask the engine that holds one to hang it up, transfer it, or bridge it to an agent.

An operation on a call is a ``call`` change (key: the call's UUID, op: ``hangup``,
``transfer`` or ``bridge_agent``): every running engine reads it and the one whose call
manager holds the call hands the intent to the call's actor, its only writer. The service
checks what it can beforehand (the call is known and not ended, the target exists); the
CDR tells who ended or transferred the call.
"""

from __future__ import annotations

from dataclasses import dataclass

from callcenter.errors import DomainError
from callcenter.services import checks
from callcenter.services.actor import Actor
from callcenter.services.changes import ChangeKind, audited, record
from callcenter.store.database import Database
from callcenter.store.records import CallRecord
from callcenter.store.repos import AgentRepository, CallRepository, QueueRepository
from callcenter.trunks.outbound import check_number
from callcenter.trunks.targets import FLOW_NAME, QUEUE_NAME
from callcenter.vocabulary import EXTENSION, CallState

CALL = ChangeKind.CALL
TRANSFER_KINDS = ("queue", "ivr", "extension", "number")


@dataclass(frozen=True, slots=True)
class CallRequested:
    """An operation on a live call, sent to the engines (carried out by the one holding it)."""

    call: CallRecord
    op: str
    change_id: int


def list_live(db: Database, node: str | None = None) -> list[CallRecord]:
    """The calls not ended, oldest first, with their legs (of one FreeSWITCH node if given)."""
    with db.session_scope() as session:
        return CallRepository(session).live(node)


def show(db: Database, uuid: str) -> CallRecord:
    """One call with its legs, live or ended."""
    checks.call_uuid(uuid)
    with db.session_scope() as session:
        return CallRepository(session).get(uuid)


def hangup(db: Database, who: Actor, uuid: str, cause: str = "NORMAL_CLEARING") -> CallRequested:
    """Hang up a live call with a FreeSWITCH hangup cause."""
    checks.call_uuid(uuid)
    checks.hangup_cause(cause)
    return _request(db, who, uuid, "hangup", {"cause": cause})


def transfer(db: Database, who: Actor, uuid: str, target: str) -> CallRequested:
    """Send a live call to ``queue:NAME``, ``ivr:FLOW``, ``extension:EXT`` or ``number:NUM``
    (dialled through the outbound routes). The queue must be stored, the extension an
    agent's (the directory the engine renders holds the agents only)."""
    checks.call_uuid(uuid)
    kind, _, arg = target.partition(":")
    grammar = {
        "queue": (QUEUE_NAME, "a queue name (1-64 of A-Z a-z 0-9 . _ -)"),
        "ivr": (FLOW_NAME, "a flow name (1-64 of a-z 0-9 _ -)"),
        "extension": (EXTENSION, "an extension (1-32 of A-Z a-z 0-9 . _ -)"),
    }
    if kind not in TRANSFER_KINDS:
        raise checks.InvalidArgument(
            "target",
            f"{checks.shown(target)}: expected queue:NAME, ivr:FLOW, extension:EXT or number:NUM",
        )
    if kind == "number":
        check_number(arg)
    elif not grammar[kind][0].fullmatch(arg):
        raise checks.InvalidArgument("target", f"{checks.shown(arg)} is not {grammar[kind][1]}")
    if kind in ("queue", "extension"):
        with db.session_scope() as session:
            if kind == "queue":
                QueueRepository(session).get(arg)  # queue_not_found
            else:  # the engine rings user/EXT: only agents are in its directory
                AgentRepository(session).get(arg)  # agent_not_found
    return _request(db, who, uuid, "transfer", {"target": f"{kind}:{arg}"})


def bridge_agent(db: Database, who: Actor, uuid: str, extension: str) -> CallRequested:
    """Ring agent ``extension`` and bridge the call to it when it answers."""
    checks.call_uuid(uuid)
    checks.extension(extension)
    with db.session_scope() as session:
        AgentRepository(session).get(extension)  # agent_not_found
    return _request(db, who, uuid, "bridge_agent", {"extension": extension})


def request(db: Database, who: Actor, uuid: str, op: str, details: dict[str, str]) -> CallRequested:
    """Another service's operation on a live call (``services.recordings``)."""
    return _request(db, who, uuid, op, details)


def _request(
    db: Database, who: Actor, uuid: str, op: str, details: dict[str, str]
) -> CallRequested:
    with db.session_scope() as session:
        call = CallRepository(session).get(uuid)  # call_not_found
        if call.state is CallState.ENDED:
            raise DomainError(f"call {uuid} has ended", code="call_ended")
        full = {**details, "by": str(who), "node": call.node}
        audited(session, who, f"call.{op}", uuid, full)
        change_id = record(session, who, CALL, uuid, op, full)
    return CallRequested(call, op, change_id)

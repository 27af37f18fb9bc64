"""What is still used cannot be removed from under what uses it: a running campaign's queue,
agents, trunks and routes; the queue or agent a stored DID route or queue sends calls to;
the trunk an outbound route dials through.

IVR flows are YAML files, not stored: a flow naming a queue or an agent is not looked at
here. ``callcenter ivr reload`` (and an engine's start) reports a flow naming an unknown
queue, and refuses to load it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from callcenter.errors import DomainError
from callcenter.store.repos import OutboundRouteRepository, QueueRepository, RouteRepository
from callcenter.store.repos.campaigns import CampaignRepository

# what an operator does to point the users of a target elsewhere
TARGET_REMEDY = (
    "point them elsewhere first (callcenter route remove DID, "
    "queue set QUEUE --overflow TARGET|--no-overflow, queue set QUEUE --reset exit_target)"
)


def not_dialling(
    session: Session, what: str, does: str, remedy: str, code: str, why: str = "", **used: str
) -> None:
    """Refuse to remove ``what`` while a running campaign uses it (``used``: how, as
    ``CampaignRepository.running_with`` takes it): left running without it, the campaign
    would dial no one, or fail every call, silently."""
    dialling = CampaignRepository(session).running_with(**used)
    if dialling:
        raise DomainError(
            f"{what} {does} running campaign(s) {', '.join(dialling)}{why}: "
            f"{remedy} or stop them first",
            code=code,
        )


def targeting(session: Session, target: str) -> list[str]:
    """The stored DID routes (enabled or not) and queues (their overflow, their exit key's
    target) that send calls to ``target`` (``queue:NAME``, ``extension:EXT``)."""
    users = [
        f"route {r.did}"
        for r in RouteRepository(session).all()
        if f"{r.target_type}:{r.target}" == target
    ]
    for queue in QueueRepository(session).all():
        if f"queue:{queue.name}" == target:
            continue  # the queue removed: its own settings go with it
        if queue.overflow_target == target:
            users.append(f"queue {queue.name} (overflow)")
        if queue.routing.get("exit_target") == target:
            users.append(f"queue {queue.name} (exit_target)")
    return users


def not_targeted(session: Session, what: str, target: str, code: str) -> None:
    """Refuse to remove ``what`` while a stored route or queue sends calls to ``target``:
    every call sent there would be rejected, and nothing would say why."""
    users = targeting(session, target)
    if users:
        raise DomainError(f"{what} is the target of {', '.join(users)}: {TARGET_REMEDY}", code=code)


def not_dialled_through(session: Session, trunk: str) -> None:
    """Refuse to remove ``trunk`` while an outbound route names it (its gateway or a
    failover): the route's calls would fail on a gateway FreeSWITCH no longer has."""
    naming = [
        r.name
        for r in OutboundRouteRepository(session).all()
        if trunk == r.gateway or trunk in r.failover_gateways.split(",")
    ]
    if naming:
        raise DomainError(
            f"trunk {trunk!r} carries the calls of outbound route(s) {', '.join(naming)}: "
            "give them other trunks first (callcenter route outbound remove NAME, then add "
            "it again)",
            code="trunk_in_use",
        )

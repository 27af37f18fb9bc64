"""Trunk groups: add, change, remove, list. A group names trunks in order and a strategy
(``callcenter.trunks.groups``); an outbound route points at it instead of its own trunks.
Each change is audited and reaches every running engine as a ``trunk_group`` change: its
outbound routes table reads the groups again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from callcenter.errors import DomainError
from callcenter.services import in_use
from callcenter.services.actor import Actor
from callcenter.services.changes import ChangeKind, audited
from callcenter.store.database import Database
from callcenter.store.repos import TrunkGroupRepository, TrunkRepository
from callcenter.trunks.groups import Strategy, TrunkGroup, check_group

GROUP = ChangeKind.TRUNK_GROUP


def view(group: TrunkGroup) -> dict[str, Any]:
    return {"name": group.name, "strategy": str(group.strategy), "members": list(group.members)}


def add(
    db: Database, who: Actor, name: str, members: Sequence[str], strategy: str = "in-order"
) -> TrunkGroup:
    """Store a group of stored trunks (``InvalidTrunkGroup`` names the bad field)."""
    with db.session_scope() as session:
        known = [t.name for t in TrunkRepository(session).all()]
        group = check_group(name, members, strategy, trunks=known)
        stored = TrunkGroupRepository(session).add(group)
        audited(session, who, "trunk_group.add", name, view(stored), kind=GROUP)
    return stored


def update(
    db: Database,
    who: Actor,
    name: str,
    *,
    members: Sequence[str] | None = None,
    strategy: str | None = None,
) -> TrunkGroup:
    """Change a group's members (all of them, in their new order) or its strategy."""
    with db.session_scope() as session:
        repo = TrunkGroupRepository(session)
        stored = repo.get(name)
        known = [t.name for t in TrunkRepository(session).all()]
        group = check_group(
            name,
            stored.members if members is None else members,
            str(stored.strategy) if strategy is None else strategy,
            trunks=known,
        )
        changed = repo.replace(group)
        audited(session, who, "trunk_group.set", name, view(changed), kind=GROUP)
    return changed


def remove(db: Database, who: Actor, name: str) -> None:
    """Delete a group no outbound route points at."""
    with db.session_scope() as session:
        repo = TrunkGroupRepository(session)
        repo.get(name)
        in_use.not_dialling(
            session,
            f"trunk group {name!r}",
            "carries the calls of",
            "give them another route",
            "trunk_group_in_use",
            " (their outbound route names it)",
            group=name,
        )
        routes = repo.routes_naming(name)
        if routes:
            raise DomainError(
                f"trunk group {name!r} is the target of outbound route(s) {', '.join(routes)}: "
                "remove or change those first",
                code="trunk_group_in_use",
            )
        repo.delete(name)
        audited(session, who, "trunk_group.remove", name, kind=GROUP)


def list_groups(db: Database) -> list[TrunkGroup]:
    with db.session_scope() as session:
        return TrunkGroupRepository(session).all()


def get(db: Database, name: str) -> TrunkGroup:
    with db.session_scope() as session:
        return TrunkGroupRepository(session).get(name)


def check_exists(db: Database, name: str) -> None:
    """An outbound route may point only at a stored group (``NotFound`` otherwise)."""
    get(db, name)


STRATEGIES = tuple(s.value for s in Strategy)

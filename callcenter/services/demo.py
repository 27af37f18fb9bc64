"""What `callcenter demo` stores before its simulated calls: agents, queues and routes,
through the same services an operator uses (what an earlier run stored is kept)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

from sqlalchemy import func, select

from callcenter.errors import AlreadyExists
from callcenter.services import agents, queues, routes
from callcenter.services.actor import Actor
from callcenter.store.database import Database
from callcenter.store.models import Cdr
from callcenter.vocabulary import AgentStatus


def seed(
    db: Database,
    who: Actor,
    *,
    domain: str,
    agent_skills: Mapping[str, Mapping[str, int]],
    queue_members: Mapping[str, Sequence[str]],
    route_targets: Mapping[str, str],
) -> None:
    """Every agent logged in and available, every queue with its members, every route."""
    for extension, skills in agent_skills.items():
        with contextlib.suppress(AlreadyExists):
            name = f"Demo agent {extension}"
            agents.add(
                db, who, extension, domain=domain, name=name, wrapup_seconds=2, skills=dict(skills)
            )
        status = agents.get(db, extension).status
        if status is AgentStatus.LOGGED_OUT:
            agents.login(db, who, extension)
        elif status is AgentStatus.PAUSED:
            agents.ready(db, who, extension)
    for name, members in queue_members.items():
        with contextlib.suppress(AlreadyExists):
            settings = queues.QueueSettings(agent_ring_seconds=10, max_wait_seconds=60)
            queues.add(db, who, name, settings)
            for extension in members:
                queues.add_member(db, who, name, extension)
    for did, target in route_targets.items():
        with contextlib.suppress(AlreadyExists):
            routes.add(db, who, did, target, description="demo")


def cdr_count(db: Database) -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count(Cdr.id))) or 0)

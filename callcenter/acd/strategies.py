"""Which free agent a queue offers a caller to: tier first, then the queue's strategy.

Ranks a snapshot of free agents; pure. Ties always fall back to the longest idle, then the
extension, so the order is total and a test can state it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from callcenter.vocabulary import QueueStrategy

if TYPE_CHECKING:
    from callcenter.acd.board import AgentSlot, QueueSpec

Key = Callable[["AgentSlot"], tuple[float, ...]]


def rank(
    spec: QueueSpec,
    agents: Sequence[AgentSlot],
    last_position: int,
    rng: random.Random,
    *,
    best_only: bool = False,
) -> list[AgentSlot]:
    """The agents best first; ``best_only``: just the first (one pass, no sort)."""
    members = {m.extension: m for m in spec.members}
    positions = {ext: m.position for ext, m in members.items()}
    cycle = max(positions.values(), default=1)
    strategy = spec.strategy
    noise = {a.extension: rng.random() for a in agents} if strategy is QueueStrategy.RANDOM else {}

    def by_strategy(agent: AgentSlot) -> tuple[float, ...]:
        if strategy is QueueStrategy.ROUND_ROBIN:
            # the next position after the one offered last, wrapping around
            return (float((positions[agent.extension] - last_position - 1) % cycle),)
        if strategy is QueueStrategy.FEWEST_CALLS:
            return (float(agent.calls_answered),)
        if strategy is QueueStrategy.LEAST_TALK_TIME:
            return (agent.talk_seconds,)
        if strategy is QueueStrategy.RANDOM:
            return (noise[agent.extension],)
        if strategy is QueueStrategy.SKILLS_BASED:
            wanted = spec.required_skills or agent.skills
            return (-float(sum(agent.skills.get(s, 0) for s in wanted)),)
        return ()  # longest_idle and ring_all: the tie-break below is the whole rule

    def key(agent: AgentSlot) -> tuple[object, ...]:
        return (
            members[agent.extension].tier,
            *by_strategy(agent),
            agent.idle_since,
            agent.extension,
        )

    if best_only:
        return [min(agents, key=key)] if agents else []
    return sorted(agents, key=key)

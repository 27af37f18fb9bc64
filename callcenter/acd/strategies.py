"""Which free agent a queue offers a caller to: tier first, then the queue's strategy.

Ranks a snapshot of free agents; pure. Each key is mod_callcenter's ``ORDER BY`` (or
app_queue's metric) for the strategy; ties fall back to the longest idle, then the
extension, so the order is total and a test can state it.

- ``ring_all``: every free agent of the best tier at once, by position.
- ``longest_idle`` (longest-idle-agent): idle the longest (mod_callcenter: offered the
  longest ago; here idle since the last call ended or the agent became available).
- ``round_robin``: the member after the one this queue offered last, in the same tier;
  once past that tier's last member, from the top (mod_callcenter's two-part query).
- ``top_down``: the same, but after the member this *caller* was offered last.
- ``least_talk_time``, ``fewest_calls``: the least talk time / calls answered, then position.
- ``sequentially_by_agent_order``: by position, then offered the longest ago.
- ``random``: at random within the tier.
- ``ring_progressively``: the best tier's free agents by position, one more rung every
  ``ring_progressively_delay`` seconds while the earlier ones keep ringing.
- ``rrmemory`` (app_queue): the members in configured order, starting after the one this
  queue offered last and wrapping around within the tier.
- ``linear`` (app_queue): the same, per caller: each caller starts at the first member.
- ``wrandom`` (app_queue): random, weighted by tier: tier T draws from [0, T), so a lower
  tier usually wins but not always (no strict tier order).
- ``skills_based``: the highest sum of levels in the skills the caller asks (else the
  queue's required skills), then idle the longest.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from callcenter.vocabulary import QueueStrategy

if TYPE_CHECKING:
    from callcenter.acd.board import AgentSlot, Member, QueueSpec

S = QueueStrategy
# offered to every free agent of the best tier at once
RING_MANY = frozenset({S.RING_ALL, S.RING_PROGRESSIVELY})
# the caller's own last-offered member matters
PER_CALLER = frozenset({S.TOP_DOWN, S.LINEAR})
# no strict tier order
WEIGHTED_TIERS = frozenset({S.WRANDOM})

Order = Mapping[str, tuple[int, "Member"]]  # extension -> (index in member order, member)


def rank(
    spec: QueueSpec,
    agents: Sequence[AgentSlot],
    order: Order,
    rng: random.Random,
    *,
    last: str | None = None,
    asked: Mapping[str, int] | None = None,
    best_only: bool = False,
) -> list[AgentSlot]:
    """The agents best first (``best_only``: just the first, one pass, no sort).

    ``last``: the extension offered last (by this queue, or to this caller for the
    per-caller strategies); ``asked``: the skills the caller asks."""
    strategy = spec.strategy
    by_strategy = _key(strategy, spec, agents, order, rng, last, asked)
    weighted = strategy in WEIGHTED_TIERS

    def key(agent: AgentSlot) -> tuple[object, ...]:
        tier = 0 if weighted else order[agent.extension][1].tier
        return (tier, *by_strategy(agent), agent.idle_since, agent.extension)

    if best_only:
        return [min(agents, key=key)] if agents else []
    ranked = sorted(agents, key=key)
    if strategy in RING_MANY and ranked:
        best = order[ranked[0].extension][1].tier
        ranked = [a for a in ranked if order[a.extension][1].tier == best]
    return ranked


def _key(
    strategy: QueueStrategy,
    spec: QueueSpec,
    agents: Sequence[AgentSlot],
    order: Order,
    rng: random.Random,
    last: str | None,
    asked: Mapping[str, int] | None,
) -> Callable[[AgentSlot], tuple[float, ...]]:
    def member(agent: AgentSlot) -> Member:
        return order[agent.extension][1]

    if strategy in (S.RING_ALL, S.RING_PROGRESSIVELY):
        return lambda a: (float(member(a).position),)
    if strategy in (S.ROUND_ROBIN, S.TOP_DOWN):
        after = order.get(last) if last is not None else None

        def after_last(agent: AgentSlot) -> tuple[float, ...]:
            mine = member(agent)
            later = after is not None and (
                mine.tier == after[1].tier and mine.position > after[1].position
            )
            return (0.0 if later else 1.0, float(mine.position), agent.last_offered)

        return after_last
    if strategy in (S.RRMEMORY, S.LINEAR):
        start = order[last][0] + 1 if last is not None and last in order else 0
        size = max(len(order), 1)
        return lambda a: (float((order[a.extension][0] - start) % size),)
    if strategy is S.LEAST_TALK_TIME:
        return lambda a: (a.talk_seconds, float(member(a).position))
    if strategy is S.FEWEST_CALLS:
        return lambda a: (float(a.calls_answered), float(member(a).position))
    if strategy is S.SEQUENTIALLY_BY_AGENT_ORDER:
        return lambda a: (float(member(a).position), a.last_offered)
    if strategy is S.RANDOM:
        noise = {a.extension: rng.random() for a in agents}
        return lambda a: (noise[a.extension],)
    if strategy is S.WRANDOM:
        weight = {a.extension: rng.random() * member(a).tier for a in agents}
        return lambda a: (weight[a.extension],)
    if strategy is S.SKILLS_BASED:
        wanted = asked or spec.required_skills

        def skilled(agent: AgentSlot) -> tuple[float, ...]:
            skills = wanted or agent.skills
            return (-float(sum(agent.skills.get(s, 0) for s in skills)),)

        return skilled
    return lambda a: ()  # longest_idle: the tie-break is the whole rule

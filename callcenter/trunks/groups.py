"""Trunk groups: a name an outbound route can point at instead of its own list of trunks,
with the member trunks in order and a strategy that picks which is tried first. Pure.

- ``in-order``: always the members as listed (a primary carrier and its backups);
- ``round-robin``: each call starts one member further (spreads calls evenly);
- ``least-busy``: the member with the fewest channels in use first (the limiter's count,
  inbound and outbound), ties in listed order.

Whatever the first, the others follow in turn, so a call fails over across the whole
group on the route's causes (``trunks.failover``), each member within its own limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from callcenter.trunks.checks import InvalidTrunk, check_name, shown

MAX_MEMBERS = 32


class Strategy(StrEnum):
    IN_ORDER = "in-order"
    ROUND_ROBIN = "round-robin"
    LEAST_BUSY = "least-busy"


class InvalidTrunkGroup(InvalidTrunk):
    code = "trunk_group_invalid"


@dataclass(frozen=True, slots=True)
class TrunkGroup:
    name: str
    members: tuple[str, ...]
    strategy: Strategy = Strategy.IN_ORDER


def check_group(
    name: str, members: Iterable[str], strategy: str, *, trunks: Iterable[str] | None = None
) -> TrunkGroup:
    """A group that can be stored: a trunk-like name, 1 to ``MAX_MEMBERS`` distinct trunks
    (each a stored trunk when ``trunks`` is given), a known strategy; ``InvalidTrunkGroup``
    naming the field otherwise."""
    try:
        check_name(name)
    except InvalidTrunk as exc:
        raise InvalidTrunkGroup("name", exc.reason.replace("trunk name", "group name")) from None
    listed = tuple(members)
    if not 1 <= len(listed) <= MAX_MEMBERS:
        raise InvalidTrunkGroup("members", f"{len(listed)} trunks: a group has 1 to {MAX_MEMBERS}")
    for member in listed:
        try:
            check_name(member)
        except InvalidTrunk as exc:
            raise InvalidTrunkGroup("members", exc.reason) from None
    if len(set(listed)) != len(listed):
        raise InvalidTrunkGroup("members", f"a trunk is listed twice in {', '.join(listed)}")
    if trunks is not None:
        known = set(trunks)
        missing = [m for m in listed if m not in known]
        if missing:
            raise InvalidTrunkGroup(
                "members", f"no trunk {shown(missing[0])} (add it first: callcenter trunk add)"
            )
    try:
        chosen = Strategy(strategy)
    except ValueError:
        names = "|".join(s.value for s in Strategy)
        raise InvalidTrunkGroup("strategy", f"{shown(strategy)} is not one of {names}") from None
    return TrunkGroup(name, listed, chosen)


def order(
    group: TrunkGroup, *, turn: int = 0, busy: Mapping[str, int] | None = None
) -> tuple[str, ...]:
    """The members in the order one call tries them: ``turn`` is the call's number for
    round-robin, ``busy`` the channels each trunk has in use for least-busy."""
    members = group.members
    if group.strategy is Strategy.ROUND_ROBIN:
        start = turn % len(members)
        return members[start:] + members[:start]
    if group.strategy is Strategy.LEAST_BUSY:
        in_use = busy or {}
        ranked = sorted(range(len(members)), key=lambda i: (in_use.get(members[i], 0), i))
        return tuple(members[i] for i in ranked)
    return members

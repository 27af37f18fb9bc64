"""The ACD's invariants, checked on the live board: each broken one is counted and logged.

The same checks serve the stateful property test (tests/unit/test_acd_invariants.py) and
the running engine (the dispatcher calls them after each step; the full sweep at most once
per ``interval`` seconds, the passed-over check on every match that offered someone):

- ``offered_twice``: an agent is in two callers' offers, or offered one caller while its
  slot names another;
- ``no_live_call``: an agent offering or in a queue call without the live call behind it;
- ``passed_over``: a caller offered an agent that an earlier caller of equal or higher
  priority, still waiting, could have taken; or a free agent left idle beside a caller it
  could take;
- ``outcome_twice``: a queue stay closed twice (each stay ends with exactly one outcome);
- ``no_outcome``: a queue stay closed without one (a restart that finds a caller bridged
  writes its stay ``answered``: ``Dispatcher._bridged_before``).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Collection, Iterable
from typing import Protocol

from callcenter.acd.board import AgentSlot, Board, Ticket, _meets
from callcenter.vocabulary import AgentState

log = logging.getLogger(__name__)

RULES = ("offered_twice", "no_live_call", "passed_over", "outcome_twice", "no_outcome")
_REMEMBERED = 10_000  # closed stays remembered to catch a second close


class Violations(Protocol):
    def labels(self, *, rule: str) -> _Inc: ...


class _Inc(Protocol):
    def inc(self, amount: float = 1) -> None: ...


def eligible(board: Board, ticket: Ticket, agent: AgentSlot, now: float) -> bool:
    """Whether the queue would offer this caller this agent now, were the agent free."""
    spec = board.queues.get(ticket.queue)
    if spec is None:
        return False
    member = next((m for m in spec.members if m.extension == agent.extension), None)
    if member is None or member.tier > board.tier_cap(spec, now - ticket.first_at):
        return False
    return _meets(agent, board.asked(spec, ticket, now))


def board_violations(
    board: Board, now: float, live: Collection[str], talking: Collection[str]
) -> list[tuple[str, str]]:
    """The sweep: offers and calls against the live stays (``live``: tickets not closed;
    ``talking``: tickets answered whose call goes on)."""
    found: list[tuple[str, str]] = []
    owner: dict[str, str] = {}
    for ticket in board.tickets.values():
        for ext in ticket.offer or ():
            if ext in owner:
                found.append(("offered_twice", f"agent {ext}: {owner[ext]} and {ticket.id}"))
            owner[ext] = ticket.id
            agent = board.agents.get(ext)
            if agent is not None and agent.ticket != ticket.id:
                found.append(
                    ("offered_twice", f"agent {ext} offered {ticket.id}, holds {agent.ticket}")
                )
    for agent in board.agents.values():
        if agent.state is AgentState.OFFERING:
            offering = board.tickets.get(agent.ticket or "")
            rung = (offering.offer or ()) if offering is not None else ()
            if agent.ticket not in live or agent.extension not in rung:
                found.append(("no_live_call", f"agent {agent.extension} offering {agent.ticket}"))
        elif agent.ticket is not None and agent.ticket not in talking:
            found.append(("no_live_call", f"agent {agent.extension} in call {agent.ticket}"))
        elif agent.state is AgentState.IN_CALL and agent.ticket is None and not agent.holds:
            found.append(("no_live_call", f"agent {agent.extension} in call, none held"))
    # what the waiting callers ask, once per queue and distinct demand: (tier cap, skills)
    Demand = tuple[int, tuple[tuple[str, int], ...]]
    demands: dict[str, dict[Demand, Ticket]] = {}
    for ticket in board.tickets.values():
        spec = board.queues.get(ticket.queue)
        if spec is None or not ticket.waiting or ticket.offer is not None:
            continue
        demand = (
            board.tier_cap(spec, now - ticket.first_at),
            tuple(sorted(board.asked(spec, ticket, now).items())),
        )
        demands.setdefault(spec.name, {}).setdefault(demand, ticket)
    for name, wanted in demands.items():
        for member in board.queues[name].members:
            agent = board.agents.get(member.extension)
            if agent is None or not agent.free(now):
                continue
            for (cap, skills), ticket in wanted.items():
                if member.tier <= cap and _meets(agent, dict(skills)):
                    found.append(
                        ("passed_over", f"agent {agent.extension} idle, {ticket.id} waits")
                    )
                    break
    return found


def passed_over(board: Board, offered: Iterable[Ticket], now: float) -> list[tuple[str, str]]:
    """A caller offered an agent an earlier caller still waiting could have taken."""
    found: list[tuple[str, str]] = []
    waiting = [t for t in board.tickets.values() if t.waiting and t.offer is None]
    for ticket in offered:
        for ext in ticket.offer or ():
            agent = board.agents.get(ext)
            if agent is None:
                continue
            for earlier in waiting:
                if _owed(earlier, ticket) and eligible(board, earlier, agent, now):
                    found.append(("passed_over", f"{earlier.id} before {ticket.id} for {ext}"))
    return found


def _owed(earlier: Ticket, later: Ticket) -> bool:
    """Whether ``earlier`` must be served before ``later``: a higher priority, or the same
    and in the queues first (an overflowed caller since its first queue). Stated here, not
    taken from the board, so that the board's order is checked against it."""
    if earlier.priority != later.priority:
        return earlier.priority > later.priority
    first = (earlier.first_us or earlier.since_us, earlier.seq)
    return first < (later.first_us or later.since_us, later.seq)


class Auditor:
    def __init__(self, violations: Violations, *, interval: float = 1.0) -> None:
        self.violations = violations
        self.interval = interval
        self.count = 0
        self._closed: OrderedDict[str, None] = OrderedDict()
        self._next_sweep = 0.0

    def after_step(
        self,
        board: Board,
        offered: list[Ticket],
        now: float,
        live: Collection[str],
        talking: Collection[str],
    ) -> None:
        found = passed_over(board, offered, now) if offered else []
        if now >= self._next_sweep:
            self._next_sweep = now + self.interval
            found += board_violations(board, now, live, talking)
        self.report(found)

    def closed(self, ticket: str) -> None:
        """A stay got its outcome: a second one for the same stay is a violation."""
        if ticket in self._closed:
            self.report([("outcome_twice", f"stay {ticket}")])
            return
        self._closed[ticket] = None
        if len(self._closed) > _REMEMBERED:
            self._closed.popitem(last=False)

    def report(self, found: list[tuple[str, str]]) -> None:
        for rule, detail in found:
            self.count += 1
            self.violations.labels(rule=rule).inc()
            log.error("ACD invariant %s broken: %s", rule, detail)

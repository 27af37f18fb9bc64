"""ACD dispatch benchmark: the dispatcher's board at contact-center scale, without telephony.

Run: .venv/bin/python tests/benchmarks/bench_acd.py [--agents 500] [--queues 20] [--waiting 2000]

The dispatcher is a single greenlet: every message it handles (a caller joining, an offer
failing, an agent freed) ends with ``Board.match``. So the figure that matters is the cost
of one message at scale, in the two situations a busy contact center lives in:

- busy hour: every agent talking, ``--waiting`` callers queued; callers keep joining and
  leaving (each message must stay cheap although nothing can be matched);
- agents freeing up: one agent at a time becomes free and is matched with the best
  waiting caller of its queues (skills checked), answers, talks, is released.

Each agent is a member of 3 queues; queues require a skill level some agents lack. The
target is a message in under 1 ms at 500 agents and 2,000 waiting callers (the dispatcher
would then handle over 1,000 messages/s, ten times a 100 calls/s site's need).

A third board has routing rules active (issue 13): 1,000 agents, 100 queues, 500 waiting
callers each asking its own skills, every queue with skill relaxation and tier rules and
a mix of strategies; the figure is the dispatcher's decision (one agent freed, or a caller
joining, then ``match`` and the auditor's passed-over check), target under 5 ms at p99.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from callcenter.acd.auditor import passed_over
from callcenter.acd.board import AgentSlot, Board, Member, QueueSpec, Ticket
from callcenter.acd.rules import Routing, TierRules, parse_relax
from callcenter.vocabulary import AgentStatus, QueueStrategy

TARGET_MS = 1.0
RULES_TARGET_MS = 5.0
RELAX = parse_relax("after 20s: english >= 3, french >= 2; after 60s: any english, drop french")


def build(agents: int, queues: int, rng: random.Random) -> Board:
    names = [f"q{n}" for n in range(queues)]
    membership: dict[str, list[Member]] = {name: [] for name in names}
    board = Board(rng=rng)
    slots = []
    for n in range(agents):
        ext = f"{1000 + n}"
        for position, name in enumerate(rng.sample(names, 3)):
            membership[name].append(Member(ext, tier=1 + position, position=n + 1))
        slots.append(AgentSlot(ext, AgentStatus.AVAILABLE, skills={"english": rng.randint(1, 5)}))
    specs = [
        QueueSpec(name, members=tuple(membership[name]), required_skills={"english": 2})
        for name in names
    ]
    board.configure(specs, slots, 0.0)
    return board


def busy_hour(board: Board, waiting: int, rng: random.Random) -> list[float]:
    """All agents talking; callers join and leave. Cost of one message (join + match)."""
    now = 1.0
    for agent in board.agents.values():
        agent.ticket = "talking"
    names = list(board.queues)
    for n in range(waiting):
        board.join(Ticket(f"w{n}", f"c{n}", rng.choice(names), rng.randint(0, 3)), now)
    costs = []
    for n in range(2000):
        ticket = Ticket(f"j{n}", f"cj{n}", rng.choice(names), rng.randint(0, 3))
        start = time.perf_counter()
        board.join(ticket, now)
        board.match(now)
        costs.append(time.perf_counter() - start)
        board.leave(ticket, "abandoned")  # type: ignore[arg-type]
    return costs


def freeing_up(board: Board, rng: random.Random) -> tuple[list[float], int]:
    """One agent freed at a time: match, answer, release. Cost of the freeing message."""
    costs, matched = [], 0
    agents = list(board.agents.values())
    now = 2.0
    for _ in range(2000):
        agent = rng.choice(agents)
        start = time.perf_counter()
        agent.ticket = None  # the message: this agent's call ended
        offered = board.match(now)
        costs.append(time.perf_counter() - start)
        for ticket in offered:
            matched += 1
            for ext in ticket.offer or ():
                board.answered(ticket, ext, now)
                board.agents[ext].ticket = "talking"
        if not offered:
            agent.ticket = "talking"
        now += 0.001
    return costs, matched


def build_with_rules(agents: int, queues: int, rng: random.Random) -> Board:
    """Routing rules active: relaxation, tier rules, strategies of every kind."""
    names = [f"r{n}" for n in range(queues)]
    membership: dict[str, list[Member]] = {name: [] for name in names}
    slots = []
    for n in range(agents):
        ext = f"{5000 + n}"
        for tier, name in enumerate(rng.sample(names, 3)):
            membership[name].append(Member(ext, tier=1 + tier, position=n + 1))
        skills = {"english": rng.randint(1, 5), "french": rng.randint(0, 4)}
        slots.append(AgentSlot(ext, AgentStatus.AVAILABLE, skills=skills))
    strategies = list(QueueStrategy)
    routing = Routing(relax=RELAX, tiers=TierRules(wait=15, multiply=True))
    specs = [
        QueueSpec(name, strategies[i % len(strategies)], tuple(membership[name]),
                  required_skills={"english": 4}, routing=routing)
        for i, name in enumerate(names)
    ]  # fmt: skip
    board = Board(rng=rng)
    board.configure(specs, slots, 0.0)
    return board


def with_rules(board: Board, waiting: int, rng: random.Random) -> list[float]:
    """500 callers waiting (asking french too, at times); agents free up one at a time and
    callers join; each message: match + the auditor's passed-over check."""
    for agent in board.agents.values():
        agent.ticket = "talking"
    names = list(board.queues)
    now = 0.0
    for n in range(waiting):
        skills = {"french": rng.randint(2, 4)} if n % 3 == 0 else {}
        board.join(Ticket(f"w{n}", f"c{n}", rng.choice(names), rng.randint(0, 2), skills), now)
        now += 0.1  # arrivals spread over 50 s: callers at every stage of relaxation
    agents = list(board.agents.values())
    costs = []
    for n in range(2000):
        now += 0.05
        start = time.perf_counter()
        if n % 2:
            skills = {"french": 3} if n % 6 == 1 else {}
            ticket = Ticket(f"j{n}", f"cj{n}", rng.choice(names), rng.randint(0, 2), skills)
            board.join(ticket, now)
        else:
            agent = rng.choice(agents)
            agent.ticket = None
        offered = board.match(now)
        passed_over(board, offered, now)
        costs.append(time.perf_counter() - start)
        for ticket in offered:
            board.answered(ticket, (ticket.offer or ("",))[0], now)
            for ext in ticket.offer or ():
                board.agents[ext].ticket = "talking"
                board.agents[ext].state = board.agents[ext].state.IDLE
        for ticket in list(board.tickets.values()):
            if now - ticket.joined_at > 100:  # keep ~500 waiting: the patient leave
                board.leave(ticket, "abandoned")  # type: ignore[arg-type]
        if len(board.tickets) < waiting:
            board.join(Ticket(f"k{n}", f"ck{n}", rng.choice(names)), now)
    return costs


def report(label: str, costs: list[float], target: float = TARGET_MS) -> float:
    ms = sorted(c * 1000 for c in costs)
    p50, p99 = statistics.median(ms), ms[int(len(ms) * 0.99)]
    rate = len(ms) / (sum(ms) / 1000)
    verdict = "ok" if p99 < target else "MISS"
    print(
        f"{label:<34} p50 {p50:7.3f} ms  p99 {p99:7.3f} ms  {rate:9.0f} msg/s  "
        f"target {target:4.1f} ms  p99/target {p99 / target:5.2f}  {verdict}"
    )
    return p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--waiting", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rule-agents", type=int, default=1000)
    parser.add_argument("--rule-queues", type=int, default=100)
    parser.add_argument("--rule-waiting", type=int, default=500)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"ACD board: {args.agents} agents, {args.queues} queues, {args.waiting} waiting")
    board = build(args.agents, args.queues, rng)
    report("busy hour (join + match)", busy_hour(board, args.waiting, rng))
    costs, matched = freeing_up(board, rng)
    report("agent freed (match)", costs)
    print(f"matched {matched} callers to freed agents out of 2000 frees")
    print(f"ACD board with routing rules: {args.rule_agents} agents, {args.rule_queues} queues, "
          f"{args.rule_waiting} waiting, relaxation + tier rules, every strategy")  # fmt: skip
    ruled = build_with_rules(args.rule_agents, args.rule_queues, rng)
    report("decision with rules (p99)", with_rules(ruled, args.rule_waiting, rng), RULES_TARGET_MS)


if __name__ == "__main__":
    main()

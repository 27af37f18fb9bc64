"""Staffing plans against the simulator: does a queue staffed as ``callcenter plan`` says
reach the service level the plan predicts?

Run: .venv/bin/python tests/benchmarks/bench_staffing.py [--calls 2000] [--time-scale 0.1]
     [--level 0 --level 1 ...]  (three traffic levels one after the other: calls x 3600 /
     calls-per-hour x time-scale real seconds each, about 40 minutes with the defaults)

Per level: ``acd.staffing.plan`` gives N agents for 80/20 (Erlang C, or Erlang A when callers
have a patience) and the SL it expects with N; the engine (``App``, SQLite) and the
simulator then run one queue of N agents (no wrap-up, phones answering at once) with Poisson
arrivals at the level's rate (placed on one schedule), exponential talk times of mean AHT
and, for Erlang A, exponential patience. Measured: answered within 20 s / offered (abandons
are misses), from the bus's ``queue.joined`` and ``queue.left`` events, the first 10 % of
callers left out (the queue starts empty).

A run of a few thousand calls cannot check a service level to 5 points by itself: near 80/20
a queue of 35-66 agents swings by 5-11 points (one standard deviation) from one run of
that length to the next, and starts empty. So the very same callers (arrival times, talk
times, patience) also go through an exact first-come-first-served M/M/N (+M) queue
(``replay``): measured - replay is the engine's own effect (its time per call, its order
of service), free of the run's chance; the exact queue over 1M callers checks the plan's
formulas; predicted + the engine's effect is what the engine gives in the long run. A
simulated second lasts ``--time-scale`` real seconds: the engine's own time per call (about
0.1 s real) reads as 0.1 / time-scale simulated seconds of wait and handle time. A
benchmark: it prints the table docs/staffing.md keeps.
"""

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401

# isort: on
import argparse
import heapq
import random
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent

from callcenter.acd.staffing import Target, Traffic, plan
from callcenter.events.types import Event, EventType
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: `tests` too

from tests.benchmarks.bench_ewt import _until, engine

QUEUE, DID, PASSWORD = "plan", "8910", "bench"  # the password: bench_ewt.engine's
TARGET = Target(0.8, 20)
LEVELS = (Traffic(600, 180), Traffic(1200, 180), Traffic(1200, 180, patience=90))


@dataclass
class Stays:
    joined: dict[str, float] = field(default_factory=dict)
    left: dict[str, tuple[float, str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    created: list[float] = field(default_factory=list)
    talk: dict[str, float] = field(default_factory=dict)  # caller number -> its talk time
    busy_since: dict[str, tuple[float, str]] = field(default_factory=dict)  # agent -> offer
    extra: list[float] = field(default_factory=list)  # real s: offer to idle, beyond the talk

    def on_event(self, event: Event) -> None:
        now = gevent.get_hub().loop.now()
        ext = event.agent_extension
        if event.type is EventType.AGENT_OFFERED and ext:
            self.busy_since.setdefault(ext, (now, event.caller_number or ""))
        elif (event.type is EventType.AGENT_STATE_CHANGED and ext in self.busy_since
              and getattr(event, "state", "") == "idle"):  # fmt: skip
            since, number = self.busy_since.pop(str(ext))
            if number in self.talk:
                self.extra.append(now - since - self.talk[number])
        if event.call_uuid is None:
            return
        if event.type is EventType.CALL_CREATED and getattr(event, "did", "") == DID:
            self.order.append(event.call_uuid)
            self.created.append(now)
        if event.queue != QUEUE:
            return
        if event.type is EventType.QUEUE_JOINED:
            self.joined[event.call_uuid] = now
        elif event.type is EventType.QUEUE_LEFT:
            self.left[event.call_uuid] = (now, str(getattr(event, "outcome", "")))

    def service_level(self, seconds: float, warm_up: float = 0.1) -> tuple[float, int]:
        """Answered within ``seconds`` (real) / offered, past the warm-up's callers. A caller
        who gave up before reaching the queue (patience shorter than the engine's answer) is
        not counted: the queue was never offered it."""
        counted = self.order[int(len(self.order) * warm_up) :]
        met = 0
        for call in counted:
            left_at, outcome = self.left.get(call, (0.0, "gone before the queue"))
            met += outcome == "answered" and left_at - self.joined[call] <= seconds
        return (met / len(counted) if counted else 0.0), len(counted)

    def realized(self, traffic: Traffic, scale: float) -> Traffic:
        """The traffic the run offered, in simulated seconds: its arrival rate, and the mean
        talk time drawn plus the agent's mean time per offer beyond the talk (ring, the
        engine's time from offer to bridge and from hang-up to idle)."""
        span = (self.created[-1] - self.created[0]) / scale if len(self.created) > 1 else 0
        rate = (len(self.created) - 1) / span * 3600 if span > 0 else traffic.calls_per_hour
        talk = sum(self.talk.values()) / len(self.talk) / scale if self.talk else traffic.aht
        extra = sum(self.extra) / len(self.extra) / scale if self.extra else 0.0
        return Traffic(rate, talk + extra, traffic.patience)


@dataclass(frozen=True, slots=True)
class Caller:
    at: float  # simulated seconds after the first caller
    talk: float
    patience: float | None


def replay(callers: Sequence[Caller], agents: int, seconds: float, warm_up: float = 0.1) -> float:
    """The service level that an exact M/M/N (+M) queue gives these very callers: ``agents``
    servers, first come first served, a caller whose wait would pass its patience gone
    unserved, no time lost between calls; answered within ``seconds`` / offered, past the
    warm-up's callers. What the engine measures minus this is the engine's own effect; this
    minus the plan's prediction is the chance of a finite run (the same arrivals and talk
    times in both: common random numbers)."""
    free = [0.0] * agents  # a heap: when each agent is next free
    met = []
    for caller in callers:
        start = max(caller.at, free[0])
        if caller.patience is not None and start - caller.at > caller.patience:
            met.append(False)
            continue
        heapq.heapreplace(free, start + caller.talk)
        met.append(start - caller.at <= seconds)
    counted = met[int(len(met) * warm_up) :]
    return sum(counted) / len(counted) if counted else 0.0


def callers_of(traffic: Traffic, calls: int, rng: random.Random) -> Iterator[Caller]:
    """Poisson arrivals, exponential talk times and patience, drawn in the run's order."""
    at = 0.0
    for _ in range(calls):
        talk = rng.expovariate(1.0 / traffic.aht)
        patience = rng.expovariate(1.0 / traffic.patience) if traffic.patience else None
        yield Caller(at, talk, patience)
        at += rng.expovariate(traffic.calls_per_hour / 3600)


def long_run(traffic: Traffic, agents: int, calls: int = 200_000, seeds: int = 5) -> float:
    """The exact queue's service level over many callers (no engine: seconds): what the
    plan's formulas should give."""
    runs = [replay(list(callers_of(traffic, calls, random.Random(s))), agents, TARGET.seconds)
            for s in range(seeds)]  # fmt: skip
    return sum(runs) / len(runs)


def measure(traffic: Traffic, calls: int, scale: float, seed: int) -> dict[str, Any]:
    """Plan the level, run it on the simulator with the planned agents, compare."""
    planned = plan(traffic, TARGET)
    expected = next(r for r in planned.rows if r.agents == planned.needed)
    rng = random.Random(seed)
    agents = [str(3100 + n) for n in range(planned.needed)]
    stays = Stays()
    callers = list(callers_of(traffic, calls, rng))
    with (
        tempfile.TemporaryDirectory() as tmp,
        Simulator(password=PASSWORD, time_scale=scale, seed=seed) as sim,
    ):
        for ext in agents:
            sim.register_agent(ext, AgentBehaviour(answer_delay=0.0))
        url = f"sqlite:///{Path(tmp) / 'cc.db'}"
        with engine(sim, url, Path(tmp), agents, QUEUE, DID, service_level_seconds=20) as app:
            app.events.subscribe(stays.on_event)
            clock = gevent.get_hub().loop
            start = clock.now()  # arrivals on one schedule: time spent placing a call,
            for n, caller in enumerate(callers):  # or a late wake-up, does not shift the rest
                gevent.sleep(max(0.0, start + caller.at * scale - clock.now()))
                behaviour = CallerBehaviour(talk_time=caller.talk, patience=caller.patience)
                stays.talk[f"1556{n:07d}"] = caller.talk * scale
                sim.place_call(DID, f"1556{n:07d}", behaviour=behaviour)
            gevent.sleep(1.0)  # the last callers reach the queue (or gave up before it)
            _until(lambda: len(stays.left) >= len(stays.joined), 3600 * scale + 120)
    measured, counted = stays.service_level(TARGET.seconds * scale)
    realized = stays.realized(traffic, scale)
    return {
        "traffic": traffic, "agents": planned.needed, "model": planned.model,
        "predicted": expected.service_level, "measured": measured, "calls": counted,
        "realized": realized, "extra": sum(stays.extra) / max(1, len(stays.extra)) / scale,
        "replay": replay(callers, planned.needed, TARGET.seconds),
        "long_run": long_run(traffic, planned.needed),
    }  # fmt: skip


def table(rows: list[dict[str, Any]]) -> str:
    """measured - exact queue (same callers) is the engine's own effect; the exact queue
    over many callers checks the formulas; predicted + the engine's effect is the service
    level the engine gives in the long run, checked within 5 points of the prediction."""
    lines = [
        "| calls/h | AHT | patience | model | agents | predicted SL 80/20 | exact queue, 1M "
        "callers | calls | measured | exact queue, same callers | engine's effect | predicted "
        "+ engine's effect | within 5 points | run's calls/h | agent s/call (beyond talk) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        t = row["traffic"]
        effect = row["measured"] - row["replay"]
        lines.append(
            f"| {t.calls_per_hour:g} | {t.aht:g} s | "
            f"{'-' if t.patience is None else f'{t.patience:g} s'} | {row['model']} | "
            f"{row['agents']} | {row['predicted']:.1%} | {row['long_run']:.1%} | "
            f"{row['calls']} | {row['measured']:.1%} | {row['replay']:.1%} | "
            f"{effect * 100:+.1f} pts | {row['predicted'] + effect:.1%} | "
            f"{'yes' if abs(effect) <= 0.05 else '**no**'} | "
            f"{row['realized'].calls_per_hour:.0f} | {row['realized'].aht:.1f} s "
            f"({row['extra']:.1f} s) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per level")
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument(
        "--level",
        type=int,
        choices=range(len(LEVELS)),
        action="append",
        help="run only this level (0-2; repeatable)",
    )
    args = parser.parse_args(argv)
    rows = []
    for index, level in enumerate(LEVELS):
        if args.level and index not in args.level:
            continue
        rows.append(measure(level, args.calls, args.time_scale, args.seed + index))
        print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

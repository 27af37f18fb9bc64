"""Staffing plans against the simulator: does a queue staffed as ``callcenter plan`` says
reach the service level the plan predicts?

Run: .venv/bin/python tests/benchmarks/bench_staffing.py [--calls 800] [--time-scale 0.05]
     (three traffic levels, about 10 minutes)

Per level: ``acd.staffing.plan`` gives N agents for 80/20 (Erlang C, or Erlang A when callers
have a patience) and the SL it expects with N; the engine (``App``, SQLite) and the
simulator then run one queue of N agents (no wrap-up, phones answering at once) with Poisson
arrivals at the level's rate, exponential talk times of mean AHT and, for Erlang A,
exponential patience. Measured: answered within 20 s / offered (abandons are misses), from
the bus's ``queue.joined`` and ``queue.left`` events, the first 10 % of callers left out
(the queue starts empty). A simulated second lasts ``--time-scale`` real seconds; the
engine's own time from join to bridge (about 0.1 s real) reads as 0.1 / time-scale
simulated seconds more wait. A benchmark: it prints the table docs/staffing.md keeps.
"""

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401

# isort: on
import argparse
import random
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent

from callcenter.acd.staffing import Target, Traffic, plan
from callcenter.events.types import Event, EventType
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from tests.benchmarks.bench_ewt import _until, engine

QUEUE, DID, PASSWORD = "plan", "8910", "bench"  # the password: bench_ewt.engine's
TARGET = Target(0.8, 20)
LEVELS = (Traffic(600, 180), Traffic(1200, 180), Traffic(1200, 180, patience=90))


@dataclass
class Stays:
    joined: dict[str, float] = field(default_factory=dict)
    left: dict[str, tuple[float, str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def on_event(self, event: Event) -> None:
        if event.call_uuid is None:
            return
        if event.type is EventType.CALL_CREATED and getattr(event, "did", "") == DID:
            self.order.append(event.call_uuid)
        if event.queue != QUEUE:
            return
        now = gevent.get_hub().loop.now()
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


def measure(traffic: Traffic, calls: int, scale: float, seed: int) -> dict[str, Any]:
    """Plan the level, run it on the simulator with the planned agents, compare."""
    planned = plan(traffic, TARGET)
    expected = next(r for r in planned.rows if r.agents == planned.needed)
    rng = random.Random(seed)
    agents = [str(3100 + n) for n in range(planned.needed)]
    rate = traffic.calls_per_hour / 3600  # simulated calls per second
    stays = Stays()
    with (
        tempfile.TemporaryDirectory() as tmp,
        Simulator(password=PASSWORD, time_scale=scale, seed=seed) as sim,
    ):
        for ext in agents:
            sim.register_agent(ext, AgentBehaviour(answer_delay=0.0))
        url = f"sqlite:///{Path(tmp) / 'cc.db'}"
        with engine(sim, url, Path(tmp), agents, QUEUE, DID, service_level_seconds=20) as app:
            app.events.subscribe(stays.on_event)
            for n in range(calls):
                talk = rng.expovariate(1.0 / traffic.aht)
                patience = rng.expovariate(1.0 / traffic.patience) if traffic.patience else None
                behaviour = CallerBehaviour(talk_time=talk, patience=patience)
                sim.place_call(DID, f"1556{n:07d}", behaviour=behaviour)
                gevent.sleep(rng.expovariate(rate) * scale)
            gevent.sleep(1.0)  # the last callers reach the queue (or gave up before it)
            _until(lambda: len(stays.left) >= len(stays.joined), 3600 * scale + 120)
    measured, counted = stays.service_level(TARGET.seconds * scale)
    return {
        "traffic": traffic, "agents": planned.needed, "model": planned.model,
        "predicted": expected.service_level, "measured": measured, "calls": counted,
    }  # fmt: skip


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| calls/h | AHT | patience | model | agents | predicted SL 80/20 | measured | calls |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        t = row["traffic"]
        lines.append(
            f"| {t.calls_per_hour:g} | {t.aht:g} s | "
            f"{'-' if t.patience is None else f'{t.patience:g} s'} | {row['model']} | "
            f"{row['agents']} | {row['predicted']:.1%} | {row['measured']:.1%} | {row['calls']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=800, help="calls per level")
    parser.add_argument("--time-scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args(argv)
    rows = []
    for index, level in enumerate(LEVELS):
        rows.append(measure(level, args.calls, args.time_scale, args.seed + index))
        print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

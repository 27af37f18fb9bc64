"""The predictive dialer against progressive and a VICIdial-style adaptive heuristic.

Run: .venv/bin/python tests/benchmarks/bench_dialer.py [--agents 5,20,50] [--hours 8]
         [--seed 1] [--target 0.015] [--hard-limit 0.03] [--drop-limits 0.015,0.03]

The same seeded shift (``callcenter.dialer.simulation``: 25% live answers, 20% machines,
8% busy, 4% failures, the rest ringing out at 20 s; talk 165 s mean + 15 s wrap-up = a
3-minute handle time; a live answer without an agent within 2 s is abandoned) under:

- progressive: one line per free agent;
- vicidial: the adaptive heuristic of VICIdial's ``AST_VDadapt.pl`` (ADAPT_AVERAGE), as
  described in issue 17: every second it samples ready agents minus calls waiting; every 15
  samples the dial level becomes ``level x (1 + mean difference / mean agents)``, within 1.0
  and the maximum level 3.0; while today's drop rate (abandoned / live answered, once 50
  calls are placed) is above the drop limit, the level is halved (never under 1.0). It
  places ``round(level x (ready + talking agents)) - lines`` calls (lines counting the calls
  ringing, waiting and talking), as ``AST_VDauto.pl`` does. Run at each drop limit;
- ours: ``callcenter.dialer.pacing`` (the model, the feedback, the fallback at the limit).

Prints talk minutes per agent-hour, the shift's abandon rate, the worst 30-minute window
(of those with 20 live answers or more), peak lines (ringing + waiting + talking), beside the
targets: ours >= 1.2 x progressive's talk time at 20 agents with the shift's abandon rate
<= 3%, and more talk time than the heuristic at an equal or lower abandon rate. A benchmark,
not a test: it prints figures and exits 0 unless the run itself broke.
"""

from __future__ import annotations

import argparse
import time
from collections import deque
from dataclasses import dataclass

from callcenter.dialer.pacing import Targets
from callcenter.dialer.simulation import (
    ModelPacer,
    Pacer,
    ProgressivePacer,
    Result,
    Shift,
    Traffic,
    View,
)


class VicidialPacer:
    """ADAPT_AVERAGE, see the module docstring."""

    SAMPLES = 15

    def __init__(self, drop_limit: float, max_level: float = 3.0) -> None:
        self.drop_limit, self.max_level = drop_limit, max_level
        self.level = 1.0
        self.differences: deque[int] = deque(maxlen=self.SAMPLES)
        self.agents: deque[int] = deque(maxlen=self.SAMPLES)
        self.dials = 0

    def calls(self, view: View) -> int:
        ready_or_talking = view.free_agents + len(view.busy_elapsed)
        self.differences.append(view.free_agents - view.waiting_answered)
        self.agents.append(ready_or_talking)
        if len(self.differences) == self.SAMPLES:
            self._adapt(view)
            self.differences.clear()
            self.agents.clear()
        lines = len(view.line_ages) + view.waiting_answered + len(view.busy_elapsed)
        wanted = max(0, round(self.level * ready_or_talking) - lines)
        self.dials += wanted
        return wanted

    def _adapt(self, view: View) -> None:
        agents = sum(self.agents) / len(self.agents)
        if agents <= 0:
            return
        difference = sum(self.differences) / len(self.differences)
        level = min(self.max_level, self.level * (1 + difference / agents))
        drops = view.abandoned / view.live_answers if view.live_answers else 0.0
        if self.dials > 50 and drops > self.drop_limit:
            level /= 2
        self.level = max(1.0, level)


@dataclass
class Row:
    agents: int
    name: str
    result: Result
    seconds: float


def run(agents: int, hours: float, seed: int, name: str, pacer: Pacer) -> Row:
    started = time.process_time()
    result = Shift(agents, hours, Traffic(), seed).run(pacer)
    return Row(agents, name, result, time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", default="5,20,50")
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--targets", default="0.015,0.025", help="ours, at each abandon target")
    parser.add_argument("--hard-limit", type=float, default=0.03)
    parser.add_argument("--drop-limits", default="0.015,0.03")
    args = parser.parse_args()
    print(
        f"{'agents':>6} {'pacer':<16} {'talk min/agent-h':>16} {'abandon':>8} "
        f"{'worst 30 min':>12} {'peak lines':>10} {'dials':>6} {'live':>6} {'cpu s':>6}"
    )
    for agents in (int(a) for a in args.agents.split(",")):
        rows = [run(agents, args.hours, args.seed, "progressive", ProgressivePacer())]
        for limit in (float(x) for x in args.drop_limits.split(",")):
            rows.append(
                run(agents, args.hours, args.seed, f"vicidial {limit:.1%}", VicidialPacer(limit))
            )
        for target in (float(x) for x in args.targets.split(",")):
            pacer = ModelPacer(Targets(target, args.hard_limit))
            rows.append(run(agents, args.hours, args.seed, f"ours {target:.1%}", pacer))
        for row in rows:
            r = row.result
            print(
                f"{agents:>6} {row.name:<16} {r.talk_minutes_per_agent_hour:>16.1f} "
                f"{r.abandon_rate:>8.2%} {r.worst_window(20):>12.2%} {r.peak_lines:>10} "
                f"{r.dials:>6} {r.live:>6} {row.seconds:>6.1f}",
                flush=True,
            )
        verdicts(rows, args.hard_limit)


def verdicts(rows: list[Row], hard_limit: float) -> None:
    progressive = rows[0].result.talk_minutes_per_agent_hour
    heuristics = [row for row in rows if row.name.startswith("vicidial")]
    for row in (row for row in rows if row.name.startswith("ours")):
        ours = row.result
        gain = ours.talk_minutes_per_agent_hour / progressive - 1
        bound = "PASS" if ours.abandon_rate <= hard_limit else "MISS"
        print(
            f"       {row.name}: {gain:+.1%} talk time vs progressive (target >= +20% at "
            f"20 agents); shift abandon rate <= {hard_limit:.0%}: {bound}"
        )
        for other in heuristics:
            if other.result.abandon_rate < ours.abandon_rate:
                continue
            more = ours.talk_minutes_per_agent_hour - other.result.talk_minutes_per_agent_hour
            print(
                f"         vs {other.name} (abandons {other.result.abandon_rate:.2%}): "
                f"{more:+.1f} talk min/agent-h: {'PASS' if more > 0 else 'MISS'}"
            )


if __name__ == "__main__":
    main()

"""The pacing chain against a Monte Carlo of its own assumptions (``bench_dialer.py
--chain-check``, docs/dialer.md "What the chain still gets wrong, measured").

The decisions of a 1-hour shift (ours, the first size, seed and target asked), every
tenth from the 10th minute, 30 of them: for each, the chain's E[abandons] at the number of
new lines decided, against draws of the same model where each line answers live at most
once (in the slot its chances give) and each agent frees once, served by the chain's rules
(an answer waits out its slot and the next, the agents freeing serve the oldest answers
first). A second column draws each agent's freeing per slot independently, as the chain
counts them: between the two columns, the error of counting the agents per slot (the chain
also counts the lines in flight per slot: docs/dialer.md has the chain that followed both,
tried and dropped).
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from itertools import accumulate

from callcenter.dialer import pacing
from callcenter.dialer.pacing import Decision, Snapshot, Targets
from callcenter.dialer.simulation import ModelPacer, Shift, Traffic, View

DECISIONS, EVERY, FROM = 30, 10, 600.0


class _Recording(ModelPacer):
    def __init__(self, targets: Targets) -> None:
        super().__init__(targets)
        self.seen: list[tuple[Snapshot, int]] = []
        self._made = 0

    def predictive(self, view: View, now: Snapshot) -> Decision:
        decision = super().predictive(view, now)
        if view.now >= FROM:
            self._made += 1
            if self._made % EVERY == 0 and len(self.seen) < DECISIONS:
                self.seen.append((now, decision.calls))
        return decision


def check(agents: int, seed: int, target: float, draws: int = 3000) -> None:
    targets = Targets(target, 0.03)
    pacer = _Recording(targets)
    Shift(agents, 1.0, Traffic(), seed).run(pacer)
    rng = random.Random(seed)
    chain = exact = per_slot = 0.0
    for snapshot, n in pacer.seen:
        slots = pacing._slots(snapshot, targets)
        chain += pacing._expected_abandons(slots, snapshot.free_agents, n)
        exact += monte_carlo(snapshot, targets, n, draws, rng, agents_per_slot=False)
        per_slot += monte_carlo(snapshot, targets, n, draws, rng, agents_per_slot=True)
    print(
        f"{agents} agents, seed {seed}, target {target:.1%}, {len(pacer.seen)} decisions, "
        f"{draws} draws each: E[abandons] summed, the chain {chain:.3f}; the model's "
        f"assumptions {exact:.3f}; with the agents counted per slot as the chain does "
        f"{per_slot:.3f}"
    )


def monte_carlo(
    snapshot: Snapshot,
    targets: Targets,
    n: int,
    draws: int,
    rng: random.Random,
    agents_per_slot: bool,
) -> float:
    slot = targets.safe_harbor / 2
    ring, p, answer = snapshot.ring_window, snapshot.answer_rate, snapshot.answer_times
    count = math.ceil(ring / slot - 1e-9)
    rows = [pacing._answer_row(p, answer, pacing._grid(a), ring, slot) for a in snapshot.line_ages]
    rows += [pacing._answer_row(p, answer, 0.0, ring, slot)] * n
    wrap = snapshot.wrap_times
    agents = [
        pacing._free_row(snapshot.handle_times, pacing._grid(e), slot, count + 1, wrap)
        for e in snapshot.busy_elapsed
    ]
    agents += [
        pacing._free_row(wrap, pacing._grid(e), slot, count + 1, None)
        for e in (snapshot.wrapping if wrap is not None else ())
    ]
    lines = [list(accumulate(row)) for row in rows if row]
    freeing = [list(accumulate(row)) for row in agents]
    total = 0
    for _ in range(draws):
        answers, frees = [0] * count, [0] * (count + 1)
        for cumulative in lines:
            k = bisect_right(cumulative, rng.random())
            if k < len(cumulative):
                answers[k] += 1
        for row, cumulative in zip(agents, freeing, strict=True):
            if agents_per_slot:
                for k, chance in enumerate(row):
                    frees[k] += rng.random() < chance
            else:
                k = bisect_right(cumulative, rng.random())
                if k < len(cumulative):
                    frees[k] += 1
        total += _abandons(snapshot, answers, frees)
    return total / draws


def _abandons(snapshot: Snapshot, answers: list[int], frees: list[int]) -> int:
    """The chain's rules on one draw: free agents (> 0) or answers waiting (< 0)."""
    state = snapshot.free_agents if snapshot.free_agents else -snapshot.waiting_answered
    lost = 0
    for k, freed in enumerate(frees):
        left = state + freed
        if state < 0 and left < 0:
            lost -= left
            left = 0
        if k == len(answers):
            return lost + max(0, -left)
        state = left - answers[k]
    return lost

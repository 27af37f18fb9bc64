"""A seedable traffic model driving a ``Simulator``: Poisson arrivals, caller patience,
IVR choices, agent answer and talk times, outbound answer/busy/no-answer/machine rates.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field

import gevent

from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.events import SimEvent
from callcenter.sim.simulator import Simulator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrafficProfile:
    """Means are in simulated seconds; distributions are exponential unless stated."""

    rate: float = 1.0
    dids: tuple[str, ...] = ("5000",)
    patience_mean: float | None = 60.0
    talk_mean: float = 90.0
    ivr_choices: tuple[tuple[str, float], ...] = (("1", 1.0),)
    collects_per_call: int = 3
    agent_answer_delay: tuple[float, float] = (1.0, 4.0)
    agent_talk_mean: float | None = None
    agent_busy: float = 0.0
    agent_no_answer: float = 0.0
    outbound_answer: float = 0.6
    outbound_busy: float = 0.15
    outbound_no_answer: float = 0.15
    outbound_machine: float = 0.1
    caller_prefix: str = "1555"


@dataclass(frozen=True)
class TrafficCounters:
    offered: int = 0
    bridged: int = 0
    completed: int = 0
    abandoned: int = 0
    ended_unbridged: int = 0
    live: int = 0


@dataclass
class _Tally:
    offered: int = 0
    completed: int = 0
    abandoned: int = 0
    ended_unbridged: int = 0
    ours: set[str] = field(default_factory=set)
    bridged: set[str] = field(default_factory=set)
    bridged_total: int = 0


class TrafficModel:
    def __init__(self, sim: Simulator, profile: TrafficProfile, seed: int | None = None) -> None:
        self.sim = sim
        self.profile = profile
        self.rng = random.Random(seed)
        self._tally = _Tally()
        self._greenlet: gevent.Greenlet | None = None
        sim.on_event(self._observe)
        sim.set_far_end(lambda _dial: self.far_end())

    # -- draws -------------------------------------------------------------------------
    def _exp(self, mean: float) -> float:
        return self.rng.expovariate(1.0 / mean) if mean > 0 else 0.0

    def _choice(self) -> str:
        choices = self.profile.ivr_choices
        digits = [c for c, _ in choices]
        return self.rng.choices(digits, weights=[w for _, w in choices])[0] if choices else ""

    def caller_behaviour(self) -> CallerBehaviour:
        p = self.profile
        return CallerBehaviour(
            digits=tuple(self._choice() for _ in range(p.collects_per_call)),
            first_digit_delay=self.rng.uniform(0.3, 1.5),
            patience=self._exp(p.patience_mean) if p.patience_mean is not None else None,
            talk_time=self._exp(p.talk_mean),
        )

    def agent_behaviour(self) -> AgentBehaviour:
        p = self.profile
        roll = self.rng.random()
        return AgentBehaviour(
            answer_delay=self.rng.uniform(*p.agent_answer_delay),
            talk_time=self._exp(p.agent_talk_mean) if p.agent_talk_mean else None,
            busy=roll < p.agent_busy,
            no_answer=p.agent_busy <= roll < p.agent_busy + p.agent_no_answer,
        )

    def far_end(self) -> AgentBehaviour:
        """A called party of an outbound (dialer) call."""
        p = self.profile
        roll = self.rng.random()
        delay = self.rng.uniform(2.0, 12.0)
        if roll < p.outbound_busy:
            return AgentBehaviour(busy=True)
        roll -= p.outbound_busy
        if roll < p.outbound_no_answer:
            return AgentBehaviour(no_answer=True)
        roll -= p.outbound_no_answer
        machine = roll < p.outbound_machine
        return AgentBehaviour(answer_delay=delay, talk_time=self._exp(p.talk_mean), machine=machine)

    def register_agents(self, extensions: list[str]) -> None:
        for ext in extensions:
            self.sim.register_agent(ext, self.agent_behaviour())

    # -- running -----------------------------------------------------------------------
    def place_one(self) -> str:
        p = self.profile
        number = p.caller_prefix + f"{self.rng.randrange(10**6, 10**7)}"
        did = self.rng.choice(p.dids)
        uuid = self.sim.place_call(
            did, number, f"Caller {number[-4:]}", behaviour=self.caller_behaviour()
        )
        self._tally.offered += 1
        self._tally.ours.add(uuid)
        return uuid

    def run(self, duration: float | None = None, calls: int | None = None) -> None:
        """Offer calls until ``duration`` simulated seconds passed or ``calls`` were offered
        (neither: until stopped)."""
        clock = self.sim.core.clock
        end = clock.now() + duration if duration is not None else None
        placed = 0
        while (calls is None or placed < calls) and (end is None or clock.now() < end):
            self.place_one()
            placed += 1
            gap = self._exp(1.0 / self.profile.rate)
            if end is not None:
                gap = min(gap, max(0.0, end - clock.now()))
            clock.sleep(gap)

    def start(self, duration: float | None = None, calls: int | None = None) -> None:
        self._greenlet = self.sim.core.spawn(self.run, duration, calls, name="traffic")

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(timeout=5)
            self._greenlet = None

    @property
    def running(self) -> bool:
        return self._greenlet is not None and not self._greenlet.dead

    @property
    def counters(self) -> TrafficCounters:
        t = self._tally
        return TrafficCounters(
            offered=t.offered,
            bridged=t.bridged_total,
            completed=t.completed,
            abandoned=t.abandoned,
            ended_unbridged=t.ended_unbridged,
            live=len(t.ours),
        )

    def _observe(self, event: SimEvent) -> None:
        name = event.name
        if name not in ("CHANNEL_BRIDGE", "CHANNEL_HANGUP_COMPLETE"):
            return
        t = self._tally
        uuid = event.unique_id
        if uuid not in t.ours:
            if name == "CHANNEL_BRIDGE":
                other = event.get("Bridge-B-Unique-ID") or ""
                if other in t.ours and other not in t.bridged:
                    t.bridged.add(other)
                    t.bridged_total += 1
            return
        if name == "CHANNEL_BRIDGE":
            if uuid not in t.bridged:
                t.bridged.add(uuid)
                t.bridged_total += 1
            return
        t.ours.discard(uuid)
        if uuid in t.bridged:
            t.bridged.discard(uuid)
            t.completed += 1
        elif event.get("variable_sip_hangup_disposition") == "recv_bye":
            t.abandoned += 1
        else:
            t.ended_unbridged += 1

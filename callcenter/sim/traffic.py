"""A seedable traffic model driving a ``Simulator``: Poisson arrivals, caller patience,
IVR choices, agent answer and talk times, and the outbound model: who a dialled number
reaches (busy, no answer until the ring timeout, a network failure, a person, a machine)
and what they send once answered (``behaviour.Voice``: a person's "hello?" and pause, a
talker with no pause, a pause before speaking; a machine's greeting and beep).
``overrides`` pins the far end of given numbers (tests).
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass, field

import gevent

from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour, Voice
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
    # outbound: shares of dials (the rest answer live); a share of the live answers
    outbound_answer: float = 0.6  # (the residue: documents the default mix)
    outbound_busy: float = 0.15
    outbound_no_answer: float = 0.15
    outbound_machine: float = 0.1
    outbound_failed: float = 0.0
    outbound_failure_causes: tuple[str, ...] = (
        "NORMAL_TEMPORARY_FAILURE",
        "NO_ROUTE_DESTINATION",
        "UNALLOCATED_NUMBER",
        "RECOVERY_ON_TIMER_EXPIRE",
    )
    outbound_ring: tuple[float, float] = (2.0, 12.0)  # seconds to answer, uniform
    outbound_talker: float = 0.08  # people who answer with a long greeting, no pause
    outbound_late_speaker: float = 0.07  # people who pause before their "hello?"
    outbound_patience: tuple[float, float] = (2.0, 6.0)  # after their greeting, uniform
    outbound_machine_greeting: tuple[float, float] = (7.0, 0.5)  # lognormal: mean s, cv
    outbound_machine_beep: float = 0.9  # machines that beep (the rest never do)
    outbound_talk_mean: float | None = None  # a person's talk once bridged (None: talk_mean)
    caller_prefix: str = "1555"

    def __post_init__(self) -> None:
        if not (self.rate >= 0 and math.isfinite(self.rate)):
            raise ValueError(
                f"TrafficProfile: rate is calls per second, 0 or more, got {self.rate}"
            )


@dataclass(frozen=True)
class TrafficCounters:
    offered: int = 0
    bridged: int = 0
    completed: int = 0
    abandoned: int = 0
    ended_unbridged: int = 0
    live: int = 0
    refused: int = 0  # offered beyond the switch's sessions per second (a 503)


@dataclass
class _Tally:
    offered: int = 0
    refused: int = 0
    completed: int = 0
    abandoned: int = 0
    ended_unbridged: int = 0
    ours: set[str] = field(default_factory=set)
    bridged: set[str] = field(default_factory=set)
    bridged_total: int = 0


class TrafficModel:
    def __init__(
        self,
        sim: Simulator,
        profile: TrafficProfile,
        seed: int | None = None,
        overrides: dict[str, AgentBehaviour] | None = None,
    ) -> None:
        self.sim = sim
        self.profile = profile
        self.rng = random.Random(seed)
        self.overrides = dict(overrides or {})  # dialled number -> its far end
        self._tally = _Tally()
        self._greenlet: gevent.Greenlet | None = None
        sim.on_event(self._observe)
        sim.set_far_end(self.far_end_of)

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

    def far_end_of(self, dial: str) -> AgentBehaviour:
        """The far end of a dial string: the override for its number, else a draw."""
        number = dial.rsplit("/", 1)[-1].split("@", 1)[0]
        pinned = self.overrides.get(number) or self.overrides.get(number.lstrip("+"))
        return pinned if pinned is not None else self.far_end()

    def far_end(self) -> AgentBehaviour:
        """A called party of an outbound (dialer) call."""
        p = self.profile
        roll = self.rng.random()
        delay = self.rng.uniform(*p.outbound_ring)
        if roll < p.outbound_busy:
            return AgentBehaviour(busy=True)
        roll -= p.outbound_busy
        if roll < p.outbound_no_answer:
            return AgentBehaviour(no_answer=True)
        roll -= p.outbound_no_answer
        if roll < p.outbound_failed:
            cause = self.rng.choice(p.outbound_failure_causes)
            return AgentBehaviour(fail_cause=cause)
        roll -= p.outbound_failed
        if roll < p.outbound_machine:
            return AgentBehaviour(answer_delay=delay, machine=True, voice=self.machine_voice())
        talk = p.outbound_talk_mean if p.outbound_talk_mean is not None else p.talk_mean
        return AgentBehaviour(answer_delay=delay, talk_time=self._exp(talk), voice=self.person())

    def person(self) -> Voice:
        p, rng = self.profile, self.rng
        patience = rng.uniform(*p.outbound_patience)
        roll = rng.random()
        if roll < p.outbound_talker:  # "Good morning, Smith and Sons, Jane speaking..."
            return Voice(
                silence=rng.uniform(0.1, 0.5), speech=rng.uniform(1.8, 4.5), patience=patience
            )
        if roll < p.outbound_talker + p.outbound_late_speaker:  # a pause, then "hello?"
            silence = rng.uniform(1.0, 3.0)
            return Voice(silence=silence, speech=rng.uniform(0.4, 1.0), patience=patience)
        return Voice(silence=rng.uniform(0.1, 0.7), speech=rng.uniform(0.4, 1.2), patience=patience)

    def machine_voice(self) -> Voice:
        p, rng = self.profile, self.rng
        mean, cv = p.outbound_machine_greeting
        sigma = math.sqrt(math.log(1 + cv * cv))
        greeting = max(1.0, rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma))
        beeps = rng.random() < p.outbound_machine_beep
        return Voice(
            machine=True,
            silence=rng.uniform(0.2, 1.0),
            speech=greeting,
            beep_gap=rng.uniform(0.3, 1.2) if beeps else None,
            patience=None,
            record_limit=rng.uniform(30.0, 120.0),
        )

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
        if uuid:
            self._tally.ours.add(uuid)
        else:
            self._tally.refused += 1
        return uuid

    def run(self, duration: float | None = None, calls: int | None = None) -> None:
        """Offer calls until ``duration`` simulated seconds passed or ``calls`` were offered
        (neither: until stopped). At ``rate`` 0 it offers none (the dialer's calls only) and
        waits the ``duration``."""
        clock = self.sim.core.clock
        end = clock.now() + duration if duration is not None else None
        placed = 0
        if self.profile.rate == 0:  # no inbound call (the dialer's calls only): the time waited
            if end is not None:
                clock.sleep(max(0.0, end - clock.now()))
            return
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
            refused=t.refused,
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

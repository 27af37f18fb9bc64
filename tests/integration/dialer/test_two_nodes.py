"""A campaign dialling through two FreeSWITCH nodes (two simulators over TCP): its calls
spread over the connected nodes, a person answered on either is given an agent through
that node."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from callcenter.dialer.compliance import Outcome
from callcenter.sim import AgentBehaviour, Simulator
from callcenter.sim.traffic import TrafficModel, TrafficProfile
from tests.integration.calls.conftest import TIME_SCALE, EngineFactory
from tests.integration.calls.test_calls import wait_cdr
from tests.integration.calls.test_queues import setup_queue
from tests.integration.dialer.test_campaign_run import PERSON, _attempts, _campaign, _route, _start
from tests.support import until

PEOPLE = [f"+1555790{n:04d}" for n in range(4)]
BUSY = [f"+1555791{n:04d}" for n in range(6)]
AGENTS = ("4901", "4902")


@pytest.fixture
def sim2() -> Iterator[Simulator]:
    simulator = Simulator(password="s3cret-test", time_scale=TIME_SCALE, seed=8).start()
    try:
        yield simulator
    finally:
        simulator.stop()


def _dialled(sim: Simulator, numbers: list[str]) -> set[str]:
    lines = " ".join(c.line for c in sim.core.commands if "originate" in c.line)
    return {n for n in numbers if n.lstrip("+") in lines}


def test_a_campaign_spreads_its_calls_over_the_connected_nodes(
    sim: Simulator, sim2: Simulator, engine: EngineFactory
) -> None:
    nodes = (f"fs1=esl://:s3cret-test@127.0.0.1:{sim.port},"
             f"fs2=esl://:s3cret-test@127.0.0.1:{sim2.port}")  # fmt: skip
    app = engine(CALLCENTER_ESL_NODES=nodes)
    until(lambda: all(c.connected for c in app.connections.values()), timeout=10)
    _route(app)
    far_ends = {n.lstrip("+"): AgentBehaviour(answer_delay=1.0, talk_time=2.0, voice=PERSON)
                for n in PEOPLE}  # fmt: skip
    far_ends.update({n.lstrip("+"): AgentBehaviour(busy=True) for n in BUSY})
    for node in (sim, sim2):  # every node reaches every agent and every number
        TrafficModel(node, TrafficProfile(), seed=1, overrides=far_ends)
        for ext in AGENTS:
            node.register_agent(ext, AgentBehaviour(answer_delay=5.0))  # auto-answer
    setup_queue(app, "twoq", {ext: {} for ext in AGENTS}, did="8901")
    _campaign(app, "two", "twoq", PEOPLE + BUSY)
    _start(app, "two")
    until(lambda: len(_attempts(app, "two")) == len(PEOPLE + BUSY), timeout=40)
    one, two = _dialled(sim, PEOPLE + BUSY), _dialled(sim2, PEOPLE + BUSY)
    assert one and two and one | two == set(PEOPLE + BUSY) and not one & two
    attempts = _attempts(app, "two")
    for phone in PEOPLE:
        attempt = attempts[phone]
        assert attempt.outcome is Outcome.ANSWERED and attempt.agent in AGENTS
        assert attempt.call_uuid and wait_cdr(app, attempt.call_uuid, timeout=20)
        node = sim if phone in one else sim2  # the agent rung through the person's node
        rung = [c.line for c in node.core.commands if f"user/{attempt.agent}@" in c.line]
        assert any(attempt.call_uuid in line for line in rung), (phone, rung)
    assert {a.outcome for p, a in attempts.items() if p in BUSY} == {Outcome.BUSY}

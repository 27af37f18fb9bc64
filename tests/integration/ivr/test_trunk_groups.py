"""An outbound route naming a trunk group, over the simulator and a real PostgreSQL: each
strategy's order, failover across the members by cause, each member's own limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.app import App
from callcenter.services import routes, trunk_groups, trunks
from callcenter.services.actor import Actor
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.database import Database
from callcenter.trunks.spec import TrunkSpec
from callcenter.vocabulary import Disposition, LegRole
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import settled, wait_cdr
from tests.integration.ivr.test_every_node import flows_dir, sent, start
from tests.integration.ivr.test_trunk_failover import channels, forget, originates
from tests.support import until

FLOW = """\
version: 1
name: viagroup
start: out
sounds: /snd
nodes:
  out: {type: transfer, number: "0033612345678"}
"""
WHO = Actor("cli", "test")
MEMBERS = ("fr-1", "fr-2", "fr-3")


@pytest.fixture(scope="module")
def fr_group(calls_db_url: str) -> None:
    database = Database(calls_db_url)
    trunks.add(database, WHO, TrunkSpec("fr-1", "198.51.100.1", max_channels=1))
    for name in MEMBERS[1:]:
        trunks.add(database, WHO, TrunkSpec(name, "198.51.100.2"))
    trunk_groups.add(database, WHO, "fr-out", MEMBERS, "round-robin")
    routes.add_outbound(database, WHO, "fr", pattern=r"^0033(\d+)$", number_format="+33$1",
                        group="fr-out")  # fmt: skip
    database.dispose()


@pytest.fixture
def viagroup(
    engine: EngineFactory, tmp_path: Path, fr_group: None, sim: Simulator
) -> Iterator[tuple[App, str]]:
    for name in MEMBERS:
        sim.gateways.carrier(name, AgentBehaviour(answer_delay=0.1))
    yield start(engine, flows_dir(tmp_path, viagroup=FLOW), "viagroup")
    for name in MEMBERS:
        forget(sim, name)


def strategy(app: App, name: str) -> None:
    trunk_groups.update(app.database, WHO, "fr-out", strategy=name)
    # the change feed: the engine's outbound table reads the groups again
    until(lambda: (g := app.outbound.groups.get("fr-out")) is not None and g.strategy == name)


def first_trunk(sim: Simulator, uuid: str) -> str:
    return originates(sent(sim, uuid))[0].split("/")[2]


def call(sim: Simulator, app: App, did: str, talk: float = 0.2) -> str:
    uuid = sim.place_call(did, "+15551230001", behaviour=CallerBehaviour(talk_time=talk))
    return uuid


def test_round_robin_starts_each_call_one_member_further(
    sim: Simulator, viagroup: tuple[App, str]
) -> None:
    app, did = viagroup
    strategy(app, "round-robin")
    firsts = []
    for _ in range(4):
        uuid = call(sim, app, did)
        cdr = wait_cdr(app, uuid, timeout=30)
        assert cdr.disposition is Disposition.ANSWERED
        firsts.append(first_trunk(sim, uuid))
    assert firsts == ["fr-1", "fr-2", "fr-3", "fr-1"]
    until(lambda: settled(app))


def test_in_order_fails_over_across_the_members_by_cause(
    sim: Simulator, viagroup: tuple[App, str]
) -> None:
    app, did = viagroup
    strategy(app, "in-order")
    sim.gateways.load("fr-1", register=True)
    sim.gateways.fail("fr-1")  # FreeSWITCH refuses calls through it: GATEWAY_DOWN
    until(lambda: sim.gateways.loaded["fr-1"].ping == "DOWN")
    sim.gateways.carrier("fr-2", AgentBehaviour(fail_cause="NORMAL_TEMPORARY_FAILURE"))
    uuid = call(sim, app, did)
    cdr = wait_cdr(app, uuid, timeout=30)
    attempts = [(leg.trunk, leg.hangup_cause) for leg in cdr.legs if leg.role is LegRole.OUTBOUND]
    assert attempts[:2] == [("fr-1", "GATEWAY_DOWN"), ("fr-2", "NORMAL_TEMPORARY_FAILURE")]
    assert attempts[2][0] == "fr-3" and cdr.disposition is Disposition.ANSWERED
    sim.gateways.carrier("fr-2", AgentBehaviour(busy=True))  # the callee: no failover
    uuid = call(sim, app, did)
    cdr = wait_cdr(app, uuid, timeout=30)
    attempts = [(leg.trunk, leg.hangup_cause) for leg in cdr.legs if leg.role is LegRole.OUTBOUND]
    assert attempts == [("fr-1", "GATEWAY_DOWN"), ("fr-2", "USER_BUSY")]
    until(lambda: settled(app))


def test_least_busy_goes_round_a_member_holding_calls_within_its_limits(
    sim: Simulator, viagroup: tuple[App, str]
) -> None:
    app, did = viagroup
    strategy(app, "least-busy")
    sim.gateways.carrier("fr-1", AgentBehaviour(answer_delay=0.1, talk_time=None))
    held = call(sim, app, did, talk=30)
    until(lambda: channels(app, "fr-1") == 1)  # the first call: every member idle, fr-1
    second = call(sim, app, did)
    wait_cdr(app, second, timeout=30)
    assert first_trunk(sim, second) == "fr-2"  # fr-1 busiest now
    strategy(app, "in-order")  # fr-1 first again, but at its limit of 1 channel
    third = call(sim, app, did)
    cdr = wait_cdr(app, third, timeout=30)
    attempts = [(leg.trunk, leg.hangup_cause) for leg in cdr.legs if leg.role is LegRole.OUTBOUND]
    assert attempts[0] == ("fr-1", "NORMAL_CIRCUIT_CONGESTION") and attempts[1][0] == "fr-2"
    sim.hangup(held)
    wait_cdr(app, held, timeout=30)
    until(lambda: settled(app))

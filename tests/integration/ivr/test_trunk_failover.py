"""Failover across three trunks by cause, over the simulator: each attempt a CDR leg."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.app import App
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.database import Database
from callcenter.store.repos import OutboundRouteRepository
from callcenter.vocabulary import Disposition, LegRole
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import settled, wait_cdr
from tests.integration.ivr.test_every_node import flows_dir, sent, start
from tests.support import until

FLOW = """\
version: 1
name: viatrunks
start: out
sounds: /snd
nodes:
  out: {type: transfer, number: "00447911123456"}
"""


@pytest.fixture(scope="module")
def three_trunks(calls_db_url: str) -> None:
    database = Database(calls_db_url)
    with database.session_scope() as session:
        OutboundRouteRepository(session).add(
            "uk", r"^0044(\d+)$", "carrier-a", number_format="+44$1",
            failover_gateways="carrier-b,carrier-c",
        )  # fmt: skip
    database.dispose()


@pytest.fixture
def viatrunks(
    engine: EngineFactory, tmp_path: Path, three_trunks: None, sim: Simulator
) -> Iterator[tuple[App, str]]:
    yield start(engine, flows_dir(tmp_path, viatrunks=FLOW), "viatrunks")
    for name in ("carrier-a", "carrier-b", "carrier-c"):
        sim.set_gateway(name, None)


def originates(commands: list[str]) -> list[str]:
    return [c.split("}", 1)[1] for c in commands if c.startswith("bgapi originate ")]


def test_down_then_503_then_answered_on_the_third(
    sim: Simulator, viatrunks: tuple[App, str]
) -> None:
    app, did = viatrunks
    sim.set_gateway("carrier-a", AgentBehaviour(fail_cause="GATEWAY_DOWN"))
    sim.set_gateway("carrier-b", AgentBehaviour(fail_cause="NORMAL_TEMPORARY_FAILURE"))
    sim.set_gateway("carrier-c", AgentBehaviour(answer_delay=0.2))
    uuid = sim.place_call(did, "+15551234567", behaviour=CallerBehaviour(talk_time=0.5))
    cdr = wait_cdr(app, uuid, timeout=30)
    assert originates(sent(sim, uuid)) == [
        f"sofia/gateway/carrier-{t}/+447911123456 &park()" for t in "abc"
    ]
    assert cdr.disposition is Disposition.ANSWERED
    outbound = [leg for leg in cdr.legs if leg.role is LegRole.OUTBOUND]
    # carrier-a had no channel (GATEWAY_DOWN before any); b's 503 and c's answer are legs
    assert [(leg.trunk, leg.hangup_cause) for leg in outbound][0] == (
        "carrier-b",
        "NORMAL_TEMPORARY_FAILURE",
    )
    assert outbound[1].trunk == "carrier-c"
    assert outbound[1].answered_at is not None
    metrics = app.registry
    assert (
        metrics.get_sample_value(
            "callcenter_trunk_failures_total",
            {"trunk": "carrier-b", "cause": "NORMAL_TEMPORARY_FAILURE"},
        )
        == 1.0
    )
    assert metrics.get_sample_value("callcenter_trunk_answers_total", {"trunk": "carrier-c"}) == 1
    until(lambda: settled(app))


def test_a_busy_callee_is_not_tried_on_the_next_trunk(
    sim: Simulator, viatrunks: tuple[App, str]
) -> None:
    app, did = viatrunks
    sim.set_gateway("carrier-a", AgentBehaviour(busy=True))
    uuid = sim.place_call(did, "+15551234567", behaviour=CallerBehaviour(talk_time=0.5))
    cdr = wait_cdr(app, uuid, timeout=30)
    assert originates(sent(sim, uuid)) == ["sofia/gateway/carrier-a/+447911123456 &park()"]
    assert [leg.hangup_cause for leg in cdr.legs if leg.role is LegRole.OUTBOUND] == ["USER_BUSY"]
    until(lambda: settled(app))

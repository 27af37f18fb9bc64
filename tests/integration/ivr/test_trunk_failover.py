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
from callcenter.trunks.spec import StaticTrunks, TrunkSpec
from callcenter.vocabulary import Disposition, LegRole, RouteTarget
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import (
    add_route,
    caller_leaves_before_the_bridge,
    settled,
    wait_cdr,
)
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
        forget(sim, name)


def forget(sim: Simulator, name: str) -> None:
    sim.gateways.carrier(name, None)
    sim.gateways.undefine(name)
    sim.gateways.loaded.pop(name, None)


def originates(commands: list[str]) -> list[str]:
    return [c.split("}", 1)[1] for c in commands if c.startswith("bgapi originate ")]


def test_down_then_503_then_answered_on_the_third(
    sim: Simulator, viatrunks: tuple[App, str]
) -> None:
    app, did = viatrunks
    sim.gateways.load("carrier-a", register=True)
    sim.gateways.fail("carrier-a")  # FAILED 503: FreeSWITCH refuses calls through it
    until(lambda: sim.gateways.loaded["carrier-a"].ping == "DOWN")
    sim.gateways.carrier("carrier-b", AgentBehaviour(fail_cause="NORMAL_TEMPORARY_FAILURE"))
    sim.gateways.carrier("carrier-c", AgentBehaviour(answer_delay=0.2))
    uuid = sim.place_call(did, "+15551234567", behaviour=CallerBehaviour(talk_time=0.5))
    cdr = wait_cdr(app, uuid, timeout=30)
    assert originates(sent(sim, uuid)) == [
        f"sofia/gateway/carrier-{t}/+447911123456 &park()" for t in "abc"
    ]
    assert cdr.disposition is Disposition.ANSWERED
    outbound = [leg for leg in cdr.legs if leg.role is LegRole.OUTBOUND]
    # carrier-a: -ERR GATEWAY_DOWN before any channel, a leg all the same; b's 503; c answers
    assert [(leg.trunk, leg.hangup_cause) for leg in outbound[:2]] == [
        ("carrier-a", "GATEWAY_DOWN"),
        ("carrier-b", "NORMAL_TEMPORARY_FAILURE"),
    ]
    assert outbound[0].answered_at is None and outbound[0].ended_at is not None
    assert outbound[2].trunk == "carrier-c"
    assert outbound[2].answered_at is not None
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
    sim.gateways.carrier("carrier-a", AgentBehaviour(busy=True))
    uuid = sim.place_call(did, "+15551234567", behaviour=CallerBehaviour(talk_time=0.5))
    cdr = wait_cdr(app, uuid, timeout=30)
    assert originates(sent(sim, uuid)) == ["sofia/gateway/carrier-a/+447911123456 &park()"]
    assert [leg.hangup_cause for leg in cdr.legs if leg.role is LegRole.OUTBOUND] == ["USER_BUSY"]
    until(lambda: settled(app))


def test_a_caller_leaving_as_the_callee_answers_does_not_leave_the_callee_up(
    sim: Simulator, viatrunks: tuple[App, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the caller's BYE read after the far end answered, before the bridge: the outbound leg,
    # answered and parked, stayed up (a paid call to silence) and the call never ended
    app, did = viatrunks
    sim.gateways.carrier("carrier-a", AgentBehaviour(answer_delay=0.2, talk_time=600.0))
    caller_leaves_before_the_bridge(sim, monkeypatch)
    uuid = sim.place_call(did, "+15551234567", behaviour=CallerBehaviour(talk_time=600.0))
    cdr = wait_cdr(app, uuid, timeout=30)
    assert [leg.role for leg in cdr.legs] == [LegRole.CALLER, LegRole.OUTBOUND]
    until(lambda: not sim.channels)
    until(lambda: settled(app))


def trunks(app: App, **specs: TrunkSpec) -> None:
    app.trunking.directory = StaticTrunks({s.name: s for s in specs.values()})


def channels(app: App, trunk: str) -> float:
    found = app.registry.get_sample_value("callcenter_trunk_channels_active", {"trunk": trunk})
    return found or 0.0


def test_a_trunk_at_its_channel_limit_is_skipped_for_the_next(
    sim: Simulator, viatrunks: tuple[App, str]
) -> None:
    app, did = viatrunks
    trunks(app, a=TrunkSpec("carrier-a", "198.51.100.1", max_channels=1))
    sim.gateways.carrier("carrier-a", AgentBehaviour(answer_delay=0.1, talk_time=None))
    sim.gateways.carrier("carrier-b", AgentBehaviour(answer_delay=0.1))
    first = sim.place_call(did, "+15551230001", behaviour=CallerBehaviour(talk_time=30))
    until(lambda: channels(app, "carrier-a") == 1)
    second = sim.place_call(did, "+15551230002", behaviour=CallerBehaviour(talk_time=0.2))
    cdr = wait_cdr(app, second, timeout=30)
    assert originates(sent(sim, second)) == ["sofia/gateway/carrier-b/+447911123456 &park()"]
    # the attempt the limiter refused is a leg too: no channel, its cause
    attempts = [(leg.trunk, leg.hangup_cause) for leg in cdr.legs if leg.role is LegRole.OUTBOUND]
    assert attempts == [
        ("carrier-a", "NORMAL_CIRCUIT_CONGESTION"),
        ("carrier-b", "NORMAL_CLEARING"),
    ]
    limited = {"trunk": "carrier-a", "limit": "channels"}
    assert app.registry.get_sample_value("callcenter_trunk_limited_total", limited) == 1
    sim.hangup(first)
    wait_cdr(app, first, timeout=30)
    until(lambda: channels(app, "carrier-a") == 0)  # freed at the leg's HANGUP_COMPLETE
    until(lambda: settled(app))


def test_a_burst_over_the_cps_limit_waits_a_bounded_time_then_fails_over(
    sim: Simulator, viatrunks: tuple[App, str]
) -> None:
    app, did = viatrunks
    trunks(app, a=TrunkSpec("carrier-a", "198.51.100.1", max_cps=0.5))  # a call every 2 s
    sim.gateways.carrier("carrier-a", AgentBehaviour(answer_delay=0.1))
    sim.gateways.carrier("carrier-b", AgentBehaviour(answer_delay=0.1))
    calls = [
        sim.place_call(did, f"+1555123010{i}", behaviour=CallerBehaviour(talk_time=0.2))
        for i in range(3)
    ]
    for uuid in calls:
        wait_cdr(app, uuid, timeout=30)
    dialled = [originates(sent(sim, uuid))[-1].split("/")[2] for uuid in calls]
    # one at once, one after waiting for the next token (2 s, the most a call waits),
    # the third would wait 4 s: it goes through carrier-b
    assert sorted(dialled) == ["carrier-a", "carrier-a", "carrier-b"]
    limited = {"trunk": "carrier-a", "limit": "cps"}
    assert app.registry.get_sample_value("callcenter_trunk_limited_total", limited) == 1
    until(lambda: settled(app))


def test_inbound_calls_from_a_trunks_addresses_take_its_channels(
    sim: Simulator, viatrunks: tuple[App, str]
) -> None:
    app, did = viatrunks
    # the simulated carrier sends from 127.0.0.1; one channel on carrier-a in all
    trunks(
        app, a=TrunkSpec("carrier-a", "127.0.0.1", max_channels=1, inbound_cidrs=("127.0.0.0/8",))
    )
    sim.gateways.carrier("carrier-b", AgentBehaviour(answer_delay=0.1))
    uuid = sim.place_call(did, "+15551230003", behaviour=CallerBehaviour(talk_time=0.3))
    cdr = wait_cdr(app, uuid, timeout=30)
    # the inbound call itself holds carrier-a's one channel: its transfer out goes via b
    assert originates(sent(sim, uuid)) == ["sofia/gateway/carrier-b/+447911123456 &park()"]
    assert cdr.legs[-1].trunk == "carrier-b"
    until(lambda: channels(app, "carrier-a") == 0)
    until(lambda: settled(app))


def test_a_gateway_the_node_has_not_loaded_fails_over(
    sim: Simulator, viatrunks: tuple[App, str]
) -> None:
    app, did = viatrunks
    sim.gateways.define("carrier-a")  # its file is there, but no rescan loaded it
    sim.gateways.carrier("carrier-b", AgentBehaviour(answer_delay=0.1))
    uuid = sim.place_call(did, "+15551230004", behaviour=CallerBehaviour(talk_time=0.2))
    cdr = wait_cdr(app, uuid, timeout=30)
    attempts = [(leg.trunk, leg.hangup_cause) for leg in cdr.legs if leg.role is LegRole.OUTBOUND]
    assert attempts[0] == ("carrier-a", "INVALID_GATEWAY")
    assert attempts[1][0] == "carrier-b"
    assert cdr.disposition is Disposition.ANSWERED
    until(lambda: settled(app))


def test_an_inbound_did_and_caller_are_read_in_the_arriving_trunks_country(
    sim: Simulator, engine: EngineFactory, tmp_path: Path, three_trunks: None
) -> None:
    app = engine(
        CALLCENTER_DIALPLANS_DIR=str(flows_dir(tmp_path, viatrunks=FLOW)),
        CALLCENTER_DEFAULT_COUNTRY="DE",
    )
    add_route(app, "+33140000000", RouteTarget.IVR, "viatrunks")
    until(lambda: app.connections["fs1"].connected)
    # the simulated carrier sends from 127.0.0.1: a French trunk's network
    trunks(
        app,
        fr=TrunkSpec("fr-in", "192.0.2.1", country="FR", inbound_cidrs=("127.0.0.0/8",)),
        a=TrunkSpec("carrier-a", "198.51.100.1", country="GB"),
    )
    sim.gateways.carrier("carrier-a", AgentBehaviour(answer_delay=0.1))
    try:
        # 01 40 00 00 00 is Paris dialled in France; in Germany it would be +49140000000
        uuid = sim.place_call("0140000000", "0612345678", behaviour=CallerBehaviour(talk_time=0.3))
        cdr = wait_cdr(app, uuid, timeout=30)
        dialled = [c for c in sent(sim, uuid) if c.startswith("bgapi originate ")]
        assert len(dialled) == 1 and "sofia/gateway/carrier-a/+447911123456" in dialled[0]
        # the French mobile 06 12 34 56 78, not a German number
        assert "origination_caller_id_number=+33612345678" in dialled[0]
        assert cdr.disposition is Disposition.ANSWERED
    finally:
        forget(sim, "carrier-a")
    until(lambda: settled(app))

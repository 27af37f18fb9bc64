"""Trunks watched through the simulator over real TCP, stored in a real PostgreSQL: the
state read at connect, a registering trunk going down and up (metrics, /healthz, the
trunk.state_changed event), ``trunk apply`` and ``remove`` sending their sofia commands."""

from __future__ import annotations

from typing import Any

from callcenter.events.types import TrunkStateChanged
from callcenter.services import trunks
from callcenter.services.actor import Actor
from callcenter.sim.gateways import PROFILE
from callcenter.sim.simulator import Simulator
from callcenter.store.repos import TrunkRepository
from callcenter.trunks.spec import TrunkSpec
from tests.integration.calls.conftest import EngineFactory
from tests.support import until

WHO = Actor("cli", "test")
REG, PEER = "tw-carrier1", "tw-peer2"


def _sent(sim: Simulator) -> list[str]:
    return [c.line for c in sim.commands]


def _state(app: Any, name: str) -> str | None:
    found = app.trunks.states.get(("fs1", name))
    return None if found is None else found.state


def _gauge(app: Any, metric: str, name: str) -> float | None:
    value: float | None = app.registry.get_sample_value(metric, {"node": "fs1", "trunk": name})
    return value


def test_a_registering_trunk_read_at_connect_goes_down_and_up(
    sim: Simulator, engine: EngineFactory
) -> None:
    sim.gateways.define(REG, register=True)
    sim.gateways.api(["profile", PROFILE, "rescan"])  # loaded before the engine connects
    until(lambda: sim.gateways.loaded[REG].state == "REGED", timeout=5)
    app = engine()
    seen: list[TrunkStateChanged] = []
    app.events.subscribe(lambda e: seen.append(e) if isinstance(e, TrunkStateChanged) else None)
    trunks.add(app.database, WHO, TrunkSpec(REG, "127.0.0.1:5095", register=True,
                                            username="trunkuser", password="Pw-1"))  # fmt: skip

    # the change reloads the trunks; the next connect reads each one's status
    until(lambda: app.trunks.get(REG) is not None, timeout=5)
    sim.drop_clients()
    until(lambda: _state(app, REG) == "REGED", timeout=10)
    assert f"api sofia xmlstatus gateway {REG}" in _sent(sim)
    assert _gauge(app, "callcenter_trunk_registered", REG) == 1.0
    assert not any(REG in r for r in app.health()["reasons"])

    sim.gateways.fail(REG)
    until(lambda: _state(app, REG) == "FAIL_WAIT", timeout=5)
    assert _gauge(app, "callcenter_trunk_registered", REG) == 0.0
    assert _gauge(app, "callcenter_trunk_up", REG) == 0.0
    health = app.health()
    assert health["status"] == "degraded"
    assert f"trunk {REG} not registered on fs1 (FAIL_WAIT)" in health["reasons"]
    failed = [e for e in seen if e.state == "FAILED"]
    assert failed and failed[0].detail == "503 Service Unavailable" and not failed[0].up
    assert failed[0].to_dict()["data"]["trunk"] == REG

    sim.gateways.restore(REG)
    until(lambda: _state(app, REG) == "REGED", timeout=5)
    assert _gauge(app, "callcenter_trunk_up", REG) == 1.0
    assert not any(REG in r for r in app.health()["reasons"])
    assert [e.state for e in seen][-4:] == ["UNREGED", "TRYING", "REGISTER", "REGED"]
    assert seen[-1].registered and seen[-1].previous == "REGISTER"
    # stored right after the watch takes the state in memory (its session yields meanwhile)
    until(lambda: trunks.status(app.database, REG)[0].nodes[0].state == "REGED", timeout=5)
    rows = trunks.status(app.database, REG)
    assert rows[0].up is True and rows[0].nodes[0].state == "REGED"


def test_apply_rescans_and_remove_kills_the_gateway(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    until(lambda: app.trunks.nodes["fs1"].connected, timeout=10)
    trunks.add(app.database, WHO, TrunkSpec(PEER, "203.0.113.7:5080",
                                            inbound_cidrs=("203.0.113.7/32",)))  # fmt: skip
    sim.gateways.define("stale-gw", register=False)  # rendered and loaded once...
    sim.gateways.api(["profile", PROFILE, "rescan"])
    sim.gateways.undefine("stale-gw")  # ... no longer stored: the render removed its file
    sim.gateways.define(PEER, register=False)  # the file `fs render` wrote
    trunks.apply(app.database, WHO)
    rescan = f"api sofia profile {PROFILE} rescan"
    until(lambda: "api reloadacl" in _sent(sim), timeout=5)
    sent = _sent(sim)
    assert f"api sofia profile {PROFILE} killgw stale-gw" in sent
    assert sent.index("api reloadxml") < sent.index(rescan) < sent.index("api reloadacl")
    until(lambda: _gauge(app, "callcenter_trunk_up", PEER) == 1.0, timeout=5)  # ping up
    assert _state(app, PEER) == "NOREG"  # it does not register

    # a changed trunk: rescan never re-reads a loaded gateway, so killgw, deleted, rescan
    trunks.update(app.database, WHO, PEER, {"caller_id_in_from": True})
    before = len(sim.commands)
    trunks.apply(app.database, WHO)
    killed = f"api sofia profile {PROFILE} killgw {PEER}"
    until(lambda: "api reloadacl" in _sent(sim)[before:], timeout=5)
    after = _sent(sim)[before:]
    assert after.index(killed) < after.index(rescan) < after.index("api reloadacl")
    until(lambda: PEER in sim.gateways.loaded and _state(app, PEER) == "NOREG", timeout=5)

    trunks.remove(app.database, WHO, PEER)
    until(lambda: f"api sofia profile {PROFILE} killgw {PEER}" in _sent(sim), timeout=5)
    until(lambda: PEER not in sim.gateways.loaded, timeout=5)
    assert _gauge(app, "callcenter_trunk_up", PEER) is None  # label gone with the trunk
    assert app.trunks.get(PEER) is None

    with app.database.session_scope() as session:  # written around the services: no change row
        TrunkRepository(session).add(TrunkSpec("tw-quiet", "192.0.2.1"))
    app.request_reload()  # SIGHUP (or the change feed resyncing) reads the trunks again
    until(lambda: app.trunks.get("tw-quiet") is not None, timeout=5)
    trunks.remove(app.database, WHO, "tw-quiet")

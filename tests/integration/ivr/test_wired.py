"""The engine as app.py wires it: a route ivr:<flow> runs the shipped example flows."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.app import App
from callcenter.sim.behaviour import CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.vocabulary import RouteTarget
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import add_route, apps_sent, settled, wait_cdr
from tests.support import until

DIALPLANS = Path(__file__).parents[3] / "dialplans"

# runs once app.py builds the flow registry (callcenter/ivr/_integration_notes.md)
pytestmark = pytest.mark.skipif(
    not hasattr(App, "reload_flows"), reason="app.py does not wire IVR flows yet"
)


def test_route_to_a_flow_runs_it_and_reload_keeps_it(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app = engine(CALLCENTER_DIALPLANS_DIR=str(DIALPLANS))
    assert set(app.flows.names()) >= {"main", "support"}
    assert (tmp_path / "callcenter.pid").read_text().strip().isdigit()
    add_route(app, "7310", RouteTarget.IVR, "support")
    until(lambda: app.connections["fs1"].connected)
    uuid = sim.place_call("7310", "100", behaviour=CallerBehaviour(digits=("1",)))
    cdr = wait_cdr(app, uuid, timeout=30)
    assert [(p["node"], p["result"]) for p in cdr.ivr_path] == [
        ("support_menu", "1"), ("support_q", "queue"),
    ]  # fmt: skip
    assert cdr.hangup_cause == "SERVICE_NOT_IMPLEMENTED"  # no ACD yet
    assert apps_sent(sim, uuid)[-1] == "hangup SERVICE_NOT_IMPLEMENTED"
    assert app.reload_flows().ok
    until(lambda: settled(app))

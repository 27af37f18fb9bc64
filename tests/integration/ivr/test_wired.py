"""The engine as app.py wires it: a route ivr:<flow> runs the shipped example flows."""

from __future__ import annotations

from pathlib import Path

from callcenter.sim.behaviour import CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.repos import QueueRepository
from callcenter.vocabulary import Disposition, RouteTarget
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import add_route, apps_sent, settled, wait_cdr
from tests.support import until

DIALPLANS = Path(__file__).parents[3] / "dialplans"


def test_route_to_a_flow_runs_it_and_reload_keeps_it(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app = engine(CALLCENTER_DIALPLANS_DIR=str(DIALPLANS))
    assert set(app.flows.names()) >= {"main", "support"}
    assert (tmp_path / "callcenter.pid").read_text().strip().isdigit()
    add_route(app, "7310", RouteTarget.IVR, "support")
    until(lambda: app.connections["fs1"].connected)
    with app.database.session_scope() as session:
        for name in ("sales", "support", "vip"):  # the queues the shipped flows name
            QueueRepository(session).add(name)
    app.dispatcher.request_reload()
    until(lambda: "support" in app.dispatcher.board.queues)
    behaviour = CallerBehaviour(digits=("1",), patience=30.0)
    uuid = sim.place_call("7310", "100", behaviour=behaviour)
    cdr = wait_cdr(app, uuid, timeout=30)
    assert [(p["node"], p["result"]) for p in cdr.ivr_path] == [
        ("support_menu", "1"), ("support_q", "queue"), ("support_q", "hangup"),
    ]  # fmt: skip
    # queue "support" has nobody logged in: the caller waits with its music, then leaves
    assert cdr.queue == "support" and cdr.disposition is Disposition.ABANDONED
    assert apps_sent(sim, uuid)[-1] == "playback local_stream://moh"
    assert app.reload_flows().ok
    until(lambda: settled(app))

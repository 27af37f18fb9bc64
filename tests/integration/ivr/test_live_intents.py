"""Intents reaching a caller inside an IVR flow: the menu's prompt is broken (``uuid_break``)
and the actor carries the intent out at once, over the simulator."""

from __future__ import annotations

from pathlib import Path

from callcenter.calls.intents import Hangup, Transfer
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.vocabulary import Disposition, LegRole
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import settled, wait_cdr
from tests.integration.ivr.test_every_node import flows_dir, sent, start
from tests.integration.ivr.test_outbound_transfer import DIAL_STRING, FarEnd, carrier_route
from tests.support import until

__all__ = ["carrier_route"]

LONG_MENU = """\
version: 1
name: waits
start: pick
sounds: /snd
nodes:
  pick:
    type: menu
    greet_long: pick.wav
    timeout: 600
    options: {"1": bye}
  bye: {type: hangup}
"""


def in_menu(sim: Simulator, uuid: str) -> bool:
    return any(line.startswith("play_and_get_digits") for line in sent(sim, uuid))


def test_transfer_out_of_a_menu_to_a_number(
    sim: Simulator, engine: EngineFactory, tmp_path: Path, carrier_route: None
) -> None:
    app, did = start(engine, flows_dir(tmp_path, waits=LONG_MENU), "waits")
    far_end = FarEnd(AgentBehaviour(answer_delay=0.5, talk_time=1.0))
    sim.set_far_end(far_end)
    uuid = sim.place_call(did, "+15551234567", behaviour=CallerBehaviour())
    until(lambda: in_menu(sim, uuid))
    assert app.managers["fs1"].send_intent(uuid, Transfer("number:0049301234", "api:crm"))
    cdr = wait_cdr(app, uuid, timeout=30)
    assert far_end.dialled == [DIAL_STRING]
    assert f"api uuid_break {uuid} all" in sent(sim, uuid)
    assert [leg.role for leg in cdr.legs] == [LegRole.CALLER, LegRole.OUTBOUND]
    assert cdr.disposition is Disposition.ANSWERED
    [step] = [s for s in cdr.ivr_path if s["node"] == "@transfer"]
    assert (step["by"], step["target"]) == ("api:crm", "number:0049301234")
    until(lambda: settled(app))


def test_hang_up_a_caller_in_a_menu(sim: Simulator, engine: EngineFactory, tmp_path: Path) -> None:
    app, did = start(engine, flows_dir(tmp_path, waits=LONG_MENU), "waits")
    uuid = sim.place_call(did, "+15551234567", behaviour=CallerBehaviour())
    until(lambda: in_menu(sim, uuid))
    assert app.managers["fs1"].send_intent(uuid, Hangup("NORMAL_CLEARING", "cli:bob"))
    cdr = wait_cdr(app, uuid, timeout=10)
    assert cdr.ended_by == "cli:bob"
    until(lambda: settled(app))

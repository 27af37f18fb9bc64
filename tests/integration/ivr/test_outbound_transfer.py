"""A flow's ``transfer`` to an external number, through an outbound route, over the simulator.

The App is wired as ``callcenter serve`` wires it; the route is a row of the
``outbound_routes`` table; the far end is whatever the simulator's ``far_end`` policy says
the dial string reaches.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.app import App
from callcenter.calls.features import BUSY_TONE
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.database import Database
from callcenter.store.repos import OutboundRouteRepository
from callcenter.vocabulary import Disposition, HangupBy, LegRole
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import settled, wait_cdr
from tests.integration.ivr.test_every_node import PICK, flows_dir, path_of, sent, start
from tests.support import until

DIALOUT = """\
version: 1
name: dialout
start: pick
sounds: /snd
nodes:
  pick:
    type: menu
    greet_long: pick.wav
    timeout: 2
    options: {"1": abroad, "2": nowhere}
  abroad: {type: transfer, number: "0049301234"}
  nowhere: {type: transfer, number: "5551234"}
"""

DIAL_STRING = "sofia/gateway/carrier/+49301234"


@pytest.fixture(scope="module")
def carrier_route(calls_db_url: str) -> None:
    """``^00(\\d+)$`` leaves through gateway ``carrier`` as ``+$1``; nothing takes 5551234."""
    database = Database(calls_db_url)
    with database.session_scope() as session:
        OutboundRouteRepository(session).add(
            "intl", r"^00(\d+)$", "carrier", number_format="+$1", caller_id_number="+4930999"
        )
    database.dispose()


@pytest.fixture
def dialout(
    engine: EngineFactory, tmp_path: Path, carrier_route: None
) -> Iterator[tuple[App, str]]:
    app, did = start(engine, flows_dir(tmp_path, dialout=DIALOUT), "dialout")
    assert app.ivr.outbound is app.outbound
    yield app, did


class FarEnd:
    """The simulator's far-end policy: one behaviour for every dial string, which it keeps."""

    def __init__(self, behaviour: AgentBehaviour) -> None:
        self.behaviour = behaviour
        self.dialled: list[str] = []

    def __call__(self, dial: str) -> AgentBehaviour:
        self.dialled.append(dial)
        return self.behaviour


def originate_of(commands: list[str]) -> str:
    lines = [c for c in commands if c.startswith("bgapi originate ")]
    assert len(lines) == 1, commands
    return lines[0]


def test_transfer_to_a_number_dials_the_gateway_and_bridges(
    sim: Simulator, dialout: tuple[App, str]
) -> None:
    app, did = dialout
    far_end = FarEnd(AgentBehaviour(answer_delay=0.5))
    sim.set_far_end(far_end)
    behaviour = CallerBehaviour(digits=("1",), talk_time=1.0)
    uuid = sim.place_call(did, "+15551234567", behaviour=behaviour)
    cdr = wait_cdr(app, uuid, timeout=30)
    commands = sent(sim, uuid)
    originate = originate_of(commands)
    assert commands[:3] == ["answer", PICK, "ring_ready"] and commands[3] == originate
    assert f"}}{DIAL_STRING} &park()" in originate
    assert "origination_caller_id_number=+4930999" in originate
    assert "cc_role=outbound" in originate and "originate_timeout=30" in originate
    assert commands[4] == "answer"
    assert commands[5].startswith(f"api uuid_bridge {uuid} ")
    assert far_end.dialled == [DIAL_STRING]
    assert path_of(cdr) == [("dialout", "pick", "1"), ("dialout", "abroad", "transfer")]
    assert cdr.disposition is Disposition.ANSWERED and cdr.hangup_by is HangupBy.CALLER
    assert [leg.role for leg in cdr.legs] == [LegRole.CALLER, LegRole.OUTBOUND]
    assert cdr.legs[1].answered_at is not None
    assert cdr.talk_ms >= 900
    until(lambda: settled(app))


def test_a_number_no_route_takes_is_hung_up_no_route_destination(
    sim: Simulator, dialout: tuple[App, str]
) -> None:
    app, did = dialout
    far_end = FarEnd(AgentBehaviour())
    sim.set_far_end(far_end)
    uuid = sim.place_call(did, "100", behaviour=CallerBehaviour(digits=("2",)))
    cdr = wait_cdr(app, uuid, timeout=30)
    assert sent(sim, uuid) == ["answer", PICK, "hangup NO_ROUTE_DESTINATION"]
    assert path_of(cdr) == [("dialout", "pick", "2"), ("dialout", "nowhere", "transfer")]
    assert cdr.hangup_cause == "NO_ROUTE_DESTINATION" and cdr.hangup_by is HangupBy.SYSTEM
    assert far_end.dialled == []
    until(lambda: settled(app))


@pytest.mark.parametrize(
    "far", [AgentBehaviour(busy=True), AgentBehaviour(no_answer=True)], ids=["busy", "no_answer"]
)
def test_a_far_end_that_does_not_answer_gets_the_busy_tone(
    sim: Simulator, dialout: tuple[App, str], far: AgentBehaviour
) -> None:
    app, did = dialout
    sim.set_far_end(FarEnd(far))
    uuid = sim.place_call(did, "100", behaviour=CallerBehaviour(digits=("1",)))
    cdr = wait_cdr(app, uuid, timeout=30)
    commands = sent(sim, uuid)
    assert DIAL_STRING in originate_of(commands)
    assert commands[-3:] == ["answer", f"playback {BUSY_TONE}", "hangup NORMAL_CLEARING"]
    assert not any(c.startswith("api uuid_bridge") for c in commands)
    assert cdr.disposition is (Disposition.BUSY if far.busy else Disposition.NO_ANSWER)
    until(lambda: settled(app))


def test_without_an_outbound_table_the_runner_hangs_up_no_route_destination(
    sim: Simulator, dialout: tuple[App, str]
) -> None:
    app, did = dialout
    app.ivr.outbound = None  # an IvrRunner built without outbound routes
    far_end = FarEnd(AgentBehaviour())
    sim.set_far_end(far_end)
    uuid = sim.place_call(did, "100", behaviour=CallerBehaviour(digits=("1",)))
    cdr = wait_cdr(app, uuid, timeout=30)
    assert sent(sim, uuid) == ["answer", PICK, "hangup NO_ROUTE_DESTINATION"]
    assert cdr.hangup_cause == "NO_ROUTE_DESTINATION" and far_end.dialled == []
    until(lambda: settled(app))

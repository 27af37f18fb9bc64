"""What a supervisor sees of a queue live: the agent on a call with its caller, the caller
waiting behind, in ``queue show`` (from the database) and the API (from the ACD's board)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from callcenter.cli import main
from callcenter.services import tokens
from callcenter.services.actor import Actor
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.vocabulary import CallState
from tests.integration.api.test_live_calls_api import call_api
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import settled
from tests.integration.calls.test_intents import state_of
from tests.integration.calls.test_queues import entries, setup_queue
from tests.support import until


def test_queue_show_and_the_api_give_calls_callers_and_the_waiting(
    sim: Simulator, engine: EngineFactory, calls_db_url: str, tmp_path: Path
) -> None:
    app = engine()
    sim.register_agent("3701", AgentBehaviour(answer_delay=0.3))
    setup_queue(app, "live-q", {"3701": {}}, did="9701")
    talking = sim.place_call("9701", "15550201", behaviour=CallerBehaviour(patience=None))
    until(lambda: state_of(app, talking) is CallState.BRIDGED)
    waiting = sim.place_call("9701", "15550202", behaviour=CallerBehaviour(patience=None))
    until(lambda: any(e.call_uuid == waiting and e.left_at is None for e in entries(app, "live-q")))
    app.writer.flush()

    env = {"CALLCENTER_DATABASE_URL": calls_db_url, "CALLCENTER_DATA_DIR": str(tmp_path),
           "CALLCENTER_LOG_LEVEL": "WARNING"}  # fmt: skip
    done = CliRunner().invoke(main, ["queue", "show", "live-q", "--json"], env=env)
    assert done.exit_code == 0, done.output
    shown = json.loads(done.output)
    [member] = shown["members"]
    assert (member["extension"], member["call"], member["caller"]) == ("3701", talking, "15550201")
    assert member["for_s"] is not None and member["state"] == "in_call"
    [queued] = shown["waiting"]
    assert (queued["position"], queued["call_uuid"], queued["caller"]) == (1, waiting, "15550202")
    assert queued["wait_s"] >= 0 and queued["priority"] == 0

    token = tokens.create(app.database, Actor("cli", "test"), "sup", "read").secret
    status, agent = call_api(app, token, "GET", "/agents/3701")
    assert status == 200 and agent["live"]["current_call"] == talking
    assert agent["live"]["caller"] == "15550201" and agent["live"]["state"] == "in_call"
    [caller] = call_api(app, token, "GET", "/queues/live-q/callers")[1]["callers"]
    assert (caller["call_uuid"], caller["caller"], caller["skills"]) == (waiting, "15550202", {})
    sim.hangup(waiting)
    sim.hangup(talking)
    until(lambda: settled(app))

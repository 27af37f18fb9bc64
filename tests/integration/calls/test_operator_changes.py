"""The proof of the change feed: two processes on one PostgreSQL database. A running
engine (on the simulator) and a CLI with another data dir, so no pid file and no signal
can reach the engine: what the operator does reaches it within a second anyway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.vocabulary import AgentStatus, CallState, Disposition
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import settled, wait_cdr
from tests.integration.calls.test_queues import originates, setup_queue
from tests.support import until

ROOT = Path(__file__).resolve().parents[3]


def cli(args: list[str], database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`callcenter ARGS` in a process of its own, as an operator on another host runs it."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CALLCENTER_DATABASE_URL": database_url,
        "CALLCENTER_DATA_DIR": str(data_dir),
        "CALLCENTER_LOG_LEVEL": "WARNING",
    }
    env.pop("CALLCENTER_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "callcenter", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_a_pause_from_another_process_stops_the_offers_within_a_second(
    sim: Simulator, engine: EngineFactory, calls_db_url: str, tmp_path: Path
) -> None:
    app = engine()
    for extension in ("3101", "3102"):
        sim.register_agent(extension, AgentBehaviour(answer_delay=0.3))
    setup_queue(app, "feedq", {"3101": {}, "3102": {}}, did="8101")
    board = app.dispatcher.board
    board.agents["3101"].idle_since = -1e9  # longest idle: the one offered first
    until(lambda: app.changes._listener is not None)
    elsewhere = tmp_path / "operator"  # another data dir: no pid file, no SIGHUP possible

    result = cli(["agent", "pause", "3101", "--reason", "training"], calls_db_url, elsewhere)
    returned = time.monotonic()
    assert "SIGHUP" not in result.stdout + result.stderr
    until(lambda: board.agents["3101"].status is AgentStatus.PAUSED, timeout=1.0)
    assert time.monotonic() - returned < 1.0
    applied = app.registry.get_sample_value(
        "callcenter_engine_changes_applied_total", {"kind": "agent"}
    )
    assert applied == 1

    uuid = sim.place_call("8101", "15550101", behaviour=CallerBehaviour(talk_time=0.5))
    cdr = wait_cdr(app, uuid)
    assert cdr.disposition is Disposition.ANSWERED and cdr.agent_extension == "3102"
    assert not any("user/3101@" in line for line in originates(sim))

    cli(["agent", "ready", "3101"], calls_db_url, elsewhere)
    until(lambda: board.agents["3101"].status is AgentStatus.AVAILABLE, timeout=1.0)
    until(lambda: settled(app))


def test_a_live_call_is_listed_and_hung_up_from_another_process(
    sim: Simulator, engine: EngineFactory, calls_db_url: str, tmp_path: Path
) -> None:
    app = engine()
    sim.register_agent("3201", AgentBehaviour(answer_delay=0.3))
    # the only agent paused: the caller waits in the queue until the operator acts
    setup_queue(app, "holdq", {"3201": {}}, did="8102", status=AgentStatus.PAUSED)
    elsewhere = tmp_path / "operator"
    uuid = sim.place_call("8102", "15550102", behaviour=CallerBehaviour())

    def listed() -> list[dict[str, Any]]:
        out = cli(["call", "list", "--json"], calls_db_url, elsewhere).stdout
        return [c for c in json.loads(out) if c["uuid"] == uuid]

    app.writer.flush()
    [live] = until(listed, timeout=10)
    assert live["state"] != CallState.ENDED and live["legs"][0]["uuid"] == uuid
    shown = json.loads(cli(["call", "show", uuid, "--json"], calls_db_url, elsewhere).stdout)
    assert shown["did"] == "8102"

    out = cli(["call", "hangup", uuid, "--cause", "CALL_REJECTED"], calls_db_url, elsewhere)
    assert f"call {uuid}: hangup (CALL_REJECTED) sent" in out.stdout
    cdr = wait_cdr(app, uuid)
    assert cdr.hangup_cause == "CALL_REJECTED"
    until(lambda: settled(app))
    assert listed() == []

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on

from collections.abc import Iterator

import pytest

from callcenter.sim import AgentBehaviour, Simulator
from tests.integration.sim.rawesl import RawESL

SUBSCRIPTION = (
    "CHANNEL_CREATE CHANNEL_DESTROY CHANNEL_STATE CHANNEL_CALLSTATE CHANNEL_ANSWER CHANNEL_HANGUP "
    "CHANNEL_HANGUP_COMPLETE CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_BRIDGE "
    "CHANNEL_UNBRIDGE CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_OUTGOING CHANNEL_ORIGINATE "
    "CHANNEL_PARK CHANNEL_UNPARK CHANNEL_HOLD CHANNEL_UNHOLD CALL_UPDATE DTMF PLAYBACK_START "
    "PLAYBACK_STOP RECORD_START RECORD_STOP BACKGROUND_JOB CUSTOM callcenter::info"
)
TIME_SCALE = 0.05


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator(time_scale=TIME_SCALE, seed=7).start()
    # the recorded sessions' files are FreeSWITCH's (/var/lib/callcenter/...): none on this host
    simulator.core.record_files = "missing"
    simulator.register_agent("1001", AgentBehaviour(answer_delay=0.2))
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def esl(sim: Simulator) -> Iterator[RawESL]:
    client = RawESL(*sim.address)
    assert client.auth().headers["Reply-Text"] == "+OK accepted"
    reply = client.command(f"event json {SUBSCRIPTION}")
    assert reply.headers["Reply-Text"] == "+OK event listener enabled json"
    try:
        yield client
    finally:
        client.close()

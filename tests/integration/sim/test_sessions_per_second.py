"""The simulator's sessions per second, as FreeSWITCH's core keeps them
(``switch_core_session_request_uuid``): ``sps - 1`` sessions in each of its seconds, every
session counted (inbound callers, originated legs); an originate beyond them answers
``-ERR DESTINATION_OUT_OF_ORDER`` with no channel and no event, a caller gets a 503 (no
channel). ``fsctl sps N`` sets the rate, as on a real switch. Counted from the simulator's
own records, per whole second of its clock (real time here)."""

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on
import gzip
import json
import math
import uuid as uuidlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.sim import AgentBehaviour, Simulator
from callcenter.sim.core import THROTTLED, SessionRequest, SimCore
from callcenter.sim.listings import status
from tests.integration.sim.conftest import SUBSCRIPTION
from tests.integration.sim.rawesl import RawESL, wait_until
from tests.support import until


@pytest.fixture
def switch() -> Iterator[tuple[Simulator, RawESL]]:
    sim = Simulator(time_scale=1.0, seed=5).start()  # FreeSWITCH's seconds: the wall's
    sim.register_agent("1001", AgentBehaviour(answer_delay=30.0))
    sim.set_far_end(lambda _dial: AgentBehaviour(answer_delay=30.0))  # they ring on
    client = RawESL(*sim.address)
    client.auth()
    client.command(f"event json {SUBSCRIPTION}")
    try:
        yield sim, client
    finally:
        client.close()
        sim.stop()


def _per_second(requests: list[SessionRequest]) -> dict[int, tuple[int, int]]:
    """(created, refused) per whole second of the simulator's clock."""
    created = Counter(math.floor(r.at) for r in requests if not r.refused)
    refused = Counter(math.floor(r.at) for r in requests if r.refused)
    return {s: (created[s], refused[s]) for s in created.keys() | refused.keys()}


def test_an_originate_beyond_the_sessions_per_second_is_refused_with_no_channel(
    switch: tuple[Simulator, RawESL],
) -> None:
    sim, esl = switch
    assert esl.api("fsctl sps") == "+OK sessions per second: 30\n"  # switch.conf.xml's default
    assert esl.api("fsctl sps 5") == "+OK sessions per second: 5\n"
    legs, jobs = [], []
    for n in range(12):  # far less than a second: at most two of the switch's seconds
        leg = str(uuidlib.uuid4())
        dial = "user/1001" if n % 2 else "sofia/gateway/carrier1/15557770100"
        reply = esl.command(f"bgapi originate {{origination_uuid={leg}}}{dial} &park")
        legs.append(leg)
        jobs.append(reply.headers["Job-UUID"])
    until(lambda: len(sim.core.session_requests) == 12)
    requests = list(sim.core.session_requests)
    seconds = _per_second(requests)
    assert len(seconds) <= 2
    assert all(created <= 4 for created, _ in seconds.values())  # sps - 1 a second
    assert all(created == 4 for created, refused in seconds.values() if refused)
    refusals = sum(refused for _, refused in seconds.values())
    assert refusals >= 4 and {r.refused for r in requests if r.refused} == {THROTTLED}
    # the refused answer at once (the others ring on): -ERR DESTINATION_OUT_OF_ORDER
    answered = until(
        lambda: len(esl.find("BACKGROUND_JOB")) == refusals and esl.find("BACKGROUND_JOB")
    )
    assert {job.body for job in answered} == {"-ERR DESTINATION_OUT_OF_ORDER\n"}
    refused = {legs[jobs.index(job["Job-UUID"])] for job in answered}
    for leg in refused:  # no channel: no event, not in show channels
        assert esl.names_for(leg) == [] and sim.channel(leg) is None
    ringing = set(legs) - refused
    until(lambda: all(esl.find("CHANNEL_PROGRESS", Unique_ID=leg) for leg in ringing), timeout=5)


def test_a_caller_beyond_the_sessions_per_second_gets_no_channel(
    switch: tuple[Simulator, RawESL],
) -> None:
    sim, esl = switch
    esl.api("fsctl sps 3")
    placed = [sim.place_call("5000", f"155566601{n:02d}") for n in range(10)]
    requests = list(sim.core.session_requests)
    seconds = _per_second(requests)
    assert len(requests) == 10 and len(seconds) <= 2
    assert all(created <= 2 for created, _ in seconds.values())
    refused = [uuid for uuid in placed if not uuid]  # a 503: "" instead of a channel's uuid
    assert len(refused) == sum(r for _, r in seconds.values()) >= 6
    created = [uuid for uuid in placed if uuid]
    until(lambda: all(esl.names_for(uuid) for uuid in created), timeout=5)
    assert len(sim.channels) == len(created)


def _recorded_heartbeat() -> list[str]:
    """The header names of a real FreeSWITCH's HEARTBEAT, in order (sessions-2, s08)."""
    path = Path(__file__).parents[2] / "fixtures" / "esl" / "s08-dual-json.events.jsonl.gz"
    with gzip.open(path, "rt") as lines:
        for line in lines:
            body = json.loads(line).get("body")
            if isinstance(body, dict) and body.get("Event-Name") == "HEARTBEAT":
                return list(body)
    raise AssertionError("no HEARTBEAT recorded")


def test_a_heartbeat_every_20_seconds_tells_what_the_current_second_has_left() -> None:
    sim = Simulator(time_scale=0.05, seed=5).start()  # 20 s of its clock: 1 s of the wall
    client = RawESL(*sim.address)
    try:
        client.auth()
        client.command("event json HEARTBEAT")
        wait_until(lambda: client.find("HEARTBEAT"), timeout=3)
        first = client.find("HEARTBEAT")[0]
        assert [name for name, _ in first.duplicates] == _recorded_heartbeat()
        assert first["Event-Calling-Line-Number"] == "95"  # switch_core.c's send_heartbeat
        assert first["Session-Per-Sec"] == "30"  # an idle second: the whole rate
        assert client.api("fsctl sps 50").startswith("+OK sessions per second: 50")
        wait_until(lambda: client.find("HEARTBEAT", Session_Per_Sec="50"), timeout=3)
    finally:
        client.close()
        sim.stop()


def test_a_heartbeat_tells_a_second_overdrawn_and_the_busiest_seconds() -> None:
    core = SimCore(sessions_per_second=3)  # in real time: its seconds are the wall's
    wait_until(lambda: core.clock.now() % 1 < 0.5, timeout=2)  # a second's first half
    created = [core.request_session("outbound", "sofia/gateway/c1/1555") for _ in range(4)]
    assert created == [True, True, False, False]  # 3 a second: 2 through, 2 refused
    beat = core.heartbeat()
    assert beat.get("Session-Per-Sec") == str(2**32 - 1)  # -1 left, printed %u
    second = math.floor(core.clock.now())
    wait_until(lambda: math.floor(core.clock.now()) == second + 1, timeout=2)
    beat = core.heartbeat()
    figures = [beat.get(f"Session-Per-Sec{s}") for s in ("", "-Last", "-Max", "-FiveMin")]
    assert figures == ["3", "4", "4", "4"]  # every request counts, refused ones too
    assert "4 session(s) per Sec out of max 3, peak 4, last 5min 4" in status(core)

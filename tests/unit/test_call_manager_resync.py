"""The resync after a (re)connect and a CHANNEL_PARK arriving while it runs."""

from __future__ import annotations

import json
from typing import Any

import gevent
from prometheus_client import CollectorRegistry

from callcenter.calls.manager import CallManager
from callcenter.calls.metrics import CallMetrics
from callcenter.esl.events import Event
from callcenter.esl.router import EventRouter

UUID = "5d0c9a61-0000-4000-8000-00000000000a"
PARKED = {
    "Event-Name": "CHANNEL_PARK",
    "Unique-ID": UUID,
    "Call-Direction": "inbound",
    "Caller-Destination-Number": "7199",
    "variable_cc_managed": "true",
    "Answer-State": "ringing",
}


class Channel:
    """``show channels`` lists the new call; while ``uuid_dump`` is being answered, its
    CHANNEL_PARK reaches the manager (events and replies interleave on one connection)."""

    connected = True

    def __init__(self) -> None:
        self.manager: CallManager | None = None

    def api(self, line: str, timeout: float | None = None, *, check: bool = True) -> str:
        if line.startswith("show channels"):
            return json.dumps({"rows": [{"uuid": UUID}]})
        if line.startswith("uuid_dump"):
            assert self.manager is not None
            self.manager.on_event(Event("CHANNEL_PARK", None, UUID, dict(PARKED)))
            return json.dumps(PARKED)
        return "+OK\n"

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"not used: {name}")


class Nothing:
    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: None


def test_a_call_parked_during_the_resync_gets_one_actor() -> None:
    channel, registry = Channel(), CollectorRegistry()
    manager = CallManager(
        "fs1", EventRouter(), Nothing(), Nothing(), Nothing(),  # type: ignore[arg-type]
        CallMetrics(registry), lambda control, target: gevent.sleep(60),
    )  # fmt: skip
    manager.previous.reconciled = True  # no database here
    channel.manager = manager
    manager.bind(channel)  # type: ignore[arg-type]
    try:
        manager.resync()
        assert list(manager.actors) == [UUID]
        # created by its PARK, not adopted a second time
        assert registry.get_sample_value("callcenter_calls_adopted_total") == 0
    finally:
        manager.group.kill(block=True, timeout=2)


def test_an_agent_leg_parking_after_its_call_is_over_is_hung_up() -> None:
    channel, registry = Channel(), CollectorRegistry()
    kills: list[str] = []
    channel.api = lambda line, timeout=None, *, check=True: kills.append(line) or "+OK\n"  # type: ignore[method-assign]
    manager = CallManager(
        "fs1", EventRouter(), Nothing(), Nothing(), Nothing(),  # type: ignore[arg-type]
        CallMetrics(registry), lambda control, target: None,
    )  # fmt: skip
    manager.bind(channel)  # type: ignore[arg-type]
    leg = "5d0c9a61-0000-4000-8000-00000000000b"
    orphan = {
        **PARKED, "Unique-ID": leg, "Call-Direction": "outbound",
        "variable_cc_role": "agent", "variable_cc_call_uuid": UUID,
    }  # fmt: skip
    manager.on_event(Event("CHANNEL_PARK", None, leg, dict(orphan)))
    manager.group.join(timeout=2)
    assert kills == []  # before the first resync, such legs are the resync's to judge
    manager._synced = True
    manager.on_event(Event("CHANNEL_PARK", None, leg, dict(orphan)))
    manager.group.join(timeout=2)
    assert kills == [f"uuid_kill {leg} LOSE_RACE"]
    assert manager.actors == {}


def test_an_agent_leg_of_the_last_run_never_bridged_is_hung_up_at_adoption() -> None:
    # soak: an agent's phone answered while the engine was killed; the next run adopted its
    # leg with the waiting caller, offered the caller to another agent, and left this leg
    # parked (the phone off-hook) after the call had ended
    leg = "5d0c9a61-0000-4000-8000-00000000000c"
    caller = {**PARKED, "Caller-Channel-Answered-Time": "1700000000000000"}
    agent_leg = {
        **PARKED, "Unique-ID": leg, "Call-Direction": "outbound",
        "Caller-Channel-Answered-Time": "1700000001000000",
        "variable_cc_role": "agent", "variable_cc_agent": "1001", "variable_cc_call_uuid": UUID,
    }  # fmt: skip
    sent: list[str] = []

    def api(line: str, timeout: float | None = None, *, check: bool = True) -> str:
        sent.append(line)
        if line.startswith("show channels"):
            return json.dumps({"rows": [{"uuid": UUID}, {"uuid": leg}]})
        if line.startswith("uuid_dump"):
            return json.dumps(caller if UUID in line else agent_leg)
        return "+OK\n"

    channel = Channel()
    channel.api = api  # type: ignore[method-assign]
    manager = CallManager(
        "fs1", EventRouter(), Nothing(), Nothing(), Nothing(),  # type: ignore[arg-type]
        CallMetrics(CollectorRegistry()), lambda control, target: gevent.sleep(60),
    )  # fmt: skip
    manager.previous.reconciled = True  # no database here
    manager.bind(channel)  # type: ignore[arg-type]
    try:
        manager.resync()
        assert list(manager.actors) == [UUID]
        assert f"uuid_kill {leg} ORIGINATOR_CANCEL" in sent
    finally:
        manager.group.kill(block=True, timeout=2)

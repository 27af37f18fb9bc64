"""What an engine does with each kind of change: a targeted message, never "reload all"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from callcenter.calls.intents import BridgeAgent, CallIntent, Hangup, Supervise, Transfer
from callcenter.services import checks
from callcenter.services.applier import ChangeApplier, ManagerCalls
from callcenter.services.changes import Change


def change(kind: str, key: str = "", op: str = "x", **details: Any) -> Change:
    return Change(1, datetime.now(UTC), kind, key, op, "cli:ops", details)


class Engine:
    def __init__(self, holds: bool = True) -> None:
        self.done: list[tuple[str, ...]] = []
        self.holds = holds

    def agent_changed(self, extension: str) -> None:
        self.done.append(("agent", extension))

    def queue_changed(self, name: str) -> None:
        self.done.append(("queue", name))

    def end_wrapup(self, extension: str) -> None:
        self.done.append(("wrapup_end", extension))

    def send(self, uuid: str, op: str, details: Mapping[str, Any]) -> bool:
        self.done.append(("call", uuid, op))
        return self.holds


def applier(engine: Engine) -> ChangeApplier:
    return ChangeApplier(
        engine,
        routes=lambda: engine.done.append(("routes",)),
        outbound_routes=lambda: engine.done.append(("outbound_routes",)),
        flows=lambda: engine.done.append(("flows",)),
        calls=engine,
        before_acd=lambda: engine.done.append(("flush",)),
        agent_settings=lambda ext: engine.done.append(("phones", ext)),
        trunks=lambda c: engine.done.append(("trunks", c.key, c.op)),
        queue_flows=lambda name: engine.done.append(("rejected_flows", name)),
    )


@pytest.mark.parametrize(
    ("kind", "key", "expected"),
    [
        ("agent", "1001", [("flush",), ("phones", "1001"), ("agent", "1001")]),
        # a flow rejected for naming a queue not yet stored is tried again
        ("queue", "sales", [("flush",), ("queue", "sales"), ("rejected_flows", "sales")]),
        ("route", "5000", [("routes",)]),
        ("outbound_route", "intl", [("outbound_routes",)]),
        ("flow", "", [("flows",)]),
        ("trunk", "carrier-a", [("trunks", "carrier-a", "x")]),
        ("call", "c-1", [("call", "c-1", "x")]),
        ("dialer", "x", []),  # a newer version's kind: ignored
    ],
)
def test_each_kind_reaches_its_owner_only(kind: str, key: str, expected: list[Any]) -> None:
    engine = Engine()
    applier(engine)(change(kind, key))
    assert engine.done == expected


def test_a_call_this_engine_does_not_hold_is_left_alone() -> None:
    engine = Engine(holds=False)
    applier(engine)(change("call", "c-2", "hangup"))
    assert engine.done == [("call", "c-2", "hangup")]


class Manager:
    def __init__(self, calls: set[str]) -> None:
        self.calls = calls
        self.intents: list[tuple[str, CallIntent | Supervise]] = []

    def send_intent(self, uuid: str, intent: CallIntent | Supervise) -> bool:
        if uuid not in self.calls:
            return False
        self.intents.append((uuid, intent))
        return True


A, B, C = (f"{n}2d37390-bb90-434e-9327-2cd597661497" for n in "abc")


def test_each_call_operation_becomes_an_intent_for_the_manager_holding_the_call() -> None:
    fs1, fs2 = Manager({A}), Manager({B})
    calls = ManagerCalls(lambda: [fs1, fs2])
    assert calls.send(B, "hangup", {"cause": "CALL_REJECTED", "by": "api:crm"})
    assert calls.send(A, "transfer", {"target": "queue:x", "by": "cli:ops"})
    assert calls.send(A, "bridge_agent", {"extension": "1001", "by": "cli:ops"})
    supervise = {"session": 7, "supervisor": "1009", "mode": "whisper", "leg": "s-leg",
                 "agent_leg": "b-leg", "by": "api:boss"}  # fmt: skip
    assert calls.send(A, "supervise", supervise)
    assert fs2.intents == [(B, Hangup("CALL_REJECTED", "api:crm"))]
    assert fs1.intents == [
        (A, Transfer("queue:x", "cli:ops")),
        (A, BridgeAgent("1001", "cli:ops")),
        (A, Supervise(7, "1009", "whisper", "s-leg", "b-leg", "api:boss")),
    ]
    assert not calls.send(C, "hangup", {"cause": "NORMAL_CLEARING"})  # held by no one here
    assert not calls.send(A, "park_forever", {})  # a newer version's operation


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (checks.extension, "10 01"),
        (checks.extension, ""),
        (checks.queue_name, "sales/eu"),
        (checks.skill, "English"),
        (checks.call_uuid, "a" * 65),
        (checks.hangup_cause, "normal_clearing"),
        (checks.pause_reason, "tab\there"),
        (checks.pin, "12345678901234"),
        (checks.sip_password, "aaaaaaaaaaaa"),
        (checks.sip_password, "abc def GHI 123"),
    ],
)
def test_bad_input_names_the_field(check: Any, value: str) -> None:
    with pytest.raises(checks.InvalidArgument) as caught:
        check(value)
    assert caught.value.code == "invalid_argument" or caught.value.code == "invalid_pin"
    assert caught.value.message.startswith(f"{caught.value.field}: ")


def test_a_value_shown_in_an_error_cannot_drive_the_terminal() -> None:
    with pytest.raises(checks.InvalidArgument) as caught:
        checks.extension("\x1b[2J" + "x" * 100)
    assert "\x1b" not in caught.value.message and "..." in caught.value.message


def test_wrapup_end_from_a_phone_ends_the_wrapup_not_a_reload() -> None:
    engine = Engine()
    applier(engine)(change("agent", "1001", op="wrapup_end"))
    applier(engine)(change("agent", "1001", op="set"))
    assert [d for d in engine.done if d != ("flush",)] == [
        ("wrapup_end", "1001"),
        ("phones", "1001"),
        ("agent", "1001"),
    ]

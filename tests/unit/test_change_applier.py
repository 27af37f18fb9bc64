"""What an engine does with each kind of change: a targeted message, never "reload all"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from callcenter.errors import ESLTimeout
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
    )


@pytest.mark.parametrize(
    ("kind", "key", "expected"),
    [
        ("agent", "1001", [("flush",), ("agent", "1001")]),
        ("queue", "sales", [("flush",), ("queue", "sales")]),
        ("route", "5000", [("routes",)]),
        ("outbound_route", "intl", [("outbound_routes",)]),
        ("flow", "", [("flows",)]),
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


class Channel:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[str] = []
        self.fail = fail

    def api(self, line: str, timeout: float | None = None, *, check: bool = True) -> str:
        if self.fail:
            raise ESLTimeout("no answer")
        self.sent.append(line)
        return "+OK"


class Manager:
    def __init__(self, calls: set[str], channel: Channel) -> None:
        self.actors = {uuid: object() for uuid in calls}
        self.channel = channel


A, B, C = (f"{n}2d37390-bb90-434e-9327-2cd597661497" for n in "abc")


def test_a_hangup_goes_to_the_node_holding_the_call() -> None:
    fs1, fs2 = Channel(), Channel()
    calls = ManagerCalls(lambda: [Manager({A}, fs1), Manager({B}, fs2)])
    assert calls.send(B, "hangup", {"cause": "CALL_REJECTED", "by": "api:crm"})
    assert fs1.sent == [] and fs2.sent == [f"uuid_kill {B} CALL_REJECTED"]
    assert not calls.send(C, "hangup", {"cause": "NORMAL_CLEARING"})
    assert calls.send(A, "transfer", {"target": "queue:x"})  # held, not carried out here
    assert fs1.sent == []


def test_a_hangup_that_fails_is_logged_not_raised() -> None:
    calls = ManagerCalls(lambda: [Manager({A}, Channel(fail=True))])
    assert calls.send(A, "hangup", {"cause": "NORMAL_CLEARING"})


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

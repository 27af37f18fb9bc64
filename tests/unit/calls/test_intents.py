"""Intents are checked before they reach a call; a mailbox keeps them apart from events."""

from __future__ import annotations

import pytest

from callcenter.calls.intents import BridgeAgent, Hangup, Transfer, check, transfer_target
from callcenter.calls.mailbox import Mailbox
from callcenter.calls.routing import Target
from callcenter.errors import ConfigError, UnsafeValue
from callcenter.vocabulary import RouteTarget


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("queue:sales", Target(RouteTarget.QUEUE, "sales")),
        ("ivr:main", Target(RouteTarget.IVR, "main")),
        ("extension:1002", Target(RouteTarget.EXTENSION, "1002")),
        ("number:+33612345678", "+33612345678"),
    ],
)
def test_transfer_targets(text: str, expected: object) -> None:
    assert transfer_target(text) == expected


@pytest.mark.parametrize(
    "text", ["playback:x", "hangup", "number:12 34", "number:", "number:1;x", "queue:", "nope:1"]
)
def test_bad_transfer_targets_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        check(Transfer(text, "cli:root"))


def test_a_hangup_cause_is_a_freeswitch_token() -> None:
    assert check(Hangup("CALL_REJECTED", "api:crm")) == Hangup("CALL_REJECTED", "api:crm")
    with pytest.raises(UnsafeValue):
        check(Hangup("NORMAL_CLEARING\nx", "api:crm"))
    with pytest.raises(ConfigError):
        check(BridgeAgent("10 02", "api:crm"))


def test_a_mailbox_keeps_messages_apart_and_flags_intents() -> None:
    mailbox = Mailbox("c-1")
    mailbox.post("an ACD answer")
    assert not mailbox.intent.is_set()
    assert mailbox.get(timeout=0.01) is None  # a waiting get returns: messages first
    mailbox.post(Hangup("NORMAL_CLEARING", "api:crm"))
    assert mailbox.intent.is_set()
    assert mailbox.take_messages() == ["an ACD answer", Hangup("NORMAL_CLEARING", "api:crm")]
    assert mailbox.take_messages() == []

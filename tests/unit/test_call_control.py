"""CallControl without a socket: cleanup never raises (a queue's finally must always reach the
dispatcher); application arguments as FreeSWITCH reads them."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter.calls.call import Call
from callcenter.calls.control import CallControl
from callcenter.calls.mailbox import Mailbox
from callcenter.errors import ESLCommandFailed, ESLError, ESLNotConnected, ESLTimeout
from callcenter.esl.events import Event
from callcenter.vocabulary import Direction, LegRole

CALLER = "4c0f3e2a-0000-4000-8000-000000000001"
LEG = "4c0f3e2a-0000-4000-8000-000000000002"


class Channel:
    connected = True

    def __init__(self, error: ESLError | None) -> None:
        self.error = error
        self.sent: list[str] = []

    def api(self, line: str, timeout: float | None = None, *, check: bool = True) -> str:
        self.sent.append(line)
        if self.error is not None:
            raise self.error
        return "+OK\n"

    def bgapi(self, *_a: Any, **_k: Any) -> str:
        raise AssertionError("not used")

    def execute(self, uuid: str, app: str, arg: str | None = None, *_a: Any) -> Event:
        self.sent.append(f"{app} {arg}")
        headers = {"Event-Name": "CHANNEL_EXECUTE_COMPLETE", "Unique-ID": uuid}
        return Event("CHANNEL_EXECUTE_COMPLETE", None, uuid, headers)

    def hangup(self, *_a: Any, **_k: Any) -> None:
        raise AssertionError("not used")


def control(channel: Channel) -> tuple[CallControl, Mailbox]:
    call = Call(CALLER, "fs1", Direction.INBOUND)
    mailbox = Mailbox(CALLER)
    return CallControl(call, channel, mailbox, attach_leg=lambda _leg: None), mailbox


@pytest.mark.parametrize(
    "error",
    [None, ESLNotConnected("down"), ESLTimeout("slow"), ESLCommandFailed("-ERR No such channel!")],
)
def test_kill_leg_never_raises_and_remembers_the_leg(error: ESLError | None) -> None:
    ctl, _ = control(Channel(error))
    ctl.kill_leg(LEG, "LOSE_RACE")
    assert LEG in ctl.call.cancelled_legs


def test_a_cancelled_leg_that_comes_up_is_hung_up_again() -> None:
    channel = Channel(None)
    ctl, mailbox = control(channel)
    ctl.kill_leg(LEG, "LOSE_RACE")  # sent before FreeSWITCH created the channel
    park = Event("CHANNEL_PARK", None, LEG, {"Event-Name": "CHANNEL_PARK", "Unique-ID": LEG})
    mailbox.put_nowait(park)
    ctl.pump()
    assert channel.sent == [f"uuid_kill {LEG} LOSE_RACE", f"uuid_kill {LEG} LOSE_RACE"]


@pytest.mark.parametrize(
    ("lang", "module"), [("en", "en"), ("fr/ca/june", "fr"), ("en/us/callie", "en")]
)
def test_say_uses_the_language_code_of_a_sounds_path(lang: str, module: str) -> None:
    channel = Channel(None)
    ctl, _ = control(channel)
    ctl.say("42", lang=lang)
    assert channel.sent == [f"say {module} NUMBER pronounced 42"]  # mod_say's module name


def test_an_originate_with_esl_down_adds_no_leg_to_the_call() -> None:
    # soak: each originate tried while ESL was dropped left a leg that never existed in the
    # call's CDR (hundreds on one call), each one killed again at every later try
    channel = Channel(None)
    channel.connected = False
    ctl, _ = control(channel)
    with pytest.raises(ESLNotConnected):
        ctl.originate("user/1001@callcenter", extension="1001")
    assert [leg.agent_extension for leg in ctl.call.timeline.legs.values()] in ([], [None])
    assert channel.sent == []


def test_a_bridge_freeswitch_accepts_and_never_does_is_a_failure() -> None:
    """uuid_bridge answered +OK, no CHANNEL_BRIDGE within the command timeout: raised, so the
    queue gives the agent's leg up and the caller waits on, instead of a call taken for
    bridged that nobody hears (it returned as if bridged)."""
    ctl, _ = control(Channel(None))
    ctl.command_timeout = 0.05
    ctl.call.timeline.add_leg(LEG, LegRole.AGENT, Direction.OUTBOUND)
    with pytest.raises(ESLCommandFailed, match=r"no CHANNEL_BRIDGE within 0\.05 s"):
        ctl.bridge(LEG)
    assert ctl.channel.sent == [f"uuid_bridge {CALLER} {LEG}"]  # type: ignore[attr-defined]

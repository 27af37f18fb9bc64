# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on

import math

import pytest

from callcenter.sim.encoding import Block
from callcenter.sim.events import SimEvent
from callcenter.sim.hub import Subscription
from callcenter.sim.media import INFINITE, path_seconds, tone_seconds
from callcenter.sim.originate import parse, split_vars


@pytest.mark.parametrize(
    ("path", "seconds"),
    [
        ("tone_stream://%(2000,0,440)", 2.0),
        ("tone_stream://%(300,0,800)", 0.3),
        ("tone_stream://%(500,500,440);loops=3", 3.0),
        ("tone_stream://%(1000,0,440);loops=-1", INFINITE),
        ("silence_stream://250", 0.25),
        ("silence_stream://-1", INFINITE),
        ("file_string://silence_stream://500!tone_stream://%(1000,0,440)", 1.5),
        ("/var/lib/prompts/welcome.wav", 1.0),
        ("local_stream://moh", INFINITE),
    ],
)
def test_durations(path: str, seconds: float) -> None:
    got = path_seconds(path, {}, 1.0)
    assert got == seconds or (math.isinf(got) and math.isinf(seconds))


def test_tone_with_two_segments() -> None:
    assert tone_seconds("%(100,100,440);%(200,0,480)") == pytest.approx(0.4)


def test_originate_parsing_and_the_paren_quirk() -> None:
    dial = parse(
        "{origination_uuid=u1,cc_role=agent,origination_caller_id_name=Queue-Sales}"
        "user/1001 &playback(tone_stream://%(500,0,440);loops=2)"
    )
    assert dial is not None
    assert dial.variables["origination_uuid"] == "u1"
    assert dial.target == "user/1001"
    assert (dial.app, dial.app_arg) == ("playback", "tone_stream://%(500,0,440")
    parked = parse("user/1001 &park()")
    assert parked is not None and (parked.app, parked.app_arg) == ("park", "")
    exten = parse("{a=1}[b=2]user/1001 5000 XML callcenter")
    assert exten is not None and exten.exten == "5000" and exten.variables == {"a": "1", "b": "2"}
    assert split_vars("x='a,b',y=2") == {"x": "a,b", "y": "2"}


def _event(name: str, uid: str = "u1", subclass: str = "") -> SimEvent:
    return SimEvent(
        name, [Block([("Event-Name", name), ("Unique-ID", uid)])], unique_id=uid, subclass=subclass
    )


def test_subscription_names_all_custom_and_filters() -> None:
    sub = Subscription()
    assert not sub.listening
    sub.subscribe("json", ["CHANNEL_CREATE", "CUSTOM", "callcenter::info"])
    assert sub.fmt == "json" and sub.listening
    assert sub.wants(_event("CHANNEL_CREATE"))
    assert not sub.wants(_event("CHANNEL_ANSWER"))
    assert sub.wants(_event("CUSTOM", subclass="callcenter::info"))
    assert not sub.wants(_event("CUSTOM", subclass="sofia::register"))
    sub.add_filter("Unique-ID", "u2")
    assert not sub.wants(_event("CHANNEL_CREATE", "u1"))
    assert sub.wants(_event("CHANNEL_CREATE", "u2"))
    sub.delete_filter("Unique-ID", "u2")
    assert sub.wants(_event("CHANNEL_CREATE", "u1"))
    sub.nix(["CHANNEL_CREATE"])
    assert not sub.wants(_event("CHANNEL_CREATE"))
    sub.subscribe("plain", ["ALL"])
    assert sub.fmt == "plain" and sub.wants(_event("ANYTHING"))
    sub.clear()
    assert not sub.listening


def test_command_log_is_bounded() -> None:
    from callcenter.sim.core import COMMAND_LOG_SIZE, SimCore

    core = SimCore(time_scale=1.0, seed=1, hostname="fs1")
    for i in range(COMMAND_LOG_SIZE + 5):
        core.record(1, f"api status {i}", {})
    assert len(core.commands) == COMMAND_LOG_SIZE
    assert core.commands[-1].line == f"api status {COMMAND_LOG_SIZE + 4}"

"""Route targets, DIDs and descriptions: one check for route add, default_route and the API."""

from __future__ import annotations

import pytest

from callcenter.trunks.targets import (
    InvalidRoute,
    Target,
    check_description,
    check_did,
    check_target,
    unverified,
)
from callcenter.vocabulary import RouteTarget


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("playback:tone_stream://%(2000,0,440)", Target(RouteTarget.PLAYBACK, "tone_stream://%(2000,0,440)")),
        ("playback:ivr/ivr-welcome.wav", Target(RouteTarget.PLAYBACK, "ivr/ivr-welcome.wav")),
        ("playback:/srv/sounds/closed.wav", Target(RouteTarget.PLAYBACK, "/srv/sounds/closed.wav")),
        ("playback:silence_stream://500", Target(RouteTarget.PLAYBACK, "silence_stream://500")),
        ("playback:local_stream://moh", Target(RouteTarget.PLAYBACK, "local_stream://moh")),
        ("hangup", Target(RouteTarget.HANGUP)),
        ("hangup:CALL_REJECTED", Target(RouteTarget.HANGUP, "CALL_REJECTED")),
        ("extension:1001", Target(RouteTarget.EXTENSION, "1001")),
        ("queue:support", Target(RouteTarget.QUEUE, "support")),
        ("ivr:main", Target(RouteTarget.IVR, "main")),
    ],
)  # fmt: skip
def test_good_targets(text: str, expected: Target) -> None:
    assert check_target(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # issue 10 finding 11: each of these was stored and failed the caller at call time
        ("playback:${system(id)}", "${ is not allowed (FreeSWITCH would expand it)"),
        ("extension:1001,user/2000", "'1001,user/2000' is not an extension"),
        ("hangup:NOT_A_CAUSE", "'NOT_A_CAUSE' is not a FreeSWITCH hangup cause"),
        ("playback:", "playback needs a file or source, e.g. playback:ivr/ivr-welcome.wav"),
        ("queue:", "queue needs a queue, e.g. queue:support"),
        ("ivr:", "ivr needs a flow, e.g. ivr:main"),
        ("extension:", "extension needs an extension, e.g. extension:1001"),
        ("voicemail:1001", "unknown target type 'voicemail'"),
        ("playback:a b.wav", "whitespace, quotes, backslashes, braces and control characters"),
        ("playback:x\x00.wav", "whitespace, quotes"),
        ("playback:{var=1}x.wav", "whitespace, quotes"),
        ("playback:http://evil/x.wav", "playback source http:// is not one of"),
        ("playback:x;y.wav", "playback file 'x;y.wav'"),
        ("ivr:Main", "'Main' is not a flow name"),
        ("queue:" + "q" * 65, "is not a queue name"),
        ("playback:" + "a" * 300, "309 characters long (at most 255)"),
    ],
)
def test_bad_targets_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidRoute) as info:
        check_target(text)
    assert info.value.field == "target" and info.value.code == "route_invalid"
    assert reason in info.value.reason, info.value.reason
    assert "\n" not in info.value.message


def test_queues_and_flows_must_exist_when_known() -> None:
    assert check_target("queue:support", queues={"support"}).arg == "support"
    with pytest.raises(InvalidRoute, match=r"no queue 'nosuchqueue' \(known: sales, support\)"):
        check_target("queue:nosuchqueue", queues={"support", "sales"})
    with pytest.raises(InvalidRoute, match=r"no loaded flow 'nosuchflow' \(there are none") as info:
        check_target("ivr:nosuchflow", flows=())
    assert info.value.code == "route_flow_unknown"
    assert check_target("ivr:main", flows=["main"], queues=()) == Target(RouteTarget.IVR, "main")


def test_what_could_not_be_checked_is_said() -> None:
    queue, flow = Target(RouteTarget.QUEUE, "support"), Target(RouteTarget.IVR, "main")
    assert unverified(queue, queues=None, flows=None, why="database unavailable") == (
        "queue:support: queue 'support' not checked (database unavailable)"
    )
    assert unverified(flow, queues=None, flows=None) == "ivr:main: flow 'main' not checked"
    assert unverified(queue, queues=["x"], flows=None) is None
    assert unverified(Target(RouteTarget.HANGUP), queues=None, flows=None) is None


def test_dids() -> None:
    assert check_did("+15551234567") == "+15551234567"
    assert check_did("support") == "support"
    for bad, reason in [
        ("1" * 120_000, "is 120000 characters long (at most 128)"),  # issue 10 finding 9
        ("", "is not a DID"),
        ("50 00", "is not a DID"),
        ("5000\n", "is not a DID"),
        ("5000/x", "is not a DID"),
    ]:
        with pytest.raises(InvalidRoute, match="did: ") as info:
            check_did(bad)
        assert info.value.field == "did" and reason in info.value.reason
        assert len(info.value.message) < 200


def test_descriptions() -> None:
    assert check_description("Main line, Paris") == "Main line, Paris"
    with pytest.raises(InvalidRoute, match="at most 500"):
        check_description("x" * 501)
    with pytest.raises(InvalidRoute, match="control characters"):
        check_description("a\x1b[2Jb")

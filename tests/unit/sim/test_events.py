# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on

import json
import random

import pytest

from callcenter.sim.channel import ChannelState
from callcenter.sim.core import SimCore
from callcenter.sim.dialplan import inbound_channel
from tests.unit.sim.fixtures import events

CORE_23 = [
    "Event-Name",
    "Core-UUID",
    "FreeSWITCH-Hostname",
    "FreeSWITCH-Switchname",
    "FreeSWITCH-IPv4",
    "FreeSWITCH-IPv6",
    "Event-Date-Local",
    "Event-Date-GMT",
    "Event-Date-Timestamp",
    "Event-Calling-File",
    "Event-Calling-Function",
    "Event-Calling-Line-Number",
    "Event-Sequence",
    "Channel-State",
    "Channel-Call-State",
    "Channel-State-Number",
    "Channel-Name",
    "Unique-ID",
    "Call-Direction",
    "Presence-Call-Direction",
    "Channel-HIT-Dialplan",
    "Channel-Call-UUID",
    "Answer-State",
]


def _recorded(name: str, **match: str) -> dict[str, str]:
    """The first events of a caller on freeswitch-conf (sessions-3/s17, call 1): what the
    simulator's inbound legs follow (the sessions-2 callers came in on the vanilla
    ``external`` profile, which negotiates media late: no codec before the answer)."""
    return next(
        e
        for e in events("s17-inbound-head.events.jsonl")
        if e.get("Event-Name") == name and all(e.get(k) == v for k, v in match.items())
    )


def _channel(core: SimCore):  # type: ignore[no-untyped-def]
    return inbound_channel(core, core.new_uuid(), "5000", "15551234567", "Alice Caller", None)


def test_channel_create_has_the_recorded_header_names() -> None:
    core = SimCore(seed=1)
    chan = _channel(core)
    chan.set_state(ChannelState.CS_INIT)
    event = core.factory.channel_event("CHANNEL_CREATE", chan)
    recorded = _recorded("CHANNEL_CREATE")
    assert [k for k, _ in event.headers()] == list(recorded)
    assert event.get("variable_sip_req_uri") == "5000@127.0.0.1:5080"
    body = event.encoded("json").split(b"\n\n", 1)[1]
    size = len(json.dumps(recorded, separators=(",", ":"), ensure_ascii=False).encode())
    assert len(body) == pytest.approx(size, rel=0.02)


def test_state_new_carries_exactly_the_23_core_headers() -> None:
    core = SimCore(seed=1)
    event = core.factory.state(_channel(core))
    recorded = _recorded("CHANNEL_STATE", **{"Channel-State": "CS_NEW"})
    assert [k for k, _ in event.headers()] == CORE_23 == list(recorded)


def test_callstate_has_no_variables_and_the_recorded_names() -> None:
    core = SimCore(seed=1)
    chan = _channel(core)
    chan.set_state(ChannelState.CS_INIT)
    previous = chan.set_callstate(chan.callstate.__class__("RINGING"))
    event = core.factory.callstate(chan, previous)
    assert [k for k, _ in event.headers()] == list(_recorded("CHANNEL_CALLSTATE"))


def test_hangup_complete_repeats_hangup_cause_in_both_encodings() -> None:
    core = SimCore(seed=1)
    chan = _channel(core)
    chan.hangup_cause = "NORMAL_CLEARING"
    event = core.factory.hangup_complete(chan)
    names = [k for k, _ in event.headers()]
    assert names.count("Hangup-Cause") == 2
    assert names.index("Hangup-Cause") == names.index("Event-Sequence") + 1
    body = event.encoded("json").split(b"\n\n", 1)[1]
    pairs = json.loads(body, object_pairs_hook=list)
    assert [k for k, _ in pairs].count("Hangup-Cause") == 2
    assert event.encoded("plain").count(b"\nHangup-Cause: NORMAL_CLEARING\n") == 2


def test_sequence_strictly_increases_and_values_are_strings() -> None:
    core = SimCore(seed=1)
    chan = _channel(core)
    seqs = []
    for _ in range(5):
        event = core.factory.state(chan)
        data = json.loads(event.encoded("json").split(b"\n\n", 1)[1])
        assert all(isinstance(v, str) for v in data.values())
        seqs.append(int(data["Event-Sequence"]))
        assert len(data["Event-Date-Timestamp"]) == 16
    assert seqs == sorted(set(seqs))


def test_encodings_are_cached_per_event_and_blocks_shared() -> None:
    core = SimCore(seed=1)
    chan = _channel(core)
    first = core.factory.channel_event("CHANNEL_PARK", chan)
    assert first.encoded("json") is first.encoded("json")
    second = core.factory.channel_event("CHANNEL_PARK", chan)
    assert first.blocks[-1] is second.blocks[-1]  # the variables block, encoded once
    chan.set_var("cc_x", "1")
    third = core.factory.channel_event("CHANNEL_PARK", chan)
    assert third.blocks[-1] is not second.blocks[-1]
    assert third.as_dict()["variable_cc_x"] == "1"


def test_variable_blocks_keep_freeswitch_order_through_changes() -> None:
    """A changed variable moves to the end, as in FreeSWITCH; the two cached blocks
    (settled, recent) always concatenate to the variables in that order."""
    core = SimCore(seed=1)
    chan = _channel(core)
    rng = random.Random(3)
    for i in range(400):
        chan.set_var(f"v{rng.randrange(60)}", rng.choice([None, "a", "b", str(i)]))
        if i % 7 == 0:
            pairs = [pair for block in chan.vars_blocks() for pair in block.pairs]
            assert pairs == [("variable_" + k, v) for k, v in chan.variables.items()]
    chan.set_var("sip_to_host", "elsewhere")
    assert list(chan.variables)[-1] == "sip_to_host"


def test_array_variables_are_json_arrays_and_raw_text_in_plain() -> None:
    core = SimCore(seed=1)
    chan = _channel(core)
    chan.set_var("DP_MATCH", "ARRAY::5000|:5000")
    event = core.factory.channel_event("CHANNEL_PARK", chan)
    data = json.loads(event.encoded("json").split(b"\n\n", 1)[1])
    assert data["variable_DP_MATCH"] == ["5000", "5000"]
    assert b"\nvariable_DP_MATCH: ARRAY%3A%3A5000%7C%3A5000\n" in event.encoded("plain")

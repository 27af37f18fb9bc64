"""Trunks checked and rendered: sofia gateway XML with mod_sofia's parameter names, the
carriers ACL, hostile values refused with the field named; the gateway state parsed from
the recorded sofia::gateway_state events and `sofia xmlstatus gateway` answers."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from callcenter.errors import UnsafeValue
from callcenter.esl import commands
from callcenter.esl.events import Event, parse_event
from callcenter.esl.wire import Message
from callcenter.fsdirectory import MARKER
from callcenter.trunks.checks import InvalidTrunk, check
from callcenter.trunks.gateways import render_acl, render_gateway, render_gateways
from callcenter.trunks.spec import NumberStyle, Transport, TrunkSpec
from callcenter.trunks.state import ABSENT, from_event, from_xmlstatus

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "esl"
# every <param> name mod_sofia's parse_gateways() reads that a render may write
SOFIA_GATEWAY_PARAMS = {
    "proxy", "register", "username", "password", "realm", "from-domain", "register-transport",
    "caller-id-in-from", "expire-seconds", "retry-seconds", "ping",
}  # fmt: skip

CARRIER = TrunkSpec(
    "carrier-a", "sip.carrier-a.example:5060", transport=Transport.TLS, register=True,
    username="4930123", password='p"w<&>', realm="sip.carrier-a.example",
    from_domain="carrier-a.example", caller_id_in_from=True, codecs=("pcma", "PCMU"),
    country="de", number_style=NumberStyle.NATIONAL, max_channels=30, max_cps=5,
    inbound_cidrs=("198.51.100.0/28", "2001:db8::/64"),
)  # fmt: skip


def _gateway(text: str) -> ET.Element:
    assert text.startswith(MARKER)
    gateway = ET.fromstring(text).find("gateway")
    assert gateway is not None
    return gateway


def test_a_gateway_renders_with_sofia_parameter_names_and_escaped_values() -> None:
    gateway = _gateway(render_gateway(CARRIER))
    assert gateway.get("name") == "carrier-a"
    params = {p.get("name"): p.get("value") for p in gateway.iter("param")}
    assert set(params) <= SOFIA_GATEWAY_PARAMS
    assert params == {
        "proxy": "sip.carrier-a.example:5060", "register": "true", "username": "4930123",
        "password": 'p"w<&>', "realm": "sip.carrier-a.example", "from-domain": "carrier-a.example",
        "register-transport": "tls", "caller-id-in-from": "true", "expire-seconds": "600",
        "retry-seconds": "30", "ping": "30",
    }  # fmt: skip
    variables = {
        v.get("name"): (v.get("value"), v.get("direction")) for v in gateway.iter("variable")
    }
    assert variables == {
        "absolute_codec_string": ("PCMA,PCMU", "outbound"),
        "cc_trunk": ("carrier-a", "inbound"),
    }


def test_a_plain_peer_renders_without_registration() -> None:
    peer = TrunkSpec("peer-b", "203.0.113.7")
    params = {p.get("name"): p.get("value") for p in _gateway(render_gateway(peer)).iter("param")}
    assert params == {"proxy": "203.0.113.7", "register": "false",
                      "caller-id-in-from": "false", "ping": "30"}  # fmt: skip


def test_disabled_trunks_are_not_rendered_and_the_acl_lists_each_network_once() -> None:
    other = TrunkSpec("b-peer", "203.0.113.7", inbound_cidrs=("198.51.100.0/28", "203.0.113.7/32"))
    off = TrunkSpec("c-off", "203.0.113.9", inbound_cidrs=("192.0.2.0/24",), enabled=False)
    assert set(render_gateways([CARRIER, other, off])) == {"carrier-a.xml", "b-peer.xml"}
    acl = render_acl([CARRIER, other, off])["trunks.xml"]
    nodes = [(n.get("type"), n.get("cidr")) for n in ET.fromstring(acl).iter("node")]
    assert nodes == [("allow", "198.51.100.0/28"), ("allow", "203.0.113.7/32"),
                     ("allow", "2001:db8::/64")]  # fmt: skip
    assert ET.fromstring(render_acl([])["trunks.xml"]).tag == "include"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "a/b"}, "name"),
        ({"name": "../etc"}, "name"),
        ({"proxy": "host;transport=tcp"}, "proxy"),
        ({"proxy": "host:70000"}, "proxy"),
        ({"proxy": "host:"}, "proxy"),
        ({"proxy": "[::1"}, "proxy"),
        ({"proxy": "999.1.1.1"}, "proxy"),
        ({"proxy": '"/><X-PRE-PROCESS cmd="exec"'}, "proxy"),
        ({"username": "u$${x}"}, "username"),
        ({"username": "u\nv"}, "username"),
        ({"password": "a$${hostname}"}, "password"),
        ({"password": "line\nbreak"}, "password"),
        ({"realm": "realm;x=y"}, "realm"),
        ({"realm": "realm:5060;x"}, "realm"),
        ({"realm": "realm:abc"}, "realm"),
        ({"from_domain": "a b"}, "from_domain"),
        ({"codecs": ("PCMU", "NOPE")}, "codecs"),
        ({"codecs": ("PCMU", "pcmu")}, "codecs"),
        ({"country": "XX"}, "country"),
        ({"country": "DEU"}, "country"),
        ({"max_channels": 0}, "max_channels"),
        ({"max_cps": float("nan")}, "max_cps"),
        ({"max_cps": -1.0}, "max_cps"),
        ({"inbound_cidrs": ("0.0.0.0/0",)}, "inbound_cidrs"),
        ({"inbound_cidrs": ("198.51.100.1/28",)}, "inbound_cidrs"),
        ({"inbound_cidrs": ("not-a-net",)}, "inbound_cidrs"),
        ({"transport": "sctp"}, "transport"),
        ({"number_style": "local"}, "number_style"),
        ({"username": None}, "register"),
    ],
)
def test_what_freeswitch_would_misread_is_refused_naming_the_field(
    change: dict[str, object], field: str
) -> None:
    spec = replace(CARRIER, **change)  # type: ignore[arg-type]
    with pytest.raises(InvalidTrunk) as info:
        render_gateway(spec)
    assert info.value.field == field
    assert "hostname" not in info.value.message  # a password is never shown back


def test_check_normalizes_what_it_keeps() -> None:
    checked = check(
        replace(CARRIER, inbound_cidrs=("2001:DB8:0::/64",), proxy="[2001:db8::1]:5060")
    )
    assert (checked.codecs, checked.country, checked.inbound_cidrs) == (
        ("PCMA", "PCMU"), "DE", ("2001:db8::/64",),
    )  # fmt: skip


def _recorded(subclass: str) -> list[dict[str, str]]:
    lines = (FIXTURES / "s12-gateway-events.jsonl").read_text().splitlines()
    bodies = [json.loads(line)["body"] for line in lines]
    return [b for b in bodies if b.get("Event-Subclass") == subclass]


def _event(body: dict[str, str]) -> Event:
    return parse_event(Message({"Content-Type": "text/event-json"}, json.dumps(body).encode()))


def test_recorded_gateway_state_events_parse() -> None:
    parsed = []
    for body in _recorded("sofia::gateway_state"):
        event = _event(body)
        found = from_event(event)
        assert found is not None
        parsed.append((found[0], found[1].state, found[1].ping_status, found[1].detail))
    assert parsed[:3] == [
        ("carrier1", "TRYING", "DOWN", ""),
        ("carrier1", "REGISTER", "DOWN", "200 OK"),
        ("carrier1", "REGED", "UP", ""),
    ]
    assert ("carrier1", "FAILED", "DOWN", "503 Service Unavailable") in parsed
    deleted = _event(_recorded("sofia::gateway_delete")[0])
    assert from_event(deleted) == ("carrier1", from_event(deleted)[1])  # type: ignore[index]
    assert from_event(deleted)[1].state == ABSENT  # type: ignore[index]


def test_recorded_xmlstatus_answers_parse() -> None:
    text = (FIXTURES / "s12-xmlstatus-fail-wait.txt").read_text()
    state = from_xmlstatus(text)
    assert (state.state, state.ping_status) == ("FAIL_WAIT", "DOWN")
    assert from_xmlstatus("Invalid Gateway!\n").state == ABSENT


def test_sofia_commands_are_built_from_checked_names() -> None:
    assert commands.sofia_profile("callcenter-carriers", "rescan") == (
        "sofia profile callcenter-carriers rescan"
    )
    assert commands.sofia_profile("callcenter-carriers", "killgw", "carrier-a") == (
        "sofia profile callcenter-carriers killgw carrier-a"
    )
    assert commands.sofia_gateway_status("c1") == "sofia xmlstatus gateway c1"
    for bad in ("a b", "a\nb", "x;y", "", "../x"):
        with pytest.raises(UnsafeValue):
            commands.sofia_profile("callcenter-carriers", "killgw", bad)
    with pytest.raises(UnsafeValue):
        commands.sofia_profile("callcenter-carriers", "rescan", "extra")


def test_the_simulator_emits_gateway_events_with_the_recorded_headers() -> None:
    from callcenter.sim.events import SimEvent
    from callcenter.sim.simulator import Simulator
    from tests.support import until

    seen: list[SimEvent] = []
    sim = Simulator(password="x", time_scale=0.01, seed=1)
    sim.on_event(seen.append)
    sim.gateways.define("carrier1", register=True)
    assert sim.gateways.api(["profile", "callcenter-carriers", "rescan"]).endswith(
        "scan complete\n"
    )
    until(lambda: any(e.get("State") == "REGED" for e in seen), timeout=5)
    sim.gateways.fail("carrier1")
    until(lambda: any(e.get("State") == "FAIL_WAIT" for e in seen), timeout=5)
    assert sim.gateways.api(["profile", "callcenter-carriers", "killgw", "carrier1"]) == (
        "+OK gateway marked for deletion.\n"
    )
    until(lambda: any(e.subclass == "sofia::gateway_delete" for e in seen), timeout=5)
    recorded: dict[tuple[str, str], list[set[str]]] = {}
    for subclass in ("sofia::gateway_state", "sofia::gateway_add", "sofia::gateway_delete"):
        for body in _recorded(subclass):
            recorded.setdefault((subclass, body.get("State", "")), []).append(set(body))
    compared = 0
    for event in seen:
        key = (event.subclass, event.get("State") or "")
        if key in recorded:
            assert set(event.as_dict()) in recorded[key], key
            compared += 1
    assert compared >= 6
    assert [e.get("State") for e in seen if e.get("State")] == [
        "TRYING", "REGISTER", "REGED", "FAILED", "FAIL_WAIT", "DOWN",
    ]  # fmt: skip
    assert sim.gateways.api(["xmlstatus", "gateway", "carrier1"]) == "Invalid Gateway!\n"


def test_a_gateways_state_decides_how_calls_through_it_end() -> None:
    """As mod_sofia's sofia_outgoing_channel: not loaded -> INVALID_GATEWAY, ping not UP ->
    GATEWAY_DOWN, both before any channel (no event); UP -> the INVITE goes out."""
    from callcenter.sim.events import SimEvent
    from callcenter.sim.originate import originate
    from callcenter.sim.simulator import Simulator
    from tests.support import until

    seen: list[SimEvent] = []
    sim = Simulator(password="x", time_scale=0.01, seed=1)
    sim.on_event(seen.append)

    def dial(leg: str) -> list[str]:
        answers: list[str] = []
        originate(
            sim.core, f"{{origination_uuid={leg}}}sofia/gateway/carrier1/4930123 &park()",
            answers.append,
        )  # fmt: skip
        return answers

    def channel_events(leg: str) -> list[SimEvent]:
        return [e for e in seen if e.get("Unique-ID") == leg]

    sim.gateways.define("carrier1", register=True)
    assert dial("a0000000-0000-4000-8000-000000000001") == ["-ERR INVALID_GATEWAY\n"]
    sim.gateways.api(["profile", "callcenter-carriers", "rescan"])
    assert sim.gateways.loaded["carrier1"].ping != "UP"  # TRYING: not up yet
    assert dial("a0000000-0000-4000-8000-000000000002") == ["-ERR GATEWAY_DOWN\n"]
    until(lambda: sim.gateways.loaded["carrier1"].state == "REGED", timeout=5)
    up = "a0000000-0000-4000-8000-000000000003"
    answers = dial(up)
    until(lambda: answers == [f"+OK {up}\n"], timeout=5)
    sim.gateways.fail("carrier1")
    until(lambda: sim.gateways.loaded["carrier1"].state == "FAILED", timeout=5)
    down = "a0000000-0000-4000-8000-000000000004"
    assert dial(down) == ["-ERR GATEWAY_DOWN\n"]
    assert channel_events(down) == [] and channel_events(up) != []
    sim.gateways.restore("carrier1")
    until(lambda: sim.gateways.loaded["carrier1"].state == "REGED", timeout=5)
    again = "a0000000-0000-4000-8000-000000000005"
    answers = dial(again)
    until(lambda: answers == [f"+OK {again}\n"], timeout=5)
    sim.stop()


@pytest.mark.parametrize(
    ("codecs", "kept"),
    [
        # FreeSWITCH's codec strings: NAME[@RATE h|k][@PTIME i][@BITRATE b][@CHANNELS c]
        (("PCMU@20i",), ("PCMU@20i",)),
        (("G729@8000h@20i", "pcma@30i"), ("G729@8000h@20i", "PCMA@30i")),
        (("opus@48000h@20i@2c", "G722@16k"), ("OPUS@48000h@20i@2c", "G722@16k")),
        (("G7221@32000h@48000b", "PCMU@20i", "PCMU@30i"), None),
    ],
)
def test_freeswitch_codec_strings_are_taken(
    codecs: tuple[str, ...], kept: tuple[str, ...] | None
) -> None:
    # `trunk add --codecs 'PCMU@20i'` was "not a codec FreeSWITCH knows"
    assert check(replace(CARRIER, codecs=codecs)).codecs == (kept or codecs)


@pytest.mark.parametrize(
    ("codec", "reason"),
    [
        ("PCMU@20", "'20': a part is a number then i, h, k, b or c"),
        ("PCMU@20x", "'20x': a part is a number then i, h, k, b or c"),
        ("PCMU@0i", "ptime 0 ms is not in 1..200"),
        ("PCMU@20i@30i", "gives i twice"),
        ("PCMU@7000h", "rate 7000 Hz is not in 8000..192000"),
        ("OPUS@9c", "channels 9 is not in 1..8"),
        ("NOPE@20i", "'NOPE' is not a codec FreeSWITCH knows"),
        ("PCMU@", "'': a part is a number"),
    ],
)
def test_each_part_of_a_codec_string_is_checked(codec: str, reason: str) -> None:
    with pytest.raises(InvalidTrunk) as info:
        check(replace(CARRIER, codecs=(codec,)))
    assert info.value.field == "codecs" and reason in info.value.reason, info.value.reason

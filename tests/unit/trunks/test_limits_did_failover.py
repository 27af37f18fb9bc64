"""Per-trunk limits under a burst, DID precedence, and which causes fail over. Pure."""

from __future__ import annotations

import json

import gevent
import pytest

from callcenter.errors import InvalidOutboundRoute
from callcenter.esl.events import EVENT_JSON, Event, parse_event
from callcenter.esl.wire import Message
from callcenter.trunks.did import DidRoute, DidTable, MatchKind
from callcenter.trunks.failover import DEFAULT_CAUSES, check_causes, fails_over
from callcenter.trunks.limiter import TrunkLimiter
from callcenter.trunks.limits import Limits, Verdict
from callcenter.trunks.spec import StaticTrunks, TrunkSpec
from callcenter.trunks.targets import InvalidRoute, Target
from callcenter.trunks.trunking import Trunking, inbound_trunk
from callcenter.vocabulary import RouteTarget


def test_channel_limit_under_a_burst_counts_inbound_too() -> None:
    trunk = TrunkSpec("a", "sip.example.net", max_channels=3)
    limits = Limits()
    limits.acquire(trunk, "in-1", 0.0, outbound=False)
    verdicts = [limits.acquire(trunk, f"out-{i}", 0.0).verdict for i in range(5)]
    assert verdicts == [Verdict.GRANTED, Verdict.GRANTED, Verdict.FULL, Verdict.FULL, Verdict.FULL]
    assert limits.channels("a") == 3
    limits.release("a", "out-0")
    limits.release("a", "out-0")  # twice: harmless
    assert limits.acquire(trunk, "out-9", 0.0).granted and limits.channels("a") == 3


def test_cps_token_bucket_under_a_burst() -> None:
    trunk = TrunkSpec("a", "sip.example.net", max_cps=2.0)
    limits = Limits()
    burst = [limits.acquire(trunk, f"leg-{i}", 10.0) for i in range(4)]
    assert [d.verdict for d in burst] == [
        Verdict.GRANTED,
        Verdict.GRANTED,
        Verdict.WAIT,
        Verdict.WAIT,
    ]
    assert burst[2].wait == pytest.approx(0.5) and "2 call(s)/s" in burst[2].reason
    assert limits.acquire(trunk, "leg-2", 10.5).granted
    assert not limits.acquire(trunk, "leg-3", 10.5).granted
    granted = sum(limits.acquire(trunk, f"x-{i}", 10.0 + i * 0.1).granted for i in range(100))
    assert granted == pytest.approx(20, abs=2)  # 2 a second for 10 s


def test_a_trunk_without_limits_is_never_refused() -> None:
    trunk = TrunkSpec("free", "sip.example.net")
    limits = Limits()
    assert all(limits.acquire(trunk, str(i), 0.0).granted for i in range(500))


QUEUE = Target(RouteTarget.QUEUE, "q")


def table(*routes: tuple[str, MatchKind, int]) -> DidTable:
    built = [DidRoute(did, Target(RouteTarget.QUEUE, did[-4:].strip("+-")), kind, prio, "DE")
             for did, kind, prio in routes]  # fmt: skip
    return DidTable(built, "DE")


def test_the_same_did_however_written() -> None:
    routes = table(("0301234", MatchKind.EXACT, 100))
    for written in ("+49301234", "0049301234", "0301234", "030 1234"):
        found = routes.match(written)
        assert found is not None and found.route.did == "0301234", written
    assert routes.match("0301235") is None


def test_a_did_is_read_in_the_country_of_the_trunk_it_arrived_on() -> None:
    routes = table(("+33140000000", MatchKind.EXACT, 100), ("+49140000000", MatchKind.EXACT, 100))
    paris = routes.match("0140000000", country="FR")
    assert paris is not None and paris.route.did == "+33140000000"
    default = routes.match("0140000000")  # no trunk known: the default country, DE
    assert default is not None and default.route.did == "+49140000000"


def test_precedence_exact_range_prefix_longest_regex() -> None:
    routes = table(
        (r"\+4930\d+", MatchKind.REGEX, 1),
        ("+49", MatchKind.PREFIX, 100),
        ("+4930", MatchKind.PREFIX, 100),
        ("+4930123400-+4930123499", MatchKind.RANGE, 100),
        ("+4930123450", MatchKind.EXACT, 100),
    )

    def why(number: str) -> str:
        found = routes.match(number)
        assert found is not None
        return found.why

    assert why("030123450") == "exact +4930123450 (030123450 read as +4930123450)"
    assert why("+4930123499").startswith("in range +4930123400-+4930123499")
    assert why("+4930123500").startswith("prefix +4930")
    assert why("+4940123500") == "prefix +49"
    assert routes.match("+3312345678") is None
    only_regex = table((r"\+4930\d+", MatchKind.REGEX, 1))
    assert only_regex.match("0301234567") is not None


@pytest.mark.parametrize(
    ("did", "kind", "why"),
    [
        ("+4930123499-+4930123400", MatchKind.RANGE, "comes after"),
        ("+4930123400-+49301234999", MatchKind.RANGE, "same length"),
        ("+4930123400", MatchKind.RANGE, "FIRST-LAST"),
        ("(\\d+)+$", MatchKind.REGEX, "did"),
        ("+49 30", MatchKind.PREFIX, "a prefix is"),
        ("123\n", MatchKind.EXACT, "not a DID"),
    ],
)
def test_bad_dids_are_refused_with_the_reason(did: str, kind: MatchKind, why: str) -> None:
    with pytest.raises(InvalidRoute) as refused:
        DidRoute(did, QUEUE, kind, 100, "DE")
    assert why in refused.value.message


@pytest.mark.parametrize(
    ("cause", "sip", "expected"),
    [
        ("NORMAL_TEMPORARY_FAILURE", "503", True),
        ("GATEWAY_DOWN", "", True),
        ("RECOVERY_ON_TIMER_EXPIRE", "408", True),
        ("INTERWORKING", "500", True),  # any SIP 5xx
        ("USER_BUSY", "486", False),
        ("NO_ANSWER", "", False),
        ("CALL_REJECTED", "603", False),
        ("UNALLOCATED_NUMBER", "404", False),
    ],
)
def test_which_failures_try_the_next_trunk(cause: str, sip: str, expected: bool) -> None:
    assert fails_over(cause, sip, DEFAULT_CAUSES) is expected


def test_failover_causes_are_checked() -> None:
    assert check_causes([]) == DEFAULT_CAUSES
    assert check_causes(["GATEWAY_DOWN"]) == {"GATEWAY_DOWN"}
    assert not fails_over("NORMAL_TEMPORARY_FAILURE", "503", check_causes(["GATEWAY_DOWN"]))
    for bad, why in (("USER_BUSY", "callee's answer"), ("BOGUS", "not a FreeSWITCH")):
        with pytest.raises(InvalidOutboundRoute, match=why):
            check_causes([bad])


def test_the_limiter_owner_answers_a_burst_of_greenlets_one_at_a_time() -> None:
    seen: list[tuple[str, int]] = []
    limiter = TrunkLimiter(on_channels=lambda trunk, n: seen.append((trunk, n)))
    trunk = TrunkSpec("a", "sip.example.net", max_channels=3)
    try:
        asks = [gevent.spawn(limiter.acquire, trunk, f"leg-{i}") for i in range(20)]
        gevent.joinall(asks, timeout=5)
        assert sum(g.value.granted for g in asks) == 3
        limiter.release("a", "leg-0")
        limiter.inbound(trunk, "in-1")  # inbound: counted even at the limit
        assert not limiter.acquire(trunk, "leg-x").granted
        assert seen[-1] == ("a", 3)
    finally:
        limiter.stop()


def test_which_trunk_an_inbound_call_arrived_on() -> None:
    a = TrunkSpec("a", "sip.a.example", inbound_cidrs=("198.51.100.0/28",))
    b = TrunkSpec("b", "sip.b.example", inbound_cidrs=("2001:db8::/32", "not-a-cidr"))
    directory = StaticTrunks({"a": a, "b": b})
    assert inbound_trunk(directory, "b", "198.51.100.3") is b  # the gateway name first
    assert inbound_trunk(directory, "", "198.51.100.3") is a
    assert inbound_trunk(directory, "", "198.51.100.16") is None
    assert inbound_trunk(directory, "", "2001:db8::5") is b
    assert inbound_trunk(directory, "unknown", "garbage\n") is None


def test_with_no_trunk_an_inbound_leg_costs_the_reader_no_lookup() -> None:
    # on_leg runs in the ESL reader at every CHANNEL_CREATE: with no trunk stored (most
    # sites before their first `trunk add`) it must not scan the 4 KB event at all
    body = json.dumps(
        {
            "Event-Name": "CHANNEL_CREATE",
            "Unique-ID": "u-1",
            "Call-Direction": "inbound",
            "variable_sip_network_ip": "198.51.100.3",
        },
        separators=(",", ":"),  # as FreeSWITCH writes it: scanned, not decoded at once
    )
    limiter = TrunkLimiter()
    try:
        for directory, lookups in ((StaticTrunks(), 0), (StaticTrunks({"a": TrunkSpec(
            "a", "sip.a.example", inbound_cidrs=("198.51.100.0/28",))}), 1)):  # fmt: skip
            event = parse_event(Message({"Content-Type": EVENT_JSON}, body.encode()))
            Trunking(directory, None, limiter).on_leg(event)
            assert (event._lookups > 0) == bool(lookups)
    finally:
        limiter.stop()


def _leg_event(name: str, **headers: str) -> Event:
    body = json.dumps({"Event-Name": name, **headers}, separators=(",", ":"))
    return parse_event(Message({"Content-Type": EVENT_JSON}, body.encode()))


def test_a_leg_is_looked_up_once_at_its_create_and_forgotten_at_its_hang_up() -> None:
    a = TrunkSpec("a", "sip.a.example", inbound_cidrs=("198.51.100.0/28",))
    limiter = TrunkLimiter()
    try:
        trunking = Trunking(StaticTrunks({"a": a}), None, limiter)
        on_a = {"Call-Direction": "inbound", "variable_sip_network_ip": "198.51.100.3"}
        phone = {"Call-Direction": "inbound", "variable_sofia_profile_name": "callcenter-agents"}
        for uuid, headers, trunk in (("in-1", on_a, a), ("ph-1", phone, None)):
            trunking.on_leg(_leg_event("CHANNEL_CREATE", **{"Unique-ID": uuid}, **headers))
            park = _leg_event("CHANNEL_PARK", **{"Unique-ID": uuid}, **headers)
            assert trunking.arrived_on(park.get, uuid) == trunk
            assert park._lookups == 0  # its CHANNEL_CREATE said: no header read again
        # a gateway's inbound leg carries cc_trunk as well (freeswitch-conf's gateway sets it)
        for uuid in ("in-1", "ph-1"):
            end = {"Unique-ID": uuid, "variable_cc_trunk": "a" if uuid == "in-1" else ""}
            trunking.on_leg(_leg_event("CHANNEL_HANGUP_COMPLETE", **end))
        assert trunking._inbound == {}
    finally:
        limiter.stop()


def test_the_trunk_a_call_arrived_on_from_its_headers() -> None:
    fr = TrunkSpec("fr", "sip.fr.example", country="FR", inbound_cidrs=("198.51.100.0/28",))
    trunking = Trunking(StaticTrunks({"fr": fr}))
    dump = {"Call-Direction": "inbound", "variable_sip_network_ip": "198.51.100.7"}
    assert trunking.arrived_on(dump.get) == fr  # a resync's uuid_dump: no uuid
    gateway = {"Call-Direction": "inbound", "variable_sip_gateway_name": "fr"}
    assert trunking.arrived_on(gateway.get) == fr
    phone = {**dump, "variable_sofia_profile_name": "callcenter-agents"}
    assert trunking.arrived_on(phone.get) is None
    assert trunking.arrived_on({**dump, "Call-Direction": "outbound"}.get) is None
    assert Trunking(StaticTrunks({})).arrived_on(dump.get) is None

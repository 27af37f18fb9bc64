"""Outbound routes: checks, the choice of route, the rewrite, and hostile numbers."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter.errors import DomainError, InvalidNumber, InvalidOutboundRoute
from callcenter.esl import commands
from callcenter.trunks.outbound import Dialout, OutboundRoute, pick, rewrite

UUID = "c0ffee00-0000-4000-8000-000000000001"

INTL = OutboundRoute("intl", r"^00(\d+)$", "carrier", "+$1")
US = OutboundRoute("us", r"1?([2-9]\d{2})(\d{7})", "us-trunk", "+1$1$2", "+15550100", priority=10)
ANY = OutboundRoute("any", r"\+\d+", "fallback", priority=1000)


@pytest.mark.parametrize(
    ("number", "route", "dial_string"),
    [
        ("0049301234", "intl", "sofia/gateway/carrier/+49301234"),
        ("2125551234", "us", "sofia/gateway/us-trunk/+12125551234"),
        ("12125551234", "us", "sofia/gateway/us-trunk/+12125551234"),
        ("+33123456789", "any", "sofia/gateway/fallback/+33123456789"),
    ],
)
def test_the_first_route_that_matches_the_whole_number(
    number: str, route: str, dial_string: str
) -> None:
    dialout = pick([ANY, INTL, US], number)
    assert dialout is not None
    assert (dialout.route, dialout.dial_string) == (route, dial_string)


def test_no_route_matches_part_of_a_number() -> None:
    assert pick([US], "212555123456") is None  # the pattern matches a prefix only
    assert pick([INTL, US], "4930") is None
    assert pick([], "0049301234") is None


def test_priority_then_name_decide_and_disabled_routes_are_skipped() -> None:
    a = OutboundRoute("a", r"\d+", "gw-a", priority=50)
    b = OutboundRoute("b", r"\d+", "gw-b", priority=50)
    first = OutboundRoute("z", r"\d+", "gw-z", priority=5)
    assert pick([b, a], "123") == Dialout("a", "gw-a", "123")
    assert pick([b, a, first], "123") == Dialout("z", "gw-z", "123")
    off = OutboundRoute("z", r"\d+", "gw-z", priority=5, enabled=False)
    assert pick([b, off, a], "123") == Dialout("a", "gw-a", "123")


def test_caller_id_override_travels_with_the_dialout() -> None:
    dialout = pick([US], "2125551234")
    assert dialout is not None and dialout.caller_id_number == "+15550100"
    intl = pick([INTL], "0049301234")
    assert intl is not None and intl.caller_id_number is None


@pytest.mark.parametrize(
    ("pattern", "number_format", "number", "dialled"),
    [
        (r"00(\d+)", "$0", "0049", "0049"),
        (r"00(\d+)", "+$1", "0049", "+49"),
        (r"(\d)(\d)(\d)", "$3$2$1", "123", "321"),
        (r"(\d)", "$10", "7", "70"),  # one digit per group: $1, then a literal 0
        (r"(\d+)(#)?", "9$1$2", "55", "955"),  # an unmatched group is empty
        (r"\*(\d+)", "A$1B", "*12", "A12B"),
    ],
)
def test_rewrite_is_dialplan_style(
    pattern: str, number_format: str, number: str, dialled: str
) -> None:
    match = re.fullmatch(pattern, number)
    assert match is not None
    assert rewrite(number_format, match) == dialled


def test_a_rewrite_to_nothing_is_an_error_of_the_route() -> None:
    route = OutboundRoute("empty", r"(\d*)x?\d+", "gw", "$1")
    with pytest.raises(InvalidOutboundRoute, match="rewrote 5 to nothing"):
        pick([route], "5")


HOSTILE = [
    "",
    " 0049301234",
    "0049301234 ",
    "0049 301234",
    "0049301234\n",
    "0049301234\r\nEvent-Name: x",
    "00493}01234",
    "0049301234'",
    "0049{x=y}1",
    "0049${sofia_contact(1000)}",
    "0049301234,user/1000",
    "0049301234|sofia/gateway/x/1",
    "00/49",
    "++49",
    "49-30",
    "\x00",
    "٠٠٤٩",  # Arabic-Indic digits: \d would take them
    "1" * 33,
]


@pytest.mark.parametrize("number", HOSTILE)
def test_hostile_numbers_are_refused_before_any_pattern(number: str) -> None:
    greedy = OutboundRoute("all", r".*", "carrier", priority=0)
    with pytest.raises(InvalidNumber, match="not a number to dial") as caught:
        pick([greedy], number)
    assert isinstance(caught.value, DomainError) and caught.value.code == "number_invalid"
    assert "\n" not in caught.value.message


@given(st.text(max_size=40))
def test_whatever_passes_makes_a_safe_originate(number: str) -> None:
    greedy = OutboundRoute("all", r"(.*)", "carrier", "9$1", priority=0)
    try:
        dialout = pick([greedy], number)
    except InvalidNumber:
        return
    assert dialout is not None and dialout.number == "9" + number
    line = commands.originate(dialout.dial_string, {"cc_role": "outbound"}, uuid=UUID)
    assert line.endswith(f"}}sofia/gateway/carrier/9{number} &park()")


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"pattern": "^00(\\d+"}, "pattern", "not a valid regular expression"),
        ({"pattern": ""}, "pattern", "1 to 500"),
        ({"pattern": "\\d+\n"}, "pattern", "control character"),
        # issue 10 finding 10: fullmatch on 1111111111111111111111111111111# took minutes
        ({"pattern": "(\\d+)+$"}, "pattern", "a repeat of variable count inside the repeat +"),
        ({"pattern": "(1|12)*"}, "pattern", "alternatives that can begin alike"),
        ({"pattern": "(\\d)\\1"}, "pattern", "a backreference is not allowed"),
        ({"gateway": "carrier/x"}, "gateway", "not a gateway name"),
        ({"gateway": "car rier"}, "gateway", "whitespace"),
        ({"gateway": "c'x"}, "gateway", "quote"),
        ({"gateway": "gw,user/1"}, "gateway", "not a gateway name"),
        ({"gateway": "gw{x=1}"}, "gateway", "not a gateway name"),
        ({"gateway": ""}, "gateway", "empty"),
        ({"number_format": "+$1 "}, "number_format", "use $0-$9"),
        ({"number_format": "${x}"}, "number_format", "use $0-$9"),
        ({"number_format": "$"}, "number_format", "use $0-$9"),
        ({"number_format": "+1-$1"}, "number_format", "use $0-$9"),
        ({"number_format": ""}, "number_format", "use $0-$9"),
        ({"number_format": "$2"}, "number_format", "$2 but the pattern has 1 group"),
        ({"caller_id_number": "+1 555"}, "caller_id_number", "not a caller ID"),
        ({"caller_id_number": "1,x=y"}, "caller_id_number", "not a caller ID"),
        ({"priority": -1}, "priority", "not in 0..1000000"),
        ({"name": "-x"}, "name", "not a route name"),
        ({"name": "a b"}, "name", "not a route name"),
    ],
)
def test_a_bad_route_names_its_field(kwargs: dict[str, object], field: str, message: str) -> None:
    values: dict[str, object] = {"name": "intl", "pattern": r"^00(\d+)$", "gateway": "carrier"}
    values.update(kwargs)
    with pytest.raises(InvalidOutboundRoute) as caught:
        OutboundRoute(**values)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert caught.value.code == "outbound_route_invalid"
    assert message in caught.value.message
    # named once: "gateway: whitespace ...", never "gateway: gateway: whitespace ..."
    assert caught.value.message == f"{field}: {caught.value.reason}"
    assert not caught.value.reason.startswith(f"{field}:")


def test_values_are_frozen() -> None:
    with pytest.raises(AttributeError):
        INTL.gateway = "other"  # type: ignore[misc]
    dialout = pick([INTL], "0049301234")
    assert dialout is not None
    with pytest.raises(AttributeError):
        dialout.number = "1"  # type: ignore[misc]

"""Trunk groups: checks, the order each strategy gives a call, routes that name a group."""

from __future__ import annotations

import pytest

from callcenter.errors import InvalidOutboundRoute
from callcenter.trunks.groups import InvalidTrunkGroup, Strategy, TrunkGroup, check_group, order
from callcenter.trunks.outbound import OutboundRoute, pick

ABC = ("a", "b", "c")


def test_in_order_is_always_the_members_as_listed() -> None:
    group = TrunkGroup("g", ABC)
    assert [order(group, turn=t) for t in range(3)] == [ABC] * 3


def test_round_robin_starts_one_member_further_each_call() -> None:
    group = TrunkGroup("g", ABC, Strategy.ROUND_ROBIN)
    assert [order(group, turn=t) for t in range(4)] == [
        ("a", "b", "c"), ("b", "c", "a"), ("c", "a", "b"), ("a", "b", "c"),
    ]  # fmt: skip


def test_least_busy_by_channels_in_use_ties_in_listed_order() -> None:
    group = TrunkGroup("g", ABC, Strategy.LEAST_BUSY)
    assert order(group, busy={"a": 3, "b": 1, "c": 1}) == ("b", "c", "a")
    assert order(group, busy={}) == ABC
    assert order(group, busy={"c": 0, "a": 2}) == ("b", "c", "a")


@pytest.mark.parametrize(
    ("name", "members", "strategy", "field", "says"),
    [
        ("de/out", ["a"], "in-order", "name", "group name"),
        ("g", [], "in-order", "members", "0 trunks"),
        ("g", ["a", "a"], "in-order", "members", "listed twice"),
        ("g", ["a;b"], "in-order", "members", "not a trunk name"),
        ("g", ["a", "zz"], "in-order", "members", "no trunk 'zz'"),
        ("g", ["a"], "random", "strategy", "in-order|round-robin|least-busy"),
    ],
)
def test_a_bad_group_is_refused_naming_the_field(
    name: str, members: list[str], strategy: str, field: str, says: str
) -> None:
    with pytest.raises(InvalidTrunkGroup) as refused:
        check_group(name, members, strategy, trunks=ABC)
    assert refused.value.field == field and says in refused.value.reason


def test_a_route_naming_a_group_dials_its_members_in_the_order_given() -> None:
    route = OutboundRoute("de", r"^\+49\d+$", "", group="de-out")
    dialout = pick([route], "+49301234", lambda name: ("b", "a") if name == "de-out" else ())
    assert dialout is not None
    assert (dialout.gateways, dialout.group) == (("b", "a"), "de-out")
    assert dialout.dial_string == "sofia/gateway/b/+49301234"
    with pytest.raises(InvalidOutboundRoute, match="no trunk group 'de-out'"):
        pick([route], "+49301234", lambda _name: ())


def test_a_route_names_a_group_or_trunks_not_both() -> None:
    with pytest.raises(InvalidOutboundRoute, match="not both"):
        OutboundRoute("de", r"^\+49\d+$", "a", group="de-out")
    with pytest.raises(InvalidOutboundRoute, match="not a trunk group name"):
        OutboundRoute("de", r"^\+49\d+$", "", group="de out")


def test_a_disabled_member_is_not_tried() -> None:
    from callcenter.store.database import Database
    from callcenter.trunks.spec import StaticTrunks, TrunkSpec
    from callcenter.trunks.table import OutboundRoutes
    from callcenter.trunks.trunking import Trunking

    directory = StaticTrunks({"b": TrunkSpec("b", "sip.example.net", enabled=False)})
    table = OutboundRoutes(Database("sqlite://"), trunking=Trunking(directory))
    table._groups = {"g": TrunkGroup("g", ABC, Strategy.ROUND_ROBIN)}
    assert [table.members("g") for _ in range(3)] == [("a", "c"), ("c", "a"), ("c", "a")]
    assert table.members("nope") == ()

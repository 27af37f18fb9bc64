"""FreeSWITCH's sessions per second as the dialer counts them (``dialer.sessions``), on fixed
times: what a node lets through, the reserve left to the sessions the dialer does not start,
the slots every campaign takes from one budget; and an originate the node refused without a
channel told apart from a far end's own DESTINATION_OUT_OF_ORDER (``placing.NodeRefused``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from callcenter.calls.control import OriginateFailed
from callcenter.dialer import pacing
from callcenter.dialer.placing import NodeRefused, ParkedLegs, dialled_nothing
from callcenter.dialer.runner import REDECIDE, DialerClock
from callcenter.dialer.sessions import PEAK_SPAN, NodeRate, SessionBudget, parse_sps
from callcenter.errors import ESLCommandFailed
from callcenter.esl.events import Event
from callcenter.esl.router import EventRouter
from tests.support import until
from tests.unit.dialer.test_redecide import SCALE, _runner

W = 1.1  # the window: a second and the engine's latency margin


def test_the_rate_fsctl_sps_answers() -> None:
    assert parse_sps("+OK sessions per second: 30\n") == 30
    assert parse_sps("+OK sessions per second: 0\n") is None
    assert parse_sps("-ERR no reply\n") is None


def test_a_node_lets_sps_minus_one_through_capped_by_the_setting() -> None:
    assert NodeRate().usable == 0  # not read yet: nothing dialled through it
    assert NodeRate(30).usable == 29  # the 30th request of a second leaves the count at 0
    assert NodeRate(30, cap=10).usable == 9
    assert NodeRate(5, cap=10).usable == 4  # the setting never raises the node's


def test_the_dialer_leaves_a_share_to_other_sessions_and_counts_its_lines_for_a_window() -> None:
    rate = NodeRate(30)
    assert rate.reserve(0.0) == 6  # ceil(0.2 x 29)
    assert rate.room(0.0, W) == 23
    for slot in range(23):
        rate.take(slot, 0.0)
    assert rate.room(0.0, W) == 0
    for slot in range(20):
        rate.send(slot, f"leg{slot}", 0.5)
    rate.give_back(22)
    assert rate.room(0.6, W) == 1  # one given back; the two still taken count as they wait
    assert rate.room(1.59, W) == 1  # the lines sent at 0.5 count until 0.5 + W
    assert rate.room(1.61, W) == 21  # the two taken, not sent, still count
    rate.send(20, "leg20", 5.0)  # sent late (a trunk's CPS wait): counted from then
    assert rate.room(5.0, W) == 21
    assert rate.room(30.0, W) == 22  # taken at 0, never sent: counted while it may be
    assert rate.room(40.0, W) == 23  # ... until its greenlet is taken for dead (30 windows)


def test_other_sessions_count_when_created_and_the_dialers_lines_only_once() -> None:
    rate = NodeRate(30)
    rate.take(1, 0.0)
    rate.send(1, "mine", 0.0)
    rate.created("mine", 0.01, W)  # the line's own CHANNEL_CREATE: already counted
    assert rate.room(0.02, W) == 22
    for n in range(10):  # callers and agents' legs, 10 in one second
        rate.created(f"other{n}", 0.1 + n * 0.05, W)
    # 10 others this window (more than the share of 6), and the line: 29 - 10 - 1
    assert rate.room(0.6, W) == 18
    # the window over, the reserve keeps the most seen in a second for PEAK_SPAN
    assert rate.reserve(5.0) == 10 and rate.room(5.0, W) == 19
    assert rate.reserve(PEAK_SPAN + 1.0) == 6 and rate.room(PEAK_SPAN + 1.0, W) == 23


def test_the_reserve_never_takes_the_whole_node() -> None:
    assert NodeRate(2).room(0.0, W) == 1  # one usable: the dialer's
    rate = NodeRate(5)  # four usable, one of them reserved
    assert rate.room(0.0, W) == 3
    for n in range(8):  # callers beyond the whole rate: nothing left this window
        rate.created(f"caller{n}", 0.1, W)
    assert rate.room(0.2, W) == 0
    assert rate.reserve(2.0) == 3 and rate.room(2.0, W) == 1  # their peak, but not all


def test_the_dialer_leaves_half_until_a_minute_of_the_nodes_sessions_is_seen() -> None:
    rate = NodeRate()
    rate.read(30, 100.0)  # at connect
    assert rate.reserve(100.0) == 15 and rate.room(100.0, W) == 14  # ceil(0.5 x 29)
    rate.read(30, 130.0)  # a reconnect: counted since the first read all the same
    assert rate.room(100.0 + PEAK_SPAN - 0.1, W) == 14
    assert rate.room(100.0 + PEAK_SPAN, W) == 23


def test_a_refusal_stops_the_node_for_a_window() -> None:
    rate = NodeRate(30)
    rate.refused(10.0, W)
    assert rate.room(10.5, W) == 0
    assert rate.room(11.2, W) == 23


@dataclass
class _Node:
    name: str
    connected: bool = True
    sps: int = 30
    sent: list[str] = field(default_factory=list)

    def api(self, line: str, timeout: float | None = None) -> str:
        assert line == "fsctl sps"
        return f"+OK sessions per second: {self.sps}\n"

    def bgapi(self, line: str, timeout: float | None = None) -> str:
        self.sent.append(line)
        return "+OK"


@dataclass
class _Clock:
    at: float = 0.0

    def now(self) -> float:
        return self.at

    def seconds(self, wall: float) -> float:
        return wall


def _budget(*nodes: _Node, cap: int | None = None) -> tuple[SessionBudget, _Clock]:
    clock = _Clock()
    budget = SessionBudget(lambda: nodes, lambda: clock, cap=cap)
    for node in nodes:
        budget.read_rate(node)
    until(lambda: all(budget.rate(n.name).sps == n.sps for n in nodes), timeout=2)
    for node in nodes:  # a minute of each node's sessions seen: the reserve is the share
        budget.rate(node.name).counted_from = -PEAK_SPAN
    return budget, clock


def test_every_campaign_takes_from_one_budget_spread_over_the_connected_nodes() -> None:
    fs1, fs2 = _Node("fs1"), _Node("fs2", sps=10)
    budget, clock = _budget(fs1, fs2)
    assert budget.room() == 23 + 7
    first = budget.take(25)  # one campaign: the node with the most room first, in turn
    names = [s.node.name for s in first]
    assert names[:16] == ["fs1"] * 16 and names[16:18] == ["fs1", "fs2"]
    assert names.count("fs2") == 4
    assert len(budget.take(10)) == 5  # another campaign: what is left
    assert budget.take(1) == [] and budget.room() == 0
    for slot in first[:5]:
        slot.release()  # fewer leads due than slots
    assert budget.room() == 5
    fs1.connected = False  # a node down takes no line
    assert budget.room() == 0 and budget.take(5) == []
    clock.at = 100.0
    assert budget.room() == 7  # fs2 alone, the slots never sent dropped long since


def test_the_setting_caps_the_node() -> None:
    budget, _ = _budget(_Node("fs1"), cap=6)
    assert budget.room() == 4  # 6 - 1 usable, one reserved


def test_a_slot_counts_its_line_from_the_first_originate_sent() -> None:
    node = _Node("fs1")
    budget, clock = _budget(node)
    [slot] = budget.take(1)
    clock.at = 3.0  # the originate goes out later (the lead claimed, a trunk's CPS wait)
    send = slot.sending(node.bgapi, "leg1")
    assert send("originate {origination_uuid=leg1}sofia/gateway/c1/1555 &park", 30.0) == "+OK"
    send("originate {origination_uuid=leg2}sofia/gateway/c2/1555 &park", 30.0)  # failover
    slot.release()  # sent: nothing given back
    budget.created("fs1", "leg1")  # the line's own CHANNEL_CREATE: not counted again
    assert budget.room() == 22
    clock.at = 4.0
    assert budget.room() == 22  # counted from 3.0, not from its take at 0
    clock.at = 4.2
    assert budget.room() == 23


def test_a_line_the_node_refused_stops_it_for_a_window_and_reads_its_rate_again() -> None:
    node = _Node("fs1")
    budget, clock = _budget(node)
    [slot] = budget.take(1)
    slot.sending(node.bgapi, "leg1")("originate ...", 30.0)
    node.sps = 5  # ``fsctl sps 5`` at the switch's console since the engine read it
    slot.done(NodeRefused("DESTINATION_OUT_OF_ORDER", "leg1"))
    assert budget.room() == 0
    until(lambda: budget.rate("fs1").sps == 5, timeout=2)
    clock.at = 1.2
    assert budget.room() == 3
    [other] = budget.take(1)
    other.done(OriginateFailed("NO_ROUTE_DESTINATION", ""))  # never sent: given back
    assert budget.room() == 3


def test_a_rate_changed_on_a_running_switch_is_read_again_at_its_heartbeat() -> None:
    node = _Node("fs1")
    budget, _ = _budget(node)
    asked: list[str] = []
    budget.read_rate = lambda n: asked.append(n.name)  # type: ignore[method-assign]
    budget.heartbeat(node, "30")  # an idle second: the whole rate, as known
    budget.heartbeat(node, None)  # not FreeSWITCH's: nothing said
    budget.heartbeat(node, "thirty")
    assert asked == []
    budget.heartbeat(node, "50")  # ``fsctl sps 50``: more than the rate known is left
    budget.heartbeat(node, "12")  # a busy second, or the rate lowered: asked again too
    budget.heartbeat(node, "4294967294")  # -2 printed %u: overdrawn by refused sessions
    assert asked == ["fs1"] * 3


def test_the_pacing_places_no_more_new_lines_than_the_budget_allows() -> None:
    budget, _ = _budget(_Node("fs1", sps=5))
    snapshot = pacing.Snapshot(
        free_agents=20, busy_elapsed=(), line_ages=(), answer_rate=0.3,
        handle_times=cast(Any, None), answer_times=cast(Any, None),
    )  # fmt: skip
    limits = pacing.Limits(max_new=budget.room())
    decision = pacing.progressive(snapshot, limits)
    assert (decision.calls, decision.limited_by) == (3, "cap")
    assert pacing.preview(snapshot, limits, offered=0).calls == 3


LEG = "6a1c9e4e-3f0b-4c55-9d2a-0c1f5e7b8a90"


def test_a_decision_cut_by_the_switchs_sessions_per_second_is_taken_again_soon() -> None:
    _, runner, decided = _runner()
    wall = DialerClock(SCALE).wall(REDECIDE)
    runner._cut = True  # the tick's decision got fewer lines than it wanted: no news needed
    runner._decided = time.monotonic()
    started = time.monotonic()
    runner._drain(wall + 0.2)
    assert len(decided) == 1 and decided[0] - started >= wall * 0.9  # REDECIDE on, once
    runner._cut = False
    runner._drain(wall + 0.2)
    assert len(decided) == 1  # room enough: the next tick decides


def _hangup(leg: str) -> Event:
    headers = {"Event-Name": "CHANNEL_HANGUP", "Unique-ID": leg}
    return Event("CHANNEL_HANGUP", None, leg, headers)


@pytest.mark.parametrize("had_a_channel", [False, True])
def test_an_originate_refused_before_any_channel_never_dialled_the_number(
    had_a_channel: bool,
) -> None:
    router = EventRouter()

    def originate(line: str, timeout: float) -> str:
        if had_a_channel:  # a carrier's 502: the leg existed and hung up first
            router.route(_hangup(LEG))
        raise ESLCommandFailed("fs1: bgapi originate: -ERR DESTINATION_OUT_OF_ORDER")

    legs = ParkedLegs(originate, cast(Any, None), 20.0, router)
    with pytest.raises(OriginateFailed) as failed:
        legs.originate("sofia/gateway/c1/15551230000", {}, LEG)
    assert failed.value.cause == "DESTINATION_OUT_OF_ORDER" and failed.value.leg == LEG
    assert isinstance(failed.value, NodeRefused) is not had_a_channel
    assert dialled_nothing(failed.value) is not had_a_channel  # the lead requeued, uncharged
    assert router.mailbox(LEG) is None and not legs.seen

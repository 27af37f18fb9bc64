"""The ACD board and strategies on snapshots: who is offered to whom, and what follows."""

from __future__ import annotations

import random

import pytest

from callcenter.acd.board import AgentSlot, Board, Member, Pacing, QueueSpec, Ticket
from callcenter.acd.rules import FailurePolicy, Routing
from callcenter.vocabulary import AgentState, AgentStatus, QueueOutcome, QueueStrategy

AVAILABLE = AgentStatus.AVAILABLE


def agent(ext: str, idle_since: float = 0.0, **kw: object) -> AgentSlot:
    slot = AgentSlot(ext, kw.pop("status", AVAILABLE), **kw)  # type: ignore[arg-type]
    slot.idle_since = idle_since
    return slot


def board_with(
    queues: list[QueueSpec], agents: list[AgentSlot], pacing: Pacing | None = None
) -> Board:
    board = Board(pacing, random.Random(1))
    board.configure(queues, [], 0.0)
    for slot in agents:
        board.agents[slot.extension] = slot
    return board


def members(*exts: str, tier: int = 1) -> tuple[Member, ...]:
    return tuple(Member(e, tier, i + 1) for i, e in enumerate(exts))


def ticket(name: str, queue: str = "q", priority: int = 0, **skills: int) -> Ticket:
    return Ticket(name, f"call-{name}", queue, priority, skills)


def offers(board: Board, now: float = 10.0) -> dict[str, tuple[str, ...] | None]:
    return {t.id: t.offer for t in board.match(now)}


@pytest.mark.parametrize(
    ("strategy", "setup", "expected"),
    [
        (QueueStrategy.LONGEST_IDLE, {"a": {"idle_since": 5}, "b": {"idle_since": 1}}, "b"),
        (QueueStrategy.FEWEST_CALLS, {"a": {"calls_answered": 1}, "b": {"calls_answered": 4}}, "a"),
        (
            QueueStrategy.LEAST_TALK_TIME,
            {"a": {"talk_seconds": 90}, "b": {"talk_seconds": 30}},
            "b",
        ),
        (QueueStrategy.SKILLS_BASED, {"a": {"skills": {"en": 2}}, "b": {"skills": {"en": 9}}}, "b"),
    ],
)
def test_each_strategy_picks_its_agent(
    strategy: QueueStrategy, setup: dict[str, dict[str, object]], expected: str
) -> None:
    spec = QueueSpec("q", strategy, members("a", "b"), required_skills={"en": 1})
    base = {"skills": {"en": 1}}
    board = board_with([spec], [agent(ext, **{**base, **kw}) for ext, kw in setup.items()])
    board.join(ticket("t1"), 1.0)
    assert offers(board) == {"t1": (expected,)}
    assert board.agents[expected].state is AgentState.OFFERING


def test_round_robin_goes_on_from_the_last_position() -> None:
    spec = QueueSpec("q", QueueStrategy.ROUND_ROBIN, members("a", "b", "c"))
    board = board_with([spec], [agent("a"), agent("b"), agent("c")])
    picked = []
    for n in range(4):
        t = ticket(f"t{n}")
        board.join(t, float(n))
        board.match(10.0)
        assert t.offer is not None
        picked.append(t.offer[0])
        board.answered(t, picked[-1], 10.0)
        board.released(t, picked[-1], 1.0, 11.0, wrapup=False)
    assert picked == ["a", "b", "c", "a"]


def test_ring_all_offers_every_free_agent_and_answer_frees_the_others() -> None:
    spec = QueueSpec("q", QueueStrategy.RING_ALL, members("a", "b", "c"))
    board = board_with([spec], [agent("a"), agent("b"), agent("c", status=AgentStatus.PAUSED)])
    t = ticket("t1")
    board.join(t, 0.0)
    assert offers(board) == {"t1": ("a", "b")}
    board.offer_failed(t, "a", "ORIGINATOR_CANCEL", 11.0)
    board.answered(t, "b", 11.0)
    assert board.agents["a"].state is AgentState.IDLE and board.agents["a"].free(11.0)
    assert board.agents["b"].state is AgentState.IN_CALL


def test_lower_tier_first_then_strategy() -> None:
    spec = QueueSpec("q", members=(Member("a", 2, 1), Member("b", 1, 2)))
    board = board_with([spec], [agent("a", idle_since=0), agent("b", idle_since=9)])
    board.join(ticket("t1"), 0.0)
    assert offers(board) == {"t1": ("b",)}


def test_priority_then_arrival_and_positions() -> None:
    spec = QueueSpec("q", members=members("a"))
    board = board_with([spec], [])
    early, vip, late = ticket("early"), ticket("vip", priority=10), ticket("late")
    for n, t in enumerate((early, late, vip)):
        board.join(t, float(n))
    assert [t.position_at_join for t in (early, late, vip)] == [1, 2, 1]
    assert [board.position(t) for t in (vip, early, late)] == [1, 2, 3]
    board.agents["a"] = agent("a")
    assert offers(board) == {"vip": ("a",)}


def test_required_skills_of_queue_and_caller() -> None:
    spec = QueueSpec("q", members=members("a", "b"), required_skills={"en": 3})
    board = board_with(
        [spec],
        [agent("a", skills={"en": 5}), agent("b", skills={"en": 5, "fr": 6}, idle_since=9)],
    )
    board.join(ticket("french", fr=5), 0.0)
    board.join(ticket("english"), 1.0)
    assert offers(board) == {"french": ("b",), "english": ("a",)}
    weak = board_with([spec], [agent("a", skills={"en": 2})])
    weak.join(ticket("t"), 0.0)
    assert offers(weak) == {}


def test_paused_logged_out_busy_and_non_members_are_not_offered() -> None:
    spec = QueueSpec("q", members=members("a", "b", "c"))
    busy = agent("c")
    busy.state = AgentState.IN_CALL
    board = board_with(
        [spec],
        [agent("a", status=AgentStatus.PAUSED), agent("b", status=AgentStatus.LOGGED_OUT), busy,
         agent("z")],
    )  # fmt: skip
    board.join(ticket("t"), 0.0)
    assert offers(board) == {}


def test_failed_offers_rest_the_agent_then_pause_it() -> None:
    policy = FailurePolicy(
        no_answer_delay=10, busy_delay=30, reject_delay=45, unregistered_delay=60, max_no_answer=3
    )
    spec = QueueSpec("q", members=members("a"), routing=Routing(failure=policy))
    board = board_with([spec], [agent("a")])
    t = ticket("t")
    board.join(t, 0.0)
    expectations = [
        ("NO_ANSWER", 10.0),
        ("USER_BUSY", 30.0),  # busy and rejected rest the agent without counting
        ("CALL_REJECTED", 45.0),
        ("SUBSCRIBER_ABSENT", 60.0),
        ("NO_ANSWER", 10.0),
    ]
    now = 0.0
    for cause, rest in expectations:
        assert offers(board, now) == {"t": ("a",)}
        changes = board.offer_failed(t, "a", cause, now)
        assert board.agents["a"].ready_at == now + rest
        assert board.next_ready(now) == now + rest
        now += rest
    assert changes[-1].status is AgentStatus.PAUSED and changes[-1].reason == "no_answer"
    assert offers(board, now) == {}


def test_caller_cancel_is_not_the_agents_fault() -> None:
    board = board_with([QueueSpec("q", members=members("a"))], [agent("a")])
    t = ticket("t")
    board.join(t, 0.0)
    board.match(1.0)
    board.offer_failed(t, "a", "ORIGINATOR_CANCEL", 1.0)
    assert board.agents["a"].failed_offers == 0 and board.agents["a"].free(1.0)


def test_a_reserved_agents_failed_phone_is_rested_as_after_an_offer() -> None:
    # the dialer's agent leg: the reservation given back with the phone's cause
    board = board_with([QueueSpec("q", members=members("a"))], [agent("a"), agent("b")])
    changes = board.reservation_failed("a", "q", "SUBSCRIBER_ABSENT", 5.0)
    slot = board.agents["a"]
    assert (slot.ready_at, slot.failed_offers) == (35.0, 1) and not slot.free(34.0)
    assert [(c.extension, c.status, c.reason) for c in changes] == [
        ("a", AgentStatus.AVAILABLE, None)
    ]
    assert board.reservation_failed("a", "q", "NO_ANSWER", 35.0)  # 10 s, 2 in a row
    [third] = board.reservation_failed("a", None, "NO_ANSWER", 45.0)  # no queue: defaults
    assert (third.status, third.reason, slot.failed_offers) == (AgentStatus.PAUSED, "no_answer", 0)
    for no_fault in ("", "ORIGINATOR_CANCEL", "LOSE_RACE", "ENGINE_DISCONNECTED"):
        assert board.reservation_failed("b", "q", no_fault, 1.0) == []
    assert (
        board.agents["b"].free(1.0) and board.reservation_failed("zz", "q", "NO_ANSWER", 1.0) == []
    )


def test_wrap_up_then_idle_again() -> None:
    board = board_with([QueueSpec("q", members=members("a"))], [agent("a", wrapup_seconds=15)])
    t = ticket("t")
    board.join(t, 0.0)
    board.match(0.0)
    board.answered(t, "a", 58.0)
    board.released(t, "a", 42.0, 100.0, wrapup=True)
    slot = board.agents["a"]
    assert (slot.state, slot.talk_seconds, slot.calls_answered) == (AgentState.WRAP_UP, 42.0, 1)
    assert board.wrapups_done(110.0) == []
    assert [c.state for c in board.wrapups_done(115.0)] == [AgentState.IDLE]
    assert slot.idle_since == 115.0


def test_full_and_unknown_queues_refuse() -> None:
    board = board_with([QueueSpec("q", max_callers=1)], [])
    first, second, lost = ticket("1"), ticket("2"), ticket("3", queue="nope")
    for t in (first, second, lost):
        board.join(t, 0.0)
    assert (first.accepted, second.refused, lost.refused) == (True, "full", "unknown_queue")
    board.leave(first, QueueOutcome.ABANDONED)
    assert board.waiting("q") == [] and first.outcome is QueueOutcome.ABANDONED


def test_reload_keeps_live_state_and_drops_removed_agents_once_free() -> None:
    board = board_with([QueueSpec("q", members=members("a", "b"))], [agent("a"), agent("b")])
    t = ticket("t")
    board.join(t, 0.0)
    board.match(0.0)  # a is offered
    board.answered(t, "a", 1.0)
    board.configure([QueueSpec("q", members=members("a"))], [agent("a")], 5.0)
    assert "b" not in board.agents
    assert board.agents["a"].state is AgentState.IN_CALL  # a call in progress is kept
    board.configure([QueueSpec("q")], [], 6.0)
    assert board.agents["a"].removed
    board.released(t, "a", 1.0, 7.0, wrapup=True)
    assert "a" not in board.agents


def test_a_direct_call_holds_the_agent_even_during_an_offer() -> None:
    board = board_with([QueueSpec("q", members=members("a"))], [agent("a")])
    t = ticket("t")
    board.join(t, 0.0)
    board.match(0.0)  # a is being offered t ...
    board.occupy("a", "call:direct", 0.5)  # ... when a direct call reaches a's phone
    board.offer_failed(t, "a", "USER_BUSY", 1.0)  # the offer fails busy: not held against a
    slot = board.agents["a"]
    assert (slot.state, slot.failed_offers, slot.ready_at) == (AgentState.IN_CALL, 0, 0.0)
    assert offers(board, 2.0) == {}  # no offer while the direct call lasts
    assert [c.state for c in board.vacate("a", "call:direct", 3.0)] == [AgentState.IDLE]
    assert offers(board, 3.0) == {"t": ("a",)}


def test_a_hold_ending_during_wrap_up_leaves_the_wrap_up_alone() -> None:
    board = board_with([QueueSpec("q", members=members("a"))], [agent("a", wrapup_seconds=5)])
    board.occupy("a", "call:x", 0.0)
    board.occupy("a", "call:y", 0.5)
    assert board.vacate("a", "call:x", 1.0) == []  # still on call y
    assert board.vacate("a", "call:unknown", 1.0) == []
    assert [c.state for c in board.vacate("a", "call:y", 2.0)] == [AgentState.IDLE]


def test_reload_keeps_an_engine_pause_newer_than_the_database() -> None:
    from datetime import UTC, datetime, timedelta

    board = board_with([QueueSpec("q", members=members("a"))], [agent("a")])
    paused_at = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    slot = board.agents["a"]
    slot.status, slot.status_at = AgentStatus.PAUSED, paused_at  # the engine paused a
    stale = agent("a", status=AgentStatus.AVAILABLE)
    stale.status_at = paused_at - timedelta(minutes=5)  # the database has not seen it yet
    board.configure([QueueSpec("q", members=members("a"))], [stale], 1.0)
    assert board.agents["a"].status is AgentStatus.PAUSED
    ready = agent("a", status=AgentStatus.AVAILABLE)
    ready.status_at = paused_at + timedelta(minutes=1)  # then the operator says ready
    board.configure([QueueSpec("q", members=members("a"))], [ready], 2.0)
    assert board.agents["a"].status is AgentStatus.AVAILABLE


def test_an_offer_not_sent_for_esl_down_rests_the_agent_without_fault() -> None:
    # soak: with ESL dropped every originate failed at once and the agent was offered again
    # at once, hundreds of times a second, each try adding a leg to the caller's CDR
    board = board_with([QueueSpec("q", members=members("a"))], [agent("a")], Pacing())
    t = ticket("t")
    board.join(t, 0.0)
    assert offers(board, 1.0) == {"t": ("a",)}
    board.offer_failed(t, "a", "ENGINE_DISCONNECTED", 1.0)
    assert board.agents["a"].failed_offers == 0
    assert offers(board, 1.5) == {}
    assert board.next_ready(1.5) == 1.0 + Pacing().disconnected_delay
    assert offers(board, 1.0 + Pacing().disconnected_delay) == {"t": ("a",)}


def test_a_one_shot_answer_may_be_falsy() -> None:
    # the API's live view of a board with no agent is {}: it was taken for "no answer"
    from callcenter.acd.messages import OneShot

    answer = OneShot()
    answer.post({})
    assert answer.get(0.1) == {}
    assert OneShot().get(0.01) is None


def test_an_agent_ends_its_wrapup_from_the_phone() -> None:
    board = board_with([QueueSpec("q", members=members("1"))], [agent("1", wrapup_seconds=60)])
    t = ticket("a")
    board.join(t, 0.0)
    board.match(1.0)
    board.answered(t, "1", 2.0)
    board.released(t, "1", 5.0, 10.0, wrapup=True)
    assert board.agents["1"].state is AgentState.WRAP_UP
    assert board.end_wrapup("1", 11.0)[0].state is AgentState.IDLE
    assert board.agents["1"].free(11.0)
    assert board.end_wrapup("1", 12.0) == []  # not in wrap-up: nothing


def test_an_agent_on_demand_is_paused_after_its_queue_call() -> None:
    board = board_with([QueueSpec("q", members=members("1"))], [agent("1", on_demand=True)])
    t = ticket("a")
    board.join(t, 0.0)
    board.match(1.0)
    board.answered(t, "1", 2.0)
    change = board.released(t, "1", 5.0, 10.0, wrapup=True)[0]
    assert (change.status, change.reason) == (AgentStatus.PAUSED, "on demand: call taken")


def test_a_direct_call_claims_a_free_phone_not_a_busy_one() -> None:
    board = board_with([QueueSpec("q", members=members("1", "2"))], [agent("1"), agent("2")])
    t = ticket("a")
    board.join(t, 0.0)
    offered = board.match(1.0)[0].offer
    assert offered is not None
    ringing = offered[0]
    other = "2" if ringing == "1" else "1"
    assert board.claim(ringing, "call:x", 2.0) == ("offering", [])
    refused, changes = board.claim(other, "call:x", 2.0)
    assert refused is None and changes[0].state is AgentState.IN_CALL
    assert board.claim(other, "call:y", 3.0) == ("busy", [])
    assert board.claim("unknown", "call:z", 3.0) == (None, [])  # not an ACD agent: rung


def test_every_state_change_records_when_it_happened() -> None:
    board = board_with([QueueSpec("q", members=members("a"))], [agent("a", wrapup_seconds=15)])
    slot = board.agents["a"]
    assert (slot.state, slot.state_since) == (AgentState.IDLE, 0.0)
    t = ticket("t")
    board.join(t, 1.0)
    board.match(2.0)
    assert (slot.state, slot.state_since) == (AgentState.OFFERING, 2.0)
    board.answered(t, "a", 9.0)
    assert (slot.state, slot.state_since) == (AgentState.IN_CALL, 9.0)
    board.occupy("a", "call:consult", 20.0)  # already in a call: the time in state goes on
    assert slot.state_since == 9.0
    board.released(t, "a", 60.0, 69.0, wrapup=True)  # still on the other call
    assert (slot.state, slot.state_since) == (AgentState.IN_CALL, 9.0)
    board.vacate("a", "call:consult", 70.0)  # the queue call's wrap-up comes now
    assert (slot.state, slot.state_since) == (AgentState.WRAP_UP, 70.0)
    board.wrapups_done(85.0)
    assert (slot.state, slot.state_since) == (AgentState.IDLE, 85.0)
    t2 = ticket("t2")
    board.join(t2, 86.0)
    board.match(87.0)
    board.offer_failed(t2, "a", "NO_ANSWER", 90.0)
    assert (slot.state, slot.state_since) == (AgentState.IDLE, 90.0)
    board.match(100.0)  # rested: offered again
    board.answered(t2, "a", 101.0)
    board.released(t2, "a", 10.0, 111.0, wrapup=True)
    assert (slot.state, slot.state_since) == (AgentState.WRAP_UP, 111.0)
    board.wrapups_done(126.0)
    assert (slot.state, slot.state_since) == (AgentState.IDLE, 126.0)
    board.occupy("a", "call:direct", 130.0)
    assert (slot.state, slot.state_since) == (AgentState.IN_CALL, 130.0)


def test_a_queue_call_ended_during_a_consult_call_wraps_up_after_it() -> None:
    # an attended transfer: the agent's queue call ends while its consult call goes on;
    # the wrap-up of the queue call starts when the consult call ends, not never
    board = board_with([QueueSpec("q", members=members("1"))], [agent("1", wrapup_seconds=30)])
    t = ticket("a")
    board.join(t, 0.0)
    board.match(1.0)
    board.answered(t, "1", 2.0)
    board.occupy("1", "call:consult", 5.0)
    assert board.released(t, "1", 8.0, 10.0, wrapup=True)[0].state is AgentState.IN_CALL
    [change] = board.vacate("1", "call:consult", 12.0)
    assert change.state is AgentState.WRAP_UP
    assert board.wrapups_done(20.0) == []
    assert [c.state for c in board.wrapups_done(42.0)] == [AgentState.IDLE]

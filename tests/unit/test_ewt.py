"""The estimated wait: the model, Erlang C, the rounding people use, what the caller hears."""

from __future__ import annotations

import pytest

from callcenter.acd import ewt, waiting
from callcenter.acd import messages as m
from callcenter.acd.board import AgentSlot, Board, Member, QueueSpec, Ticket
from callcenter.acd.ewt import Said, Spoken
from callcenter.vocabulary import AgentStatus


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "less than 1 minute"),
        (44.9, "less than 1 minute"),
        (45, "about 1 minute"),
        (89, "about 1 minute"),
        (90, "about 2 minutes"),
        (150, "about 3 minutes"),
        (269, "about 4 minutes"),
        (300, "about 5 minutes"),
        (329, "about 5 minutes"),
        (330, "about 5 minutes"),
        (449, "about 5 minutes"),
        (450, "about 10 minutes"),
        (629, "about 10 minutes"),
        (630, "more than 10 minutes"),
        (7200, "more than 10 minutes"),
    ],
)
def test_rounded_the_way_people_say_it(seconds: float, said: str) -> None:
    assert ewt.spoken(seconds).text == said


def test_spoken_seconds_are_whole_minutes_for_say() -> None:
    assert ewt.spoken(100).seconds == 120
    assert ewt.spoken(10) == Spoken(Said.LESS, 1)


@pytest.mark.parametrize(
    ("position", "staffed", "free", "mean", "expected"),
    [
        (1, 2, 1, 120.0, 0.0),  # an agent is free for it
        (2, 2, 1, 120.0, 60.0),  # 2nd with one free: half a call of the one busy agent
        (1, 4, 0, 200.0, 25.0),  # four busy agents end a call every 50 s: half of that
        (3, 4, 0, 200.0, 125.0),
        (3, 0, 0, 200.0, None),  # nobody staffed
        (3, 2, 0, None, None),  # no call handled yet
    ],
)
def test_position_model(
    position: int, staffed: int, free: int, mean: float | None, expected: float | None
) -> None:
    assert ewt.estimate(position, staffed, free, mean) == expected


def test_handle_times_keep_the_last_calls_of_each_queue() -> None:
    times = ewt.HandleTimes(keep=3)
    assert times.mean("sales") is None
    for seconds in (100, 200, 300, 400):
        times.record("sales", seconds)
    assert times.mean("sales") == 300.0
    assert times.mean("support") is None


def test_erlang_c_matches_the_published_table() -> None:
    # 10 agents, 8 erlangs: P(wait) = 0.409, mean wait = 0.409 * AHT / 2
    wait = ewt.erlang_c_wait(10, 8 / 180, 180.0)
    assert wait == pytest.approx(0.4092 * 90, rel=1e-3)
    assert ewt.erlang_c_wait(2, 2 / 100, 100.0) is None  # overloaded
    assert ewt.erlang_c_wait(2, 0.0, 100.0) == 0.0


def _board() -> Board:
    board = Board()
    members = tuple(Member(e) for e in ("1", "2", "3"))
    slots = [AgentSlot(e, AgentStatus.AVAILABLE) for e in ("1", "2", "3")]
    slots[2].status = AgentStatus.PAUSED  # not staffed
    board.configure([QueueSpec("sales", members=members)], slots, 0.0)
    return board


def test_estimate_for_a_waiting_caller_from_the_board() -> None:
    board, times = _board(), ewt.HandleTimes()
    for n in range(3):
        ticket = Ticket(f"t{n}", f"c{n}", "sales")
        ticket.since_us = n + 1
        board.join(ticket, 1.0)
    for agent in ("1", "2"):
        board.agents[agent].ticket = "talking"  # busy: none free
    assert ewt.for_ticket(board, board.tickets["t2"], times, 1.0) is None  # no history
    times.record("sales", 120.0)
    # third in line, two busy agents, 120 s per call: (3 - 0.5) * 60
    assert ewt.for_ticket(board, board.tickets["t2"], times, 1.0) == 150.0
    board.agents["1"].ticket = None  # one free now: the first caller gets it
    assert ewt.for_ticket(board, board.tickets["t0"], times, 1.0) == 0.0


def test_what_the_caller_hears() -> None:
    prompts = {"position": "pos.wav", "wait_about": "about.wav", "wait_more": "more.wav"}
    steps = waiting.place_steps(m.Wait("t", 3, 100.0), 0, prompts, "en")
    assert steps == [
        ("playback", "pos.wav"),
        ("say", "en NUMBER pronounced 3"),
        ("playback", "about.wav"),
        ("say", "en TIME_MEASUREMENT pronounced 120"),
    ]
    late = waiting.place_steps(m.Wait("t", 9, 4000.0), 0, prompts, "en")
    assert late[2:] == [("playback", "more.wav"), ("say", "en TIME_MEASUREMENT pronounced 600")]
    # "less than" has no prompt of its own here: "about" says it
    soon = waiting.place_steps(m.Wait("t", 1, 10.0), 0, prompts, "en")
    assert soon[2] == ("playback", "about.wav")
    # nothing known: the position the caller got at joining, and no wait
    unknown = waiting.place_steps(None, 4, prompts, "en")
    assert unknown == [steps[0], ("say", "en NUMBER pronounced 4")]

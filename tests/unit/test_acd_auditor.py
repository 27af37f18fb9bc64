"""The auditor finds each broken invariant on a board, counts it by rule and logs it."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import CollectorRegistry

from callcenter.acd.auditor import Auditor, board_violations, passed_over
from callcenter.acd.board import AgentSlot, Board, Member, QueueSpec, Ticket
from callcenter.acd.metrics import AcdMetrics
from callcenter.vocabulary import AgentState, AgentStatus


def board_with(*agents: AgentSlot) -> Board:
    board = Board()
    spec = QueueSpec("q", members=tuple(Member(a.extension) for a in agents))
    board.configure([spec], list(agents), 0.0)
    return board


def violations(registry: CollectorRegistry, rule: str) -> float:
    value = registry.get_sample_value("callcenter_acd_invariant_violations_total", {"rule": rule})
    return value or 0.0


def test_each_rule_is_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    registry = CollectorRegistry()
    auditor = Auditor(AcdMetrics(registry).invariant_violations, interval=0.0)
    a, b = AgentSlot("a", AgentStatus.AVAILABLE), AgentSlot("b", AgentStatus.AVAILABLE)
    board = board_with(a, b)
    assert violations(registry, "passed_over") == 0.0  # every rule's series exists at 0
    early, late = Ticket("early", "c1", "q"), Ticket("late", "c2", "q")
    board.join(early, 1.0)
    board.join(late, 2.0)
    late.offer, a.state, a.ticket = ("a",), AgentState.OFFERING, "late"  # early passed over
    b.state, b.ticket = AgentState.OFFERING, "gone"  # offering a call that does not exist
    with caplog.at_level(logging.ERROR):
        auditor.after_step(board, [late], 5.0, {"early", "late"}, set())
        auditor.closed("s1")
        auditor.closed("s1")
    assert violations(registry, "passed_over") == 1.0
    assert violations(registry, "no_live_call") == 1.0
    assert violations(registry, "outcome_twice") == 1.0
    assert auditor.count == 3 and "ACD invariant passed_over broken" in caplog.text


def test_a_sound_board_has_nothing_to_say() -> None:
    a = AgentSlot("a", AgentStatus.AVAILABLE)
    board = board_with(a)
    ticket = Ticket("t", "c", "q")
    board.join(ticket, 0.0)
    offered = board.match(1.0)
    assert passed_over(board, offered, 1.0) == []
    assert board_violations(board, 1.0, {"t"}, set()) == []
    board.answered(ticket, "a", 1.0)
    assert board_violations(board, 1.0, set(), {"t"}) == []
    assert board_violations(board, 1.0, set(), set()) == [("no_live_call", "agent a in call t")]


def test_an_idle_agent_beside_a_caller_it_could_take_is_reported() -> None:
    a = AgentSlot("a", AgentStatus.AVAILABLE)
    board = board_with(a)
    board.join(Ticket("t", "c", "q"), 0.0)  # not matched: the agent idles beside it
    assert board_violations(board, 1.0, {"t"}, set())[0][0] == "passed_over"

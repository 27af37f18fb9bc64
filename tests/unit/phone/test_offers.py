"""What an offered phone is told: display name, caller number, auto-answer, whisper."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callcenter.esl import commands
from callcenter.phone.offers import AgentPhone, display_name, offer_variables, whisper_prompt
from callcenter.phone.on_call import status_words
from callcenter.store.records import AgentRecord
from callcenter.vocabulary import AgentState, AgentStatus


@pytest.mark.parametrize(
    ("name", "number", "shown"),
    [
        ("Alice", "15550001", "sales: Alice"),
        ("", "15550001", "sales: 15550001"),
        ("", "", "sales: unknown"),
        ("Bob ${evil} 'x'\r\nSet: y", "1", "sales: Bob evil x Set: y"),
        ("A" * 100, "1", "sales: " + "A" * 53),
    ],
)
def test_the_display_says_the_queue_and_who_calls(name: str, number: str, shown: str) -> None:
    assert display_name("sales", name, number) == shown


def test_the_variables_go_through_the_originate_builder_whatever_the_caller_sent() -> None:
    variables = offer_variables("sales", "Al'ice, {x}", "+1555;x=y", AgentPhone("1001"))
    line = commands.originate(
        "user/1001@callcenter", variables, uuid="0" * 8 + "-0000-0000-0000-" + "0" * 12
    )
    assert "origination_caller_id_name='sales: Al ice\\, x'" in line
    assert "Call-Info" not in line


def test_auto_answer_adds_the_call_info_header() -> None:
    variables = offer_variables("sales", "A", "1", AgentPhone("1001", auto_answer=True))
    assert variables["sip_h_Call-Info"] == "answer-after=0"


def test_whisper_is_a_file_or_the_queue_spoken() -> None:
    assert whisper_prompt(None, "sales") is None
    assert whisper_prompt(AgentPhone("1", whisper=None), "sales") is None
    assert whisper_prompt(AgentPhone("1", whisper="queue"), "tech_support-2") == (
        "say:tech support 2"
    )
    assert whisper_prompt(AgentPhone("1", whisper="/sounds/vip.wav"), "q") == "/sounds/vip.wav"


def record(status: AgentStatus, state: AgentState = AgentState.IDLE, **kw: object) -> AgentRecord:
    return AgentRecord(1, "1001", "", 10, status, state, datetime.now(UTC), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("agent", "words"),
    [
        (record(AgentStatus.LOGGED_OUT), "logged out"),
        (record(AgentStatus.AVAILABLE), "available"),
        (record(AgentStatus.AVAILABLE, on_demand=True), "available on demand"),
        (record(AgentStatus.PAUSED, pause_reason="lunch"), "paused, lunch"),
        (record(AgentStatus.PAUSED, pause_reason="3 offers: x!"), "paused, 3 offers x"),
        (record(AgentStatus.AVAILABLE, AgentState.WRAP_UP), "available, wrap up"),
    ],
)
def test_star_29_says_the_status(agent: AgentRecord, words: str) -> None:
    assert status_words(agent) == words

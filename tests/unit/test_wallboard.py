"""The wallboard's pure parts: the event tally's formulas, the snapshot, ``top``'s screen at
80 columns with its keys, and the page's stream cookies."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from callcenter.api.live import AgentLive, CallerLive
from callcenter.cli.top_cmd import on_key
from callcenter.events.types import (
    AgentAnswered,
    AgentOffered,
    AgentStateChanged,
    CallEnded,
    QueueJoined,
    QueueLeft,
)
from callcenter.kpi import formulas as f
from callcenter.kpi.formulas import QueueTally, SlFormula
from callcenter.store.records import QueueMemberRecord, QueueRecord
from callcenter.vocabulary import AgentState, AgentStatus, QueueStrategy, RecordingPolicy
from callcenter.wallboard import snapshot
from callcenter.wallboard.render import SortBy, View, screen, shown_agents
from callcenter.wallboard.snapshot import Wallboard
from callcenter.wallboard.tally import Tally
from callcenter.wallboard.web import Sessions

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def stay(tally: Tally, call: str, joined: float, left: float, outcome: str) -> None:
    tally.on_event(QueueJoined(call_uuid=call, queue="sales", at=at(joined)))
    tally.on_event(QueueLeft(call_uuid=call, queue="sales", at=at(left), outcome=outcome))


def test_the_tally_counts_with_the_queues_thresholds() -> None:
    tally = Tally(window=3600)
    stay(tally, "a", 0, 20, "answered")  # exactly T: in time
    stay(tally, "b", 0, 21, "answered")  # late
    stay(tally, "c", 0, 4, "abandoned")  # short: counted apart
    stay(tally, "d", 0, 5, "abandoned")  # 5 s is not short
    stay(tally, "e", 0, 30, "overflow")  # offered, neither answered nor abandoned
    counts = tally.counts("sales", 20, 5, now=at(60).timestamp())
    assert counts == QueueTally(offered=5, answered=2, answered_within=1, abandoned=2,
                                short_abandoned=1, abandoned_within=2, exits={"overflow": 1},
                                answered_wait=41.0, wait=80.0)  # fmt: skip
    assert f.service_level(counts, SlFormula.OFFERED) == pytest.approx(1 / 4)
    assert f.abandon_rate(counts) == pytest.approx(1 / 4)  # (abandoned - short) / (offered - short)
    assert tally.counts("sales", 20, 10, now=at(60).timestamp()).short_abandoned == 2  # its S
    assert tally.counts("support", 20, 5, now=at(60).timestamp()).offered == 0


def test_stays_leave_the_window() -> None:
    tally = Tally(window=600)
    stay(tally, "old", 0, 10, "answered")
    stay(tally, "new", 700, 705, "answered")
    assert tally.counts("sales", 20, 5, now=at(800).timestamp()).offered == 1


def test_the_stream_form_of_events_counts_the_same() -> None:
    joined = QueueJoined(call_uuid="a", queue="sales", at=at(0))
    left = QueueLeft(call_uuid="a", queue="sales", at=at(12), outcome="answered")
    by_object, by_doc = Tally(), Tally()
    for event in (joined, left):
        by_object.on_event(event)
        by_doc.on_doc(event.to_dict())
    now = at(30).timestamp()
    assert by_doc.counts("sales", 20, 5, now) == by_object.counts("sales", 20, 5, now)
    assert by_doc.counts("sales", 20, 5, now).answered_within == 1


def test_an_agent_shows_its_caller_from_offer_to_the_end() -> None:
    tally = Tally()
    caller = {"call_uuid": "c1", "caller_number": "1555", "caller_name": "Ann"}
    tally.on_event(AgentOffered(agent_extension="1001", queue="sales", **caller))
    call = tally.on_call("1001")
    assert call is not None and call.ringing and call.number == "1555"
    tally.on_event(AgentAnswered(agent_extension="1001", queue="sales", **caller))
    assert tally.on_call("1001") is not None and not tally.on_call("1001").ringing  # type: ignore[union-attr]
    tally.on_event(CallEnded(call_uuid="c1", disposition="answered", hangup_cause="NORMAL_CLEARING",
                             hangup_by="caller"))  # fmt: skip
    assert tally.on_call("1001") is None
    tally.on_event(AgentOffered(agent_extension="1002", **caller))
    tally.on_event(AgentStateChanged(agent_extension="1002", state="idle", status="available"))
    assert tally.on_call("1002") is None  # the offer failed: back to idle


def queue(name: str, *members: str, sl: int = 20, formula: str = "offered") -> QueueRecord:
    return QueueRecord(
        id=1, name=name, strategy=QueueStrategy.RING_ALL, max_wait_seconds=0, max_callers=0,
        agent_ring_seconds=20, service_level_seconds=sl, music_on_hold="", announcements={},
        announce_position_seconds=0, overflow_target=None, recording_policy=RecordingPolicy.NONE,
        recording_sample_percent=100, callback_enabled=False,
        members=tuple(QueueMemberRecord(m, 1, 1) for m in members), sl_formula=formula,
    )  # fmt: skip


def live(ext: str, status: AgentStatus, state: AgentState, seconds: float = 0.0,
         ready_in: float = 0.0) -> AgentLive:  # fmt: skip
    return AgentLive(ext, status, state, None, seconds, ready_in, 0, 0.0, None)


def sample() -> Wallboard:
    agents = {
        "1001": live("1001", AgentStatus.AVAILABLE, AgentState.IDLE, 75),
        "1002": live("1002", AgentStatus.AVAILABLE, AgentState.IN_CALL, 3700),
        "1003": live("1003", AgentStatus.PAUSED, AgentState.IDLE, 10),
        "1004": live("1004", AgentStatus.AVAILABLE, AgentState.IDLE, 1, ready_in=8),  # resting
        "1005": live("1005", AgentStatus.LOGGED_OUT, AgentState.IDLE),
        "1006": live("1006", AgentStatus.AVAILABLE, AgentState.WRAP_UP, 4),
    }
    waiting = {"sales": [CallerLive("w1", "sales", 1, 42.0, 0, ()),
                         CallerLive("w2", "sales", 2, 12.5, 0, ())]}  # fmt: skip
    tally = Tally()
    stay(tally, "a", 0, 10, "answered")
    stay(tally, "b", 0, 50, "abandoned")
    hostile = "Zoë\x1b[2J\nEvil"
    tally.on_event(AgentAnswered(agent_extension="1002", call_uuid="c9", queue="sales",
                                 caller_number="+33 1 23", caller_name=hostile))  # fmt: skip
    names = {"1001": "Alice", "1002": "Bob the very long-named agent of sales", "1003": "Carol"}
    return snapshot.build(
        at(60), [queue("sales", "1001", "1002", "1003", "1004", "1005"),
                 queue("a-queue-with-a-rather-long-name", "1006", sl=30)],
        agents, waiting, names,
        lambda q: tally.counts(q.name, q.service_level_seconds, q.short_abandon_seconds,
                               at(60).timestamp()),
        tally.on_call, tally.window,
    )  # fmt: skip


def test_the_snapshot_counts_each_queues_agents() -> None:
    board = sample()
    sales = board.queues[0]
    assert (sales.waiting, sales.longest_wait_seconds) == (2, 42.0)
    assert sales.agents.model_dump() == {"staffed": 4, "free": 1, "busy": 1, "paused": 1}
    assert (sales.service_level, sales.abandon_rate) == (0.5, 0.5)
    bob = next(a for a in board.agents if a.extension == "1002")
    assert (bob.call_uuid, bob.caller_number, bob.queues) == ("c9", "+33 1 23", ["sales"])
    assert Wallboard.model_validate_json(board.model_dump_json()) == board  # what top reads


def test_a_queue_with_another_formula_shows_that_formulas_service_level() -> None:
    tally = Tally()
    for call, left, outcome in [("a", 10, "answered"), ("b", 30, "answered"),
                                ("c", 50, "abandoned"), ("d", 8, "abandoned"),
                                ("e", 3, "abandoned")]:  # fmt: skip
        stay(tally, call, 0, left, outcome)
    records = [queue("sales", formula=name) for name in SlFormula]
    boards = [
        snapshot.build(at(60), [record], {}, {}, {}, lambda q: tally.counts(
            q.name, q.service_level_seconds, q.short_abandon_seconds, at(60).timestamp()),
            tally.on_call, tally.window).queues[0]
        for record in records
    ]  # fmt: skip
    # offered 5, answered 2, within T: 1 answered and 2 abandoned (8 s, and 3 s: short)
    expected = {SlFormula.OFFERED: 1 / 4, SlFormula.ANSWERED: 1 / 2, SlFormula.ABANDONS_MET: 3 / 5}
    assert {b.sl_formula: b.service_level for b in boards} == pytest.approx(expected)
    assert boards[1].service_level_formula == "answered within T / answered"
    for board, shown in zip(boards, ("25%", "50%", "60%"), strict=True):
        wallboard = Wallboard(at=at(60), window_seconds=3600, queues=[board], agents=[])
        text = rendered(wallboard, View())
        line = next(x for x in text.splitlines() if x.lstrip().startswith("sales"))
        assert line.split()[3] == shown, text  # top's SL column: the queue's formula
        assert f"SL = {f.SL_FORMULAS[board.sl_formula]}: sales" in text


def rendered(board: Wallboard, view: View, width: int = 80, elapsed: float = 0.0) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(screen(board, view, elapsed))
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


def test_top_fits_80_columns_and_shows_the_figures() -> None:
    text = rendered(sample(), View(status="live"))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    sales = next(line for line in lines if line.lstrip().startswith("sales"))
    assert sales.split() == ["sales", "2", "0:42", "50%", "50%", "1", "1", "1", "1"]
    assert "1:01:40" in text  # Bob in his call for 3700 s
    assert "\x1b" not in text and "Zoë\\x1b[2J\\nEvil" in text  # the caller cannot move the cursor
    assert "1005" not in text  # logged out: hidden unless asked
    assert "1005" in rendered(sample(), View(logged_out=True))


def test_top_clocks_run_on_between_snapshots() -> None:
    sales = next(
        line for line in rendered(sample(), View(), elapsed=30).splitlines()
        if line.lstrip().startswith("sales")
    )  # fmt: skip
    assert "1:12" in sales  # 42 s + 30 s


def test_top_sorts_and_filters_agents() -> None:
    board = sample()
    order = [a.extension for a in shown_agents(board, View(sort=SortBy.TIME))]
    assert order == ["1002", "1001", "1003", "1006", "1004"]
    reverse = shown_agents(board, View(sort=SortBy.EXTENSION, reverse=True))
    assert [a.extension for a in reverse] == ["1006", "1004", "1003", "1002", "1001"]
    assert [a.extension for a in shown_agents(board, View(filter="carol"))] == ["1003"]
    assert [a.extension for a in shown_agents(board, View(filter="+33"))] == ["1002"]
    text = rendered(board, View(filter="long-name"))
    assert "a-queue-with" in text and "\n sales" not in text


def test_top_keys() -> None:
    view = View()
    assert on_key(view, "q") is None
    assert on_key(view, "s") == View(sort=SortBy.TIME)
    assert on_key(view, "r") == View(reverse=True)
    typing = on_key(view, "/")
    assert typing == View(typing="")
    for key in "salx\x7fe":
        typing = on_key(typing, key)  # type: ignore[arg-type]
    assert typing == View(typing="sale")
    assert on_key(typing, "\r") == View(filter="sale")
    assert on_key(typing, "\x1b") == View()
    assert on_key(View(filter="x"), "c") == View()
    assert on_key(view, "z") == view


def test_stream_cookies_are_signed_and_expire() -> None:
    clock = [1_000_000.0]
    sessions = Sessions(ttl=60, clock=lambda: clock[0])
    value = sessions.issue("ab" * 32)
    assert sessions.token_hash(value) == "ab" * 32
    assert sessions.token_hash(value.replace("ab", "cd", 1)) is None  # another token's hash
    expires, rest = value.split(".", 1)
    assert sessions.token_hash(f"{int(expires) + 999}.{rest}") is None  # a later expiry
    assert Sessions(ttl=60, clock=lambda: clock[0]).token_hash(value) is None  # another key
    assert sessions.token_hash("garbage") is None
    clock[0] += 61
    assert sessions.token_hash(value) is None


def test_the_event_types_the_tally_skips_are_those_it_does_not_read() -> None:
    """``Tally.on_event`` returns at once for the types outside ``_TALLIED``: each of them,
    given to ``_note`` with every field set, must change nothing (else it belongs there)."""
    from callcenter.events.types import EventType
    from callcenter.wallboard.tally import _TALLIED

    def busy() -> Tally:
        tally = Tally()
        tally.on_event(QueueJoined(call_uuid="c1", queue="sales", at=at(0)))
        tally.on_event(AgentOffered(agent_extension="1001", call_uuid="c1", queue="sales"))
        return tally

    before = busy()
    skipped = [kind for kind in EventType if kind not in _TALLIED]
    assert EventType.CALL_CREATED in skipped and EventType.QUEUE_LEFT not in skipped
    for kind in skipped:
        tally = busy()
        data = {"outcome": "answered", "state": str(AgentState.IDLE)}
        tally._note(str(kind), at(5).timestamp(), "c1", "sales", "1001", "1555", "Ann", data)
        assert (tally._joined, tally._stays, tally._calls) == (
            before._joined,
            before._stays,
            before._calls,
        ), kind

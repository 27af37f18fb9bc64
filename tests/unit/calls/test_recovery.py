"""What a previous run left open, and the records that close it (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callcenter.calls import recovery
from callcenter.store.records import CallRecord, CdrRecord, LegRecord, QueueStayRecord
from callcenter.vocabulary import (
    CallState,
    Direction,
    Disposition,
    HangupBy,
    LegRole,
    QueueOutcome,
)

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
NOW_US = int((T0 + timedelta(minutes=5)).timestamp() * 1e6)


def call(
    uuid: str, state: CallState = CallState.QUEUED, node: str = "fs1", **fields: object
) -> CallRecord:
    leg = LegRecord(uuid, LegRole.CALLER, Direction.INBOUND, created_at=T0, answered_at=T0)
    return CallRecord(
        uuid, Direction.INBOUND, state, node, did="8001", created_at=T0, answered_at=T0,
        legs=(leg,), **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def stay(ticket: str, uuid: str, **fields: object) -> QueueStayRecord:
    joined = T0 + timedelta(seconds=10)
    return QueueStayRecord(ticket, "sales", uuid, 0, 1, joined, **fields)  # type: ignore[arg-type]


def test_the_spool_is_newer_than_the_database() -> None:
    stored = [call("a"), call("b"), call("c"), call("other", node="fs2")]
    cdr = CdrRecord(
        "b", Direction.INBOUND, "fs1", T0, T0, "", HangupBy.CALLER, Disposition.ANSWERED
    )
    spooled = [call("c", CallState.ENDED), cdr, call("d")]
    assert sorted(recovery.live_calls(stored, spooled, "fs1")) == ["a", "d"]


def test_open_stays_by_call_with_spooled_writes_winning_by_ticket() -> None:
    calls = {"a": call("a"), "b": call("b")}
    stored = [stay("t1", "a"), stay("t2", "b"), stay("t3", "zz")]
    spooled = [stay("t2", "b", outcome=QueueOutcome.ANSWERED), stay("t4", "a")]
    left = recovery.left_open(calls, stored, spooled)
    assert [s.ticket for s in left["a"].stays] == ["t1", "t4"]
    assert left["b"].stays == ()


def test_a_waiting_caller_gone_while_the_engine_was_away_is_abandoned() -> None:
    closing = recovery.close(recovery.LeftOpen(call("a"), (stay("t1", "a"),)), NOW_US)
    assert closing.cdr.disposition is Disposition.ABANDONED
    assert closing.cdr.queue == "sales" and closing.cdr.hangup_by is HangupBy.UNKNOWN
    assert closing.cdr.queue_wait_ms == (5 * 60 - 10) * 1000
    assert closing.call.state is CallState.ENDED
    assert closing.call.disposition is Disposition.ABANDONED
    [closed] = closing.stays
    assert closed.outcome is QueueOutcome.ABANDONED and closed.reason == recovery.GONE_WHILE_AWAY
    assert closed.left_at == T0 + timedelta(minutes=5)


def test_the_recorded_end_is_used_when_known() -> None:
    ended = T0 + timedelta(minutes=1)
    closing = recovery.close(
        recovery.LeftOpen(call("a", ended_at=ended), (stay("t", "a"),)), NOW_US
    )
    assert closing.cdr.ended_at == ended
    assert closing.stays[0].left_at == ended


def test_a_call_not_in_a_queue_keeps_its_own_disposition() -> None:
    closing = recovery.close(recovery.LeftOpen(call("a", CallState.BRIDGED)), NOW_US)
    assert closing.stays == () and closing.cdr.queue is None
    assert closing.cdr.disposition is not Disposition.ABANDONED

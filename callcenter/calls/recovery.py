"""What a previous run left open, and how a start closes what no longer exists.

Pure. A start reads what the database says was live (calls not ended, queue stays without
an outcome), overlays what the spool still holds for it (newer than the database: the
previous run wrote it while the database was away), and asks FreeSWITCH about each call.
A call FreeSWITCH no longer has ended while no engine was watching: it is closed here with
a CDR, and its open stay with it. A caller who was waiting in a queue hung up while waiting:
that is ``abandoned`` (stay and CDR), not ``failed``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from callcenter.calls.call import Call
from callcenter.cdr.builder import build_cdr
from callcenter.cdr.timeline import us_to_datetime
from callcenter.store.records import CallRecord, CdrRecord, QueueStayRecord
from callcenter.vocabulary import CallState, QueueOutcome

GONE_WHILE_AWAY = "caller hung up while the engine was away"
UNSEEN_CAUSE = "NORMAL_UNSPECIFIED"  # FreeSWITCH's CDR, if posted, tells the real one


@dataclass(frozen=True, slots=True)
class LeftOpen:
    """A call the previous run left live, with its stays that have no outcome yet."""

    record: CallRecord
    stays: tuple[QueueStayRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class Closing:
    """What closes a call that no longer exists: its row, its open stays, its CDR."""

    call: CallRecord
    stays: tuple[QueueStayRecord, ...]
    cdr: CdrRecord


def live_calls(
    stored: Iterable[CallRecord], spooled: Iterable[object], node: str
) -> dict[str, CallRecord]:
    """The calls of ``node`` the previous run left live: the database's, each replaced by
    its latest spooled state; a call the spool ends (its CDR, an ended state) is closed."""
    calls = {call.uuid: call for call in stored if call.node == node}
    closed: set[str] = set()
    for record in spooled:
        if isinstance(record, CallRecord) and record.node == node:
            calls[record.uuid] = record
        elif isinstance(record, CdrRecord):
            closed.add(record.call_uuid)
    return {
        uuid: call
        for uuid, call in calls.items()
        if uuid not in closed and call.state is not CallState.ENDED
    }


def left_open(
    calls: dict[str, CallRecord], stored_stays: Iterable[QueueStayRecord], spooled: Iterable[object]
) -> dict[str, LeftOpen]:
    """Each live call with its stays that have no outcome (spooled writes win by ticket)."""
    stays = {stay.ticket: stay for stay in stored_stays}
    for record in spooled:
        if isinstance(record, QueueStayRecord):
            stays[record.ticket] = record
    by_call: dict[str, list[QueueStayRecord]] = {}
    for stay in sorted(stays.values(), key=lambda s: s.joined_at):
        if stay.outcome is None and stay.call_uuid in calls:
            by_call.setdefault(stay.call_uuid, []).append(stay)
    return {uuid: LeftOpen(call, tuple(by_call.get(uuid, ()))) for uuid, call in calls.items()}


def close(left: LeftOpen, now_us: int) -> Closing:
    """Close a call that ended unseen: every leg ends at the best time known (the caller's
    recorded end, else ``now_us``), an open stay as abandoned then."""
    call = Call.from_record(left.record)
    timeline = call.timeline
    ended_us = _us(left.record.ended_at) or timeline.caller.ended_us or now_us
    for leg in list(timeline.legs.values()):
        end = leg.ended_us or max(ended_us, leg.created_us or 0)
        call.end_leg_unseen(leg.uuid, cause=UNSEEN_CAUSE, at_us=end)  # the last one: ENDED
    closed: list[QueueStayRecord] = []
    for stay in left.stays:
        left_us = max(ended_us, _us(stay.joined_at) or 0)
        closed.append(
            dataclasses.replace(
                stay,
                left_at=us_to_datetime(left_us),
                outcome=QueueOutcome.ABANDONED,
                reason=GONE_WHILE_AWAY,
            )
        )
        timeline.queue_joined(stay.queue, _us(stay.joined_at) or left_us)
        timeline.queue_left(left_us, str(QueueOutcome.ABANDONED))
    cdr = build_cdr(timeline, now_us=now_us)
    return Closing(call.to_record(cdr.disposition), tuple(closed), cdr)


def _us(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1_000_000) if value is not None else None

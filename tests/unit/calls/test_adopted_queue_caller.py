"""A caller adopted while waiting in a queue is a queue caller from the start: if it is gone
before its stay resumes (the first command finds no channel), its CDR says abandoned, with
the queue, not failed (the soak found 5 such CDRs after a SIGKILL)."""

from __future__ import annotations

from callcenter.calls.call import Call, QueueSeat
from callcenter.cdr.builder import build_cdr
from callcenter.vocabulary import Disposition

JOINED_US = 1_765_000_000_000_000


def dump(**extra: str) -> dict[str, str]:
    seat = QueueSeat("support", "t-1", 0, JOINED_US, (), "en")
    values = {k: v for k, v in seat.variables().items() if v is not None}
    return {
        "Unique-ID": "c-1",
        "Call-Direction": "inbound",
        "Caller-Caller-ID-Number": "15551230000",
        "Caller-Destination-Number": "5004",
        "Caller-Channel-Created-Time": str(JOINED_US - 2_000_000),
        "Caller-Channel-Answered-Time": str(JOINED_US - 1_000_000),
        "variable_cc_managed": "true",
        "variable_cc_did": "5004",
        **{f"variable_{k}": v for k, v in values.items()},
        **extra,
    }


def test_an_adopted_queue_caller_gone_before_resuming_is_abandoned() -> None:
    call = Call.from_dump(dump(), node="fs1")
    assert call.queue_seat is not None
    call.end_leg_unseen("c-1")  # the channel was gone at its first command
    cdr = build_cdr(call.timeline)
    assert (cdr.disposition, cdr.queue) == (Disposition.ABANDONED, "support")


def test_an_adopted_caller_not_in_a_queue_keeps_no_queue() -> None:
    plain = {k: v for k, v in dump().items() if not k.startswith("variable_cc_queue")}
    call = Call.from_dump(plain, node="fs1")
    assert call.queue_seat is None and call.timeline.queue is None

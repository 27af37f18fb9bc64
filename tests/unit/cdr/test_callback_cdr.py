"""What a queue's callback looks like in its CDR (docs/cdr.md, "Queue callbacks"): a call of
its queue and its agent, outbound, to the customer's number, whatever became of it. Before,
it had no queue and no agent: the reports per queue never counted it."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter.calls.call import Call
from callcenter.cdr.builder import build_cdr
from callcenter.vocabulary import Direction, Disposition, HangupBy, LegRole
from tests.unit.cdr.test_builder import Ev, ev

AGENT = "5f1c0000-0000-4000-8000-0000000000a1"  # the call's own leg: the agent's phone
CUSTOMER = "5f1c0000-0000-4000-8000-0000000000c1"
TAGS = {
    "Call-Direction": "outbound", "Caller-Caller-ID-Number": "4101",
    "Caller-Destination-Number": "4101", "variable_cc_entry": "callback",
    "variable_cc_callback": "t-1", "variable_cc_callback_number": "15554010001",
    "variable_cc_agent": "4101", "variable_cc_queue": "care",
}  # fmt: skip


def hangup(leg: str, t: int, cause: str, how: str) -> list[Ev]:
    return [
        ev("CHANNEL_HANGUP", leg, t, **{"Hangup-Cause": cause}),
        ev("CHANNEL_HANGUP_COMPLETE", leg, t, variable_sip_hangup_disposition=how),
    ]


def rung(t: int) -> list[Ev]:
    return [ev("CHANNEL_CREATE", CUSTOMER, t)]


def answered(t: int) -> list[Ev]:
    return [*rung(t), ev("CHANNEL_ANSWER", CUSTOMER, t + 2_000)]


BRIDGE = [ev("CHANNEL_BRIDGE", AGENT, 3_000, **{"Other-Leg-Unique-ID": CUSTOMER})]

# name: (events after the agent's park, not reached cause, disposition, hangup_by, agent)
TABLE: dict[str, tuple[list[Ev], str | None, Disposition, HangupBy, str | None]] = {
    "bridged, the customer hangs up": (
        answered(1_000) + BRIDGE + hangup(CUSTOMER, 9_000, "NORMAL_CLEARING", "recv_bye")
        + hangup(AGENT, 9_010, "NORMAL_CLEARING", "send_bye"),
        None, Disposition.ANSWERED, HangupBy.CALLER, "4101",
    ),
    "bridged, the agent hangs up": (
        answered(1_000) + BRIDGE + hangup(AGENT, 9_000, "NORMAL_CLEARING", "recv_bye")
        + hangup(CUSTOMER, 9_010, "NORMAL_CLEARING", "send_bye"),
        None, Disposition.ANSWERED, HangupBy.AGENT, "4101",
    ),
    "the customer does not answer": (
        rung(1_000) + hangup(CUSTOMER, 6_000, "NO_ANSWER", "send_cancel")
        + hangup(AGENT, 8_000, "NORMAL_CLEARING", "send_bye"),
        "NO_ANSWER", Disposition.NO_ANSWER, HangupBy.SYSTEM, None,
    ),
    "the customer is busy": (
        rung(1_000) + hangup(CUSTOMER, 1_500, "USER_BUSY", "recv_refuse")
        + hangup(AGENT, 3_000, "NORMAL_CLEARING", "send_bye"),
        "USER_BUSY", Disposition.BUSY, HangupBy.CALLER, None,
    ),
    "the customer answers, hangs up before the bridge": (
        answered(1_000) + hangup(CUSTOMER, 3_500, "NORMAL_CLEARING", "recv_bye")
        + hangup(AGENT, 3_600, "NORMAL_CLEARING", "send_bye"),
        None, Disposition.ABANDONED, HangupBy.CALLER, None,
    ),
    "the agent hangs up in the whisper": (
        hangup(AGENT, 2_000, "NORMAL_CLEARING", "recv_bye"),
        None, Disposition.ABANDONED, HangupBy.AGENT, None,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(TABLE))
def test_a_callbacks_cdr_is_its_queues_and_its_agents(name: str) -> None:
    events, not_reached, disposition, by, agent = TABLE[name]
    park = ev("CHANNEL_PARK", AGENT, 0, **TAGS)
    call = Call.from_park(park, "fs1")  # answered before it parked: the call begins here
    call.timeline.add_leg(CUSTOMER, LegRole.OUTBOUND, Direction.OUTBOUND)  # as first_answer
    if not_reached is not None:
        call.timeline.dial_failed(not_reached)
    for event in events:
        call.apply(event)
    cdr = build_cdr(call.timeline)
    found: dict[str, Any] = {
        "queue": cdr.queue, "direction": str(cdr.direction), "to": cdr.to_number,
        "disposition": cdr.disposition, "by": cdr.hangup_by, "agent": cdr.agent_extension,
        "cause": cdr.hangup_cause, "wait": cdr.queue_wait_ms,
    }  # fmt: skip
    assert found == {
        "queue": "care", "direction": "outbound", "to": "15554010001",
        "disposition": disposition, "by": by, "agent": agent,
        "cause": not_reached or "NORMAL_CLEARING", "wait": 0,
    }  # fmt: skip
    assert cdr.legs[0].agent_extension == "4101"  # the agent's leg, whatever became of it

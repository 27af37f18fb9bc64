"""Each disposition derived from an event sequence and the engine's marks (docs/cdr.md).

One row per meaning: the table in docs/cdr.md lists the same values, and a test checks
that every Disposition has a row here and a line there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from callcenter.cdr.builder import build_cdr
from callcenter.cdr.timeline import CallTimeline
from callcenter.store.records import CdrRecord
from callcenter.vocabulary import Direction, Disposition, LegRole
from tests.unit.cdr.test_builder import A, B, Ev, ev

T0 = 1_800_000_000_000_000
DOC = Path(__file__).resolve().parents[3] / "docs" / "cdr.md"


def park(t: int = 0) -> list[Ev]:
    return [ev("CHANNEL_PARK", A, t)]


def answer(t: int) -> list[Ev]:
    return [ev("CHANNEL_ANSWER", A, t)]


def hangup(leg: str, t: int, cause: str, how: str) -> list[Ev]:
    return [
        ev("CHANNEL_HANGUP", leg, t, **{"Hangup-Cause": cause}),
        ev("CHANNEL_HANGUP_COMPLETE", leg, t, variable_sip_hangup_disposition=how),
    ]


def bridged_agent(t: int) -> list[Ev]:
    return [
        ev("CHANNEL_CREATE", B, t),
        ev("CHANNEL_ANSWER", B, t + 2_000),
        ev("CHANNEL_BRIDGE", A, t + 2_050, **{"Other-Leg-Unique-ID": B}),
    ]


def build(events: list[Ev], marks: dict[str, Any]) -> CdrRecord:
    timeline = CallTimeline(call_uuid=A, node="fs1", did="5000")
    timeline.add_leg(A, LegRole.CALLER, Direction.INBOUND)
    for kind in marks.get("routes", ()):
        timeline.routed(kind)
    if "agent" in marks:
        timeline.agent_leg(B, "1001")
    if "ivr" in marks:
        timeline.ivr_entered(T0 + marks["ivr"][0] * 1000)
        timeline.ivr_left(T0 + marks["ivr"][1] * 1000)
    if "queue" in marks:
        timeline.queue_joined("support", T0 + marks["queue"] * 1000)
    if "queue_left" in marks:
        at, outcome = marks["queue_left"]
        timeline.queue_left(T0 + at * 1000, outcome)
    if "dial_failed" in marks:
        timeline.dial_failed(marks["dial_failed"])
    if "outcome" in marks:
        timeline.outcome = marks["outcome"]
    for event in events:
        timeline.apply(event)
    return build_cdr(timeline)


UNSEEN = {"Hangup-Cause": "NORMAL_UNSPECIFIED", "variable_cc_synthetic": "true"}  # Mailbox.lost

# name: (events, marks, expected disposition, expected hangup_cause)
TABLE: dict[str, tuple[list[Ev], dict[str, Any], Disposition, str]] = {
    "answered: queue, bridged to an agent": (
        park() + answer(50) + bridged_agent(1_000)
        + hangup(A, 9_000, "NORMAL_CLEARING", "recv_bye")
        + hangup(B, 9_010, "NORMAL_CLEARING", "send_bye"),
        {"routes": ["queue"], "queue": 50, "agent": True},
        Disposition.ANSWERED, "NORMAL_CLEARING",
    ),
    "abandoned: caller leaves the queue": (
        park() + answer(50) + hangup(A, 9_000, "NORMAL_CLEARING", "recv_bye"),
        {"routes": ["queue"], "queue": 50, "queue_left": (9_100, "abandoned")},
        Disposition.ABANDONED, "NORMAL_CLEARING",
    ),
    "abandoned: caller leaves while the queue answers it": (
        park() + answer(50) + hangup(A, 60, "NORMAL_CLEARING", "recv_bye"),
        {"routes": ["queue"]},
        Disposition.ABANDONED, "NORMAL_CLEARING",
    ),
    "abandoned: caller gives up while ringing": (
        park() + hangup(A, 4_000, "ORIGINATOR_CANCEL", "recv_cancel"),
        {"routes": ["ivr"]},
        Disposition.ABANDONED, "ORIGINATOR_CANCEL",
    ),
    # soak: adopted after a restart, gone before the queue could answer it
    "abandoned: an unanswered caller whose end the engine did not see": (
        [*park(), ev("CHANNEL_HANGUP_COMPLETE", A, 8_500, **UNSEEN)],
        {"routes": ["queue"]},
        Disposition.ABANDONED, "NORMAL_UNSPECIFIED",
    ),
    "failed: the queue gives up, nowhere to overflow": (
        park() + answer(50) + hangup(A, 600_100, "NORMAL_CLEARING", "send_bye"),
        {"routes": ["queue"], "queue": 50, "queue_left": (600_050, "timeout")},
        Disposition.FAILED, "NORMAL_CLEARING",
    ),
    "failed: extension whose phone is not registered": (
        park() + answer(30) + hangup(A, 3_100, "NORMAL_CLEARING", "send_bye"),
        {"routes": ["extension"], "dial_failed": "SUBSCRIBER_ABSENT"},
        Disposition.FAILED, "SUBSCRIBER_ABSENT",
    ),
    "busy: extension busy": (
        park() + answer(30) + hangup(A, 3_100, "NORMAL_CLEARING", "send_bye"),
        {"routes": ["extension"], "dial_failed": "USER_BUSY"},
        Disposition.BUSY, "USER_BUSY",
    ),
    "no_answer: extension rings out": (
        park() + answer(30_000) + hangup(A, 33_100, "NORMAL_CLEARING", "send_bye"),
        {"routes": ["extension"], "dial_failed": "NO_ANSWER"},
        Disposition.NO_ANSWER, "NO_ANSWER",
    ),
    "rejected: hangup: route": (
        park() + hangup(A, 20, "CALL_REJECTED", "send_refuse"),
        {"routes": ["hangup"]},
        Disposition.REJECTED, "CALL_REJECTED",
    ),
    "ivr_completed: the flow hangs up": (
        park() + answer(10) + hangup(A, 8_000, "NORMAL_CLEARING", "send_bye"),
        {"routes": ["ivr"], "ivr": (10, 8_000)},
        Disposition.IVR_COMPLETED, "NORMAL_CLEARING",
    ),
    "ivr_completed: the caller hangs up in the flow": (
        park() + answer(10) + hangup(A, 3_000, "NORMAL_CLEARING", "recv_bye"),
        {"routes": ["ivr"], "ivr": (10, 3_000)},
        Disposition.IVR_COMPLETED, "NORMAL_CLEARING",
    ),
    "played: playback: route": (
        park() + answer(10) + hangup(A, 2_100, "NORMAL_CLEARING", "send_bye"),
        {"routes": ["playback"]},
        Disposition.PLAYED, "NORMAL_CLEARING",
    ),
    "played: caller hangs up during the message": (
        park() + answer(10) + hangup(A, 900, "NORMAL_CLEARING", "recv_bye"),
        {"routes": ["playback"]},
        Disposition.PLAYED, "NORMAL_CLEARING",
    ),
    "voicemail: a message was left": (
        park() + answer(10) + hangup(A, 20_000, "NORMAL_CLEARING", "recv_bye"),
        {"routes": ["ivr"], "ivr": (10, 5_000), "outcome": "voicemail"},
        Disposition.VOICEMAIL, "NORMAL_CLEARING",
    ),
    "transferred: set by the feature that transferred": (
        park() + answer(10) + hangup(A, 5_000, "NORMAL_CLEARING", "send_bye"),
        {"routes": ["ivr"], "outcome": "transferred"},
        Disposition.TRANSFERRED, "NORMAL_CLEARING",
    ),
    "feature: a feature code from an agent's phone (*21...)": (
        park() + answer(10) + hangup(A, 1_500, "NORMAL_CLEARING", "send_bye"),
        {"routes": ["feature"], "outcome": "feature"},
        Disposition.FEATURE, "NORMAL_CLEARING",
    ),
    "callback: the caller hangs up to be called back, keeping its queue place": (
        park() + answer(10) + hangup(A, 40_000, "NORMAL_CLEARING", "send_bye"),
        {"routes": ["queue"], "queue": 50, "queue_left": (38_000, "callback"),
         "outcome": "callback"},
        Disposition.CALLBACK, "NORMAL_CLEARING",
    ),
    "machine: a campaign's call answered by an answering machine, hung up on": (
        park() + answer(10) + hangup(A, 4_000, "NORMAL_CLEARING", "send_bye"),
        {"routes": ["dialer"], "outcome": "machine"},
        Disposition.MACHINE, "NORMAL_CLEARING",
    ),
    "busy: an agent calls another agent who is on a queue call": (
        park() + hangup(A, 30, "USER_BUSY", "send_refuse"),
        {"dial_failed": "USER_BUSY"},
        Disposition.BUSY, "USER_BUSY",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(TABLE))
def test_disposition_table(name: str) -> None:
    events, marks, disposition, cause = TABLE[name]
    cdr = build(events, marks)
    assert (cdr.disposition, cdr.hangup_cause) == (disposition, cause)
    assert str(disposition) == name.split(":")[0]


def test_every_disposition_has_a_row_and_a_line_in_the_docs() -> None:
    rows = {name.split(":")[0] for name in TABLE}
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", _section(), re.M))
    assert rows == documented == {str(d) for d in Disposition}


def _section() -> str:
    return DOC.read_text().split("## Dispositions", 1)[1]


def test_queue_wait_never_exceeds_the_call() -> None:
    """The engine's clock marks the queue; FreeSWITCH's clock times the call: an abandoned
    call once had queue_wait_ms 143 with total_ms 119."""
    events = park() + answer(5) + hangup(A, 119, "NORMAL_CLEARING", "recv_bye")
    cdr = build(events, {"routes": ["queue"], "queue": -20, "queue_left": (150, "abandoned")})
    assert cdr.disposition is Disposition.ABANDONED
    assert cdr.total_ms == 119
    assert 0 <= cdr.queue_wait_ms <= cdr.total_ms
    assert cdr.queue_wait_ms == 119

"""CDRs built from real FreeSWITCH event streams, and from tables of events for the rest."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from callcenter.calls.call import Call
from callcenter.cdr.builder import build_cdr, build_recordings
from callcenter.cdr.timeline import CallTimeline, us_to_datetime
from callcenter.vocabulary import Direction, Disposition, HangupBy, LegRole

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cdr"


@dataclass(frozen=True)
class Ev:
    name: str
    unique_id: str | None
    timestamp_us: int
    headers: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)


def recorded(name: str) -> list[Ev]:
    events = []
    for line in (FIXTURES / f"{name}.events.jsonl").read_text().splitlines():
        h = json.loads(line)
        events.append(Ev(h["Event-Name"], h["Unique-ID"], int(h["Event-Date-Timestamp"]), h))
    return events


def test_recorded_caller_bridged_to_agent_hangs_up() -> None:
    events = recorded("s03")
    caller, agent = events[0].unique_id, events[3].unique_id
    assert caller and agent
    timeline = CallTimeline(call_uuid=caller, node="fs1", did="5000")
    timeline.add_leg(caller, LegRole.CALLER, Direction.INBOUND, from_number="15551234567")
    timeline.queue_joined("support", events[2].timestamp_us)
    timeline.agent_leg(agent, "1001")
    for event in events:
        timeline.apply(event)
    assert timeline.finished
    cdr = build_cdr(timeline)
    assert cdr.hangup_by is HangupBy.CALLER  # caller BYE: recv_bye on the caller leg
    assert cdr.disposition is Disposition.ANSWERED
    assert cdr.agent_extension == "1001"
    assert cdr.ring_ms == 19  # park -> answer, by FreeSWITCH's clock
    assert cdr.queue_wait_ms == 80  # answer (joined) -> bridge
    assert cdr.talk_ms == 8939  # bridge -> caller hang-up
    assert cdr.total_ms == 9059
    assert cdr.hangup_cause == "NORMAL_CLEARING"
    assert [leg.role for leg in cdr.legs] == [LegRole.CALLER, LegRole.AGENT]
    assert cdr.ended_at - cdr.started_at == timedelta(microseconds=9059984)
    [recording] = build_recordings(timeline)  # RECORD_START/STOP seen on the caller leg
    assert recording.path.endswith(f"s03-{caller}.wav")
    assert recording.leg_uuid == caller
    assert recording.ended_at is not None and recording.duration_ms and recording.duration_ms > 0
    assert recording.sha256 is None  # the file lives on the recording FreeSWITCH


def test_recorded_caller_hangs_up_during_ivr() -> None:
    events = recorded("s02")
    caller = events[0].unique_id
    assert caller
    timeline = CallTimeline(call_uuid=caller, node="fs1", did="5000")
    timeline.add_leg(caller, LegRole.CALLER, Direction.INBOUND)
    timeline.ivr_entered(events[2].timestamp_us)
    timeline.ivr_step("welcome", events[2].timestamp_us, input=None)
    for event in events:
        timeline.apply(event)
    cdr = build_cdr(timeline)
    assert cdr.hangup_by is HangupBy.CALLER
    assert cdr.disposition is Disposition.IVR_COMPLETED
    assert cdr.ivr_ms == 2019  # the open IVR span closes at the caller's hang-up
    assert cdr.talk_ms == 0 and cdr.queue_wait_ms == 0
    assert cdr.ivr_path[0]["node"] == "welcome"


@pytest.mark.parametrize(
    ("index", "cause", "disposition", "by"),
    [
        (0, "USER_BUSY", Disposition.BUSY, HangupBy.CALLER),  # 486 from the far end
        (2, "NORMAL_TEMPORARY_FAILURE", Disposition.FAILED, HangupBy.CALLER),
        (3, "NO_ANSWER", Disposition.NO_ANSWER, HangupBy.SYSTEM),  # we cancelled
    ],
)
def test_recorded_failed_originates(
    index: int, cause: str, disposition: Disposition, by: HangupBy
) -> None:
    events = recorded("s04")
    uuids = list(dict.fromkeys(e.unique_id for e in events))
    uuid = uuids[index]
    assert uuid
    timeline = CallTimeline(call_uuid=uuid, node="fs1", direction=Direction.OUTBOUND)
    timeline.add_leg(uuid, LegRole.OUTBOUND, Direction.OUTBOUND)
    for event in events:
        timeline.apply(event)
    cdr = build_cdr(timeline)
    assert (cdr.hangup_cause, cdr.disposition, cdr.hangup_by) == (cause, disposition, by)
    assert cdr.answered_at is None and cdr.talk_ms == 0


A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"


def ev(name: str, uuid: str, t_ms: int, **headers: str) -> Ev:
    return Ev(name, uuid, 1_800_000_000_000_000 + t_ms * 1000, headers)


# each row: events (name, leg, t_ms, headers), marks, expected (disposition, hangup_by, ...)
SCENARIOS = {
    "abandoned in queue": (
        [
            ev("CHANNEL_PARK", A, 0),
            ev("CHANNEL_ANSWER", A, 100),
            ev("CHANNEL_HANGUP", A, 30_100, **{"Hangup-Cause": "NORMAL_CLEARING"}),
            ev("CHANNEL_HANGUP_COMPLETE", A, 30_100, variable_sip_hangup_disposition="recv_bye"),
        ],
        {"queue": 5_100},
        {
            "disposition": Disposition.ABANDONED,
            "hangup_by": HangupBy.CALLER,
            "queue_wait_ms": 25_000,
        },
    ),
    "agent hangs up first, with hold": (
        [
            ev("CHANNEL_PARK", A, 0),
            ev("CHANNEL_ANSWER", A, 50),
            ev("CHANNEL_CREATE", B, 1_000),
            ev("CHANNEL_ANSWER", B, 3_000),
            ev("CHANNEL_BRIDGE", A, 3_050, **{"Other-Leg-Unique-ID": B}),
            ev("CHANNEL_HOLD", A, 10_000),
            ev("CHANNEL_UNHOLD", A, 15_000),
            ev("CHANNEL_HANGUP", B, 60_050, **{"Hangup-Cause": "NORMAL_CLEARING"}),
            ev("CHANNEL_HANGUP_COMPLETE", B, 60_050, variable_sip_hangup_disposition="recv_bye"),
            ev("CHANNEL_UNBRIDGE", A, 60_050, **{"Other-Leg-Unique-ID": B}),
            ev("CHANNEL_HANGUP", A, 60_070, **{"Hangup-Cause": "NORMAL_CLEARING"}),
            ev("CHANNEL_HANGUP_COMPLETE", A, 60_070, variable_sip_hangup_disposition="send_bye"),
        ],
        {"queue": 50, "agent": B},
        {
            "disposition": Disposition.ANSWERED,
            "hangup_by": HangupBy.AGENT,
            "talk_ms": 57_000,
            "hold_ms": 5_000,
            "queue_wait_ms": 3_000,
            "agent_extension": "1001",
        },
    ),
    "rejected before answer by the engine": (
        [
            ev("CHANNEL_PARK", A, 0),
            ev("CHANNEL_HANGUP", A, 20, **{"Hangup-Cause": "CALL_REJECTED"}),
            ev("CHANNEL_HANGUP_COMPLETE", A, 20, variable_sip_hangup_disposition="send_refuse"),
        ],
        {},
        {"disposition": Disposition.REJECTED, "hangup_by": HangupBy.SYSTEM, "ring_ms": 20},
    ),
    "caller gives up while ringing": (
        [
            ev("CHANNEL_PARK", A, 0),
            ev("CHANNEL_HANGUP", A, 4_000, **{"Hangup-Cause": "ORIGINATOR_CANCEL"}),
            ev("CHANNEL_HANGUP_COMPLETE", A, 4_000, variable_sip_hangup_disposition="recv_cancel"),
        ],
        {},
        {"disposition": Disposition.ABANDONED, "hangup_by": HangupBy.CALLER, "ring_ms": 4_000},
    ),
    "hang-up complete missed, destroy closes it": (
        [
            ev("CHANNEL_PARK", A, 0),
            ev("CHANNEL_ANSWER", A, 10),
            ev("CHANNEL_DESTROY", A, 9_010, **{"Hangup-Cause": "NORMAL_CLEARING"}),
        ],
        {"routes": ["playback"]},
        {
            "disposition": Disposition.PLAYED,
            "total_ms": 9_010,
            "hangup_by": HangupBy.UNKNOWN,
        },
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenarios(name: str) -> None:
    events, marks, expected = SCENARIOS[name]
    timeline = CallTimeline(call_uuid=A, node="fs1")
    timeline.add_leg(A, LegRole.CALLER, Direction.INBOUND)
    for kind in marks.get("routes", ()):
        timeline.routed(str(kind))
    if "agent" in marks:
        timeline.agent_leg(str(marks["agent"]), "1001")
    if "queue" in marks:
        timeline.queue_joined("support", 1_800_000_000_000_000 + int(marks["queue"]) * 1000)
    for event in events:
        timeline.apply(event)
    assert timeline.finished
    cdr = build_cdr(timeline)
    for key, value in expected.items():
        assert getattr(cdr, key) == value, key


def test_unfinished_call_is_closed_at_now() -> None:
    timeline = CallTimeline(call_uuid=A, node="fs1")
    timeline.add_leg(A, LegRole.CALLER, Direction.INBOUND)
    timeline.apply(ev("CHANNEL_PARK", A, 0))
    assert not timeline.finished
    now = 1_800_000_000_000_000 + 5_000_000
    cdr = build_cdr(timeline, now_us=now)
    assert cdr.total_ms == 5_000 and cdr.ended_at == us_to_datetime(now)


def test_events_of_unknown_legs_are_ignored() -> None:
    timeline = CallTimeline(call_uuid=A, node="fs1")
    timeline.add_leg(A, LegRole.CALLER, Direction.INBOUND)
    timeline.apply(ev("CHANNEL_ANSWER", B, 5))
    timeline.apply(ev("NOT_AN_EVENT", A, 5))
    assert timeline.caller.answered_us is None


def test_a_calls_instants_are_made_datetimes_once_and_read_the_same() -> None:
    # each mirror of a call (three a queue call) and its CDR write the same instants:
    # the timeline makes each datetime once and hands the same one out after that
    events = recorded("s03")
    caller, agent = events[0].unique_id, events[3].unique_id
    assert caller and agent
    call = Call(uuid=caller, node="fs1", direction=Direction.INBOUND, did="5000")
    timeline = call.timeline
    timeline.add_leg(caller, LegRole.CALLER, Direction.INBOUND, from_number="15551234567")
    timeline.agent_leg(agent, "1001")
    for event in events:
        timeline.apply(event)
    first, again, cdr = call.to_record(), call.to_record(), build_cdr(timeline)
    assert first.answered_at is again.answered_at is cdr.answered_at
    assert first.ended_at is again.ended_at
    assert first.legs[1].answered_at is cdr.legs[1].answered_at
    for leg in timeline.legs.values():
        for us in (leg.created_us, leg.answered_us, leg.bridged_us, leg.ended_us):
            assert timeline.at(us) == (us_to_datetime(us) if us else None)
            assert timeline.at(us) is timeline.at(us)
    assert timeline.at(None) is None and timeline.at(0) is None

"""A recording rebuilt after a restart from its row and the channel's variables. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

from callcenter.cdr.builder import build_recordings
from callcenter.cdr.timeline import CallTimeline
from callcenter.recording import adopted
from callcenter.recording.state import ActiveRecording, CallRecordings
from callcenter.store.records import StoredRecording
from callcenter.vocabulary import Direction, LegRole

CALL = "6c1f2f2e-8a4b-4c55-9b1d-0d7a1f0b3e21"
START = datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC)
START_US = int(START.timestamp() * 1_000_000)


def _timeline() -> CallTimeline:
    timeline = CallTimeline(call_uuid=CALL, node="fs1", direction=Direction.INBOUND)
    timeline.add_leg(CALL, LegRole.CALLER, Direction.INBOUND)
    return timeline


def _row(path: str, paused: tuple[tuple[int, int], ...] = ()) -> StoredRecording:
    return StoredRecording(
        id=1, call_uuid=CALL, path=path, started_at=START, ended_at=None, duration_ms=None,
        status="recording", queue="sales", agent="1001", paused=paused,
    )  # fmt: skip


def test_the_row_gives_the_spans_and_the_channel_the_open_pause() -> None:
    recordings, timeline = CallRecordings(), _timeline()
    dump = {
        f"variable_{adopted.PATH}": "/r/a.wav",
        f"variable_{adopted.PAUSED}": str(START_US + 9_000_000),
        "variable_RECORD_STEREO": "true",
    }
    [active] = adopted.restore(recordings, timeline, dump, [_row("/r/a.wav", ((1000, 2000),))])
    assert recordings.current is active and active.stereo and active.paused
    assert active.spans == [(START_US + 1_000_000, START_US + 2_000_000)]
    assert recordings.context == ("sales", "1001")
    active.close(START_US + 10_000_000)  # the call ends: the open pause is closed there
    assert active.spans_ms() == [[1000, 2000], [9000, 10000]]
    assert timeline.recordings["/r/a.wav"].started_us == START_US


def test_without_its_row_the_channel_alone_says_which_file_is_written() -> None:
    recordings = CallRecordings()
    dump = {f"variable_{adopted.PATH}": "/r/b.wav", f"variable_{adopted.STARTED}": "1700"}
    [active] = adopted.restore(recordings, _timeline(), dump, [])
    assert (active.path, active.started_us, active.paused, active.queue) == (
        "/r/b.wav", 1700, False, None,
    )  # fmt: skip


def test_a_file_stopped_while_away_has_no_duration_to_check() -> None:
    recordings, timeline = CallRecordings(), _timeline()
    [old] = adopted.restore(recordings, timeline, {}, [_row("/r/old.wav")])
    assert old.stopped and recordings.current is None
    [record] = build_recordings(timeline)
    assert record.path == "/r/old.wav" and record.duration_ms is None


def test_the_channel_variables_follow_a_file() -> None:
    active = ActiveRecording("/r/c.wav", 5, stereo=True)
    assert adopted.started(active) == {adopted.PATH: "/r/c.wav", adopted.STARTED: "5",
                                       adopted.PAUSED: None}  # fmt: skip
    active.pause(7)
    assert adopted.started(active)[adopted.PAUSED] == "7"
    assert set(adopted.stopped().values()) == {None}
    row = adopted.live_record(CALL, active)
    assert row.status == "recording" and row.leg_uuid == CALL

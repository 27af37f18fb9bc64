from __future__ import annotations

from callcenter.recording.state import ActiveRecording, CallRecordings


def test_pci_spans_in_ms_from_the_start_and_a_pause_left_open_closes_at_the_end() -> None:
    rec = ActiveRecording("/r/c.wav", started_us=1_000_000, stereo=True)
    assert rec.pause(3_000_000) and not rec.pause(3_500_000)  # paused once
    assert rec.resume(4_000_000) and not rec.resume(4_100_000)
    assert rec.pause(6_000_000)
    rec.close(7_500_000)
    assert rec.spans_ms() == [[2000, 3000], [5000, 6500]]
    assert rec.stopped and not rec.pause(8_000_000)


def test_commands_act_on_the_last_file_still_running() -> None:
    calls = CallRecordings()
    assert calls.current is None
    first = ActiveRecording("/r/1.wav", 0, False)
    calls.files.append(first)
    assert calls.current is first and calls.by_path("/r/1.wav") is first
    first.close(10)
    assert calls.current is None

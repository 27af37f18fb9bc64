"""A recording FreeSWITCH goes on writing while the engine restarts. Pure.

FreeSWITCH keeps a live recording as a private of the channel (its media bug, by path): no
variable of ``uuid_dump`` shows it, nor a mask (``uuid_record ... mask`` emits nothing,
s03/s16), and RECORD_START was sent to the engine that is gone. So the engine keeps the facts
in two places from the start of each file:

- on the recorded channel, ``cc_rec_path`` and ``cc_rec_started`` (the file being written,
  since when) and ``cc_rec_paused`` (a PCI pause open since): FreeSWITCH reports them back in
  ``uuid_dump`` and forgets them with the channel;
- the file's row in ``recordings``, status ``recording``, written at its start and again at
  each resume and stop: its queue, agent and the paused spans closed so far.

An engine adopting the call rebuilds the call's recordings from both: the row's facts and
spans, the channel's word on which file is still written and whether a pause is open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from callcenter.cdr.timeline import CallTimeline, RecordingSpan, us_to_datetime
from callcenter.recording.state import ActiveRecording, CallRecordings
from callcenter.recording.wav import FileStatus
from callcenter.store.records import RecordingRecord, StoredRecording

PATH = "cc_rec_path"
STARTED = "cc_rec_started"
PAUSED = "cc_rec_paused"


def started(active: ActiveRecording) -> dict[str, str | None]:
    """The channel's variables once ``active`` is written (a pause from its start included)."""
    paused = str(active.paused_since_us) if active.paused_since_us is not None else None
    return {PATH: active.path, STARTED: str(active.started_us), PAUSED: paused}


def stopped() -> dict[str, str | None]:
    return {PATH: None, STARTED: None, PAUSED: None}


def live_record(call_uuid: str, active: ActiveRecording) -> RecordingRecord:
    """The file's row while its call is live (spans closed so far)."""
    return RecordingRecord(
        call_uuid=call_uuid, path=active.path, started_at=us_to_datetime(active.started_us),
        leg_uuid=call_uuid, status=str(FileStatus.RECORDING), queue=active.queue,
        agent=active.agent, paused=active.spans_ms() or None,
    )  # fmt: skip


def restore(
    recordings: CallRecordings,
    timeline: CallTimeline,
    dump: Mapping[str, str],
    rows: Iterable[StoredRecording],
) -> list[ActiveRecording]:
    """The call's files from its rows and its channel (``uuid_dump``); each one is put back
    in the timeline, so that the RECORD_STOP at the hang-up closes it and the CDR's
    recordings have it. A file the channel no longer names was stopped while the engine was
    away: its end is not known (no duration to check it against)."""
    live_path = dump.get(f"variable_{PATH}") or ""
    stereo = dump.get("variable_RECORD_STEREO") == "true"
    files: list[ActiveRecording] = []
    for row in rows:
        start = _us(row.started_at)
        active = ActiveRecording(
            row.path, start, stereo, row.queue, row.agent,
            spans=[(start + a * 1000, start + b * 1000) for a, b in row.paused],
            stopped=row.path != live_path,
        )  # fmt: skip
        files.append(active)
    if live_path and not any(f.path == live_path for f in files):  # its row not written
        begun = _digits(dump.get(f"variable_{STARTED}")) or _digits(
            dump.get("Caller-Channel-Answered-Time")
        )
        if begun:
            files.append(ActiveRecording(live_path, begun, stereo))
    for active in files:
        if active.path == live_path:
            active.paused_since_us = _digits(dump.get(f"variable_{PAUSED}"))
            recordings.context = (active.queue, active.agent)
        span = RecordingSpan(active.path, timeline.call_uuid, active.started_us)
        if active.stopped:
            span.end_unknown = True
        timeline.recordings.setdefault(active.path, span)
        if recordings.by_path(active.path) is None:
            recordings.files.append(active)
    return files


def ended_away(row: StoredRecording, ended_at: datetime | None) -> RecordingRecord:
    """The row of a file whose call ended while no engine watched: stopped by FreeSWITCH at
    the hang-up, its duration unknown (the check reads the header alone)."""
    return RecordingRecord(
        call_uuid=row.call_uuid, path=row.path, started_at=row.started_at,
        leg_uuid=row.leg_uuid, ended_at=ended_at, queue=row.queue, agent=row.agent,
        paused=[list(span) for span in row.paused] or None,
    )  # fmt: skip


def _us(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def _digits(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and value != "0" else None

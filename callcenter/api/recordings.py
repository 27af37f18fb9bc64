"""``/recordings``: the recordings with their file check, each one's audio (HTTP Range), and
``/calls/{uuid}/recording/{action}``: PCI pause/resume, on-demand start/stop of a live call."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from callcenter.api.calls import Requested
from callcenter.api.env import ApiEnv
from callcenter.api.files import RESPONSES as FILE_RESPONSES
from callcenter.api.files import FileAnswer
from callcenter.api.pages import Page, PageQuery, decode_cursor, encode_cursor
from callcenter.api.problems import ApiProblem
from callcenter.api.routing import Ask, Operation
from callcenter.errors import NotFound
from callcenter.recording.state import Action
from callcenter.services import recordings
from callcenter.store.models.tokens import TokenScope
from callcenter.store.records import StoredRecording

READ, OPERATE = TokenScope.READ, TokenScope.OPERATE
TAG = "recordings"
ID_MAX = 2**31 - 1  # recordings.id is an INTEGER


class Recording(BaseModel):
    id: int
    call_uuid: str
    started_at: datetime
    ended_at: datetime | None
    duration_ms: int | None = Field(description="What FreeSWITCH reported (record_ms).")
    status: str = Field(
        description="The file's check: recording (its call is live), pending, ok, missing, "
        "corrupt, deleted."
    )
    size_bytes: int | None
    sha256: str | None
    channels: int | None = Field(description="2: stereo, the caller left, the agent right.")
    file_ms: int | None = Field(description="The duration measured in the file.")
    queue: str | None
    agent: str | None
    paused: list[list[int]] = Field(description="PCI pauses, [from_ms, to_ms] from the start.")
    problem: str | None
    checked_at: datetime | None
    deleted_at: datetime | None


class RecordingQuery(PageQuery):
    call: str | None = Field(None, max_length=64, description="Only this call's.")
    queue: str | None = Field(None, max_length=64)
    status: str | None = Field(None, pattern="^(recording|pending|ok|missing|corrupt|deleted)$")
    since: datetime | None = Field(None, description="Started at or after (UTC if naive).")
    until: datetime | None = Field(None, description="Started before.")


def recording_out(found: StoredRecording) -> Recording:
    values = {n: getattr(found, n) for n in Recording.model_fields if n != "paused"}
    return Recording(**values, paused=[list(span) for span in found.paused])


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _id(ask: Ask) -> int:
    raw = ask.path["recording_id"]
    if not raw.isdigit() or not 1 <= int(raw) <= ID_MAX:
        raise NotFound(f"no recording {raw}", code="recording_not_found")
    return int(raw)


def _before(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    key = decode_cursor(cursor)
    if len(key) != 1 or not isinstance(key[0], int):
        raise ApiProblem(400, "cursor_invalid", "cursor: not a cursor of this list")
    return key[0]


def operations(env: ApiEnv) -> list[Operation]:
    db = env.database

    def list_recordings(ask: Ask) -> Page[Recording]:
        q: RecordingQuery = ask.query
        found = recordings.list_recordings(
            db, call_uuid=q.call, queue=q.queue, status=q.status, since=_utc(q.since),
            until=_utc(q.until), before_id=_before(q.cursor), limit=min(q.limit + 1, 1000),
        )  # fmt: skip
        page = found[: q.limit]
        more = encode_cursor([page[-1].id]) if len(found) > q.limit else None
        return Page[Recording](items=[recording_out(r) for r in page], next=more)

    def show_recording(ask: Ask) -> Recording:
        return recording_out(recordings.get(db, _id(ask)))

    def download_recording(ask: Ask) -> FileAnswer:
        found, path = recordings.file_of(db, _id(ask))
        return FileAnswer(path=str(path), filename=f"{found.call_uuid}{Path(found.path).suffix}")

    def control_recording(ask: Ask) -> Requested:
        action = ask.path["action"]
        if action not in set(Action):
            raise NotFound(f"no recording action {action!r}", code="not_found")
        done = recordings.control(db, ask.who, ask.path["uuid"], action)
        return Requested(call=done.call.uuid, op=done.op, change_id=done.change_id)

    item = "/recordings/{recording_id}"
    return [
        Operation("GET", "/recordings", READ, list_recordings, "Recordings, newest first", TAG,
                  Page[Recording], query=RecordingQuery, errors=(400, 422)),
        Operation("GET", item, READ, show_recording, "One recording and its file check", TAG,
                  Recording, errors=(404, 422)),
        Operation("GET", item + "/audio", READ, download_recording,
                  "A recording's audio (HTTP Range for seeking)", TAG, None,
                  errors=(404, 409, 422), extra={"responses": FILE_RESPONSES}),
        Operation("POST", "/calls/{uuid}/recording/{action}", OPERATE, control_recording,
                  "Pause (PCI), resume, start or stop a live call's recording", TAG, Requested,
                  status=202, errors=(404, 409, 422)),
    ]  # fmt: skip

"""``/voicemails``: the messages callers left in the boxes of IVR voicemail nodes: list,
one, its audio, mark read or unread, delete."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from callcenter.api.env import ApiEnv
from callcenter.api.pages import Page, PageQuery, paginate
from callcenter.api.routing import Ask, Body, File, Operation
from callcenter.errors import NotFound
from callcenter.services import voicemail
from callcenter.store.models.tokens import TokenScope
from callcenter.store.records import VoicemailRecord

READ, OPERATE = TokenScope.READ, TokenScope.OPERATE
TAG = "voicemails"
ID_MAX = 2_147_483_647


class Voicemail(BaseModel):
    id: int
    box: str
    call_uuid: str
    received_at: datetime
    from_number: str
    from_name: str
    duration_ms: int | None
    size_bytes: int | None
    read: bool
    read_at: datetime | None


class VoicemailQuery(PageQuery):
    box: str | None = Field(None, max_length=32, description="Only this box's messages.")
    unread: bool = Field(False, description="Only the messages not marked read.")


class MarkIn(Body):
    read: bool = Field(description="true: listened to; false: unread again.")


def voicemail_out(found: VoicemailRecord) -> Voicemail:
    return Voicemail(
        id=found.id, box=found.box, call_uuid=found.call_uuid, received_at=found.received_at,
        from_number=found.from_number, from_name=found.from_name,
        duration_ms=found.duration_ms, size_bytes=found.size_bytes,
        read=found.read_at is not None, read_at=found.read_at,
    )  # fmt: skip


def _id(ask: Ask) -> int:
    raw = ask.path["voicemail_id"]
    if not raw.isdigit() or not 1 <= int(raw) <= ID_MAX:
        raise NotFound(f"no voicemail {raw}", code="voicemail_not_found")
    return int(raw)


AUDIO = {
    "200": {
        "description": "The message's audio, as FreeSWITCH recorded it.",
        "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def operations(env: ApiEnv) -> list[Operation]:
    db = env.database

    def list_voicemails(ask: Ask) -> Page[Voicemail]:
        query: VoicemailQuery = ask.query
        found = voicemail.list_voicemails(db, box=query.box, unread=query.unread, limit=1000)
        newest_first = lambda v: [-v.received_at.timestamp(), -v.id]  # noqa: E731
        page, more = paginate(found, newest_first, query)
        return Page[Voicemail](items=[voicemail_out(v) for v in page], next=more)

    def show_voicemail(ask: Ask) -> Voicemail:
        return voicemail_out(voicemail.get(db, _id(ask)))

    def voicemail_audio(ask: Ask) -> File:
        audio = voicemail.audio(db, _id(ask))
        return File(audio.data, audio.content_type, f"voicemail-{audio.voicemail.id}.wav")

    def mark_voicemail(ask: Ask) -> Voicemail:
        body: MarkIn = ask.body
        return voicemail_out(voicemail.mark(db, ask.who, _id(ask), read=body.read))

    def delete_voicemail(ask: Ask) -> None:
        voicemail.delete(db, ask.who, _id(ask))

    item = "/voicemails/{voicemail_id}"
    return [
        Operation("GET", "/voicemails", READ, list_voicemails,
                  "Voicemail messages not deleted, newest first", TAG, Page[Voicemail],
                  query=VoicemailQuery, errors=(400, 422)),
        Operation("GET", item, READ, show_voicemail, "One voicemail message", TAG, Voicemail,
                  errors=(404,)),
        Operation("GET", item + "/audio", READ, voicemail_audio, "A message's audio (WAV)", TAG,
                  None, errors=(404, 409), extra={"responses": AUDIO}),
        Operation("POST", item + "/mark", OPERATE, mark_voicemail,
                  "Mark a message read or unread", TAG, Voicemail, body=MarkIn),
        Operation("DELETE", item, OPERATE, delete_voicemail,
                  "Delete a message (its file; the CDR stays)", TAG, None, errors=(404, 409)),
    ]  # fmt: skip

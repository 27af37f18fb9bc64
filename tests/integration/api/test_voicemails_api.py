"""``/voicemails``: messages of the boxes, their audio, read flags and deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from callcenter.store.database import Database
from callcenter.store.records import RecordingRecord
from callcenter.store.repos import RecordingRepository
from callcenter.store.repos.audit import AuditLog
from tests.integration.api.conftest import Client

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)


def message(db: Database, root: Path, box: str, call: str, minutes_ago: int) -> Path:
    path = root / "voicemail" / box / f"{call}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(WAV + call.encode())
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    with db.session_scope() as session:
        RecordingRepository(session).add(
            RecordingRecord(call_uuid=call, path=str(path), started_at=at, duration_ms=4020)
        )
    return path


def test_list_play_mark_and_delete_messages(db: Database, api: Client, tmp_path: Path) -> None:
    old = message(db, tmp_path, "sales", "vm-call-1", 10)
    message(db, tmp_path, "support", "vm-call-2", 5)
    newest = message(db, tmp_path, "sales", "vm-call-3", 1)
    with db.session_scope() as session:  # a call recording, not a message
        RecordingRepository(session).add(RecordingRecord(
            call_uuid="rec-1", path=str(tmp_path / "2026" / "rec-1.wav"),
            started_at=datetime.now(UTC)))  # fmt: skip

    listed = api("GET", "/voicemails", "read").json["items"]
    assert [(v["box"], v["call_uuid"], v["read"]) for v in listed] == [
        ("sales", "vm-call-3", False), ("support", "vm-call-2", False),
        ("sales", "vm-call-1", False),
    ]  # fmt: skip
    sales = api("GET", "/voicemails", "read", params={"box": "sales"}).json["items"]
    assert [v["call_uuid"] for v in sales] == ["vm-call-3", "vm-call-1"]
    first = sales[-1]["id"]

    audio = api("GET", f"/voicemails/{first}/audio", "read")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content == old.read_bytes()

    marked = api("POST", f"/voicemails/{first}/mark", "operate", {"read": True})
    assert marked.status_code == 200 and marked.json["read"] is True
    unread = api("GET", "/voicemails", "read", params={"unread": "true"}).json["items"]
    assert [v["call_uuid"] for v in unread] == ["vm-call-3", "vm-call-2"]

    assert api("DELETE", f"/voicemails/{first}", "read").status_code == 403
    assert api("DELETE", f"/voicemails/{first}", "operate").status_code == 204
    assert not old.exists() and newest.exists()
    assert api("GET", f"/voicemails/{first}", "read").status_code == 404
    assert api("GET", "/voicemails/99999999", "read").json["code"] == "voicemail_not_found"
    with db.session_scope() as session:
        actions = [e.action for e in AuditLog(session).recent(20) if e.target == str(first)]
    assert sorted(actions) == ["voicemail.delete", "voicemail.mark"]


def test_a_missing_file_is_said_so(db: Database, api: Client, tmp_path: Path) -> None:
    path = message(db, tmp_path, "sales", "vm-gone", 1)
    path.unlink()
    [found] = api("GET", "/voicemails", "read").json["items"]
    answer = api("GET", f"/voicemails/{found['id']}/audio", "read")
    assert answer.status_code == 409 and answer.json["code"] == "voicemail_file_missing"
    assert str(path) in answer.json["detail"]

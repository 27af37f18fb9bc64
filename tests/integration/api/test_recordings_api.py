"""/recordings: list with filters and pages, one recording, its audio with HTTP Range behind
the read scope; retention (``recording purge``), dry run and real, on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callcenter.recording import wav
from callcenter.services import recordings as service
from callcenter.services.actor import Actor
from callcenter.sim import recordfile
from callcenter.store.database import Database
from callcenter.store.models import AuditEntry
from callcenter.store.records import RecordingRecord
from callcenter.store.repos import AgentRepository, QueueRepository, RecordingRepository
from tests.integration.api.conftest import Client

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
OPERATOR = Actor("cli", "test")


def _store(db: Database, path: Path, *, days_ago: int, queue: str | None = "sales") -> int:
    record = RecordingRecord(
        call_uuid=f"c-{path.stem}", path=str(path), started_at=NOW - timedelta(days=days_ago),
        duration_ms=1000, queue=queue, agent="1001", paused=[[100, 300]],
    )  # fmt: skip
    with db.session_scope() as session:
        repo = RecordingRepository(session)
        repo.add(record)
        repo.set_checked(str(path), wav.check(path, 1000), NOW)
        [found] = repo.search(call_uuid=record.call_uuid)
    return found.id


@pytest.fixture
def files(db: Database, tmp_path: Path) -> dict[str, int]:
    with db.session_scope() as session:
        QueueRepository(session).add("sales", recording_keep_days=30)
        QueueRepository(session).add("support")  # kept for ever
    out = {}
    for name, days, queue in (("old", 40, "sales"), ("new", 5, "sales"), ("kept", 400, "support"),
                              ("ivr", 400, None)):  # fmt: skip
        path = tmp_path / f"{name}.wav"
        recordfile.write(path, 1000, 2, [(100, 300)])
        out[name] = _store(db, path, days_ago=days, queue=queue)
    return out


def test_list_show_and_filters(api: Client, files: dict[str, int]) -> None:
    listed = api("GET", "/recordings", token="read")
    assert listed.status_code == 200
    ids = [r["id"] for r in listed.json["items"]]
    assert ids == sorted(files.values(), reverse=True)
    page = api("GET", "/recordings", token="read", params={"limit": 2})
    assert len(page.json["items"]) == 2 and page.json["next"]
    rest = api("GET", "/recordings", token="read", params={"limit": 2, "cursor": page.json["next"]})
    assert [r["id"] for r in page.json["items"] + rest.json["items"]] == ids
    sales = api("GET", "/recordings", token="read", params={"queue": "sales"}).json["items"]
    assert {r["id"] for r in sales} == {files["old"], files["new"]}
    one = api("GET", f"/recordings/{files['new']}", token="read").json
    assert (one["status"], one["channels"], one["paused"]) == ("ok", 2, [[100, 300]])
    assert api("GET", "/recordings/999999", token="read").status_code == 404
    assert api("GET", "/recordings", token=None).status_code == 401


def test_audio_with_range(api: Client, files: dict[str, int], tmp_path: Path) -> None:
    body = (tmp_path / "new.wav").read_bytes()
    url = f"/recordings/{files['new']}/audio"
    whole = api("GET", url, token="read")
    assert whole.status_code == 200 and whole.content == body
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "audio/wav"
    part = api("GET", url, token="read", headers={"Range": "bytes=0-43"})
    assert part.status_code == 206 and part.content == body[:44]
    assert part.headers["content-range"] == f"bytes 0-43/{len(body)}"
    assert wav.read_info(part.content).channels == 2
    tail = api("GET", url, token="read", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == body[-10:]
    middle = api("GET", url, token="read", headers={"Range": "bytes=100-"})
    assert middle.content == body[100:]
    outside = api("GET", url, token="read", headers={"Range": f"bytes={len(body)}-"})
    assert outside.status_code == 416 and outside.headers["content-range"] == f"bytes */{len(body)}"
    (tmp_path / "new.wav").unlink()
    gone = api("GET", url, token="read")
    assert gone.status_code == 409 and gone.json["code"] == "file_gone"


def test_purge_dry_run_then_real_keeps_the_rows(
    db: Database, files: dict[str, int], tmp_path: Path
) -> None:
    dry = service.purge(db, OPERATOR, dry_run=True, now=NOW, root=tmp_path)
    assert [r.id for r in dry.recordings] == [files["old"]]
    assert (tmp_path / "old.wav").exists()
    done = service.purge(db, OPERATOR, now=NOW, root=tmp_path)
    assert [r.id for r in done.recordings] == [files["old"]]
    assert not (tmp_path / "old.wav").exists()
    assert (tmp_path / "new.wav").exists() and (tmp_path / "kept.wav").exists()
    old = service.get(db, files["old"])
    assert old.deleted_at == NOW and old.status == "deleted" and old.sha256  # the row stays
    with db.session_scope() as session:
        audit = session.query(AuditEntry).filter_by(action="recording.purge").all()
    assert [a.target for a in audit] == [str(files["old"])]
    assert service.purge(db, OPERATOR, now=NOW, root=tmp_path).recordings == ()  # once
    with pytest.raises(Exception, match="deleted"):
        service.file_of(db, files["old"])


def test_queue_and_agent_recording_settings(api: Client, db: Database) -> None:
    made = api("POST", "/queues", body={"name": "care", "recording": "sample:20",
                                        "recording_keep_days": 90})  # fmt: skip
    assert made.status_code == 201, made.json
    assert (made.json["recording_policy"], made.json["recording_sample_percent"]) == ("sampled", 20)
    assert made.json["recording_keep_days"] == 90
    kept = api("PATCH", "/queues/care", body={"recording": "on-demand", "recording_keep_days": 0})
    assert kept.json["recording_policy"] == "on_demand" and kept.json["recording_keep_days"] is None
    bad = api("PATCH", "/queues/care", body={"recording": "sometimes"})
    assert bad.status_code == 422
    with db.session_scope() as session:
        AgentRepository(session).add("1001", "Ann")
    agent = api("PATCH", "/agents/1001", body={"recording": "always"})
    assert agent.status_code == 200 and agent.json["recording"] == "always"
    back = api("PATCH", "/agents/1001", body={"recording": ""})
    assert back.json["recording"] is None

"""The local cache of routes, queues and agents: atomic, versioned, never fatal."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from callcenter.store.cache import LocalCache
from callcenter.store.records import AgentRecord, QueueMemberRecord, QueueRecord
from callcenter.vocabulary import AgentState, AgentStatus, QueueStrategy, RecordingPolicy

QUEUE = QueueRecord(
    id=1, name="sales", strategy=QueueStrategy.LONGEST_IDLE, max_wait_seconds=60,
    max_callers=10, agent_ring_seconds=15, service_level_seconds=20, music_on_hold="moh.wav",
    announcements={"periodic": "x.wav"}, announce_position_seconds=30, overflow_target=None,
    recording_policy=RecordingPolicy.NONE, recording_sample_percent=0, callback_enabled=False,
    members=(QueueMemberRecord("2001", 1, 0),), required_skills={"fr": 2},
)  # fmt: skip
AGENT = AgentRecord(
    id=1, extension="2001", display_name="A", wrapup_seconds=5, status=AgentStatus.AVAILABLE,
    state=AgentState.IDLE, status_changed_at=datetime(2026, 12, 6, tzinfo=UTC), skills={"fr": 3},
)  # fmt: skip


def test_routes_queues_and_agents_come_back_as_saved(tmp_path: Path) -> None:
    cache = LocalCache(tmp_path / "cache")
    cache.save_routes({"8001": "queue:sales", "8002": "hangup:USER_BUSY"})
    cache.save_acd([QUEUE], [AGENT])
    again = LocalCache(tmp_path / "cache")
    routes = again.load_routes()
    acd = again.load_acd()
    assert routes is not None and routes.routes == {
        "8001": "queue:sales",
        "8002": "hangup:USER_BUSY",
    }
    assert acd is not None and acd.queues == (QUEUE,) and acd.agents == (AGENT,)
    assert again.queue_names() == ["sales"]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["acd.json", "routes.json"]


def test_nothing_saved_means_nothing_loaded(tmp_path: Path) -> None:
    cache = LocalCache(tmp_path / "none")
    assert cache.load_routes() is None and cache.load_acd() is None
    assert cache.queue_names() is None


def test_an_unchanged_table_is_not_written_again(tmp_path: Path) -> None:
    cache = LocalCache(tmp_path)
    cache.save_routes({"8001": "queue:sales"})
    first = cache.path("routes").stat().st_mtime_ns
    cache.path("routes").touch()
    touched = cache.path("routes").stat().st_mtime_ns
    cache.save_routes({"8001": "queue:sales"})
    assert cache.path("routes").stat().st_mtime_ns == touched >= first


@pytest.mark.parametrize(
    "content",
    [
        b'{"version": 1, "part": "rou',  # torn
        b"\x00\xff not json",
        b"[]",
        b'{"version": 99, "part": "routes", "data": {"routes": {}}}',
        b'{"version": 1, "part": "routes", "saved_at": "2026-12-06T00:00:00+00:00", '
        b'"sha256": "0", "data": {"routes": {"8001": "queue:sales"}}}',  # edited by hand
    ],
)
def test_a_cache_that_cannot_be_read_is_ignored_with_an_error(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    cache = LocalCache(tmp_path)
    cache.path("routes").write_bytes(content)
    cache.path("acd").write_bytes(content.replace(b"routes", b"acd"))
    with caplog.at_level(logging.ERROR):
        assert cache.load_routes() is None and cache.load_acd() is None
    assert "ignored" in caplog.text


def test_a_well_formed_cache_with_bad_records_is_ignored(tmp_path: Path) -> None:
    cache = LocalCache(tmp_path)
    cache.save_acd([QUEUE], [AGENT])
    doc = json.loads(cache.path("acd").read_text())
    doc["data"]["queues"][0]["strategy"] = "nope"
    body = json.dumps(doc["data"], sort_keys=True, ensure_ascii=True)
    doc["sha256"] = hashlib.sha256(body.encode()).hexdigest()
    cache.path("acd").write_text(json.dumps(doc))
    assert LocalCache(tmp_path).load_acd() is None


def test_a_cache_that_cannot_be_written_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "file").write_text("")
    cache = LocalCache(tmp_path / "file" / "cache")  # a file where the folder should be
    with caplog.at_level(logging.ERROR):
        cache.save_routes({"8001": "queue:sales"})
    assert "not written" in caplog.text

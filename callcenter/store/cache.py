"""A local copy of what routes calls: DID routes, queues and agents, as last loaded.

Written beside the spool (in the data dir) each time the engine loads them from the
database and they changed; read back only when a start finds the database away, so the
engine routes calls as the last run did instead of rejecting them. One JSON file per part,
versioned, replaced atomically (temporary file, fsync, rename, fsync of the directory): a
crash leaves the old copy or the new one, never half of one. A copy that cannot be read
(corrupt, another version, hand-edited) is ignored with a logged error: the engine then
starts as if there were none.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callcenter.paths import replace_atomically
from callcenter.store.codec import decode_record, encode
from callcenter.store.records import AgentRecord, QueueRecord

log = logging.getLogger(__name__)

VERSION = 1
MAX_BYTES = 64 * 1024 * 1024  # a cache larger than this is not ours: ignored


@dataclass(frozen=True, slots=True)
class CachedRoutes:
    routes: dict[str, str]  # DID -> target text, as ``route add`` checks it
    saved_at: datetime


@dataclass(frozen=True, slots=True)
class CachedAcd:
    queues: tuple[QueueRecord, ...]
    agents: tuple[AgentRecord, ...]
    saved_at: datetime


class LocalCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._saved: dict[str, str] = {}  # part -> digest of the content last written

    def path(self, part: str) -> Path:
        return self.directory / f"{part}.json"

    # -- writing ------------------------------------------------------------------------

    def save_routes(self, routes: Mapping[str, str]) -> None:
        self._save("routes", {"routes": dict(sorted(routes.items()))})

    def save_acd(self, queues: Sequence[QueueRecord], agents: Sequence[AgentRecord]) -> None:
        self._save(
            "acd",
            {
                "queues": [encode(q) for q in sorted(queues, key=lambda q: q.name)],
                "agents": [encode(a) for a in sorted(agents, key=lambda a: a.extension)],
            },
        )

    def _save(self, part: str, data: dict[str, Any]) -> None:
        """Write ``data`` if it differs from what this process last wrote; a failure to
        write is logged, never raised (the cache is a fallback, not the system of record)."""
        body = json.dumps(data, sort_keys=True, ensure_ascii=True)
        digest = hashlib.sha256(body.encode()).hexdigest()
        if self._saved.get(part) == digest:
            return
        doc = {
            "version": VERSION,
            "part": part,
            "saved_at": datetime.now(UTC).isoformat(),
            "sha256": digest,
            "data": data,
        }
        try:
            path = self.path(part)
            path.parent.mkdir(parents=True, exist_ok=True)
            replace_atomically(path, json.dumps(doc, ensure_ascii=True).encode())
        except OSError as exc:
            log.error("local cache %s not written: %s", self.path(part), exc)
            return
        self._saved[part] = digest

    # -- reading ------------------------------------------------------------------------

    def load_routes(self) -> CachedRoutes | None:
        loaded = self._load("routes")
        if loaded is None:
            return None
        data, saved_at = loaded
        try:
            routes = data["routes"]
            if not isinstance(routes, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in routes.items()
            ):
                raise TypeError("routes is not a mapping of text to text")
        except (KeyError, TypeError) as exc:
            self._ignored("routes", exc)
            return None
        return CachedRoutes(dict(routes), saved_at)

    def load_acd(self) -> CachedAcd | None:
        loaded = self._load("acd")
        if loaded is None:
            return None
        data, saved_at = loaded
        try:
            queues = tuple(decode_record("QueueRecord", q) for q in data["queues"])
            agents = tuple(decode_record("AgentRecord", a) for a in data["agents"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self._ignored("acd", exc)
            return None
        return CachedAcd(queues, agents, saved_at)

    def queue_names(self) -> list[str] | None:
        acd = self.load_acd()
        return [q.name for q in acd.queues] if acd is not None else None

    def _load(self, part: str) -> tuple[dict[str, Any], datetime] | None:
        path = self.path(part)
        try:
            if path.stat().st_size > MAX_BYTES:
                raise ValueError(f"larger than {MAX_BYTES} bytes")
            doc = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            self._ignored(part, exc)
            return None
        try:
            if not isinstance(doc, dict):
                raise TypeError("not a JSON object")
            if doc.get("version") != VERSION or doc.get("part") != part:
                raise ValueError(f"version {doc.get('version')!r}, this build reads {VERSION}")
            data = doc["data"]
            body = json.dumps(data, sort_keys=True, ensure_ascii=True)
            if hashlib.sha256(body.encode()).hexdigest() != doc.get("sha256"):
                raise ValueError("checksum mismatch")
            saved_at = datetime.fromisoformat(doc["saved_at"])
        except (KeyError, TypeError, ValueError) as exc:
            self._ignored(part, exc)
            return None
        return data, saved_at

    def _ignored(self, part: str, exc: BaseException) -> None:
        log.error("local cache %s ignored, it cannot be read: %s", self.path(part), exc)
        return None

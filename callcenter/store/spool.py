"""A local append-only spool for writes made while the database is away.

One JSON record per line with a CRC, fsync'd before ``append`` returns. Replay applies the
records in order; a record applied twice is harmless because every write the spool carries is
idempotent (CDRs insert once per call UUID, calls are upserts). A torn last line from a crash
is dropped; a corrupt line elsewhere is moved aside to ``spool.corrupt``, never silently lost.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gevent.lock import BoundedSemaphore

from callcenter.paths import replace_atomically

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SpoolRecord:
    kind: str
    data: dict[str, Any]


def _line(record: SpoolRecord) -> bytes:
    body = json.dumps({"kind": record.kind, "data": record.data}, ensure_ascii=True)
    return f"{zlib.crc32(body.encode()):08x} {body}\n".encode()


def _parse(line: bytes) -> SpoolRecord | None:
    try:
        crc, body = line.rstrip(b"\n").split(b" ", 1)
        if int(crc, 16) != zlib.crc32(body):
            return None
        doc = json.loads(body)
        return SpoolRecord(kind=str(doc["kind"]), data=dict(doc["data"]))
    except (ValueError, KeyError, TypeError):
        return None


class PartlyApplied(Exception):
    """Raised by a replay's ``apply`` that committed the first ``applied`` records of its
    batch before failing: those are dropped from the spool, not replayed again."""

    applied: int = 0


class Spool:
    def __init__(self, directory: Path, name: str = "spool") -> None:
        self.directory = directory
        self.path = directory / f"{name}.jsonl"
        self.corrupt_path = directory / f"{name}.corrupt"
        self._lock = BoundedSemaphore()

    def append(self, record: SpoolRecord) -> None:
        self.append_many([record])

    def append_many(self, records: Sequence[SpoolRecord]) -> None:
        """Append records with one write and one fsync."""
        if not records:
            return
        line = b"".join(_line(record) for record in records)
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # end a line torn by a crash; it is dropped on read
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    def pending(self) -> int:
        return len(self._read()[0])

    def peek(self) -> list[SpoolRecord]:
        """The records waiting, in order, left where they are (a start reconciling what the
        previous run could not write yet)."""
        with self._lock:
            return self._read()[0]

    def _read(self, start: int = 0) -> tuple[list[SpoolRecord], int, list[bytes]]:
        """Records from ``start``, the offset after the last complete line, corrupt lines."""
        try:
            with self.path.open("rb") as fh:
                fh.seek(start)
                raw = fh.read()
        except FileNotFoundError:
            return [], 0, []
        records: list[SpoolRecord] = []
        corrupt: list[bytes] = []
        lines = raw.split(b"\n")
        complete, torn = lines[:-1], lines[-1]
        for line in complete:
            record = _parse(line + b"\n")
            if record is None:
                corrupt.append(line)
            else:
                records.append(record)
        return records, start + len(raw) - len(torn), corrupt

    def _quarantine(self, lines: list[bytes]) -> None:
        log.error(
            "spool %s: %d corrupt record(s) moved to %s", self.path, len(lines), self.corrupt_path
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.corrupt_path.open("ab") as fh:
            for line in lines:
                fh.write(line + b"\n")
            fh.flush()
            os.fsync(fh.fileno())

    def set_aside(self, record: SpoolRecord) -> None:
        """Keep a record that cannot be applied where an operator can look at it."""
        self._quarantine([_line(record).rstrip(b"\n")])

    def replay(self, apply: Callable[[SpoolRecord], None]) -> int:
        """Apply pending records one by one, in order (see ``replay_batches``)."""
        return self.replay_batches(lambda batch: apply(batch[0]), 1)

    def replay_batches(self, apply: Callable[[Sequence[SpoolRecord]], None], size: int) -> int:
        """Apply pending records in order, ``size`` at a time; stop at the first failure
        and keep that batch and the rest. Appends made meanwhile are kept for next time."""
        with self._lock:
            records, end, corrupt = self._read()
            if corrupt:
                self._quarantine(corrupt)
        done = 0
        try:
            while done < len(records):
                batch = records[done : done + size]
                try:
                    apply(batch)
                except PartlyApplied as exc:
                    done += exc.applied
                    raise
                done += len(batch)
        finally:
            if done or corrupt:
                self._drop_applied(records[done:], end)
        return done

    def _drop_applied(self, remaining: list[SpoolRecord], end: int) -> None:
        with self._lock:
            newer, _, corrupt = self._read(end)
            if corrupt:
                self._quarantine(corrupt)
            content = b"".join(_line(record) for record in (*remaining, *newer))
            replace_atomically(self.path, content)

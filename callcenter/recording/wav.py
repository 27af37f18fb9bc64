"""WAV files: the header read back, the file FreeSWITCH wrote checked, silence written.

FreeSWITCH (mod_sndfile) writes 16-bit signed PCM at the channel's rate: 8000 Hz for PCMU,
2 channels with ``RECORD_STEREO=true`` (caller left, agent right), a 44-byte header
(sessions-3/s16: 32160 samples, 4.02 s, 128684 bytes). The check reads the header only;
the SHA-256 reads the whole file, so it runs in a worker thread (``recording.checker``).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

HEADER = 44
TOLERANCE_MS = 1000  # the file's duration against what FreeSWITCH said (record_ms)
_CHUNK = 1 << 16


class FileStatus(StrEnum):
    RECORDING = "recording"  # its call is live and FreeSWITCH writes it (row kept from the start)
    PENDING = "pending"  # stopped, not checked yet
    OK = "ok"
    MISSING = "missing"
    CORRUPT = "corrupt"  # unreadable header, or a duration FreeSWITCH did not report
    DELETED = "deleted"  # by retention


@dataclass(frozen=True, slots=True)
class WavInfo:
    channels: int
    rate: int
    bits: int
    data_bytes: int

    @property
    def duration_ms(self) -> int:
        frame = self.channels * self.bits // 8
        return self.data_bytes * 1000 // (frame * self.rate) if frame and self.rate else 0


@dataclass(frozen=True, slots=True)
class FileCheck:
    status: FileStatus
    size_bytes: int | None = None
    sha256: str | None = None
    channels: int | None = None
    file_ms: int | None = None
    problem: str | None = None


class NotWav(ValueError):
    pass


def header(channels: int, rate: int, data_bytes: int, bits: int = 16) -> bytes:
    frame = channels * bits // 8
    return (
        b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * frame, frame, bits)
        + b"data" + struct.pack("<I", data_bytes)
    )  # fmt: skip


def read_info(head: bytes) -> WavInfo:
    """The format and data size from the first bytes of a file (RIFF chunks in any order)."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise NotWav("no RIFF/WAVE header")
    pos, fmt = 12, None
    while pos + 8 <= len(head):
        chunk, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk == b"fmt ":
            if size < 16 or body + 16 > len(head):
                raise NotWav("short fmt chunk")
            _tag, channels, rate, _bps, _align, bits = struct.unpack(
                "<HHIIHH", head[body : body + 16]
            )
            if not channels or not rate or bits not in (8, 16, 24, 32):
                raise NotWav(f"bad format: {channels} channels, {rate} Hz, {bits} bits")
            fmt = (channels, rate, bits)
        elif chunk == b"data":
            if fmt is None:
                raise NotWav("data before fmt")
            return WavInfo(fmt[0], fmt[1], fmt[2], size)
        pos = body + size + (size & 1)
    raise NotWav("no data chunk")


def write_silence(path: Path, ms: int, channels: int = 1, rate: int = 8000) -> int:
    """A WAV of ``ms`` of silence (the simulator's recording); returns its size in bytes."""
    frames = ms * rate // 1000
    data = frames * channels * 2
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.write(header(channels, rate, data))
        zeros = bytes(min(data, _CHUNK))
        left = data
        while left > 0:
            fh.write(zeros[: min(left, _CHUNK)])
            left -= _CHUNK
    return HEADER + data


def check(path: Path, reported_ms: int | None) -> FileCheck:
    """Exists, a valid header (WAV), a duration within a second of ``reported_ms``; its size
    and SHA-256. Blocking file I/O: call it from a worker thread."""
    try:
        size = path.stat().st_size
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            head = fh.read(4096)
            digest.update(head)
            while block := fh.read(_CHUNK):
                digest.update(block)
    except FileNotFoundError:
        return FileCheck(FileStatus.MISSING, problem=f"{path}: no such file")
    except OSError as exc:
        return FileCheck(FileStatus.MISSING, problem=f"{path}: {exc.strerror or exc}")
    sha = digest.hexdigest()
    if path.suffix.lower() != ".wav":
        status = FileStatus.OK if size else FileStatus.CORRUPT
        return FileCheck(status, size, sha, problem=None if size else "empty file")
    try:
        info = read_info(head)
    except NotWav as exc:
        return FileCheck(FileStatus.CORRUPT, size, sha, problem=f"{path}: {exc}")
    if HEADER + info.data_bytes > size + 8:  # a header promising more than the file holds
        return FileCheck(
            FileStatus.CORRUPT, size, sha, info.channels, info.duration_ms,
            f"{path}: header says {info.data_bytes} data bytes, the file has {size}",
        )  # fmt: skip
    if reported_ms is not None and abs(info.duration_ms - reported_ms) > TOLERANCE_MS:
        return FileCheck(
            FileStatus.CORRUPT, size, sha, info.channels, info.duration_ms,
            f"{path}: {info.duration_ms} ms in the file, FreeSWITCH reported {reported_ms} ms",
        )  # fmt: skip
    return FileCheck(FileStatus.OK, size, sha, info.channels, info.duration_ms)

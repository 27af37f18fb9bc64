"""The files ``uuid_record`` and ``record`` write, as FreeSWITCH's mod_sndfile writes them.

16-bit PCM at 8000 Hz; two channels when the channel has ``RECORD_STEREO=true`` (the
caller left, the far end right), one otherwise; the duration is ``record_ms`` (sessions-3/s16).
There is no audio in a simulation, so each side gets a faint square wave of its own level
(left and right tell apart), and the masked spans (``uuid_record ... mask``) are true silence,
as FreeSWITCH writes them. ``Core.record_files`` can make the file go missing or corrupt, the
way a full disk or a dead share would.
"""

from __future__ import annotations

import struct
from pathlib import Path

from callcenter.recording.wav import header

RATE = 8000
_LEVELS = (200, 120)  # left (caller), right (far end)
_PERIOD = 40  # samples: a 200 Hz square wave
WRITE, MISSING, CORRUPT = "write", "missing", "corrupt"


def _block(channels: int, frames: int) -> bytes:
    out = bytearray()
    for i in range(frames):
        sign = 1 if (i // (_PERIOD // 2)) % 2 == 0 else -1
        for ch in range(channels):
            out += struct.pack("<h", sign * _LEVELS[ch])
    return bytes(out)


def write(
    path: Path, ms: int, channels: int, masked: list[tuple[int, int]], mode: str = WRITE
) -> None:
    """``masked``: spans in ms from the start, written as zeros."""
    if mode == MISSING:
        return
    frames = ms * RATE // 1000
    frame_bytes = 2 * channels
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == CORRUPT:  # the header of a file cut short: it promises what is not there
        path.write_bytes(header(channels, RATE, frames * frame_bytes)[:30])
        return
    tone = _block(channels, _PERIOD)
    silent = bytes(len(tone))
    spans = sorted((a * RATE // 1000, b * RATE // 1000) for a, b in masked)
    with path.open("wb") as fh:
        fh.write(header(channels, RATE, frames * frame_bytes))
        pos = 0
        while pos < frames:
            n = min(_PERIOD, frames - pos)
            quiet = any(a <= pos < b for a, b in spans)
            fh.write((silent if quiet else tone)[: n * frame_bytes])
            pos += n

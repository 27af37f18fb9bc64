"""Playback paths and their simulated durations (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping

INFINITE = float("inf")
_TONE = re.compile(r"%\(([^)]*)\)")
_LOOPS = re.compile(r"loops=(-?\d+)")


def tone_seconds(spec: str) -> float:
    """``tone_stream://%(on,off,freq[,freq]);%(...);loops=N`` -> seconds (inf if looping)."""
    total_ms = 0.0
    for match in _TONE.finditer(spec):
        parts = match.group(1).split(",")
        try:
            on = float(parts[0])
            off = float(parts[1]) if len(parts) > 1 else 0.0
        except ValueError:
            continue
        total_ms += max(on, 0.0) + max(off, 0.0)
    loops_match = _LOOPS.search(spec)
    loops = int(loops_match.group(1)) if loops_match else 1
    if loops < 0:
        return INFINITE
    return total_ms * max(loops, 1) / 1000.0


def silence_seconds(spec: str) -> float:
    head = spec.split(",", 1)[0].strip()
    try:
        ms = float(head)
    except ValueError:
        return 0.0
    return INFINITE if ms <= 0 else ms / 1000.0


def path_seconds(path: str, files: Mapping[str, float], default_file: float) -> float:
    """Duration of one playback path in simulated seconds."""
    if path.startswith("tone_stream://"):
        return tone_seconds(path[len("tone_stream://") :])
    if path.startswith("silence_stream://"):
        return silence_seconds(path[len("silence_stream://") :])
    if path.startswith("file_string://"):
        return sum(
            path_seconds(part, files, default_file)
            for part in path[len("file_string://") :].split("!")
            if part
        )
    if path.startswith("local_stream://"):
        return INFINITE
    if path.startswith("say:"):
        return 0.5 * max(1, len(path) - 4)
    return files.get(path, default_file)


def file_type(path: str) -> str | None:
    """``Playback-File-Type`` is sent for streams (tone_stream), not for plain files."""
    if "://" in path:
        return path.split("://", 1)[0]
    return None

"""A file as an answer (a recording's audio), with HTTP Range (RFC 9110 section 14): one
``bytes=`` range gives 206 and Content-Range, an unsatisfiable one 416, none the whole file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import falcon
from pydantic import BaseModel

CHUNK = 1 << 16
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
MEDIA_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
               ".opus": "audio/ogg", ".flac": "audio/flac"}  # fmt: skip

# the OpenAPI responses of an operation answering with a file
RESPONSES: dict[str, Any] = {
    "200": {
        "description": "The whole file (Accept-Ranges: bytes).",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    "206": {
        "description": "The part a `Range: bytes=FIRST-LAST` header asked for (Content-Range).",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    "416": {"description": "The range is outside the file (Content-Range: bytes */SIZE)."},
}


class FileAnswer(BaseModel):
    path: str
    filename: str


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive; None: the whole file; ValueError: not satisfiable."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or "," in header:
        return None  # another unit, or several ranges: the whole file (allowed by RFC 9110)
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise ValueError("empty suffix")
        return max(0, size - n), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise ValueError("outside the file")
    return start, end


def _read(path: Path, first: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as fh:
        fh.seek(first)
        left = length
        while left > 0:
            block = fh.read(min(CHUNK, left))
            if not block:
                return
            left -= len(block)
            yield block


def send(req: falcon.Request, resp: falcon.Response, answer: FileAnswer) -> None:
    path = Path(answer.path)
    size = path.stat().st_size
    resp.content_type = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    resp.set_header("Accept-Ranges", "bytes")
    resp.set_header("Content-Disposition", f'attachment; filename="{answer.filename}"')
    try:
        wanted = byte_range(req.get_header("Range"), size)
    except ValueError:
        resp.status = falcon.HTTP_416
        resp.set_header("Content-Range", f"bytes */{size}")
        resp.content_type = "text/plain"
        resp.data = b""
        return
    first, last = wanted if wanted is not None else (0, size - 1)
    length = max(0, last - first + 1)
    if wanted is not None:
        resp.status = falcon.HTTP_206
        resp.set_header("Content-Range", f"bytes {first}-{last}/{size}")
    resp.content_length = length
    resp.stream = _read(path, first, length) if req.method != "HEAD" else iter(())

"""Load the recorded ESL streams kept (gzipped) in tests/fixtures/esl."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "esl"


def stream_names() -> list[str]:
    return sorted(p.name[: -len(".esl.gz")] for p in FIXTURES.glob("s*.esl.gz"))


def raw(name: str) -> bytes:
    return gzip.decompress((FIXTURES / f"{name}.esl.gz").read_bytes())


def expected(name: str) -> list[dict[str, Any]]:
    text = gzip.decompress((FIXTURES / f"{name}.events.jsonl.gz").read_bytes()).decode()
    return [json.loads(line) for line in text.splitlines() if line]


def as_header(value: Any) -> str:
    """The recorded JSON keeps multi-valued headers as lists; we render them as plain does."""
    if isinstance(value, list):
        return "ARRAY::" + "|:".join(value)
    return str(value)

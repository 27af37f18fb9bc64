"""Loaders for the recorded FreeSWITCH sessions copied into tests/fixtures/sim."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sim"


def messages(name: str) -> list[dict[str, Any]]:
    with (FIXTURES / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def events(name: str) -> list[dict[str, str]]:
    return [m["body"] for m in messages(name) if m["content_type"].startswith("text/event")]


def raw_bodies(name: str) -> list[bytes]:
    return (FIXTURES / name).read_bytes().split(b"\0")

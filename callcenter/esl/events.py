"""Typed FreeSWITCH events decoded from ``text/event-json`` and ``text/event-plain`` messages."""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from callcenter.errors import ESLProtocolError
from callcenter.esl.wire import Message

EVENT_JSON = "text/event-json"
EVENT_PLAIN = "text/event-plain"
EVENT_CONTENT_TYPES = frozenset({EVENT_JSON, EVENT_PLAIN})


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    subclass: str | None
    unique_id: str | None
    headers: Mapping[str, str]
    body: str | None = None

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def variable(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get("variable_" + name, default)

    def _int(self, name: str) -> int:
        value = self.headers.get(name, "")
        return int(value) if value.isascii() and value.isdigit() else 0

    @property
    def sequence(self) -> int:
        return self._int("Event-Sequence")

    @property
    def timestamp_us(self) -> int:
        return self._int("Event-Date-Timestamp")

    @property
    def core_uuid(self) -> str | None:
        return self.headers.get("Core-UUID")

    @property
    def job_uuid(self) -> str | None:
        return self.headers.get("Job-UUID")

    @property
    def application(self) -> str | None:
        return self.headers.get("Application")

    @property
    def application_data(self) -> str | None:
        return self.headers.get("Application-Data")

    @property
    def application_uuid(self) -> str | None:
        return self.headers.get("Application-UUID")

    @property
    def application_response(self) -> str | None:
        return self.headers.get("Application-Response")

    @property
    def hangup_cause(self) -> str | None:
        return self.headers.get("Hangup-Cause")

    @property
    def caller_id_name(self) -> str | None:
        return self.headers.get("Caller-Caller-ID-Name")

    @property
    def caller_id_number(self) -> str | None:
        return self.headers.get("Caller-Caller-ID-Number")

    @property
    def destination_number(self) -> str | None:
        return self.headers.get("Caller-Destination-Number")

    @property
    def call_direction(self) -> str | None:
        return self.headers.get("Call-Direction")

    @property
    def answer_state(self) -> str | None:
        return self.headers.get("Answer-State")

    @property
    def channel_state(self) -> str | None:
        return self.headers.get("Channel-State")

    @property
    def call_state(self) -> str | None:
        return self.headers.get("Channel-Call-State")

    @property
    def other_leg_unique_id(self) -> str | None:
        return self.headers.get("Other-Leg-Unique-ID")

    @property
    def dtmf_digit(self) -> str | None:
        return self.headers.get("DTMF-Digit")


def parse_event(msg: Message) -> Event:
    content_type = msg.content_type
    if content_type == EVENT_JSON:
        headers, body = _decode_json(msg.body)
    elif content_type == EVENT_PLAIN:
        headers, body = _decode_plain(msg.body)
    else:
        raise ESLProtocolError(f"not an event message: Content-Type {content_type!r}")
    name = headers.get("Event-Name")
    if not name:
        raise ESLProtocolError(f"{content_type} event without Event-Name")
    return Event(name, headers.get("Event-Subclass"), headers.get("Unique-ID"), headers, body)


def _decode_json(raw: bytes) -> tuple[dict[str, str], str | None]:
    # FreeSWITCH repeats Hangup-Cause on HANGUP_COMPLETE: json.loads keeps the last value.
    try:
        obj: Any = json.loads(raw.decode("utf-8", "replace"))
    except ValueError as exc:
        raise ESLProtocolError(f"malformed text/event-json body: {exc}") from exc
    if not isinstance(obj, dict):
        raise ESLProtocolError("text/event-json body is not a JSON object")
    if len(set(map(type, obj.values()))) > 1 or (obj and type(next(iter(obj.values()))) is not str):
        for key, value in obj.items():
            if type(value) is not str:
                obj[key] = _json_value(value)
    body = obj.pop("_body", None)
    return obj, body


def _json_value(value: object) -> str:
    # Multi-valued headers (variable_transfer_history) arrive as JSON arrays; plain
    # renders the same header as "ARRAY::a|:b", which is what we keep in both encodings.
    if isinstance(value, list):
        return "ARRAY::" + "|:".join(v if isinstance(v, str) else json.dumps(v) for v in value)
    return value if isinstance(value, str) else json.dumps(value)


def _decode_plain(raw: bytes) -> tuple[dict[str, str], str | None]:
    split = raw.find(b"\n\n")
    head = (raw[:split] if split >= 0 else raw.rstrip(b"\n")).decode("utf-8", "replace")
    pairs = [line.partition(": ") for line in head.split("\n")]
    for name, sep, _ in pairs:
        if not sep or not name:
            raise ESLProtocolError(f"malformed text/event-plain line {name[:80]!r}")
    headers = dict(zip([p[0] for p in pairs], _unquote_values([p[2] for p in pairs]), strict=True))
    length = headers.get("Content-Length")
    if length is None:
        return headers, None
    if not (length.isascii() and length.isdigit()):
        raise ESLProtocolError(f"bad inner Content-Length {length[:40]!r} in text/event-plain")
    size = int(length)
    rest = raw[split + 2 :] if split >= 0 else b""
    if len(rest) < size:
        raise ESLProtocolError(
            f"text/event-plain body shorter ({len(rest)}) than its Content-Length ({size})"
        )
    return headers, rest[:size].decode("utf-8", "replace")


def _unquote_values(values: list[str]) -> list[str]:
    # Lines were split before any decoding, so a decoded %0A can never become a line break
    # (a caller ID name can forge a header that way). `+` is not a space in this encoding.
    return [_unquote(v) if "%" in v else v for v in values]


def _unquote(value: str) -> str:
    # %XX -> \xXX, decoded in C by codecs.escape_decode; urllib's unquote is ~10x slower.
    escaped = value.replace("\\", "\\\\").replace("%", "\\x").encode("utf-8")
    try:
        return codecs.escape_decode(escaped)[0].decode("utf-8", "replace")
    except ValueError:  # a % not followed by two hex digits
        return unquote(value)

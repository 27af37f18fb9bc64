"""Typed FreeSWITCH events decoded from ``text/event-json`` and ``text/event-plain`` messages.

Events are lazy. ``parse_event`` keeps the raw body and reads Event-Name with a targeted
scan; Unique-ID (when first read: the router reads it only for the events some call's
mailbox wants), Event-Subclass, Job-UUID, Application-UUID and the first few ``get()``
lookups use the same scan. Everything else (``headers``, ``body``, lookups past
``LOOKUPS_BEFORE_DECODING``) decodes the whole body once and caches it. Most events are
only routed, and a HANGUP_COMPLETE carries 234 headers.

The scan reads exactly what the full parse would, or declines (``_AMBIGUOUS``) and the full
parse decides. JSON: a key counts only at a key position of the flat object FreeSWITCH's
serializer writes (right after ``{`` or ``,``, so outside any string: a quote inside a value
is always ``\\"``), followed by ``:"``; the value must hold no escape. A repeated header
(FreeSWITCH repeats Hangup-Cause on HANGUP_COMPLETE, with the same value) is read, in both
parses, as FreeSWITCH itself reads a header (``switch_event_get_header``): its first
occurrence, so the scan searches forward from the start, and a header FreeSWITCH writes
before the channel variables (Unique-ID, Event-Date-Timestamp, Hangup-Cause, Caller-*) is
found without a pass over the ~100 ``variable_*`` headers that follow it (from the end, for
the last one, it crossed them all: 11 KB for a HANGUP_COMPLETE). A channel variable, which
FreeSWITCH writes once (it lists the channel's variables, one header each), is read at its
last occurrence, from the end, in both parses: the ones the engine tags a call with are set
last, and found at once. So are the few headers FreeSWITCH adds once, after the variables
(``TAIL_HEADERS``: an execute's Application-*, a playback's or a recording's own): from the
start, Application-UUID was a pass over 4 KB on every CHANNEL_EXECUTE_COMPLETE. FreeSWITCH
writes header names without escapes, and the only names a caller can influence, channel
variables', all start with ``variable_``; a nested object, which FreeSWITCH never writes, is
refused by the full parse.
Plain: a header counts only at a line start before the first blank line (an inner body
follows it; the blank line is searched once per event), and values are URL-encoded, so a
value never starts a line; a repeated header is read at its first line (a variable or a tail
header: its last).

A body that passes the cheap checks in ``parse_event`` (JSON ends the object) but is still
broken raises ``ESLProtocolError`` when it is decoded, and on every read after that,
instead of in the reader, and tells the ``on_broken`` given to ``parse_event`` once (the
connection counts and logs it). FreeSWITCH frames each event by Content-Length, so such a
body never costs the framing of the next one. Whatever the bytes, nothing here raises
anything but ``ESLProtocolError`` (a body nested past the recursion limit included).
"""

from __future__ import annotations

import codecs
import functools
import json
import re
from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final, NamedTuple
from urllib.parse import unquote

from callcenter.errors import ESLProtocolError
from callcenter.esl.wire import Message

EVENT_JSON = "text/event-json"
EVENT_PLAIN = "text/event-plain"
EVENT_CONTENT_TYPES = frozenset({EVENT_JSON, EVENT_PLAIN})


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<lazy>"


_LAZY: Final = _Unset()
_AMBIGUOUS: Final = _Unset()

_JSON: Final = 1
_PLAIN: Final = 2

# Told, once, that an event's body turned out not to decode (the reader, or whoever read it
# later): the connection counts and logs it there.
OnBroken = Callable[["Event", ESLProtocolError], None]

# get() answers this many lookups by the scan (each one pass over the body) before it
# decodes the whole body instead (one pass of json.loads, about 20 scans' worth). A park
# takes about 10 (the call, its tags, its agent): with 8, every park was decoded whole.
LOOKUPS_BEFORE_DECODING = 12


class Event:
    """One FreeSWITCH event. Built lazily by ``parse_event``, or directly (synthetic events)
    as ``Event(name, subclass, unique_id, headers, body=None)``."""

    __slots__ = (
        "_body",
        "_error",
        "_format",
        "_head",
        "_headers",
        "_lookups",
        "_name",
        "_on_broken",
        "_raw",
        "_subclass",
        "_timestamp",
        "_unique_id",
    )

    _name: str
    _subclass: str | _Unset | None
    _unique_id: str | _Unset | None
    _headers: Mapping[str, str] | None
    _body: str | _Unset | None
    _raw: bytes
    _format: int
    _lookups: int
    _head: int  # plain: where the header block ends (-1 until a scan needs it)
    _timestamp: int  # Event-Date-Timestamp once read (-1 until then): a call's timeline
    # reads it up to four times an event, each a scan of the body
    _on_broken: OnBroken | None
    _error: str | None  # why the body did not decode; every read after that says so

    def __init__(
        self,
        name: str,
        subclass: str | None,
        unique_id: str | None,
        headers: Mapping[str, str],
        body: str | None = None,
    ) -> None:
        self._name = name
        self._subclass = subclass
        self._unique_id = unique_id
        self._headers = headers
        self._body = body
        self._raw = b""
        self._format = 0
        self._lookups = 0
        self._head = -1
        self._timestamp = -1
        self._on_broken = None
        self._error = None

    @classmethod
    def _lazy(cls, name: str, raw: bytes, fmt: int, on_broken: OnBroken | None) -> Event:
        event = cls.__new__(cls)
        event._name = name
        event._unique_id = _LAZY
        event._subclass = _LAZY
        event._headers = None
        event._body = _LAZY
        event._raw = raw
        event._format = fmt
        event._lookups = 0
        event._head = -1
        event._timestamp = -1
        event._on_broken = on_broken
        event._error = None
        return event

    # -- what routing reads, without decoding ------------------------------------------

    if TYPE_CHECKING:

        @property
        def name(self) -> str: ...

    else:  # read on every hop of every event: a C getter, no Python frame
        name = property(attrgetter("_name"))

    @property
    def unique_id(self) -> str | None:
        """Scanned when first read (the router reads it only for the event names some call's
        mailbox wants). Never raises: a body that must be decoded to tell, and does not
        decode, has none (and is reported to ``on_broken``)."""
        value = self._unique_id
        if isinstance(value, _Unset):
            if self._format == _JSON and self._headers is None and self._error is None:
                value = _scan_json(self._raw, _UNIQUE_ID)  # the reader's read: no hops
            if isinstance(value, _Unset):  # plain, decoded, or the scan declined
                value = self._routing_field("Unique-ID")
            self._unique_id = value
        return value

    @property
    def subclass(self) -> str | None:
        value = self._subclass
        if isinstance(value, _Unset):
            value = self._subclass = self._routing_field("Event-Subclass")
        return value

    @property
    def job_uuid(self) -> str | None:
        return self._field("Job-UUID")

    @property
    def application_uuid(self) -> str | None:
        return self._field("Application-UUID")

    def _field(self, name: str) -> str | None:
        if self._headers is None and self._error is None:
            key = _needle(name)
            if key is not None:
                value = self._scan(key)
                if not isinstance(value, _Unset):
                    return value
        return self.headers.get(name)

    def _scan(self, key: _Key) -> str | _Unset | None:
        raw = self._raw
        if self._format == _JSON:
            return _scan_json(raw, key)
        head = self._head
        if head < 0:  # one search for the blank line, shared by every scan of the event
            head = self._head = _plain_head_end(raw)
        return _scan_plain(raw, key, head)

    def _routing_field(self, name: str) -> str | None:
        try:
            return self._field(name)
        except ESLProtocolError:
            return None

    # -- a few more headers by the same scan; all of them by decoding the body once ------

    def get(self, name: str, default: str | None = None) -> str | None:
        if self._headers is None and self._lookups < LOOKUPS_BEFORE_DECODING:
            self._lookups += 1
            key = _needle(name)
            if key is not None:
                value = _scan_json(self._raw, key) if self._format == _JSON else self._scan(key)
                if not isinstance(value, _Unset):
                    return default if value is None else value
        return self.headers.get(name, default)

    def variable(self, name: str, default: str | None = None) -> str | None:
        return self.get("variable_" + name, default)

    @property
    def headers(self) -> Mapping[str, str]:
        headers = self._headers
        if headers is None:
            if self._error is not None:
                raise ESLProtocolError(self._error)
            try:
                headers, self._body = _decode(self._raw, self._format)
            except ESLProtocolError as exc:
                self._error = str(exc)  # from now on every read says so
                self._lookups = LOOKUPS_BEFORE_DECODING
                on_broken, self._on_broken = self._on_broken, None
                if on_broken is not None:
                    on_broken(self, exc)
                raise
            self._headers = headers
            self._raw = b""
        return headers

    @property
    def body(self) -> str | None:
        body = self._body
        if isinstance(body, _Unset):
            self.headers  # noqa: B018  # decodes the body as well
            body = self._body
            assert not isinstance(body, _Unset)
        return body

    @property
    def decoded(self) -> bool:
        return self._headers is not None

    @property
    def broken(self) -> bool:
        """The body did not decode: every read past the routing fields raises."""
        return self._error is not None

    def _int(self, name: str) -> int:
        value = self.get(name) or ""
        return int(value) if value.isascii() and value.isdigit() else 0

    @property
    def sequence(self) -> int:
        return self._int("Event-Sequence")

    @property
    def timestamp_us(self) -> int:
        value = self._timestamp
        if value < 0:  # _int, inlined: the timeline reads it for every event it applies
            text = self.get("Event-Date-Timestamp") or ""
            value = self._timestamp = int(text) if text.isascii() and text.isdigit() else 0
        return value

    @property
    def core_uuid(self) -> str | None:
        return self.get("Core-UUID")

    @property
    def application(self) -> str | None:
        return self.get("Application")

    @property
    def application_data(self) -> str | None:
        return self.get("Application-Data")

    @property
    def application_response(self) -> str | None:
        return self.get("Application-Response")

    @property
    def hangup_cause(self) -> str | None:
        return self.get("Hangup-Cause")

    @property
    def caller_id_name(self) -> str | None:
        return self.get("Caller-Caller-ID-Name")

    @property
    def caller_id_number(self) -> str | None:
        return self.get("Caller-Caller-ID-Number")

    @property
    def destination_number(self) -> str | None:
        return self.get("Caller-Destination-Number")

    @property
    def call_direction(self) -> str | None:
        return self.get("Call-Direction")

    @property
    def answer_state(self) -> str | None:
        return self.get("Answer-State")

    @property
    def channel_state(self) -> str | None:
        return self.get("Channel-State")

    @property
    def call_state(self) -> str | None:
        return self.get("Channel-Call-State")

    @property
    def other_leg_unique_id(self) -> str | None:
        return self.get("Other-Leg-Unique-ID")

    @property
    def dtmf_digit(self) -> str | None:
        return self.get("DTMF-Digit")

    # -- value semantics, as the frozen dataclass it replaces --------------------------

    def _astuple(self) -> tuple[Any, ...]:
        return (self.name, self.subclass, self.unique_id, dict(self.headers), self.body)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Event:
            return NotImplemented
        return self._astuple() == other._astuple()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if self._headers is None:
            what = f"<{len(self._raw)} bytes of {_FORMATS[self._format]}, not decoded>"
            return f"Event(name={self.name!r}, unique_id={self.unique_id!r}, headers={what})"
        return (
            f"Event(name={self.name!r}, subclass={self.subclass!r}, "
            f"unique_id={self.unique_id!r}, headers={self._headers!r}, body={self.body!r})"
        )


_FORMATS: Final = {0: "headers", _JSON: EVENT_JSON, _PLAIN: EVENT_PLAIN}


def parse_event(msg: Message, on_broken: OnBroken | None = None) -> Event:
    """The event in ``msg``, lazily; ``on_broken`` hears of it if its body later turns out
    not to decode (it raises ``ESLProtocolError`` now if the cheap checks already say so)."""
    return parse_event_body(msg.content_type, msg.body, on_broken)


def parse_event_body(content_type: str, raw: bytes, on_broken: OnBroken | None = None) -> Event:
    """``parse_event`` of a message already taken apart (the reader's own path)."""
    if content_type == EVENT_JSON:
        if not raw.endswith(b"}"):  # truncated, or not FreeSWITCH's: the full parse decides
            return _eagerly(content_type, raw)
        name = _json_event_name(raw)
        fmt = _JSON
    elif content_type == EVENT_PLAIN:
        name = _plain_event_name(raw)
        fmt = _PLAIN
    else:
        raise ESLProtocolError(f"not an event message: Content-Type {content_type!r}")
    if type(name) is not str or not name:
        return _eagerly(content_type, raw)
    return Event._lazy(name, raw, fmt, on_broken)


def parse_event_eagerly(msg: Message) -> Event:
    """Decode every header now (the scan declined, or a caller wants all of them)."""
    return _eagerly(msg.content_type, msg.body)


def _eagerly(content_type: str, raw: bytes) -> Event:
    fmt = _JSON if content_type == EVENT_JSON else _PLAIN if content_type == EVENT_PLAIN else 0
    if not fmt:
        raise ESLProtocolError(f"not an event message: Content-Type {content_type!r}")
    headers, body = _decode(raw, fmt)
    name = headers.get("Event-Name")
    if not name:
        raise ESLProtocolError(f"{content_type} event without Event-Name")
    return Event(name, headers.get("Event-Subclass"), headers.get("Unique-ID"), headers, body)


# -- the targeted scan -------------------------------------------------------------------

_SCANNABLE = re.compile(r"[A-Za-z0-9_.-]+")
_BLANK_LINE = re.compile(b"\n\n")
_BACKSLASH = 0x5C  # `int in bytes` is a memchr; `bytes in bytes` first tries the int path

# Headers FreeSWITCH adds once to an event after its channel variables, read (like a
# variable) at their last occurrence, from the end, by the scan and the full parse alike:
# switch_core_session_execute_application's, and the playback and record events' own.
TAIL_HEADERS: Final = frozenset(
    {
        "Application",
        "Application-Data",
        "Application-Response",
        "Application-UUID",
        "Playback-File-Type",
        "Playback-File-Path",
        "Playback-Status",
        "Record-File-Path",
        "Record-Completion-Cause",
    }
)


def _read_last(name: str) -> bool:
    """Read at its last occurrence (a channel variable, a tail header), else at its first."""
    return name.startswith("variable_") or name in TAIL_HEADERS


class _Key(NamedTuple):
    """A header name as the scans look for it, built once per name."""

    json: bytes  # b'"name"'
    plain: bytes  # b"\nname: "
    last: bool  # read at its last occurrence, from the end


@functools.lru_cache(maxsize=1024)
def _needle(name: str) -> _Key | None:
    """The header name as the scan looks for it; None when only decoding can tell (a name
    that JSON would escape or that could not stand alone on a plain line)."""
    if not _SCANNABLE.fullmatch(name):
        return None
    raw = name.encode()
    return _Key(b'"' + raw + b'"', b"\n" + raw + b": ", _read_last(name))


_UNIQUE_ID: Final = _Key(b'"Unique-ID"', b"\nUnique-ID: ", False)
_EVENT_NAME: Final = _Key(b'"Event-Name"', b"\nEvent-Name: ", False)


def _scan(raw: bytes, fmt: int, name: bytes) -> str | _Unset | None:
    key = _needle(name.decode())
    if key is None:
        return _AMBIGUOUS
    if fmt == _JSON:
        return _scan_json(raw, key)
    return _scan_plain(raw, key, _plain_head_end(raw))


def _json_event_name(raw: bytes) -> str | _Unset | None:
    # FreeSWITCH writes Event-Name first, and the first is the name: no search at all.
    if not raw.startswith(b'{"Event-Name":"'):
        return _scan_json(raw, _EVENT_NAME)
    end = raw.find(b'"', 15)
    if end < 0:
        return _AMBIGUOUS
    value = raw[15:end]
    return _AMBIGUOUS if _BACKSLASH in value else value.decode("utf-8", "replace")


def _scan_json(raw: bytes, key: _Key) -> str | _Unset | None:
    # FreeSWITCH spells header names without escapes, and a name a caller can influence
    # (a channel variable's) starts with "variable_": a key equal to `key` is "key". The
    # first one is read, from the start, as the full parse keeps it: if the first "key" in
    # the text is at a key position, it is the first key, and no search for a repeat is
    # needed. If it is not (the same text inside a value), the full parse decides. A
    # variable or a tail header is read at its last occurrence, from the end, the same way.
    quoted, _, last = key
    at = raw.rfind(quoted) if last else raw.find(quoted)
    if at < 0:
        return None
    before = raw[at - 1] if at else 0
    if not (before == 0x2C or (before == 0x7B and at == 1)):  # ',' or the opening '{'
        return _AMBIGUOUS
    start = at + len(quoted)
    if not raw.startswith(b':"', start):
        return _AMBIGUOUS  # an array, a number, whitespace...
    start += 2
    end = raw.find(b'"', start)
    if end < 0:
        return _AMBIGUOUS
    value = raw[start:end]
    if _BACKSLASH in value:
        return _AMBIGUOUS
    return value.decode("utf-8", "replace")


def _plain_event_name(raw: bytes) -> str | _Unset | None:
    # FreeSWITCH writes Event-Name first, and the first is the name.
    if raw.startswith(b"Event-Name: "):
        stop = raw.find(b"\n", 12)
        value = raw[12 : stop if stop >= 0 else len(raw)].decode("utf-8", "replace")
        return _unquote(value) if "%" in value else value
    return _scan_plain(raw, _EVENT_NAME, _plain_head_end(raw))


def _plain_head_end(raw: bytes) -> int:
    # The header block ends at the first blank line; an inner body (BACKGROUND_JOB's) may
    # follow, whose lines are not headers. (re finds it in half the time bytes.find takes
    # with a two-byte needle.)
    blank = _BLANK_LINE.search(raw)
    return blank.start() if blank is not None else len(raw)


def _scan_plain(raw: bytes, key: _Key, head: int) -> str | _Unset | None:
    # A line in the header block (``raw[:head]``) starting "key: " is that header: values
    # are URL-encoded, so no value holds a line break. The first one is read, as the full
    # parse keeps it (a variable or a tail header: the last).
    _, line, last = key
    if last:
        at = raw.rfind(line, 0, head)
    else:
        at = -1 if raw.startswith(line[1:]) else raw.find(line, 0, head)
    if at >= 0:
        start = at + len(line)
    elif raw.startswith(line[1:]) and head >= len(line) - 1:  # the first line
        start = len(line) - 1
    else:
        return None
    stop = raw.find(b"\n", start, head)
    value = raw[start : stop if stop >= 0 else head].decode("utf-8", "replace")
    return _unquote(value) if "%" in value else value


# -- the full decode ---------------------------------------------------------------------


def _decode(raw: bytes, fmt: int) -> tuple[dict[str, str], str | None]:
    return _decode_json(raw) if fmt == _JSON else _decode_plain(raw)


def _decode_json(raw: bytes) -> tuple[dict[str, str], str | None]:
    # FreeSWITCH repeats Hangup-Cause on HANGUP_COMPLETE: the first is kept, as FreeSWITCH
    # reads it. Its serializer writes one flat object (values: strings, arrays of strings);
    # a nested object is refused, or the scan could read one of its keys as a header.
    objects: list[list[tuple[str, Any]]] = []
    try:
        obj: Any = json.loads(raw.decode("utf-8", "replace"), object_pairs_hook=objects.append)
        if len(objects) > 1:
            raise ESLProtocolError("text/event-json body holds a nested object")
        if not objects or obj is not None:
            raise ESLProtocolError("text/event-json body is not a JSON object")
        obj = _first_wins(objects[0])
        if len(set(map(type, obj.values()))) > 1 or (
            obj and type(next(iter(obj.values()))) is not str
        ):
            for key, value in obj.items():
                if type(value) is not str:
                    obj[key] = _json_value(value)
    except ValueError as exc:
        raise ESLProtocolError(f"malformed text/event-json body: {exc}") from exc
    except RecursionError:  # json's C scanner recurses per level; FreeSWITCH nests two deep
        raise ESLProtocolError("text/event-json body nested too deep") from None
    body = obj.pop("_body", None)
    return obj, body


def _first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    headers = dict(pairs)  # a repeated variable: its last value, as the scan reads it
    if len(headers) < len(pairs):  # a repeated header (rare: one a call): its first value
        for name, value in reversed(pairs):
            if not _read_last(name):
                headers[name] = value
    return headers


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
    names = [p[0] for p in pairs]
    values = _unquote_values([p[2] for p in pairs])
    headers = dict(zip(names, values, strict=True))
    if len(headers) < len(names):
        headers = _first_wins(list(zip(names, values, strict=True)))
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

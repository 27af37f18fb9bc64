"""ESL framing: ``Name: value`` lines, a blank line, then exactly Content-Length body bytes.

Pure and incremental: feed it whatever the socket returned, get back the complete messages.
After it raises ``ESLProtocolError`` the stream has lost its framing; drop the connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from callcenter.errors import ESLProtocolError

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 256 * 1024 * 1024
_MAX_LENGTH_DIGITS = 10


@dataclass(frozen=True, slots=True)
class Message:
    headers: dict[str, str]
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def parse_header_block(block: bytes | bytearray | memoryview) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in str(block, "utf-8", "replace").split("\n"):
        name, sep, value = line.partition(": ")
        if not sep:
            if line.endswith(":"):
                name, value = line[:-1], ""
            else:
                raise ESLProtocolError(f"malformed ESL header line {line[:80]!r}")
        if not name or " " in name:
            raise ESLProtocolError(f"malformed ESL header name {name[:80]!r}")
        headers[name] = value
    return headers


def content_length(headers: dict[str, str], limit: int = MAX_BODY_BYTES) -> int:
    raw = headers.get("Content-Length")
    if raw is None:
        return 0
    if not (raw.isascii() and raw.isdigit()) or len(raw) > _MAX_LENGTH_DIGITS:
        raise ESLProtocolError(f"bad Content-Length {raw[:40]!r}")
    length = int(raw)
    if length > limit:
        raise ESLProtocolError(f"Content-Length {length} exceeds the {limit}-byte limit")
    return length


# The envelope FreeSWITCH puts around every event: read without the generic header parse.
EVENT_JSON = "text/event-json"
EVENT_PLAIN = "text/event-plain"
_LENGTH = b"Content-Length: "
_JSON_TYPE = b"Content-Type: text/event-json\n\n"
_PLAIN_TYPE = b"Content-Type: text/event-plain\n\n"
_ENVELOPE_BYTES = len(_LENGTH) + _MAX_LENGTH_DIGITS + 1 + len(_PLAIN_TYPE)


class FrameParser:
    """Messages are cut straight from the chunks fed (one copy per body); only the message
    a chunk leaves unfinished is kept, and completed from the next chunk."""

    __slots__ = ("_buf", "_envelopes", "_headers", "_max_body", "_max_header", "_need", "_scan")

    def __init__(
        self, *, max_header_bytes: int = MAX_HEADER_BYTES, max_body_bytes: int = MAX_BODY_BYTES
    ) -> None:
        self._buf = bytearray()  # the unfinished message: its header bytes, or its body's
        self._headers: dict[str, str] | None = None  # set while a body is unfinished
        self._need = 0
        self._scan = 0  # where the search for the end of the buffered header block resumes
        self._max_header = max_header_bytes
        self._max_body = max_body_bytes
        self._envelopes = max_header_bytes >= _ENVELOPE_BYTES

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message]:
        out: list[Message] = []
        pos = 0
        buf = self._buf
        headers = self._headers
        if headers is not None:  # a body the last chunk left unfinished
            take = self._need - len(buf)
            if len(data) < take:
                buf += data
                return out
            with memoryview(data) as view:
                buf += view[:take]
            out.append(_message(headers, bytes(buf)))
            buf.clear()
            self._headers = None
            pos = take
        elif buf:  # a header block cut in two (rare): join, and parse from its start
            data = bytes(buf) + data
            buf.clear()
        self._parse(data, pos, out)
        return out

    def _parse(self, data: bytes, pos: int, out: list[Message]) -> None:
        size = len(data)
        scan = self._scan
        self._scan = 0
        envelopes = self._envelopes
        while pos < size:
            headers: dict[str, str] | None = None
            if envelopes and data.startswith(_LENGTH, pos):  # inlined: once per event
                digits_at = pos + len(_LENGTH)
                eol = data.find(b"\n", digits_at, digits_at + _MAX_LENGTH_DIGITS + 1)
                if eol < 0:
                    start = 0
                elif data.startswith(_JSON_TYPE, eol + 1):
                    content_type, start = EVENT_JSON, eol + 1 + len(_JSON_TYPE)
                elif data.startswith(_PLAIN_TYPE, eol + 1):
                    content_type, start = EVENT_PLAIN, eol + 1 + len(_PLAIN_TYPE)
                else:
                    start = 0
                digits = data[digits_at:eol] if start else b""
                if digits.isdigit():  # bytes: ASCII digits only
                    headers = {"Content-Length": digits.decode(), "Content-Type": content_type}
                    need = int(digits)
                    if need > self._max_body:
                        raise ESLProtocolError(
                            f"Content-Length {need} exceeds the {self._max_body}-byte limit"
                        )
                    pos = start
            if headers is None:  # any other message, or an envelope not (yet) whole
                while pos < size and data[pos] == 10:  # stray blank lines between messages
                    pos += 1
                end = data.find(b"\n\n", max(pos, scan))
                scan = 0
                if end < 0:
                    self._keep_header(data, pos)
                    return
                if end - pos > self._max_header:
                    raise ESLProtocolError(f"ESL header block larger than {self._max_header} bytes")
                headers = parse_header_block(data[pos:end])
                pos = end + 2
                need = content_length(headers, self._max_body)
            if size - pos < need:
                self._headers = headers
                self._need = need
                self._buf += memoryview(data)[pos:]
                return
            out.append(_message(headers, data[pos : pos + need]))
            pos += need

    def _keep_header(self, data: bytes, pos: int) -> None:
        """Keep a header block the chunk ends in, to be completed by the next one."""
        size = len(data)
        if size - pos > self._max_header:
            raise ESLProtocolError(f"ESL header block larger than {self._max_header} bytes")
        if pos < size:
            self._buf += memoryview(data)[pos:]
            self._scan = max(0, size - 1 - pos)


def _message(headers: dict[str, str], body: bytes) -> Message:
    # The frozen dataclass's __init__ (object.__setattr__ per field) costs twice this.
    message = _new(Message)
    _set_headers(message, headers)
    _set_body(message, body)
    return message


_new = object.__new__
_set_headers = vars(Message)["headers"].__set__  # the slots' own descriptors
_set_body = vars(Message)["body"].__set__

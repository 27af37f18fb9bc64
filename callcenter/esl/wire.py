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


class FrameParser:
    __slots__ = ("_buf", "_headers", "_max_body", "_max_header", "_need", "_scan")

    def __init__(
        self, *, max_header_bytes: int = MAX_HEADER_BYTES, max_body_bytes: int = MAX_BODY_BYTES
    ) -> None:
        self._buf = bytearray()
        self._headers: dict[str, str] | None = None
        self._need = 0
        self._scan = 0
        self._max_header = max_header_bytes
        self._max_body = max_body_bytes

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message]:
        buf = self._buf
        buf += data
        out: list[Message] = []
        # Slices of a memoryview are copied once, straight into the messages' bytes.
        with memoryview(buf) as view:
            pos = self._parse(buf, view, out)
        if pos:
            del buf[:pos]
            self._scan = max(0, self._scan - pos)
        return out

    def _parse(self, buf: bytearray, view: memoryview, out: list[Message]) -> int:
        size = len(buf)
        pos = 0
        while True:
            headers = self._headers
            if headers is None:
                while pos < size and buf[pos] == 10:  # stray blank lines between messages
                    pos += 1
                end = buf.find(b"\n\n", max(pos, self._scan))
                if end < 0:
                    if size - pos > self._max_header:
                        raise ESLProtocolError(
                            f"ESL header block larger than {self._max_header} bytes"
                        )
                    self._scan = max(pos, size - 1)
                    return pos
                if end - pos > self._max_header:
                    raise ESLProtocolError(f"ESL header block larger than {self._max_header} bytes")
                headers = parse_header_block(view[pos:end])
                pos = end + 2
                self._scan = pos
                need = content_length(headers, self._max_body)
                if not need:
                    out.append(Message(headers))
                    continue
                self._headers = headers
                self._need = need
            need = self._need
            if size - pos < need:
                return pos
            out.append(Message(headers, bytes(view[pos : pos + need])))
            pos += need
            self._scan = pos
            self._headers = None

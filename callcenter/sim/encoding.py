"""Wire encodings of the simulated FreeSWITCH: header blocks, events, replies.

Pure code, no I/O. An event is a sequence of header *blocks*; a block encodes itself to a
JSON fragment and a plain fragment once and caches both, so a channel's caller profile
and variables are serialised once per change, not once per event and never per header.

Plain values are URL-encoded the way FreeSWITCH's ``switch_url_encode`` does (NOTES §7),
including its lossy quirk: a ``%`` already followed by two hex digits is copied verbatim,
so the text ``%41`` goes out as ``%41`` and a reader decodes it to ``A``. The simulator
reproduces that quirk on purpose: it is what a client meets against a real FreeSWITCH.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

Pair = tuple[str, str]

_SAFE = re.compile(r"[A-Za-z0-9/,()'!*$\-._~]*")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ENCODE_TABLE: tuple[str, ...] = tuple(
    chr(b) if 0x20 < b <= 0x7E and chr(b) not in ' #%&+:;<=>?@[\\]^`{|}"' else f"%{b:02X}"
    for b in range(256)
)
_JSON_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

DISCONNECT_TEXT = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"


def url_encode(value: str) -> str:
    """FreeSWITCH's per-byte URL encoding of a plain event value (existing %XX kept)."""
    if _SAFE.fullmatch(value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    out: list[str] = []
    table = _ENCODE_TABLE
    size = len(raw)
    i = 0
    while i < size:
        byte = raw[i]
        if byte == 0x25 and i + 2 < size and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            out.append(raw[i : i + 3].decode("ascii"))
            i += 3
            continue
        out.append(table[byte])
        i += 1
    return "".join(out)


ARRAY_PREFIX = "ARRAY::"


def json_fragment(pairs: Iterable[Pair]) -> str:
    """``"k":"v",...`` for unique keys (no braces).

    A multi-valued variable (``ARRAY::a|:b``, e.g. ``DP_MATCH``, ``transfer_history``) is
    a JSON array in FreeSWITCH's json events, and stays the raw text in plain ones.
    """
    values: dict[str, str | list[str]] = dict(pairs)
    text = _JSON_DUMPS(values)
    if '":"ARRAY::' in text:
        for key, value in values.items():
            if isinstance(value, str) and value.startswith(ARRAY_PREFIX):
                values[key] = value[len(ARRAY_PREFIX) :].split("|:")
        text = _JSON_DUMPS(values)
    return text[1:-1]


def plain_fragment(pairs: Iterable[Pair]) -> str:
    return "".join(f"{k}: {url_encode(v)}\n" for k, v in pairs)


class Block:
    """An ordered run of headers with unique names; its encodings are computed once."""

    __slots__ = ("_json", "_plain", "pairs")

    def __init__(self, pairs: Sequence[Pair]) -> None:
        self.pairs: tuple[Pair, ...] = tuple(pairs)
        self._json: str | None = None
        self._plain: str | None = None

    @property
    def json(self) -> str:
        if self._json is None:
            self._json = json_fragment(self.pairs) if self.pairs else ""
        return self._json

    @property
    def plain(self) -> str:
        if self._plain is None:
            self._plain = plain_fragment(self.pairs)
        return self._plain


EMPTY_BLOCK = Block(())


def encode_event_json(blocks: Sequence[Block], body: str | None) -> bytes:
    parts = [b.json for b in blocks if b.pairs]
    if body is not None:
        parts.append(f'"Content-Length":"{len(body.encode())}","_body":{_JSON_DUMPS(body)}')
    data = ("{" + ",".join(parts) + "}").encode()
    return b"Content-Length: %d\nContent-Type: text/event-json\n\n%s" % (len(data), data)


def encode_event_plain(blocks: Sequence[Block], body: str | None) -> bytes:
    text = "".join(b.plain for b in blocks)
    if body is not None:
        raw = body.encode()
        data = (text + f"Content-Length: {len(raw)}\n\n").encode() + raw
    else:
        data = (text + "\n").encode()
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n%s" % (len(data), data)


def auth_request() -> bytes:
    return b"Content-Type: auth/request\n\n"


def command_reply(text: str, extra: Sequence[Pair] = ()) -> bytes:
    lines = "".join(f"{k}: {v}\n" for k, v in extra)
    return f"Content-Type: command/reply\nReply-Text: {text}\n{lines}\n".encode()


def api_response(body: str) -> bytes:
    raw = body.encode()
    return b"Content-Type: api/response\nContent-Length: %d\n\n%s" % (len(raw), raw)


def disconnect_notice() -> bytes:
    raw = DISCONNECT_TEXT.encode()
    return b"Content-Type: text/disconnect-notice\nContent-Length: %d\n\n%s" % (len(raw), raw)

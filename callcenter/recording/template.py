"""Where a recording is written: a path template under ``recordings_dir``. Pure.

``{date:%Y/%m/%d}/{queue}/{call_uuid}.wav`` is checked once, when the settings are read:
known fields only, a strftime format of date fields only, no ``..``, not absolute, and a file
format FreeSWITCH writes by name (its extension). Rendering checks again that the path stays
inside the folder, whatever the values (a queue or flow name, an agent's extension).
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from callcenter.errors import ConfigError

DEFAULT = "{date:%Y/%m/%d}/{queue}/{call_uuid}.wav"
FIELDS = frozenset({"date", "queue", "call_uuid", "agent", "flow", "kind", "campaign"})
# formats FreeSWITCH records to by the file's extension (mod_sndfile, mod_shout, mod_opusfile)
FORMATS = frozenset({"wav", "mp3", "ogg", "opus", "flac", "au", "aiff", "raw", "gsm", "ul", "al"})
_DATE = re.compile(r"(%[YmdHMSjyBbaAU]|[/_.-])+")
_LITERAL = re.compile(r"[A-Za-z0-9/_.-]*")
_VALUE = re.compile(r"[A-Za-z0-9._-]{1,64}")
NONE = "none"  # a field without a value (a call that was in no queue, in no campaign)


@dataclass(frozen=True, slots=True)
class PathTemplate:
    text: str
    format: str

    def render(
        self,
        root: Path,
        *,
        call_uuid: str,
        at: datetime,
        queue: str | None = None,
        agent: str | None = None,
        flow: str | None = None,
        kind: str = "call",
        campaign: str | None = None,
    ) -> Path:
        values = {
            "call_uuid": call_uuid, "queue": queue, "agent": agent, "flow": flow, "kind": kind,
            "campaign": campaign,
        }  # fmt: skip
        parts: list[str] = []
        for literal, field, spec, _ in string.Formatter().parse(self.text):
            parts.append(literal)
            if field is None:
                continue
            if field == "date":
                parts.append(at.strftime(spec or "%Y-%m-%d"))
                continue
            value = values[field] or NONE
            parts.append(value if _VALUE.fullmatch(value) and value not in (".", "..") else NONE)
        return inside(root, "".join(parts))


def parse(text: str, where: str = "recording_template") -> PathTemplate:
    if not text or not text.isprintable():
        raise ConfigError(f"{where}: expected a printable path template, got {text!r}")
    if text.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", text):
        raise ConfigError(f"{where}: {text!r} is absolute; it must stay inside recordings_dir")
    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ConfigError(f"{where}: {text!r}: {exc}") from None
    for literal, field, spec, conversion in pieces:
        if not _LITERAL.fullmatch(literal):
            bad = sorted(set(re.sub(r"[A-Za-z0-9/_.-]", "", literal)))
            raise ConfigError(f"{where}: {text!r}: character(s) {''.join(bad)!r} not allowed")
        if field is None:
            continue
        if field not in FIELDS:
            known = ", ".join(sorted(FIELDS))
            raise ConfigError(f"{where}: {text!r}: unknown field {{{field}}} (known: {known})")
        if conversion:
            raise ConfigError(f"{where}: {text!r}: {{{field}!{conversion}}} not allowed")
        if field == "date":
            if spec and not _DATE.fullmatch(spec):
                raise ConfigError(
                    f"{where}: {text!r}: date format {spec!r}: only %Y %m %d %H %M %S %j %y "
                    "%B %b %a %A %U and / _ . -"
                )
        elif spec:
            raise ConfigError(f"{where}: {text!r}: {{{field}:{spec}}}: no format for {field}")
    skeleton = "".join(lit + ("x" if field is not None else "") for lit, field, _, _ in pieces)
    if ".." in PurePosixPath(skeleton).parts or "//" in skeleton:
        raise ConfigError(f"{where}: {text!r}: '..' or an empty folder name is not allowed")
    if not any(field == "call_uuid" for _, field, _, _ in pieces):
        raise ConfigError(f"{where}: {text!r}: needs {{call_uuid}} (one file per call)")
    suffix = PurePosixPath(skeleton).suffix.lstrip(".").lower()
    if suffix not in FORMATS:
        raise ConfigError(
            f"{where}: {text!r}: the file's extension names its format; "
            f"expected one of {', '.join(sorted(FORMATS))}, got {suffix or 'none'!r}"
        )
    return PathTemplate(text, suffix)


def inside(root: Path, relative: str) -> Path:
    """``root/relative``, refused if it would leave ``root`` (``..``, an absolute part)."""
    base = Path(os.path.abspath(root))
    full = Path(os.path.abspath(base / relative))
    if relative.startswith("/") or os.path.commonpath([base, full]) != str(base) or full == base:
        raise ConfigError(f"recording path {relative!r} leaves {base}")
    return full

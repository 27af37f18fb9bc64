"""The flows' warnings, said once per run: a file's missing audio files as one line with
a count, other warnings one by one, and nothing again on a reload that changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WHERE = re.compile(r"^(?P<file>.*?):\d+:\d+: ")
_AUDIO = "audio file not found: "


class WarningDigest:
    def __init__(self) -> None:
        self._said: dict[str, frozenset[str]] = {}  # file -> the warnings last reported

    def lines(self, warnings: Iterable[str]) -> list[str]:
        """What to log for this load's warnings: only files whose warnings changed."""
        by_file: dict[str, list[str]] = {}
        for warning in warnings:
            match = _WHERE.match(warning)
            by_file.setdefault(match["file"] if match else "", []).append(warning)
        out: list[str] = []
        for file, items in by_file.items():
            seen = frozenset(items)
            if self._said.get(file) == seen:
                continue
            self._said[file] = seen
            audio = [w for w in items if _AUDIO in w]
            out.extend(w for w in items if _AUDIO not in w)
            if audio:
                first = audio[0].split(_AUDIO, 1)[1]
                out.append(
                    f"{file}: {len(audio)} audio file(s) not found, first {first} "
                    f"(every one: callcenter ivr validate {file})"
                )
        for file in set(self._said) - set(by_file):
            del self._said[file]  # fixed: a later return of the warnings is news again
        return out

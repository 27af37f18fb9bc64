"""A caller who hung up while waiting and calls the same queue again soon gets its place back.

Pure, owned by the dispatcher. The caller's actor tells the dispatcher its number
(``messages.Returning``) just before its ``Join``; a stay that ends ``abandoned`` leaves
(queue, normalized number) -> its join time here. A later join from the same number within
the queue's ``rejoin_window`` takes that join time, so it is ordered where it stood (callers
are served by priority, then join time). Each place is given back once.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

KEEP = 10_000  # places remembered at most (oldest dropped first)
LONGEST = 86_400.0  # no window is longer (services.queues.RANGES)
_NOT_DIGITS = re.compile(r"[^0-9]")
ANONYMOUS = frozenset({"", "anonymous", "unknown", "private", "restricted", "0000000000"})


def normalized(number: str) -> str | None:
    """The digits that identify a caller: ``+1 (555) 010-2000``, ``0015550102000`` and
    ``15550102000`` are one caller; None for a withheld or empty number."""
    text = number.strip().lower()
    if text in ANONYMOUS:
        return None
    digits = _NOT_DIGITS.sub("", text)
    if not text.startswith("+") and digits.startswith("00"):
        digits = digits[2:]  # the international prefix written out
    return digits if 3 <= len(digits) <= 20 and digits.strip("0") else None


@dataclass(frozen=True, slots=True)
class _Place:
    since_us: int
    left_at: float  # the dispatcher's clock


class Rejoins:
    def __init__(self, keep: int = KEEP) -> None:
        self._keep = keep
        self._numbers: dict[str, tuple[str, str]] = {}  # ticket -> (queue, number)
        self._places: OrderedDict[tuple[str, str], _Place] = OrderedDict()

    def expect(self, ticket: str, queue: str, number: str) -> None:
        found = normalized(number)
        if found is not None:
            self._numbers[ticket] = (queue, found)

    def number_of(self, ticket: str) -> str | None:
        """The caller's normalized number (stored with the stay, for a restart)."""
        key = self._numbers.get(ticket)
        return key[1] if key is not None else None

    def restore(self, queue: str, number: str, since_us: int, left_at: float) -> None:
        """A place the last run kept (read back from the stays after a restart)."""
        if since_us:
            self._places[(queue, number)] = _Place(since_us, left_at)

    def place(self, ticket: str, window: float, now: float) -> int | None:
        """The join time this caller had when it hung up within ``window`` s, if any."""
        key = self._numbers.get(ticket)
        if key is None or window <= 0:
            return None
        self._prune(now)
        place = self._places.get(key)
        if place is None or now - place.left_at > window:
            return None
        del self._places[key]
        return place.since_us

    def closed(self, ticket: str, *, abandoned: bool, since_us: int, now: float) -> None:
        """The stay ended; an abandoned one keeps its place for a while."""
        key = self._numbers.pop(ticket, None)
        if key is None or not abandoned or not since_us:
            return
        self._places.pop(key, None)
        self._places[key] = _Place(since_us, now)
        while len(self._places) > self._keep:
            self._places.popitem(last=False)

    def _prune(self, now: float) -> None:
        while self._places:
            key, place = next(iter(self._places.items()))
            if now - place.left_at <= LONGEST:
                return
            del self._places[key]

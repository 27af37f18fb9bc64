"""Which DID route a dialled number takes: exact, range, prefix or regex, after normalizing.

Pure. Numbers are compared in E.164 (``trunks.numbers``, read in the ``default_country``),
so with DE ``+49301234``, ``0049301234`` and ``0301234`` are one DID. What is not a phone
number (an extension, ``*98``, ``support``) is compared as written.

- ``exact``: one number (``0301234`` is stored as given, matched as ``+49301234``);
- ``range``: ``FIRST-LAST``, both ends of the same length (``+4930123400-+4930123499``);
- ``prefix``: what the number starts with, E.164 (``+4930``) or as written (``*9``);
- ``regex``: a whole-number regular expression on the E.164 form (``safe_regex`` checked).

Precedence: exact, then range, then prefix (the longest first), then regex; within a kind
the lower ``priority``, then the DID as text. ``match`` says which one and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from callcenter import safe_regex
from callcenter.errors import InvalidNumber
from callcenter.trunks.numbers import normalized_or_none, to_e164
from callcenter.trunks.targets import DID_MAX, InvalidRoute, Target, check_did


class MatchKind(StrEnum):
    EXACT = "exact"
    RANGE = "range"
    PREFIX = "prefix"
    REGEX = "regex"


_ORDER = {MatchKind.EXACT: 0, MatchKind.RANGE: 1, MatchKind.PREFIX: 2, MatchKind.REGEX: 3}
_PREFIX = re.compile(r"\+?[0-9*#]{1,32}|[A-Za-z0-9*#_.-]{1,64}")
NUMBER_CHARACTERS = "+0123456789*#"


def _bad(reason: str) -> InvalidRoute:
    return InvalidRoute("did", reason)


def key_of(number: str, country: str | None) -> str:
    """What a number is compared as: E.164 when it is a phone number, else as written."""
    return normalized_or_none(number, country) or number


def _range(did: str, country: str | None) -> tuple[int, int, int]:
    first, sep, last = did.partition("-+") if "-+" in did else did.partition("-")
    if sep == "-+":
        last = "+" + last
    if not sep or not first or not last:
        raise _bad(f"{did!r}: a range is FIRST-LAST, e.g. +4930123400-+4930123499")
    try:
        low, high = to_e164(first, country), to_e164(last, country)
    except InvalidNumber as exc:
        raise _bad(f"range {did!r}: {exc.message}") from exc
    if len(low) != len(high):
        raise _bad(f"range {did!r}: {low} and {high} are not of the same length")
    if int(low[1:]) > int(high[1:]):
        raise _bad(f"range {did!r}: {low} comes after {high}")
    return int(low[1:]), int(high[1:]), len(low)


def _regex(did: str) -> re.Pattern[str]:
    if len(did) > DID_MAX:
        raise _bad(f"a regex of {len(did)} characters (at most {DID_MAX})")
    if any(c in did for c in "\r\n\x00"):
        raise _bad("a regex cannot hold control characters")
    try:
        return safe_regex.check(did, alphabet=NUMBER_CHARACTERS)
    except re.error as exc:
        raise _bad(f"{did!r} is not a valid regular expression ({exc})") from exc
    except safe_regex.UnsafeRegex as exc:
        raise _bad(f"{exc.message}, in {did[:70]!r}") from exc


@dataclass(frozen=True, slots=True)
class DidRoute:
    """A checked DID route; building one raises ``InvalidRoute`` (field ``did``)."""

    did: str
    target: Target
    kind: MatchKind = MatchKind.EXACT
    priority: int = 100
    country: str | None = None
    key: str = field(init=False, compare=False)
    low: int = field(init=False, default=0, compare=False, repr=False)
    high: int = field(init=False, default=0, compare=False, repr=False)
    length: int = field(init=False, default=0, compare=False, repr=False)
    regex: re.Pattern[str] | None = field(init=False, default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        kind = MatchKind(self.kind)
        object.__setattr__(self, "kind", kind)
        key = self.did
        if kind is MatchKind.EXACT:
            key = key_of(check_did(self.did), self.country)
        elif kind is MatchKind.RANGE:
            low, high, length = _range(check_did(self.did), self.country)
            object.__setattr__(self, "low", low)
            object.__setattr__(self, "high", high)
            object.__setattr__(self, "length", length)
        elif kind is MatchKind.PREFIX:
            if not _PREFIX.fullmatch(self.did):
                raise _bad(f"{self.did[:70]!r}: a prefix is +digits (+4930) or as dialled (*9)")
        else:
            object.__setattr__(self, "regex", _regex(self.did))
        object.__setattr__(self, "key", key)

    def why(self, number: str, key: str) -> str | None:
        """Why ``number`` (compared as ``key``) takes this route, or None."""
        read = f" ({number} read as {key})" if key != number else ""
        if self.kind is MatchKind.EXACT:
            return f"exact {self.did}{read}" if key == self.key else None
        if self.kind is MatchKind.RANGE:
            inside = (
                key.startswith("+")
                and len(key) == self.length
                and key[1:].isdigit()
                and self.low <= int(key[1:]) <= self.high
            )
            return f"in range {self.did}{read}" if inside else None
        if self.kind is MatchKind.PREFIX:
            if key.startswith(self.did) or number.startswith(self.did):
                return f"prefix {self.did}{read}"
            return None
        assert self.regex is not None
        if self.regex.fullmatch(key) or self.regex.fullmatch(number):
            return f"regex {self.did}{read}"
        return None


@dataclass(frozen=True, slots=True)
class DidMatch:
    route: DidRoute
    why: str


def _rank(route: DidRoute) -> tuple[int, int, int, str]:
    longest = -len(route.did) if route.kind is MatchKind.PREFIX else 0
    return (_ORDER[route.kind], longest, route.priority, route.did)


class DidTable:
    """Routes in precedence order; exact DIDs by key for a dictionary lookup."""

    def __init__(self, routes: Iterable[DidRoute], country: str | None) -> None:
        self.country = country
        ranked = sorted(routes, key=_rank)
        self.exact: dict[str, DidRoute] = {}
        for route in ranked:
            if route.kind is MatchKind.EXACT:
                self.exact.setdefault(route.key, route)
        self.others = [r for r in ranked if r.kind is not MatchKind.EXACT]

    def __len__(self) -> int:
        return len(self.exact) + len(self.others)

    def match(self, number: str, *, country: str | None = None) -> DidMatch | None:
        """``number`` read in ``country`` (the trunk it arrived on), else the table's; the
        routes' own DIDs are read in the table's country (``default_country``)."""
        key = key_of(number, country or self.country)
        found = self.exact.get(key) or self.exact.get(number)
        if found is not None:
            return DidMatch(found, found.why(number, found.key) or f"exact {found.did}")
        for route in self.others:
            why = route.why(number, key)
            if why is not None:
                return DidMatch(route, why)
        return None

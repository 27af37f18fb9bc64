"""Regular expressions from operators and flows, refused when they could backtrack for long.

Python's ``re`` has no time limit and the engine matches in the one process that serves
every call, so a pattern like ``(\\d+)+$`` tried on ``1111111111111111111111111111111#``
would freeze every call for minutes. ``check`` refuses, before a pattern is stored or
loaded, the shapes that make backtracking grow exponentially with the input:

1. backreferences (``\\1``, ``(?P=name)``), lookarounds (``(?=``, ``(?!``, ``(?<=``,
   ``(?<!``) and conditionals (``(?(1)a|b)``);
2. inside a repeat that can match more than once (``*``, ``+``, ``{m,}``, ``{m,n}`` with
   n > 1):

   - another repeat of variable count (``?``, ``*``, ``+``, ``{m,n}`` with m < n):
     ``(\\d+)+``, ``(\\d?)*``, ``(?:\\d{1,3})+``, ``(\\d+){2}``;
   - alternatives that can begin with the same character, or match nothing:
     ``(1|12)+``, ``(\\d|\\d\\d)*``, ``(0|)+``;
   - something that can match nothing: ``(^)*``, ``(\\b)+``;

3. more than ``MAX_OPEN_REPEATS`` open-ended repeats (``*``, ``+``, ``{m,}``) in the whole
   pattern: ``\\d*\\d*\\d*\\d*``, whose ways to split an input grow as its length to the
   fourth power.

What is left matches in time polynomial in the input, of low degree; the callers bound the
input (an outbound number is at most 33 characters). Pure: no I/O.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from typing import Any

from callcenter.errors import CallCenterError

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # re._parser has no public name
    import sre_constants as c
    import sre_parse

MAX_OPEN_REPEATS = 3
# the characters whose overlap decides whether two alternatives can start alike: ASCII, a
# tab and a newline, a non-ASCII letter and a non-ASCII digit
SAMPLE = "".join(chr(i) for i in range(0x20, 0x7F)) + "\t\n\u00e9\u0663"
_CATEGORY = {
    "DIGIT": re.compile(r"\d"),
    "NOT_DIGIT": re.compile(r"\D"),
    "SPACE": re.compile(r"\s"),
    "NOT_SPACE": re.compile(r"\S"),
    "WORD": re.compile(r"\w"),
    "NOT_WORD": re.compile(r"\W"),
}
_REFUSED = {
    "GROUPREF": "a backreference",
    "GROUPREF_EXISTS": "a conditional (?(...)...)",
    "ASSERT": "a lookaround (?=...) or (?<=...)",
    "ASSERT_NOT": "a lookaround (?!...) or (?<!...)",
}
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


class UnsafeRegex(CallCenterError):
    """A pattern refused by ``check``: the message says which part and why."""

    code = "regex_unsafe"


def check(pattern: str, *, alphabet: str = SAMPLE) -> re.Pattern[str]:
    """``pattern`` compiled, or ``UnsafeRegex`` (or ``re.error`` when it is no regex).

    ``alphabet``: the characters the input can hold (``+0123456789*#`` for a number), so
    ``(\\d|#)+`` is not taken for overlapping alternatives."""
    compiled = re.compile(pattern)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        parsed = sre_parse.parse(pattern, compiled.flags)
    ignore_case = bool(compiled.flags & re.IGNORECASE)
    _Walk(alphabet, ignore_case).walk(list(parsed.data), inside=None)
    open_ended = sum(1 for op, av in _items(list(parsed.data)) if _name(op) in _REPEATS
                     and av[1] is c.MAXREPEAT)  # fmt: skip
    if open_ended > MAX_OPEN_REPEATS:
        raise UnsafeRegex(
            f"{open_ended} open-ended repeats (*, +, {{m,}}); at most {MAX_OPEN_REPEATS}"
        )
    return compiled


def _name(op: Any) -> str:
    return str(getattr(op, "name", op))


def _items(items: list[Any]) -> Iterable[tuple[Any, Any]]:
    """Every (opcode, argument) of a parsed pattern, nested ones included."""
    for op, av in items:
        yield op, av
        for sub in _children(op, av):
            yield from _items(sub)


def _children(op: Any, av: Any) -> list[list[Any]]:
    name = _name(op)
    if name == "SUBPATTERN":
        return [list(av[3])]
    if name in _REPEATS:
        return [list(av[2])]
    if name == "BRANCH":
        return [list(b) for b in av[1]]
    if name == "ATOMIC_GROUP":
        return [list(av)]
    if name in ("ASSERT", "ASSERT_NOT"):
        return [list(av[1])]
    if name == "GROUPREF_EXISTS":
        return [list(b) for b in av[1:] if b is not None]
    return []


class _Walk:
    def __init__(self, alphabet: str, ignore_case: bool) -> None:
        self.alphabet = alphabet
        self.ignore_case = ignore_case

    def walk(self, items: list[Any], inside: str | None) -> None:
        """Refuse rule 1 anywhere, and rule 2 within a repeat (``inside`` says which)."""
        for op, av in items:
            name = _name(op)
            if name in _REFUSED:
                raise UnsafeRegex(f"{_REFUSED[name]} is not allowed")
            if name in _REPEATS:
                low, high, body = av[0], av[1], list(av[2])
                if inside is not None and low != high:
                    raise UnsafeRegex(
                        f"a repeat of variable count inside the repeat {inside} "
                        "(nested quantifiers backtrack exponentially)"
                    )
                if high is c.MAXREPEAT or high > 1:
                    _, empty = self.first(body)
                    shown = _repeat_text(low, high)
                    if empty:
                        raise UnsafeRegex(f"the repeat {shown} applies to something that can "
                                          "match nothing")  # fmt: skip
                    self.walk(body, inside or shown)
                else:
                    self.walk(body, inside)
            elif name == "BRANCH":
                if inside is not None:
                    self._disjoint([list(b) for b in av[1]], inside)
                for branch in av[1]:
                    self.walk(list(branch), inside)
            else:
                for sub in _children(op, av):
                    self.walk(sub, inside)

    def _disjoint(self, branches: list[list[Any]], inside: str) -> None:
        seen: set[str] = set()
        for branch in branches:
            starts, empty = self.first(branch)
            if empty or seen & starts:
                raise UnsafeRegex(
                    f"alternatives that can begin alike (or match nothing) inside the repeat "
                    f"{inside}: each time round it could take either"
                )
            seen |= starts

    def first(self, items: list[Any]) -> tuple[set[str], bool]:
        """The characters that can begin a match of ``items``, and whether it can be empty."""
        starts: set[str] = set()
        for op, av in items:
            found, empty = self._first_one(op, av)
            starts |= found
            if not empty:
                return starts, False
        return starts, True

    def _first_one(self, op: Any, av: Any) -> tuple[set[str], bool]:
        name = _name(op)
        if name == "LITERAL":
            return self._chars(chr(av)), False
        if name == "NOT_LITERAL":
            return set(self.alphabet) - self._chars(chr(av)), False
        if name == "ANY":
            return set(self.alphabet), False
        if name == "IN":
            return {ch for ch in self.alphabet if self._in_class(ch, av)}, False
        if name in _REPEATS:
            found, empty = self.first(list(av[2]))
            return found, empty or av[0] == 0
        if name == "BRANCH":
            results = [self.first(list(b)) for b in av[1]]
            return set().union(*(r[0] for r in results)), any(r[1] for r in results)
        children = _children(op, av)
        if children:
            return self.first(children[0])
        return set(), True  # AT (^, $, \b...): matches nothing

    def _chars(self, ch: str) -> set[str]:
        return {ch, ch.swapcase()} if self.ignore_case else {ch}

    def _in_class(self, ch: str, items: list[tuple[Any, Any]]) -> bool:
        negate = False
        hit = False
        candidates = self._chars(ch)
        for op, av in items:
            name = _name(op)
            if name == "NEGATE":
                negate = True
            elif name == "LITERAL":
                hit |= chr(av) in candidates
            elif name == "RANGE":
                hit |= any(av[0] <= ord(x) <= av[1] for x in candidates)
            elif name == "CATEGORY":
                kind = _name(av).removeprefix("CATEGORY_").removeprefix("UNI_")
                test = _CATEGORY.get(kind.removeprefix("LOC_"))
                hit |= test is None or any(test.match(x) for x in candidates)
            else:
                hit = True  # unknown: take it as overlapping (refusing is the safe side)
        return hit != negate


def _repeat_text(low: int, high: Any) -> str:
    if high is c.MAXREPEAT:
        return {0: "*", 1: "+"}.get(low, f"{{{low},}}")
    return "?" if (low, high) == (0, 1) else f"{{{low},{high}}}"

"""Patterns that could backtrack for long are refused before they are stored or run."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.safe_regex import UnsafeRegex, check

NUMBER = "+0123456789*#"


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(\d+)+$", "a repeat of variable count inside the repeat +"),  # issue 10 finding 10
        (r"(\d?)*", "the repeat * applies to something that can match nothing"),
        (r"(?:\d{1,3})+", "a repeat of variable count inside the repeat +"),
        (r"(\d+){2}", "a repeat of variable count inside the repeat {2,2}"),
        (r"^(\d*)*$", "the repeat * applies to something that can match nothing"),
        (r"^(\d+1?)*$", "a repeat of variable count inside the repeat *"),
        (r"(1|12)+", "alternatives that can begin alike (or match nothing) inside the repeat +"),
        (r"(\d|\d\d)*", "alternatives that can begin alike"),
        (r"(0|)+", "the repeat + applies to something that can match nothing"),
        (r"(^)*", "the repeat * applies to something that can match nothing"),
        (r"(\b)+", "something that can match nothing"),
        (r"(?:(?:1|2)?3)+", "a repeat of variable count inside the repeat +"),
        (r"(.|\d)+", "alternatives that can begin alike"),
        (r"\d*\d*\d*\d*", "4 open-ended repeats (*, +, {m,}); at most 3"),
        (r"(\d)\1", "a backreference is not allowed"),
        (r"(?P<a>\d)(?P=a)", "a backreference is not allowed"),
        (r"(?=1)\d+", "a lookaround (?=...) or (?<=...) is not allowed"),
        (r"(?<!1)\d+", "a lookaround (?!...) or (?<!...) is not allowed"),
        (r"(1)?(?(1)2|3)", "a conditional"),
        (r"(?i)(a|A1)+", "alternatives that can begin alike"),
    ],
)
def test_refused_with_the_reason(pattern: str, reason: str) -> None:
    with pytest.raises(UnsafeRegex) as info:
        check(pattern, alphabet=NUMBER)
    assert reason in info.value.message
    assert info.value.code == "regex_unsafe"


@pytest.mark.parametrize(
    "pattern",
    [
        r"^00(\d+)$",
        r"^1?(\d{10})$",
        r"1?([2-9]\d{2})(\d{7})",
        r"^\+\d+$",
        r"^0([1-9]\d{5,})$",
        r"^(\+?1)?(\d{3})(\d{7})$",
        r"(\d{3})+",
        r"(1|2)+",
        r"(\d|#)+",
        r"(\d|5)*",  # one character class: nothing to choose between
        r"(12|13)+",
        r"(\+\d|0)+",
        r"\d*\d*\d*",
        r"^(gold|platinum)$",
        r"[^5]+5",
        r"^\d{4,6}$",
    ],
)
def test_usual_patterns_pass(pattern: str) -> None:
    assert check(pattern, alphabet=NUMBER).pattern == pattern


def test_the_alphabet_decides_what_overlaps() -> None:
    check(r"(\d|a)+", alphabet=NUMBER)
    check(r"(\w|12)", alphabet=NUMBER)  # not in a repeat: any overlap is fine
    check(r"(a|12)+", alphabet=NUMBER)
    with pytest.raises(UnsafeRegex):
        check(r"(\w|12)+")  # any text: 1 begins both


def test_not_a_regex_is_re_error() -> None:
    with pytest.raises(re.error):
        check(r"^00(\d+", alphabet=NUMBER)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # re's "possible nested set"
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="()|+*?{},\\d1a[]^$.", max_size=12))
def test_anything_is_either_refused_or_compiled(pattern: str) -> None:
    try:
        compiled = check(pattern, alphabet=NUMBER)
    except (UnsafeRegex, re.error):
        return
    assert compiled.pattern == pattern

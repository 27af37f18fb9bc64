"""Regexes for play_and_get_digits must reach FreeSWITCH unchanged by its argument splitter."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter.errors import UnsafeValue
from callcenter.esl import quoting as q
from tests.unit.esl.fs_model import split


@pytest.mark.parametrize("regex", [r"\d+", r"^[0-9]{4}#?$", r"^(1|2|3)$", r"\d{3,6}", r"[*#]\d"])
def test_common_digit_regexes_pass_intact(regex: str) -> None:
    assert q.regex_token("regex", regex) == regex
    assert split(f"1 4 3 5000 # p.wav silence_stream://250 cc_digits {regex}", " ")[-1] == regex


@pytest.mark.parametrize("regex", [r"\s+", "a b", "\\\\", "x'", '"', "${x}", "(", "ab\\", "a\nb"])
def test_regexes_freeswitch_would_rewrite_or_break_are_refused(regex: str) -> None:
    with pytest.raises(UnsafeValue, match="regex"):
        q.regex_token("regex", regex)


@given(st.text(min_size=1, max_size=20))
def test_whatever_passes_arrives_unchanged(regex: str) -> None:
    try:
        q.regex_token("regex", regex)
    except UnsafeValue:
        return
    re.compile(regex)
    assert split(f"cc_digits {regex}", " ") == ["cc_digits", regex]

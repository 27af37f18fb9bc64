"""A caller who hung up gets its place back when it calls again within the window."""

from __future__ import annotations

import pytest

from callcenter.acd.rejoin import Rejoins, normalized


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+1 (555) 010-2000", "15550102000"),
        ("0015550102000", "15550102000"),
        ("15550102000", "15550102000"),
        ("1001", "1001"),
        ("anonymous", None),
        ("", None),
        ("0000000000", None),
        ("12", None),
    ],
)
def test_numbers_are_normalized(number: str, expected: str | None) -> None:
    assert normalized(number) == expected


def test_place_given_back_within_the_window_once() -> None:
    rejoins = Rejoins()
    rejoins.expect("t1", "sales", "+15550102000")
    rejoins.closed("t1", abandoned=True, since_us=111, now=10.0)
    rejoins.expect("t2", "sales", "0015550102000")
    assert rejoins.place("t2", 120, now=100.0) == 111
    rejoins.expect("t3", "sales", "15550102000")
    assert rejoins.place("t3", 120, now=101.0) is None  # given back once


def test_no_place_after_the_window_or_in_another_queue_or_when_answered() -> None:
    rejoins = Rejoins()
    rejoins.expect("t1", "sales", "15550102000")
    rejoins.closed("t1", abandoned=True, since_us=111, now=10.0)
    rejoins.expect("t2", "sales", "15550102000")
    assert rejoins.place("t2", 120, now=131.0) is None
    rejoins.expect("t3", "support", "15550102000")
    assert rejoins.place("t3", 10_000, now=20.0) is None
    rejoins.expect("t4", "sales", "15550109999")
    rejoins.closed("t4", abandoned=False, since_us=222, now=10.0)
    rejoins.expect("t5", "sales", "15550109999")
    assert rejoins.place("t5", 120, now=11.0) is None
    assert rejoins.place("t5", 0, now=11.0) is None  # window off


def test_oldest_places_are_dropped_past_the_limit() -> None:
    rejoins = Rejoins(keep=2)
    for n in range(3):
        rejoins.expect(f"t{n}", "sales", f"1555000{n}")
        rejoins.closed(f"t{n}", abandoned=True, since_us=n + 1, now=1.0)
    rejoins.expect("a", "sales", "15550000")
    assert rejoins.place("a", 60, now=2.0) is None
    rejoins.expect("b", "sales", "15550002")
    assert rejoins.place("b", 60, now=2.0) == 3

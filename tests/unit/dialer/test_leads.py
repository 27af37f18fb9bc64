"""Lead numbers: E.164 from a file's cell, time zones from the number, the window in all."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from callcenter.dialer.compliance import CallingWindow
from callcenter.dialer.leads import BadNumber, allows, ever_open, next_opening, normalize, zones_of


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(212) 555-1234", "US", "+12125551234"),
        ("+1 415 555 0100", "FR", "+14155550100"),
        ("07911 123456", "GB", "+447911123456"),
        ("06 12 34 56 78", "FR", "+33612345678"),
    ],
)
def test_normalize(raw: str, region: str, e164: str) -> None:
    assert normalize(raw, region) == e164


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("", "no number"), ("hello", "not a phone number"), ("+1 555 123 4567", "not a valid")],
)
def test_normalize_rejects_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(BadNumber, match=reason):
        normalize(raw, "US")


def test_zones_come_from_the_number() -> None:
    assert zones_of("+12125551234") == ("America/New_York",)
    assert zones_of("+14155550100") == ("America/Los_Angeles",)
    assert "Europe/London" in zones_of("+447911123456")


def test_window_must_be_open_in_every_zone() -> None:
    window = CallingWindow(time(8), time(21))
    zones = ("America/New_York", "America/Los_Angeles")
    at = datetime(2026, 7, 1, 13, 0, tzinfo=UTC)  # 09:00 New York, 06:00 Los Angeles
    assert not allows(window, at, zones)
    opening = next_opening(window, at, zones)
    assert opening == datetime(2026, 7, 1, 15, 0, tzinfo=UTC)  # 08:00 in Los Angeles
    assert allows(window, opening, zones)


def test_zones_too_far_apart_never_open() -> None:
    window = CallingWindow(time(9), time(17))
    zones = ("Pacific/Guam", "Europe/London")  # 9 or 10 hours apart: 8-hour windows miss
    assert next_opening(window, datetime(2026, 7, 1, tzinfo=UTC), zones) is None
    assert not ever_open(window, zones)
    assert ever_open(window, ("America/New_York", "America/Los_Angeles"))

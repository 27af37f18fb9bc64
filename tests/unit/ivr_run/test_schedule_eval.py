"""Business hours: weekly ranges in a zone, holidays closed all day, exceptions win."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time

import pytest

from callcenter.ivr import plan
from callcenter.ivr.schedule_eval import is_open
from tests.unit.ivr_run.helpers import HERE

WEEKDAY = (plan.TimeRange(time(9), time(12)), plan.TimeRange(time(13), time(18)))
SCHEDULE = plan.Schedule(
    name="hours",
    where=HERE,
    timezone="America/New_York",
    weekly=(WEEKDAY,) * 5 + ((plan.TimeRange(time(10), time.max),), ()),
    holidays=(date(2026, 12, 25), date(2026, 7, 4)),
    exceptions=(
        plan.DateHours(date(2026, 12, 24), (plan.TimeRange(time(9), time(13)),)),
        plan.DateHours(date(2026, 7, 4), (plan.TimeRange(time(10), time(14)),)),
        plan.DateHours(date(2026, 3, 3), ()),
    ),
    open="o",
    closed="c",
)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-03-02T09:00", True),  # Monday, opening minute (start inclusive)
        ("2026-03-02T12:00", False),  # lunch (end exclusive)
        ("2026-03-02T17:59", True),
        ("2026-03-02T18:00", False),
        ("2026-03-07T23:59", True),  # Saturday until 24:00
        ("2026-03-08T11:00", False),  # Sunday closed
        ("2026-12-25T11:00", False),  # holiday closed all day
        ("2026-12-24T12:30", True),  # exception: special hours
        ("2026-12-24T14:00", False),
        ("2026-07-04T11:00", True),  # exception wins over the holiday (a Saturday)
        ("2026-03-03T10:00", False),  # exception closing a working day
        ("2026-12-25T20:00", False),
    ],
)
def test_naive_times_are_local_to_the_schedule(at: str, expected: bool) -> None:
    assert is_open(SCHEDULE, datetime.fromisoformat(at)) is expected


def test_aware_times_are_converted_to_the_zone() -> None:
    # 14:30 UTC on a Monday of March (EST, UTC-5) = 09:30 in New York
    assert is_open(SCHEDULE, datetime(2026, 3, 2, 14, 30, tzinfo=UTC))
    assert not is_open(SCHEDULE, datetime(2026, 3, 2, 13, 30, tzinfo=UTC))
    # after the DST change (EDT, UTC-4): 13:30 UTC = 09:30
    assert is_open(SCHEDULE, datetime(2026, 3, 9, 13, 30, tzinfo=UTC))
    # 03:00 UTC on Dec 26 is still Christmas evening in New York
    assert not is_open(SCHEDULE, datetime(2026, 12, 26, 3, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("calendar", "at", "expected"),
    [
        (plan.HolidayCalendar("FR"), "2027-07-14T11:00", False),  # Bastille Day, a Wednesday
        (plan.HolidayCalendar("FR"), "2027-07-13T11:00", True),
        (plan.HolidayCalendar("FR"), "2031-05-01T11:00", False),  # any year, not a list
        (plan.HolidayCalendar("US", "CA"), "2027-03-31T11:00", False),  # Cesar Chavez Day
        (plan.HolidayCalendar("US"), "2027-03-31T11:00", True),  # not a federal holiday
    ],
)
def test_public_holidays_close_the_day(
    calendar: plan.HolidayCalendar, at: str, expected: bool
) -> None:
    schedule = dataclasses.replace(SCHEDULE, holidays=(), exceptions=(), calendars=(calendar,))
    assert is_open(schedule, datetime.fromisoformat(at)) is expected

"""Compliance tables: abandon rates (US 30 days, UK per day, AMD false positives), the
calling window across time zones and DST, the 72-hour hold, retries per outcome."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from callcenter.dialer.compliance import (
    Attempt,
    CallingWindow,
    DayCounts,
    Outcome,
    daily_rate,
    next_attempt,
    redial_allowed,
    rolling_rate,
    worst_rate,
)

DAYS = [
    DayCounts(date(2026, 10, 31), live=1000, abandoned=50),  # 31 days back: outside
    DayCounts(date(2026, 11, 10), live=400, abandoned=4, machine=100),
    DayCounts(date(2026, 11, 30), live=600, abandoned=18, machine=200),
]
TODAY = date(2026, 11, 30)


def test_us_rolling_30_days_counts_only_its_window() -> None:
    r = rolling_rate(DAYS, TODAY)
    assert (r.abandoned, r.live) == (22, 1000)
    assert r.rate == pytest.approx(0.022)
    # 31 days back the old day counts
    assert rolling_rate(DAYS, TODAY, window_days=31).rate == pytest.approx(72 / 2000)


def test_uk_daily_rate_with_amd_false_positives() -> None:
    assert daily_rate(DAYS, TODAY).rate == pytest.approx(0.03)
    # 2% of 200 machine verdicts were people hung up on: 4 more abandoned live answers
    r = daily_rate(DAYS, TODAY, amd_false_positive=0.02)
    assert (r.abandoned, r.live) == (pytest.approx(22), pytest.approx(604))
    assert r.amd_estimated == pytest.approx(4)  # reported apart: the estimate, not a count
    assert rolling_rate(DAYS, TODAY, amd_false_positive=0.02).amd_estimated == pytest.approx(6)
    assert daily_rate(DAYS, TODAY).amd_estimated == 0
    assert daily_rate(DAYS, date(2026, 12, 1)).rate == 0.0  # no calls, no rate
    assert worst_rate(DAYS, TODAY) == pytest.approx(0.03)
    with pytest.raises(ValueError, match="amd_false_positive"):
        daily_rate(DAYS, TODAY, amd_false_positive=2)


NY, LA, LONDON, SYDNEY = (
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Sydney",
)


@pytest.mark.parametrize(
    ("utc", "zone", "allowed"),
    [
        ("2026-07-01T12:00", NY, True),  # 08:00 EDT
        ("2026-07-01T11:59", NY, False),  # 07:59 EDT
        ("2026-01-15T12:59", NY, False),  # 07:59 EST: the same UTC hour is early in winter
        ("2026-01-15T13:00", NY, True),  # 08:00 EST
        ("2026-07-02T00:59", NY, True),  # 20:59 EDT
        ("2026-07-02T01:00", NY, False),  # 21:00 EDT: the end is excluded
        ("2026-07-01T14:00", LA, False),  # 07:00 PDT while it is 10:00 in New York
        ("2026-03-08T15:30", LA, True),  # 08:30 PDT, the day clocks went forward
        ("2026-03-08T15:30", NY, True),  # 11:30 EDT
        ("2026-03-29T07:30", LONDON, True),  # 08:30 BST: summer time began 01:00 UTC
        ("2026-03-28T07:30", LONDON, False),  # 07:30 GMT the day before
        ("2026-10-25T07:30", LONDON, False),  # 07:30 GMT, the day clocks went back
        ("2026-10-25T08:00", LONDON, True),
        ("2026-04-03T21:00", SYDNEY, True),  # 08:00 AEDT on 4 April
        ("2026-04-04T21:00", SYDNEY, False),  # 07:00 AEST: summer time ended that night
    ],
)
def test_calling_window_in_the_leads_time(utc: str, zone: str, allowed: bool) -> None:
    at = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert CallingWindow().allows(at, zone) is allowed


@pytest.mark.parametrize(
    ("utc", "zone", "opens"),
    [
        ("2026-07-01T11:00", NY, "2026-07-01T12:00"),  # 07:00 -> 08:00 the same day
        ("2026-07-02T02:00", NY, "2026-07-02T12:00"),  # 22:00 -> 08:00 the next day
        ("2026-03-08T03:00", NY, "2026-03-08T12:00"),  # 22:00 EST -> 08:00 EDT next day
        ("2026-11-01T03:00", NY, "2026-11-01T13:00"),  # 23:00 EDT -> 08:00 EST next day
        ("2026-10-24T21:00", LONDON, "2026-10-25T08:00"),  # 22:00 BST -> 08:00 GMT
        ("2026-07-01T13:00", NY, "2026-07-01T13:00"),  # open: now
    ],
)
def test_next_opening_across_dst(utc: str, zone: str, opens: str) -> None:
    at = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    expected = datetime.fromisoformat(opens).replace(tzinfo=UTC)
    assert CallingWindow().next_opening(at, zone) == expected


def test_a_start_inside_the_spring_forward_gap_opens_after_it() -> None:
    window = CallingWindow(time(2, 30), time(21, 0))
    at = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)  # 01:00 EST, clocks jump 02:00 -> 03:00
    opens = window.next_opening(at, NY).astimezone(ZoneInfo(NY))
    assert (opens.hour, opens.minute, opens.utcoffset()) == (3, 30, timedelta(hours=-4))


def test_bad_windows_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="before end"):
        CallingWindow(time(21), time(8))
    with pytest.raises(ValueError, match="naive"):
        CallingWindow().allows(datetime(2026, 7, 1, 12), NY)


T0 = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)  # 10:00 in New York


def test_no_redial_within_72_hours_of_an_abandoned_call() -> None:
    history = [Attempt(T0, Outcome.ABANDONED)]
    assert not redial_allowed(history, T0 + timedelta(hours=71, minutes=59))
    assert redial_allowed(history, T0 + timedelta(hours=72))
    assert redial_allowed([Attempt(T0, Outcome.BUSY)], T0 + timedelta(minutes=1))


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([Outcome.BUSY], T0 + timedelta(minutes=10)),
        ([Outcome.BUSY] * 3, T0 + timedelta(minutes=10)),  # third busy: the last retry
        ([Outcome.BUSY] * 4, None),  # retries used up
        ([Outcome.NO_ANSWER], T0 + timedelta(hours=2)),
        ([Outcome.MACHINE], T0 + timedelta(hours=4)),
        ([Outcome.ABANDONED], T0 + timedelta(hours=72)),
        # abandoned once, busy now: the 72 h hold still wins over busy's 10 minutes
        ([Outcome.ABANDONED, Outcome.BUSY], T0 + timedelta(hours=72)),
        ([Outcome.NO_ANSWER, Outcome.BUSY, Outcome.NO_ANSWER, Outcome.BUSY, Outcome.BUSY], None),
    ],
)
def test_retries_per_outcome(outcomes: list[Outcome], expected: datetime | None) -> None:
    history = [Attempt(T0, o) for o in outcomes]
    assert next_attempt(history, NY) == expected


def test_a_retry_landing_at_night_waits_for_the_window() -> None:
    late = datetime(2026, 7, 1, 23, 0, tzinfo=UTC)  # 19:00 New York, retry +2 h = 21:00
    retry = next_attempt([Attempt(late, Outcome.NO_ANSWER)], NY)
    assert retry == datetime(2026, 7, 2, 12, 0, tzinfo=UTC)  # 08:00 the next morning

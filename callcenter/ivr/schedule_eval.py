"""Is a schedule open at a given instant? Exceptions win over holidays, holidays over weeks."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from callcenter.ivr import public_holidays
from callcenter.ivr.plan import Schedule, TimeRange


def local_time(schedule: Schedule, at: datetime) -> datetime:
    """``at`` in the schedule's zone; a naive ``at`` is taken as already local there."""
    zone = ZoneInfo(schedule.timezone)
    if at.tzinfo is None:
        return at.replace(tzinfo=zone)
    return at.astimezone(zone)


def hours_on(schedule: Schedule, at: datetime) -> tuple[TimeRange, ...]:
    local = local_time(schedule, at)
    day = local.date()
    for exception in schedule.exceptions:
        if exception.day == day:
            return exception.hours
    if day in schedule.holidays or any(
        public_holidays.is_holiday(c.country, c.subdiv, day) for c in schedule.calendars
    ):
        return ()
    return schedule.weekly[local.weekday()]


def in_range(span: TimeRange, moment: time) -> bool:
    if span.end == time.max:  # 24:00
        return span.start <= moment
    return span.start <= moment < span.end


def is_open(schedule: Schedule, at: datetime) -> bool:
    moment = local_time(schedule, at).time().replace(tzinfo=None)
    return any(in_range(span, moment) for span in hours_on(schedule, at))

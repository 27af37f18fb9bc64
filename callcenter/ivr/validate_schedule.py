"""Builders for the nodes that decide without the caller: schedule and branch."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, time

from callcenter.grammar import VAR_NAME
from callcenter.ivr import plan, public_holidays
from callcenter.ivr.loader import YMap, YNode, YScalar, YSeq
from callcenter.ivr.validate_fields import Checker, Ref, child
from callcenter.ivr.validate_nodes import COMMON

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TZ = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CONDITION_FIELDS = ("variable", "equals", "matches", "caller_id", "did", "schedule")


def build_schedule(c: Checker, name: str, m: YMap, path: str) -> plan.Node | None:
    before = c.errors()
    required = ("timezone", "weekly", "open", "closed")
    c.fields(m, path, required, (*COMMON, "holidays", "exceptions"))
    timezone = c.text(m, "timezone", path)
    if timezone and not _known_zone(timezone):
        where = m.values["timezone"].where
        c.error(where, child(path, "timezone"), f"unknown time zone {timezone!r}")
    weekly = _weekly(c, m.get("weekly"), child(path, "weekly"))
    holidays, calendars = _holidays(c, m.get("holidays"), child(path, "holidays"))
    exceptions = _exceptions(c, m.get("exceptions"), child(path, "exceptions"))
    is_open = c.target(name, m, "open", path)
    closed = c.target(name, m, "closed", path)
    if c.failed_since(before):
        return None
    return plan.Schedule(
        name, m.where, timezone, weekly, holidays, exceptions, is_open, closed, calendars
    )


def _holidays(
    c: Checker, node: YNode | None, path: str
) -> tuple[tuple[date, ...], tuple[plan.HolidayCalendar, ...]]:
    """Closed dates: ``{country: FR}`` (a country's public holidays, ``subdiv`` for a state
    or region), a list of ``YYYY-MM-DD`` dates, or a list mixing both."""
    if isinstance(node, YMap):
        calendar = _calendar(c, node, path)
        return (), (calendar,) if calendar else ()
    days: list[date] = []
    calendars: list[plan.HolidayCalendar] = []
    seen: dict[object, int] = {}
    for i, item in enumerate(_items(c, node, path)):
        ip = child(path, i)
        value: date | plan.HolidayCalendar | None
        if isinstance(item, YMap):
            value = _calendar(c, item, ip)
            if value is not None:
                calendars.append(value)
        else:
            value = _date(c, item, ip)
            days.append(value)
        if value is not None and value != date.min:
            if value in seen:
                c.error(item.where, ip, f"{_shown(value)} is listed twice")
            seen[value] = i
    return tuple(days), tuple(calendars)


def _shown(value: date | plan.HolidayCalendar) -> str:
    if isinstance(value, plan.HolidayCalendar):
        return f"{value.country}" + (f"/{value.subdiv}" if value.subdiv else "")
    return str(value)


def _calendar(c: Checker, m: YMap, path: str) -> plan.HolidayCalendar | None:
    before = c.errors()
    c.fields(m, path, ("country",), ("subdiv",))
    country = c.text(m, "country", path)
    subdiv = c.text(m, "subdiv", path) or None
    if c.failed_since(before) or not country:
        return None
    why = public_holidays.problem(country, subdiv)
    if why is not None:
        key = "subdiv" if subdiv is not None and "subdivision" in why else "country"
        c.error(m.values[key].where, child(path, key), why)
        return None
    return plan.HolidayCalendar(country, subdiv)


def _known_zone(name: str) -> bool:
    if not _TZ.fullmatch(name) or ".." in name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _items(c: Checker, node: YNode | None, path: str) -> tuple[YNode, ...]:
    if node is None:
        return ()
    if isinstance(node, YSeq):
        return node.items
    c.error(node.where, path, "expected a list")
    return ()


def _weekly(c: Checker, node: YNode | None, path: str) -> tuple[tuple[plan.TimeRange, ...], ...]:
    week: list[tuple[plan.TimeRange, ...]] = [()] * 7
    seen: dict[int, int] = {}
    days = c.mapping(node, path) if node is not None else None
    if days is None:
        return tuple(week)
    for spec, value in days.values.items():
        where = days.key_where(spec)
        dp = child(path, spec)
        hours = _hours(c, value, dp)
        for day in _day_range(c, spec, where, dp):
            if day in seen:
                c.error(where, dp, f"{DAYS[day]} is already given at line {seen[day]}")
            seen[day] = where.line
            week[day] = hours
    return tuple(week)


def _day_range(c: Checker, spec: str, where: plan.Where, path: str) -> range:
    first, _, last = spec.partition("-")
    if first not in DAYS or (last and last not in DAYS):
        c.error(where, path, f"unknown day {spec!r} (days: {', '.join(DAYS)}; ranges: mon-fri)")
        return range(0)
    start, end = DAYS.index(first), DAYS.index(last or first)
    if end < start:
        c.error(where, path, f"day range {spec!r} goes backwards (the week starts on mon)")
        return range(0)
    return range(start, end + 1)


def _hours(c: Checker, node: YNode, path: str) -> tuple[plan.TimeRange, ...]:
    ranges: list[plan.TimeRange] = []
    for i, item in enumerate(_items(c, node, path)):
        ip = child(path, i)
        text = c.text_of(item, ip) if isinstance(item, YScalar) else ""
        if not isinstance(item, YScalar):
            c.error(item.where, ip, 'expected "HH:MM-HH:MM"')
        match = _RANGE.fullmatch(text.strip())
        if text and not match:
            c.error(item.where, ip, f'{text!r} is not "HH:MM-HH:MM"')
        if not match:
            continue
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = _time(h1, m1, allow_24=False), _time(h2, m2, allow_24=True)
        if start is None or end is None:
            c.error(item.where, ip, f"impossible time in {text!r}")
        elif end <= start:
            c.error(item.where, ip, f"{text!r} ends before it starts")
        elif ranges and start < ranges[-1].end:
            c.error(item.where, ip, f"{text!r} overlaps or precedes the previous range")
        else:
            ranges.append(plan.TimeRange(start, end))
    return tuple(ranges)


def _time(hour: int, minute: int, *, allow_24: bool) -> time | None:
    if allow_24 and (hour, minute) == (24, 0):
        return time.max
    if 0 <= hour <= 23 and 0 <= minute <= 59:
        return time(hour, minute)
    return None


def _date(c: Checker, node: YNode, path: str) -> date:
    text = c.text_of(node, path) if isinstance(node, YScalar) else ""
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            c.error(node.where, path, f"{text!r} is not a real date ({exc})")
            return date.min
    c.error(node.where, path, f"{text or _raw(node)!r} is not a date (YYYY-MM-DD)")
    return date.min


def _raw(node: YNode) -> str:
    return node.raw if isinstance(node, YScalar) else "a list or mapping"


def _no_repeats(c: Checker, days: tuple[date, ...], node: YNode | None, path: str) -> None:
    if not isinstance(node, YSeq):
        return
    seen: set[date] = set()
    for i, (day, item) in enumerate(zip(days, node.items, strict=False)):
        if day in seen and day != date.min:
            c.error(item.where, child(path, i), f"{day} is listed twice")
        seen.add(day)


def _exceptions(c: Checker, node: YNode | None, path: str) -> tuple[plan.DateHours, ...]:
    result = []
    for i, item in enumerate(_items(c, node, path)):
        ip = child(path, i)
        em = c.mapping(item, ip)
        if em is None:
            continue
        c.fields(em, ip, ("date", "hours"), ())
        if "date" not in em.values or "hours" not in em.values:
            continue
        result.append(
            plan.DateHours(
                _date(c, em.values["date"], child(ip, "date")),
                _hours(c, em.values["hours"], child(ip, "hours")),
            )
        )
    _no_repeats(c, tuple(d.day for d in result), node, path)
    return tuple(result)


def build_branch(c: Checker, name: str, m: YMap, path: str) -> plan.Node | None:
    before = c.errors()
    c.fields(m, path, ("cases", "default"), COMMON)
    cases = []
    cases_node = m.get("cases")
    items = _items(c, cases_node, child(path, "cases"))
    if isinstance(cases_node, YSeq) and not items:
        c.error(cases_node.where, child(path, "cases"), "a branch needs at least one case")
    for i, item in enumerate(items):
        ip = child(child(path, "cases"), i)
        cm = c.mapping(item, ip)
        if cm is None:
            continue
        c.fields(cm, ip, ("when", "goto"), ())
        when = cm.get("when")
        wm = c.mapping(when, child(ip, "when")) if when is not None else None
        condition = _condition(c, wm, child(ip, "when")) if wm is not None else plan.Condition()
        cases.append(plan.BranchCase(condition, c.target(name, cm, "goto", ip)))
    default = c.target(name, m, "default", path)
    if c.failed_since(before):
        return None
    return plan.Branch(name, m.where, tuple(cases), default)


def _condition(c: Checker, wm: YMap, path: str) -> plan.Condition:
    c.fields(wm, path, (), _CONDITION_FIELDS)
    if not wm.values:
        c.error(wm.where, path, "a condition needs at least one test")
    values = {k: c.text(wm, k, path) or None for k in _CONDITION_FIELDS if k in wm.values}
    variable = values.get("variable")
    if variable is not None:
        if not VAR_NAME.fullmatch(variable):
            c.error(wm.values["variable"].where, child(path, "variable"), "not a variable name")
        else:
            c.var_uses.append(Ref(variable, wm.values["variable"].where, child(path, "variable")))
        if "equals" not in values and "matches" not in values:
            c.error(wm.where, path, "variable needs equals or matches")
    elif "equals" in values or "matches" in values:
        c.error(wm.where, path, "equals and matches need a variable")
    for key in ("matches", "caller_id", "did"):
        pattern = values.get(key)
        if pattern is not None:
            c.regex(wm.values[key].where, child(path, key), pattern)
    if values.get("schedule") is not None:
        where = wm.values["schedule"].where
        c.schedules.append(Ref(values["schedule"] or "", where, child(path, "schedule")))
    return plan.Condition(**values)

"""A lead's number and where it may be: E.164 from what a file holds, the time zones its
number may be in (``phonenumbers``' timezone data, never a hand-written table), and the
calling window checked in all of them (a number that may be in several zones is called only
when the window is open in every one).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import phonenumbers
from phonenumbers import timezone as number_zones

from callcenter.dialer.compliance import CallingWindow

UNKNOWN_ZONE = "Etc/Unknown"
_SEARCH_DAYS = 8  # the window opens in every zone within a week or never


class BadNumber(ValueError):
    """A number that cannot be a lead: the reason is the message."""


def normalize(raw: str, region: str) -> str:
    """``raw`` as E.164 (``+`` and digits); numbers without ``+`` are read in ``region``."""
    return _format(_parse(raw, region))


def normalize_with_zones(raw: str, region: str) -> tuple[str, tuple[str, ...]]:
    """``normalize`` and ``zones_of`` in one parse (a lead file's every row does both)."""
    parsed = _parse(raw, region)
    return _format(parsed), _zones(parsed)


def _format(parsed: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _zones(parsed: phonenumbers.PhoneNumber) -> tuple[str, ...]:
    return tuple(z for z in number_zones.time_zones_for_number(parsed) if z != UNKNOWN_ZONE)


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber:
    text = raw.strip()
    if not text:
        raise BadNumber("no number")
    try:
        parsed = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise BadNumber(f"not a phone number ({exc._msg})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise BadNumber("not a valid number for its country")
    return parsed


def zones_of(e164: str) -> tuple[str, ...]:
    """The IANA zones the number may be in; () when its data knows none."""
    return _zones(phonenumbers.parse(e164, None))


def allows(window: CallingWindow, at: datetime, zones: Sequence[str]) -> bool:
    return all(window.allows(at, zone) for zone in zones)


def next_opening(window: CallingWindow, at: datetime, zones: Sequence[str]) -> datetime | None:
    """``at`` if the window is open in every zone, else the first time it is; None when it
    never is (zones too far apart for the window)."""
    limit = at + timedelta(days=_SEARCH_DAYS)
    moment = at
    while moment <= limit:
        moved = moment
        for zone in zones:
            moved = window.next_opening(moved, zone)
        if moved == moment:
            return moment
        moment = moved
    return None


@lru_cache(maxsize=4096)
def ever_open(window: CallingWindow, zones: tuple[str, ...]) -> bool:
    """Whether the window opens in every zone at once, in each season (DST moves zones
    apart and together)."""
    start = datetime(2026, 1, 5, tzinfo=UTC)
    return all(
        next_opening(window, start + timedelta(days=91 * season), zones) is not None
        for season in range(4)
    )

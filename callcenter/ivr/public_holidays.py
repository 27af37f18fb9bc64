"""Public holidays of a country (and a subdivision: a state, a region) from the `holidays`
library, for schedules that name one instead of listing dates year by year."""

from __future__ import annotations

import difflib
from datetime import date
from functools import lru_cache

import holidays


@lru_cache(maxsize=1)
def _supported() -> dict[str, tuple[str, ...]]:
    return {code: tuple(subdivs) for code, subdivs in holidays.list_supported_countries().items()}


def problem(country: str, subdiv: str | None) -> str | None:
    """Why this calendar cannot be used, or None."""
    supported = _supported()
    if country not in supported:
        close = difflib.get_close_matches(country.upper(), list(supported), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "an ISO 3166 code such as FR, US, DE"
        return f"unknown country {country!r} for public holidays ({hint})"
    if subdiv is not None and subdiv not in supported[country]:
        known = ", ".join(supported[country][:12]) or "none"
        more = ", ..." if len(supported[country]) > 12 else ""
        return f"unknown subdivision {subdiv!r} of {country} (known: {known}{more})"
    return None


@lru_cache(maxsize=256)
def dates(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdiv, years=year))


def is_holiday(country: str, subdiv: str | None, day: date) -> bool:
    return day in dates(country, subdiv, day.year)

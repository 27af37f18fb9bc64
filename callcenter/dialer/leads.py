"""A lead's number and where it may be: E.164 from what a file holds, the time zones its
number may be in (``phonenumbers``' timezone data, never a hand-written table), and the
calling window checked in all of them (a number that may be in several zones is called only
when the window is open in every one).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberType
from phonenumbers import timezone as number_zones

from callcenter.dialer.compliance import CallingWindow

UNKNOWN_ZONE = "Etc/Unknown"
# the longest prefix (digits after +) phonenumbers' timezone data is keyed on: two numbers
# alike to there are in the same zones (``timezone.time_zones_for_geographical_number``)
# (not known: no sharing between numbers)
ZONE_PREFIX: int | None = getattr(number_zones, "TIMEZONE_LONGEST_PREFIX", None)
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
    return _typed(raw, region)[0]


def _typed(raw: str, region: str) -> tuple[phonenumbers.PhoneNumber, int]:
    """The number and its type; valid means a type is known (``is_valid_number`` is
    ``number_type(n) != UNKNOWN`` for the number's own region: one match, not two)."""
    text = raw.strip()
    if not text:
        raise BadNumber("no number")
    try:
        parsed = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise BadNumber(f"not a phone number ({exc._msg})") from None
    kind = phonenumbers.number_type(parsed)
    if kind == PhoneNumberType.UNKNOWN:
        raise BadNumber("not a valid number for its country")
    return parsed, kind


_PLAIN = re.compile(r"\+?[0-9 ().\-/]*[0-9][0-9 ().\-/]*")
_NOT_DIGIT = re.compile(r"[^0-9]")


PREMIUM = "a premium-rate number: not a lead (a call to it is billed to the caller)"


def refused(kind: int) -> str | None:
    """Why a valid number of type ``kind`` (``phonenumbers.number_type``) is no lead, or
    None: the one rule a file's numbers are imported by (``NumberReader.read``) and a
    stored lead is dialled by (``refusal``)."""
    if kind == PhoneNumberType.PREMIUM_RATE:  # a hostile file's way to bill the caller
        return PREMIUM
    return None


@lru_cache(maxsize=4096)
def refusal(e164: str) -> str | None:
    """``refused`` for a stored lead's number (E.164): a lead stored before the rule was,
    or under older ``phonenumbers`` data, is not dialled either (``store.claim_due``). A
    number its data no longer reads is not refused here: the call says what it is."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    return refused(phonenumbers.number_type(parsed))


class NumberReader:
    """``normalize_with_zones`` for the many numbers of one file, in one region: a number
    written the same way twice is parsed once; the zones are looked up once per prefix of
    the length ``phonenumbers``' timezone data keys on (once per country for the types it
    does not place, e.g. mobiles in most countries). And ``candidate``: what a number
    written plainly must be in E.164, without parsing it, to find a lead already stored."""

    def __init__(self, region: str, most: int = 16_384) -> None:
        self.region = region.upper()
        self.most = most  # numbers (and prefixes) remembered: bounded, forgotten at once
        self._numbers: dict[str, tuple[str, tuple[str, ...]] | str] = {}
        self._zones: dict[str, tuple[str, ...]] = {}
        self._code = phonenumbers.country_code_for_region(self.region)
        meta = PhoneMetadata.metadata_for_region(self.region)
        national = (meta.national_prefix_for_parsing or meta.national_prefix) if meta else None
        international = meta.international_prefix if meta else None
        self._international = re.compile(international) if international else None
        self._national = re.compile(national) if national else None

    def read(self, raw: str) -> tuple[str, tuple[str, ...]]:
        """A lead's number: E.164 and the zones it may be in."""
        text = raw.strip()
        known = self._numbers.get(text)
        if isinstance(known, str):
            raise BadNumber(known)
        if known is not None:
            return known
        if len(self._numbers) >= self.most:
            self._numbers.clear()
        try:
            parsed, kind = self._number(text)
        except BadNumber as exc:
            self._numbers[text] = str(exc)
            raise
        e164 = _format(parsed)
        why = refused(kind)
        if why is not None:
            self._numbers[text] = why
            raise BadNumber(why)
        if phonenumbers.is_number_type_geographical(kind, parsed.country_code or 0):
            key = e164[: 1 + ZONE_PREFIX] if ZONE_PREFIX else e164
        else:
            key = str(parsed.country_code)  # the country's zones
        zones = self._zones.get(key)
        if zones is None:
            if len(self._zones) >= self.most:
                self._zones.clear()
            zones = self._zones[key] = _zones(parsed)
        found = self._numbers[text] = (e164, zones)
        return found

    def e164(self, raw: str) -> str:
        """Any valid number in E.164 (``normalize``), parsed only when not written plainly:
        a do-not-call list's numbers, whatever their type."""
        return _format(self._number(raw.strip())[0])

    def _number(self, text: str) -> tuple[phonenumbers.PhoneNumber, int]:
        plain = self._plain(text)
        return plain if plain is not None else _typed(text, self.region)  # as written, or parsed

    def _plain(self, text: str) -> tuple[phonenumbers.PhoneNumber, int] | None:
        """A number written plainly in the region (``candidate``) that is valid as it is
        written, typed without a parse; None: parse it (all else, leading zeros too)."""
        guess = self.candidate(text)
        if guess is None or text.startswith("+") or guess[len(str(self._code)) + 1] == "0":
            return None
        national = guess[len(str(self._code)) + 1 :]
        number = phonenumbers.PhoneNumber(country_code=self._code, national_number=int(national))
        kind = phonenumbers.number_type(number)
        return None if kind == PhoneNumberType.UNKNOWN else (number, kind)

    def candidate(self, raw: str) -> str | None:
        """The E.164 form ``read`` gives a number written with digits and ``+ ().-/`` only,
        when it can be told without parsing (None: a prefix to dial out or a national
        prefix, letters, an extension). Used only to find a lead already stored: a stored
        number is valid, and a valid number is read as written."""
        text = raw.strip()
        if not _PLAIN.fullmatch(text):
            return None
        digits = _NOT_DIGIT.sub("", text)
        if text.startswith("+"):
            return "+" + digits
        if not self._code:
            return None
        for prefix in (self._international, self._national):
            if prefix is not None and prefix.match(digits):
                return None
        return f"+{self._code}{digits}"


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

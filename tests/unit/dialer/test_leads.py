"""Lead numbers: E.164 from a file's cell, time zones from the number, the window in all."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as number_zones

from callcenter.dialer.compliance import CallingWindow
from callcenter.dialer.leads import (
    BadNumber,
    NumberReader,
    allows,
    ever_open,
    next_opening,
    normalize,
    zones_of,
)


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


def _reference(raw: str, region: str) -> tuple[str, tuple[str, ...]] | None:
    """What a lead's number was before ``NumberReader``: phonenumbers' own calls, one by one."""
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    if phonenumbers.number_type(parsed) == PhoneNumberType.PREMIUM_RATE:
        return None  # not a lead
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    zones = number_zones.time_zones_for_number(parsed)
    return e164, tuple(z for z in zones if z != "Etc/Unknown")


def _numbers(seed: int, count: int) -> list[tuple[str, str]]:
    """Numbers as files hold them: valid ones of many countries in several layouts, close
    neighbours (the zone cache's prefixes), national and international prefixes, junk."""
    rng = random.Random(seed)
    regions = ("US", "CA", "GB", "FR", "DE", "IT", "BR", "IN", "AU", "MX", "AR", "JP", "RU")
    found: list[tuple[str, str]] = []
    while len(found) < count:
        region = rng.choice(regions)
        kind = rng.choice((PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE))
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        digits = str(example.national_number)
        digits = digits[:-4] + f"{rng.randrange(10_000):04d}"  # a neighbour of the example
        number = phonenumbers.PhoneNumber(
            country_code=example.country_code,
            national_number=int(digits),
            italian_leading_zero=example.italian_leading_zero,
        )
        layout = rng.choice((
            phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.NATIONAL,
            phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        ))  # fmt: skip
        text = phonenumbers.format_number(number, layout)
        text = rng.choice((text, text.replace(" ", ""), text.replace("+", "00"), f" {text} "))
        if rng.random() < 0.1:
            text = rng.choice(("011 ", "1 ", "0", "x", "+")) + text
        found.append((text, rng.choice((region, "US", "GB"))))
    return found


def test_the_number_reader_reads_as_phonenumbers_does_and_never_guesses_a_stored_number() -> None:
    readers: dict[str, NumberReader] = {}
    checked = guessed = 0
    for raw, region in _numbers(seed=5, count=6000) + [(r, "US") for r in ODD]:
        reader = readers.setdefault(region, NumberReader(region, most=500))
        expected = _reference(raw, region)
        for _ in range(2):  # the second time from its memory
            try:
                assert reader.read(raw) == expected, (raw, region)
            except BadNumber:
                assert expected is None, (raw, region)
        checked += 1
        guess = reader.candidate(raw)
        if guess is not None and _reference(guess, "US") is not None:
            # a guess that is a valid number (one a campaign may hold) is what it reads as
            guessed += 1
            assert expected is not None and expected[0] == guess, (raw, region, guess)
    assert checked > 6000 and guessed > 1000


ODD = (
    "1-800-FLOWERS", "+1 (212) 555-0199 ext. 7", "tel:+1-212-555-0199", "011 44 20 7946 0958",
    "1 212 555 0199", "(212) 555-0199", "212.555.0199", "", "  ", "+", "()", "2125550199/1",
)  # fmt: skip


@pytest.mark.parametrize("region", ["GB", "DE", "FR", "US", "AU"])
def test_a_premium_rate_number_is_not_a_lead(region: str) -> None:
    # a hostile lead file of premium-rate numbers had the dialer call them, billed to the
    # caller (GB, DE, FR ones were accepted; US ones only when a timezone column placed them)
    example = phonenumbers.example_number_for_type(region, PhoneNumberType.PREMIUM_RATE)
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    reader = NumberReader(region)
    for text in (
        national,
        phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164),
    ):
        for _ in range(2):  # and from its memory
            with pytest.raises(BadNumber, match="premium-rate number: not a lead"):
                reader.read(text)
    toll_free = phonenumbers.example_number_for_type(region, PhoneNumberType.TOLL_FREE)
    e164 = phonenumbers.format_number(toll_free, phonenumbers.PhoneNumberFormat.E164)
    assert reader.read(e164)[0] == e164  # other non-geographic numbers are leads


def test_the_number_reader_gives_any_valid_number_for_a_do_not_call_list() -> None:
    # dnc import parsed every line fully (3,650 numbers/s); it reads as leads do now, and
    # keeps the numbers a lead may not be (a premium-rate one may still be listed)
    readers: dict[str, NumberReader] = {}
    premium = phonenumbers.example_number_for_type("GB", PhoneNumberType.PREMIUM_RATE)
    listed = phonenumbers.format_number(premium, phonenumbers.PhoneNumberFormat.E164)
    for raw, region in _numbers(seed=7, count=3000) + [(r, "US") for r in ODD] + [(listed, "GB")]:
        reader = readers.setdefault(region, NumberReader(region))
        try:
            expected: str | None = normalize(raw, region)
        except BadNumber:
            expected = None
        try:
            assert reader.e164(raw) == expected, (raw, region)
        except BadNumber:
            assert expected is None, (raw, region)

"""Phone numbers: caller IDs and dialled numbers to E.164, and back to what a trunk wants.

Pure. The numbering plans are ``phonenumbers``' (Google's libphonenumber metadata), never
hand-written tables. A number is read in a country (the trunk's ``country``, else the
``default_country`` setting): in Germany ``030 1234``, ``0049 30 1234`` and ``+49 30 1234``
are all ``+49301234``. A number that cannot be one (too short or too long for its country,
letters, control characters) raises ``InvalidNumber`` naming it and why.

"Possible" is the test, not "valid": libphonenumber's "valid" knows which ranges an operator
has been given today, and a carrier's new range would be refused until the library updates.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from callcenter.errors import InvalidNumber
from callcenter.trunks.spec import NumberStyle, TrunkSpec

MAX_INPUT = 40  # characters, separators included: E.164 is at most 15 digits
# what people and carriers write around digits: "+49 (30) 123-45.67"; nothing else is read
_WRITTEN = re.compile(r"\+?[0-9 ()./-]{1,40}")
_SEPARATORS = re.compile(r"[ ()./-]")
COUNTRY = re.compile(r"[A-Z]{2}")

_WHY = {
    ValidationResult.INVALID_COUNTRY_CODE: "no country has this calling code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "not a length any number there has",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a local number: it needs its area code",
}


def _shown(value: str) -> str:
    text = repr(value[:MAX_INPUT] + ("..." if len(value) > MAX_INPUT else ""))
    return text.encode("ascii", "backslashreplace").decode()


def check_country(country: str) -> str:
    """An ISO 3166-1 alpha-2 code that has a numbering plan (``DE``, ``FR``, ``US``)."""
    code = country.strip().upper() if isinstance(country, str) else ""
    if not COUNTRY.fullmatch(code) or code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidNumber(f"country {_shown(str(country))} is not a country code (DE, FR, US...)")
    return code


def to_e164(number: str, country: str | None) -> str:
    """``number`` as E.164 (``+4930123456``), read in ``country`` when it is not already
    international; ``InvalidNumber`` naming it otherwise."""
    if not isinstance(number, str):
        raise InvalidNumber(f"{type(number).__name__} is not a phone number")
    if len(number) > MAX_INPUT or not _WRITTEN.fullmatch(number):
        raise InvalidNumber(
            f"{_shown(number)} is not a phone number (+, then digits; spaces ( ) . - allowed)"
        )
    digits = _SEPARATORS.sub("", number)
    region = check_country(country) if country else None
    if not digits.startswith("+") and region is None:
        raise InvalidNumber(
            f"{_shown(number)}: a national number needs a country (the trunk's country or "
            "the default_country setting)"
        )
    try:
        parsed = phonenumbers.parse(digits, region)
    except NumberParseException as exc:
        raise InvalidNumber(f"{_shown(number)} is not a phone number: {exc}") from None
    result = phonenumbers.is_possible_number_with_reason(parsed)
    if result != ValidationResult.IS_POSSIBLE:
        where = f" in {region}" if region and not digits.startswith("+") else ""
        raise InvalidNumber(f"{_shown(number)} cannot be a phone number{where}: {_WHY[result]}")
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def for_trunk(e164: str, style: NumberStyle) -> str:
    """An E.164 number the way a trunk wants it: ``+4930123``, ``4930123`` or ``030123``."""
    if style is NumberStyle.E164:
        return e164
    if style is NumberStyle.E164_NO_PLUS:
        return e164.removeprefix("+")
    parsed = phonenumbers.parse(e164, None)
    return re.sub(r"[^0-9]", "", phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL))


def country_for(trunk: TrunkSpec | None, default_country: str | None) -> str | None:
    return (trunk.country if trunk is not None else None) or default_country


def dial_number(number: str, trunk: TrunkSpec, default_country: str | None) -> str:
    """What to send ``trunk`` for ``number``: normalized in the trunk's country, then
    written in its ``number_style``."""
    return for_trunk(to_e164(number, country_for(trunk, default_country)), trunk.number_style)


def caller_id_for(
    number: str, trunk: TrunkSpec, default_country: str | None, *, read_in: str | None = None
) -> str:
    """A caller ID the way ``trunk`` wants numbers, read in ``read_in`` (the country of the
    trunk a caller arrived on) else in ``trunk``'s. Only a number libphonenumber knows as
    allocated (valid, not merely possible) is rewritten: an agent's extension ``1001`` is
    a possible German number, but not a caller ID to turn into ``+491001``; anything else
    (an extension, ``anonymous``) goes as it is, scrubbed by the ESL builders later."""
    e164 = normalized_or_none(number, read_in or country_for(trunk, default_country))
    if e164 is None or not phonenumbers.is_valid_number(phonenumbers.parse(e164, None)):
        return number
    return for_trunk(e164, trunk.number_style)


def normalized_or_none(number: str, country: str | None) -> str | None:
    """E.164, or None when ``number`` is not a phone number (an extension, ``*98``)."""
    try:
        return to_e164(number, country)
    except InvalidNumber:
        return None

"""Numbers to E.164 and back, by country (phonenumbers' plans), and hostile input."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.errors import InvalidNumber
from callcenter.trunks.numbers import (
    caller_id_for,
    check_country,
    dial_number,
    for_trunk,
    normalized_or_none,
    to_e164,
)
from callcenter.trunks.spec import NumberStyle, TrunkSpec

SAME_NUMBER = [
    # (as written, country it is read in, E.164)
    ("+49301234", "DE", "+49301234"),
    ("0049301234", "DE", "+49301234"),
    ("0301234", "DE", "+49301234"),
    ("030 1234-5678", "DE", "+493012345678"),
    ("+49 (30) 1234.5678", None, "+493012345678"),
    ("0612345678", "FR", "+33612345678"),
    ("0033 6 12 34 56 78", "FR", "+33612345678"),
    ("07911 123456", "GB", "+447911123456"),
    ("00447911123456", "GB", "+447911123456"),
    ("(201) 555-0123", "US", "+12015550123"),
    ("1 201 555 0123", "US", "+12015550123"),
    ("011 49 30 1234", "US", "+49301234"),  # the US international prefix
    ("0049301234", "FR", "+49301234"),  # same international prefix, other country
    ("0312345678", "NL", "+31312345678"),
    ("+81312345678", "DE", "+81312345678"),  # international wins over the country
]


@pytest.mark.parametrize(("written", "country", "e164"), SAME_NUMBER)
def test_written_in_a_country_to_e164(written: str, country: str | None, e164: str) -> None:
    assert to_e164(written, country) == e164


REFUSED = [
    ("0301234", None, "needs a country"),
    ("12", "DE", "cannot be a phone number in DE: a local number"),
    ("+3312", None, "cannot be a phone number: too short"),
    ("+4930123456789012345", "DE", "cannot be a phone number: too long"),
    ("+999123456", None, "not a phone number"),
    ("4567", "US", "cannot be a phone number in US: too short"),
    ("", "DE", "is not a phone number"),
    ("+", "DE", "is not a phone number"),
    ("0800-FLOWERS", "US", "is not a phone number"),  # vanity letters: refused, not guessed
    ("030\r\n1234", "DE", "is not a phone number"),
    ("030;1234", "DE", "is not a phone number"),
    ("0301234 ${system(id)}", "DE", "is not a phone number"),
    ("\u0660\u0663\u0660\u0661\u0662\u0663\u0664", "DE", "is not a phone number"),  # Arabic-Indic
    ("1" * 200, "DE", "..."),
    ("++49301234", "DE", "is not a phone number"),
    ("030+1234", "DE", "is not a phone number"),
]


@pytest.mark.parametrize(("written", "country", "why"), REFUSED)
def test_what_cannot_be_a_number_is_refused_naming_it(
    written: str, country: str | None, why: str
) -> None:
    with pytest.raises(InvalidNumber) as refused:
        to_e164(written, country)
    message = refused.value.message
    assert why in message
    assert repr(written[:40])[:20].encode("ascii", "backslashreplace").decode() in message
    assert "\n" not in message and "\r" not in message


def test_a_country_must_be_one() -> None:
    assert check_country("de") == "DE"
    for bad in ("XX", "DEU", "", "D\n"):
        with pytest.raises(InvalidNumber, match="is not a country code"):
            check_country(bad)
    with pytest.raises(InvalidNumber, match="is not a country code"):
        to_e164("0301234", "ZZ")


@pytest.mark.parametrize(
    ("style", "sent"),
    [
        (NumberStyle.E164, "+4930123456"),
        (NumberStyle.E164_NO_PLUS, "4930123456"),
        (NumberStyle.NATIONAL, "030123456"),
    ],
)
def test_each_trunk_gets_its_style(style: NumberStyle, sent: str) -> None:
    assert for_trunk("+4930123456", style) == sent
    trunk = TrunkSpec("carrier", "sip.example.net", country="DE", number_style=style)
    assert dial_number("030 123456", trunk, None) == sent
    assert dial_number("0049 30 123456", trunk, "FR") == sent


def test_the_default_country_reads_a_trunk_without_one() -> None:
    trunk = TrunkSpec("carrier", "sip.example.net", number_style=NumberStyle.NATIONAL)
    assert dial_number("06 12 34 56 78", trunk, "FR") == "0612345678"
    assert for_trunk("+12015550123", NumberStyle.NATIONAL) == "2015550123"
    with pytest.raises(InvalidNumber, match="needs a country"):
        dial_number("0612345678", trunk, None)


def test_extensions_are_not_numbers_to_normalize() -> None:
    assert normalized_or_none("*98", "DE") is None
    assert normalized_or_none("0301234", "DE") == "+49301234"


def test_caller_ids_in_the_trunk_style_or_as_they_are() -> None:
    trunk = TrunkSpec("c", "sip.example.net", country="DE", number_style=NumberStyle.E164_NO_PLUS)
    assert caller_id_for("030 1234", trunk, None) == "49301234"
    assert caller_id_for("+33612345678", trunk, None) == "33612345678"
    assert caller_id_for("1001", trunk, None) == "1001"  # possible in DE, but no caller ID
    assert caller_id_for("anonymous", trunk, None) == "anonymous"
    assert caller_id_for("12", trunk, None) == "12"


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60), country=st.sampled_from([None, "DE", "FR", "US", "GB"]))
def test_anything_is_e164_digits_or_refused_as_invalid_number(
    text: str, country: str | None
) -> None:
    try:
        e164 = to_e164(text, country)
    except InvalidNumber as exc:
        assert exc.message.isascii() and exc.message.isprintable() and len(exc.message) < 600
        return
    assert re.fullmatch(r"\+[1-9][0-9]{1,14}", e164)
    for style in NumberStyle:
        assert re.fullmatch(r"\+?[0-9]{2,17}", for_trunk(e164, style))

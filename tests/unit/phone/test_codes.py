"""Feature codes: the table of what a dialled ``*`` code asks for, and its checks."""

from __future__ import annotations

import pytest

from callcenter.errors import ConfigError
from callcenter.phone.codes import (
    DEFAULT_CODES,
    Feature,
    Request,
    Unknown,
    feature_codes,
    parse_pairs,
)
from callcenter.settings import load_settings

CODES = feature_codes(DEFAULT_CODES)


@pytest.mark.parametrize(
    ("dialled", "expected"),
    [
        ("*21", Request(Feature.LOGIN)),
        ("*22", Request(Feature.LOGOUT)),
        ("*23", Request(Feature.PAUSE, "phone")),
        ("*231", Request(Feature.PAUSE, "break")),
        ("*232", Request(Feature.PAUSE, "lunch")),
        ("*24", Request(Feature.READY)),
        ("*25", Request(Feature.WRAPUP_END)),
        ("*26", Request(Feature.ON_DEMAND)),
        ("*29", Request(Feature.STATUS)),
        ("*331001", Request(Feature.EAVESDROP, target="1001")),
        ("*33", Unknown("*33", "*33 takes an agent's extension, got ''")),
        ("*239", Unknown("*239", "no pause reason '9'")),
        ("*2", Unknown("*2", "not a feature code")),
        ("*27", Request(Feature.RECORD_PAUSE)),  # pressed during a call (in_call)
        ("*28", Request(Feature.RECORD_RESUME)),
        ("*20", Unknown("*20", "not a feature code")),
        ("*211", Unknown("*211", "not a feature code")),
    ],
)
def test_a_dialled_code_is_one_request(dialled: str, expected: Request | Unknown) -> None:
    assert CODES.parse(dialled) == expected


def test_codes_and_reasons_are_configurable() -> None:
    codes = feature_codes(
        [("login", "*7"), ("pause", "*80")], [("12", "coffee")], default_reason="away"
    )
    assert codes.parse("*7") == Request(Feature.LOGIN)
    assert codes.parse("*8012") == Request(Feature.PAUSE, "coffee")
    assert codes.parse("*80") == Request(Feature.PAUSE, "away")
    assert codes.parse("*21") == Unknown("*21", "not a feature code")


@pytest.mark.parametrize(
    ("codes", "reasons", "message"),
    [
        ([("login", "21")], [], "login: expected \\* and 1-8 digits"),
        ([("logon", "*21")], [], "unknown feature 'logon'"),
        ([("login", "*21"), ("logout", "*21")], [], "logout \\*21 given twice"),
        ([("login", "*2"), ("logout", "*21")], [], "\\*2 is the start of \\*21"),
        ([("pause", "*23"), ("ready", "*234")], [], "\\*23 is the start of \\*234"),
        ([("pause", "*23")], [("1", "Lunch Break")], "expected DIGITS=name"),
        ([("pause", "*23")], [("1", "a"), ("1", "b")], "reason code 1 given twice"),
    ],
)
def test_a_clash_is_a_configuration_error(
    codes: list[tuple[str, str]], reasons: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        feature_codes(codes, reasons)


def test_settings_take_codes_from_the_environment_and_check_them() -> None:
    settings = load_settings(
        environ={
            "CALLCENTER_FEATURE_CODES": "login=*71, logout=*72",
            "CALLCENTER_PAUSE_REASONS": "5=smoke",
            "CALLCENTER_PIN_LOCKOUT_SECONDS": "60",
        }
    )
    assert settings.feature_codes == (("login", "*71"), ("logout", "*72"))
    assert settings.pause_reasons == (("5", "smoke"),)
    assert settings.pin_lockout_seconds == 60.0 and settings.pin_max_failures == 5
    with pytest.raises(ConfigError, match="\\*7 is the start of \\*71"):
        load_settings(environ={"CALLCENTER_FEATURE_CODES": "login=*7,logout=*71"})
    with pytest.raises(ConfigError, match="CALLCENTER_FEATURE_CODES: expected name=value"):
        load_settings(environ={"CALLCENTER_FEATURE_CODES": "login"})


def test_pairs_come_from_a_mapping_too() -> None:
    assert parse_pairs({"login": "*21"}, "x") == (("login", "*21"),)


def test_the_in_call_codes_end_an_agents_keys() -> None:
    assert CODES.in_call("1*27") is Feature.RECORD_PAUSE
    assert CODES.in_call("*28") is Feature.RECORD_RESUME
    assert CODES.in_call("*2") is None and CODES.in_call("*29") is None  # *29: dialled only


def test_the_disposition_code_takes_a_key() -> None:
    from callcenter.phone.codes import DEFAULT_CODES, Feature, Request, Unknown, feature_codes

    codes = feature_codes(DEFAULT_CODES)
    assert codes.parse("*302") == Request(Feature.DISPOSITION, target="2")
    assert codes.parse("*3012") == Request(Feature.DISPOSITION, target="12")
    assert isinstance(codes.parse("*30"), Unknown)  # a key is needed
    assert isinstance(codes.parse("*30123"), Unknown)  # 0-99
    assert codes.parse("*331001") == Request(Feature.EAVESDROP, target="1001")

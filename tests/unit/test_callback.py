"""A callback that keeps the caller's place: the number to call, what follows an attempt,
the queue's settings (``acd.callback``, ``acd.rules``), places kept across a restart."""

from __future__ import annotations

import pytest

from callcenter.acd import callback
from callcenter.acd.callback import Attempt, Next
from callcenter.acd.rejoin import Rejoins
from callcenter.acd.rules import CallbackRules, Routing, RuleError
from callcenter.vocabulary import QueueOutcome

RULES = CallbackRules(key="5", attempts=3, retry_seconds=60, min_digits=7, max_digits=12)


@pytest.mark.parametrize(
    ("caller_id", "number"),
    [
        ("+1 (555) 010-2000", "15550102000"),
        ("0015550102000", "15550102000"),
        ("5550102", "5550102"),  # 7 digits: the queue's shortest
        ("555010", None),  # too short for this queue
        ("+4420794600001234", None),  # 16 digits: too long for this queue
        ("anonymous", None),
        ("", None),
        ("0000000000", None),
    ],
)
def test_the_callers_own_number_as_it_can_be_dialled_back(
    caller_id: str, number: str | None
) -> None:
    assert callback.number_to_call(caller_id, RULES) == number


@pytest.mark.parametrize(
    ("keyed", "number"),
    [
        ("5550102000", "5550102000"),
        ("555010", None),  # shorter than 7
        ("5550102000123", None),  # longer than 12
        ("555*102000", None),  # a star is no digit
        ("555 0102", None),
        ("", None),
        (None, None),
    ],
)
def test_a_number_keyed_in_is_digits_within_the_bounds(
    keyed: str | None, number: str | None
) -> None:
    assert callback.keyed_number(keyed, RULES) == number


@pytest.mark.parametrize(
    ("cause", "result"),
    [
        (None, Attempt.ANSWERED),
        ("NO_ANSWER", Attempt.NO_ANSWER),
        ("ALLOTTED_TIMEOUT", Attempt.NO_ANSWER),
        ("USER_BUSY", Attempt.BUSY),
        ("CALL_REJECTED", Attempt.BUSY),
        ("NO_ROUTE_DESTINATION", Attempt.FAILED),
        ("INVALID_NUMBER_FORMAT", Attempt.FAILED),
        (callback.AGENT_LEFT, Attempt.AGENT_LEFT),
    ],
)
def test_the_customers_hangup_cause_is_the_attempts_result(
    cause: str | None, result: Attempt
) -> None:
    assert callback.result_of(cause) is result


@pytest.mark.parametrize(
    ("result", "before", "after"),
    [
        (Attempt.ANSWERED, 0, Next(1, QueueOutcome.CALLBACK_ANSWERED)),
        (Attempt.ANSWERED, 2, Next(3, QueueOutcome.CALLBACK_ANSWERED)),
        (Attempt.NO_ANSWER, 0, Next(1, retry_in=60.0)),
        (Attempt.BUSY, 1, Next(2, retry_in=60.0)),
        (Attempt.NO_ANSWER, 2, Next(3, QueueOutcome.CALLBACK_FAILED)),  # the third and last
        (Attempt.FAILED, 0, Next(1, QueueOutcome.CALLBACK_FAILED)),  # would fail again
        (Attempt.AGENT_LEFT, 1, Next(1)),  # not an attempt: back in line at once
    ],
)
def test_after_an_attempt_the_stay_ends_or_waits_to_try_again(
    result: Attempt, before: int, after: Next
) -> None:
    assert callback.after_attempt(result, before, RULES) == after


def test_the_agent_hears_the_number_digit_by_digit() -> None:
    assert callback.said("15550102") == "1 5 5 5 0 1 0 2"


def test_a_queues_callback_settings_are_parsed_and_checked() -> None:
    assert Routing.parse({}).callback == CallbackRules()  # off by default
    assert Routing.parse({}).callback.key is None
    rules = Routing.parse(
        {"callback_key": "5", "callback_attempts": 2, "callback_retry_seconds": 30,
         "callback_whisper": "custom/cb.wav", "callback_done_prompt": "custom/bye.wav",
         "callback_wrapup": True}
    ).callback  # fmt: skip
    assert (rules.key, rules.attempts, rules.retry_seconds) == ("5", 2, 30)
    assert (rules.whisper, rules.done_prompt) == ("custom/cb.wav", "custom/bye.wav")
    assert rules.wrapup and not CallbackRules().wrapup
    assert rules.prompt == CallbackRules().prompt  # the others keep their defaults


@pytest.mark.parametrize(
    ("stored", "key", "says"),
    [
        ({"callback_key": "55"}, "callback_key", "expected one key"),
        ({"callback_key": "0", "exit_key": "0"}, "callback_key", "already the exit key"),
        ({"callback_attempts": 0}, "callback_attempts", "1-10"),
        ({"callback_min_digits": 12, "callback_max_digits": 8}, "callback_min_digits", "above"),
        ({"callback_whisper": "a\nb"}, "callback_whisper", "sound file"),
    ],
)
def test_bad_callback_settings_name_the_key(stored: dict[str, object], key: str, says: str) -> None:
    with pytest.raises(RuleError) as caught:
        Routing.parse(stored)
    assert caught.value.key == key and says in caught.value.reason


def test_a_place_restored_after_a_restart_is_given_back_once_within_the_window() -> None:
    rejoins = Rejoins()
    rejoins.restore("sales", "15550102000", since_us=1_000, left_at=50.0)  # the last run's
    rejoins.expect("t-1", "sales", "+1 555 010 2000")
    assert rejoins.number_of("t-1") == "15550102000"
    assert rejoins.place("t-1", window=60, now=100.0) == 1_000
    rejoins.expect("t-2", "sales", "15550102000")
    assert rejoins.place("t-2", window=60, now=101.0) is None  # given back once
    rejoins.restore("sales", "15550103000", since_us=2_000, left_at=0.0)
    rejoins.expect("t-3", "sales", "15550103000")
    assert rejoins.place("t-3", window=60, now=100.0) is None  # left 100 s ago: too late

"""A callback that keeps the caller's place: the number to call, and what follows an attempt.

Pure. The caller presses the queue's callback key while waiting, confirms its caller ID or
keys in another number (``number_to_call``), hangs up, and stays in line as a virtual caller
(its ticket, its join time and priority). At the front, with an agent free, the engine rings
the agent first, then dials the customer through the outbound routes; ``after_attempt``
says what the customer's answer (a FreeSWITCH hangup cause) means for the stay: answered,
dialled again after ``retry_seconds`` (the place kept), or failed for good.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from callcenter.acd.rejoin import normalized
from callcenter.acd.rules import CallbackRules
from callcenter.vocabulary import QueueOutcome

CONFIRM = "1"  # "press 1 to call you back at this number"
OTHER = "2"  # "press 2 to enter another number"
_DIGITS = re.compile(r"[0-9]+")
NO_ANSWER = frozenset({"NO_ANSWER", "NO_USER_RESPONSE", "ALLOTTED_TIMEOUT", "ORIGINATOR_CANCEL"})
BUSY = frozenset({"USER_BUSY", "CALL_REJECTED", "NORMAL_CIRCUIT_CONGESTION", "SWITCH_CONGESTION"})


class Attempt(StrEnum):
    """The customer's side of one attempt (stored as the stay's ``callback_result``)."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"  # no route, a bad number, the network
    AGENT_LEFT = "agent_left"  # the agent hung up first, before the bridge: not counted


@dataclass(frozen=True, slots=True)
class Next:
    """What the stay does after an attempt: ``outcome`` set ends it; else it waits
    ``retry_in`` seconds, then stands in line again at its place."""

    attempts: int
    outcome: QueueOutcome | None = None
    retry_in: float = 0.0


def number_to_call(caller_id: str, rules: CallbackRules) -> str | None:
    """The caller's own number as it can be dialled back (digits, the ``+``/``00`` prefix
    dropped), or None when withheld or out of the queue's bounds."""
    found = normalized(caller_id)
    return found if found is not None and _within(found, rules) else None


def keyed_number(digits: str | None, rules: CallbackRules) -> str | None:
    """A number the caller keyed in: digits only, within the queue's bounds."""
    if not digits or not _DIGITS.fullmatch(digits):
        return None
    return digits if _within(digits, rules) else None


AGENT_LEFT = "AGENT_LEFT"  # the cause the callback's call reports when its agent left first


def result_of(cause: str | None) -> Attempt:
    """The attempt as the stay records it, from the customer leg's hangup cause (None:
    it answered)."""
    if cause is None:
        return Attempt.ANSWERED
    if cause == AGENT_LEFT:
        return Attempt.AGENT_LEFT
    if cause in NO_ANSWER:
        return Attempt.NO_ANSWER
    if cause in BUSY:
        return Attempt.BUSY
    return Attempt.FAILED


def after_attempt(result: Attempt, attempts_before: int, rules: CallbackRules) -> Next:
    """The stay after one more attempt. A number no route can take fails at once (dialling
    it again would fail again)."""
    if result is Attempt.AGENT_LEFT:
        return Next(attempts_before)  # back in line at once, at its place
    attempts = attempts_before + 1
    if result is Attempt.ANSWERED:
        return Next(attempts, QueueOutcome.CALLBACK_ANSWERED)
    if attempts >= rules.attempts or result is Attempt.FAILED:
        return Next(attempts, QueueOutcome.CALLBACK_FAILED)
    return Next(attempts, retry_in=float(rules.retry_seconds))


def said(number: str) -> str:
    """The number as TTS reads it to the agent, digit by digit: ``5 5 5 0 1 ...``."""
    return " ".join(number)


def _within(digits: str, rules: CallbackRules) -> bool:
    return rules.min_digits <= len(digits) <= rules.max_digits

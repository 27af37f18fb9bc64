"""A queue's routing rules as values: skill relaxation, tier rules, failure policy, exits.

Stored as one JSON object per queue (``queues.routing``) and per agent (``agents.routing``,
the failure policy's overrides); ``Routing.parse`` checks every key and value and raises
``RuleError`` naming the key and what was expected. Pure: no I/O, no clock.

Relaxation, as an operator writes it: ``after 30s: english >= 50; after 90s: any english``.
Each rule takes effect once the caller has waited that long; ``SKILL >= N`` lowers the level
asked of a skill to N, ``any SKILL`` asks only that the agent has it, ``drop SKILL`` asks
nothing. A rule never raises a level: the level asked is the lowest in force.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from callcenter.vocabulary import SKILL

ANY = 0  # "any english": the skill at any level
# app_queue's joinempty/leavewhenempty conditions, in this engine's agent vocabulary
EMPTY_CONDITIONS = ("paused", "unavailable", "inuse", "ringing", "wrapup")
PAUSE_REASON_MAX = 64
_AFTER = re.compile(r"after\s+(\d{1,6})\s*(s|m|sec|min)?\s*:\s*(.*)", re.IGNORECASE | re.DOTALL)
_AT_LEAST = re.compile(r"([a-z0-9_-]{1,64})\s*>=\s*(\d{1,3})")
_WORD = re.compile(r"(any|drop)\s+([a-z0-9_-]{1,64})")
_PAUSE_REASON = re.compile(r"[A-Za-z0-9_. -]{1,64}")


class RuleError(ValueError):
    """``key`` is the setting that is wrong, ``reason`` what was expected."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Relax:
    """From ``after`` seconds of waiting: each skill's level (``ANY``; None: not asked)."""

    after: int
    levels: tuple[tuple[str, int | None], ...]

    def __str__(self) -> str:
        parts = []
        for skill, level in self.levels:
            if level is None:
                parts.append(f"drop {skill}")
            elif level == ANY:
                parts.append(f"any {skill}")
            else:
                parts.append(f"{skill} >= {level}")
        return f"after {self.after}s: {', '.join(parts)}"


def parse_relax(text: str) -> tuple[Relax, ...]:
    """``after 30s: english >= 50; after 90s: any english`` -> rules, by time."""
    if not isinstance(text, str) or len(text) > 2000:
        raise RuleError("relax", "expected text of at most 2000 characters")
    rules: list[Relax] = []
    for number, chunk in enumerate((c.strip() for c in text.split(";")), 1):
        if not chunk:
            continue
        where = f"relax rule {number} ({chunk[:40]!r})"
        found = _AFTER.fullmatch(chunk)
        if found is None:
            raise RuleError(where, "expected 'after <N>s: <skill> >= <level>' (or 'any <skill>')")
        seconds = int(found.group(1)) * (60 if (found.group(2) or "s")[0].lower() == "m" else 1)
        levels = tuple(_clause(where, c.strip()) for c in found.group(3).split(","))
        if rules and seconds <= rules[-1].after:
            raise RuleError(where, f"{seconds}s: rules must come in increasing time")
        names = [s for s, _ in levels]
        if len(set(names)) != len(names):
            raise RuleError(where, "a skill appears twice in one rule")
        rules.append(Relax(seconds, levels))
    return tuple(rules)


def _clause(where: str, clause: str) -> tuple[str, int | None]:
    lowered = clause.lower()
    at_least = _AT_LEAST.fullmatch(lowered)
    if at_least is not None:
        level = int(at_least.group(2))
        if level > 100:
            raise RuleError(where, f"{clause!r}: a level is 0-100")
        return at_least.group(1), level
    word = _WORD.fullmatch(lowered)
    if word is not None and SKILL.fullmatch(word.group(2)):
        return word.group(2), ANY if word.group(1) == "any" else None
    expected = "expected '<skill> >= <level>', 'any <skill>' or 'drop <skill>'"
    raise RuleError(where, f"{clause[:40]!r}: {expected}")


def relaxed(asked: Mapping[str, int], rules: tuple[Relax, ...], waited: float) -> dict[str, int]:
    """The levels asked after ``waited`` seconds: never above ``asked``."""
    now = dict(asked)
    for rule in rules:
        if rule.after > waited:
            break
        for skill, level in rule.levels:
            if skill not in now:
                continue
            if level is None:
                del now[skill]
            else:
                now[skill] = min(now[skill], level)
    return now


def next_relaxation(rules: tuple[Relax, ...], waited: float) -> float | None:
    """Seconds of waiting at which the next rule takes effect (None: no rule left)."""
    return next((float(r.after) for r in rules if r.after > waited), None)


@dataclass(frozen=True, slots=True)
class FailurePolicy:
    """How long an agent rests after an offer that failed, and when it is paused.

    As mod_callcenter: a busy phone (or congestion) rests ``busy_delay``, a rejected call
    ``reject_delay``, an unregistered phone ``unregistered_delay``, anything else is a no
    answer: ``no_answer_delay``, and counts; ``max_no_answer`` no-answers in a row (0: never)
    pause the agent with ``pause_reason``. An unregistered phone counts too (mod_callcenter
    would ring it every 5 s forever)."""

    no_answer_delay: int = 10
    busy_delay: int = 30
    reject_delay: int = 30
    unregistered_delay: int = 30
    max_no_answer: int = 3
    pause_reason: str = "no_answer"

    def merged(self, overrides: Mapping[str, Any]) -> FailurePolicy:
        return replace(self, **overrides) if overrides else self


_FAILURE_KEYS = {f.name for f in fields(FailurePolicy)}


@dataclass(frozen=True, slots=True)
class TierRules:
    """mod_callcenter's tier rules: a caller reaches tier L after ``wait`` seconds (times L
    with ``multiply``); with ``no_agent_no_wait`` at once when the tier below has nobody
    logged in. ``wait`` 0: every tier at once, the lower ones preferred."""

    wait: int = 0
    multiply: bool = False
    no_agent_no_wait: bool = False


@dataclass(frozen=True, slots=True)
class CallbackRules:
    """A callback that keeps the caller's place (``acd.callback``): the key that offers it
    (None: off), the customer's number's bounds, how often and how far apart it is dialled."""

    key: str | None = None
    attempts: int = 3
    retry_seconds: int = 120
    min_digits: int = 7
    max_digits: int = 15
    ring_seconds: int = 30
    whisper: str | None = None  # played to the agent before the customer is dialled
    wrapup: bool = False  # after a customer not reached: the agent's wrap-up (else idle)
    prompt: str = "say:we will call you back at"  # then the number, digit by digit
    choice_prompt: str = "say:press 1 to confirm, or 2 to enter another number"
    enter_prompt: str = "say:please enter the number to call, then press the pound key"
    done_prompt: str = "say:thank you, you keep your place, we will call you back"


@dataclass(frozen=True, slots=True)
class Routing:
    relax: tuple[Relax, ...] = ()
    tiers: TierRules = field(default_factory=TierRules)
    failure: FailurePolicy = field(default_factory=FailurePolicy)
    max_wait_no_agent: int = 0  # seconds with no member logged in before callers leave
    no_agent_grace: int = 0  # ... but not before they waited max_wait_no_agent + this
    join_empty: frozenset[str] = frozenset()  # app_queue joinempty: who counts as absent
    leave_empty: frozenset[str] = frozenset()  # app_queue leavewhenempty
    ring_progressively_delay: int = 10
    exit_key: str | None = None  # a DTMF key that takes the caller out of the queue
    exit_target: str | None = None  # where it goes (None: the queue's overflow target)
    callback: CallbackRules = field(default_factory=CallbackRules)

    @classmethod
    def parse(cls, stored: Mapping[str, Any] | None) -> Routing:
        """A queue's ``routing`` JSON as values; ``RuleError`` names the first bad key."""
        values = dict(stored or {})
        unknown = sorted(set(values) - set(QUEUE_KEYS))
        if unknown:
            raise RuleError(unknown[0], f"unknown setting (known: {', '.join(QUEUE_KEYS)})")
        checked = {k: QUEUE_KEYS[k](k, v) for k, v in values.items()}
        failure = {k: v for k, v in checked.items() if k in _FAILURE_KEYS}
        return cls(
            relax=checked.get("relax", ()),
            tiers=TierRules(
                checked.get("tier_wait_seconds", 0),
                checked.get("tier_wait_multiply", False),
                checked.get("tier_no_agent_no_wait", False),
            ),
            failure=FailurePolicy().merged(failure),
            max_wait_no_agent=checked.get("max_wait_no_agent_seconds", 0),
            no_agent_grace=checked.get("no_agent_grace_seconds", 0),
            join_empty=checked.get("join_empty", frozenset()),
            leave_empty=checked.get("leave_empty", frozenset()),
            ring_progressively_delay=checked.get("ring_progressively_delay", 10),
            exit_key=checked.get("exit_key"),
            exit_target=checked.get("exit_target"),
            callback=_callback_rules(checked),
        )


def _callback_rules(checked: Mapping[str, Any]) -> CallbackRules:
    rules = CallbackRules(
        key=checked.get("callback_key"),
        attempts=checked.get("callback_attempts", 3),
        retry_seconds=checked.get("callback_retry_seconds", 120),
        min_digits=checked.get("callback_min_digits", 7),
        max_digits=checked.get("callback_max_digits", 15),
        ring_seconds=checked.get("callback_ring_seconds", 30),
        whisper=checked.get("callback_whisper"),
        wrapup=checked.get("callback_wrapup", False),
        **{
            field: checked[f"callback_{field}"]
            for field in ("prompt", "choice_prompt", "enter_prompt", "done_prompt")
            if f"callback_{field}" in checked
        },
    )
    if rules.min_digits > rules.max_digits:
        raise RuleError("callback_min_digits", f"{rules.min_digits}: above callback_max_digits")
    if rules.key is not None and rules.key == checked.get("exit_key"):
        raise RuleError("callback_key", f"{rules.key!r}: already the exit key")
    return rules


def agent_overrides(stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """An agent's ``routing`` JSON: failure policy keys only, each checked."""
    values = dict(stored or {})
    unknown = sorted(set(values) - _FAILURE_KEYS)
    if unknown:
        known = ", ".join(sorted(_FAILURE_KEYS))
        raise RuleError(unknown[0], f"unknown agent setting (known: {known})")
    return {k: QUEUE_KEYS[k](k, v) for k, v in values.items()}


def normalized(stored: Mapping[str, Any]) -> dict[str, Any]:
    """What to store for checked settings: JSON values, relaxation rules as written back."""
    out: dict[str, Any] = {}
    for key, value in stored.items():
        checked = QUEUE_KEYS[key](key, value)
        if key == "relax":
            out[key] = "; ".join(str(r) for r in checked)
        elif isinstance(checked, frozenset):
            out[key] = ",".join(sorted(checked))
        else:
            out[key] = checked
    return out


def _seconds(low: int, high: int) -> Any:
    def check(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise RuleError(key, f"{value!r}: expected a whole number {low}-{high}")
        return value

    return check


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise RuleError(key, f"{value!r}: expected true or false")
    return value


def _conditions(key: str, value: Any) -> frozenset[str]:
    if not isinstance(value, str):
        raise RuleError(key, f"{value!r}: expected a comma list of {', '.join(EMPTY_CONDITIONS)}")
    given = [v.strip().lower() for v in value.split(",") if v.strip()]
    if given in (["no"], ["off"]):
        return frozenset()
    bad = [v for v in given if v not in EMPTY_CONDITIONS]
    if bad:
        raise RuleError(key, f"{bad[0]!r}: expected a comma list of {', '.join(EMPTY_CONDITIONS)}")
    return frozenset(given)


def _pause_reason(key: str, value: Any) -> str:
    if not isinstance(value, str) or not _PAUSE_REASON.fullmatch(value):
        raise RuleError(key, f"{value!r}: expected 1-64 letters, digits, ' ', '.', '_' or '-'")
    return value


def _key(key: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) != 1 or value not in "0123456789*#":
        raise RuleError(key, f"{value!r}: expected one key: 0-9, * or #")
    return value


def _target(key: str, value: Any) -> str:
    """A route target's shape (the service checks it as a route target too)."""
    if not isinstance(value, str) or not 0 < len(value) <= 255 or not value.isprintable():
        raise RuleError(key, f"{value!r}: expected a route target (queue:NAME, ivr:FLOW...)")
    return value


def _prompt(key: str, value: Any) -> str:
    """A sound file or ``say:`` text for playback (the service checks it as a playback)."""
    if not isinstance(value, str) or not 0 < len(value) <= 255 or not value.isprintable():
        raise RuleError(key, f"{value!r}: expected a sound file (custom/callback.wav)")
    return value


def _relax(key: str, value: Any) -> tuple[Relax, ...]:
    return parse_relax(value)


QUEUE_KEYS: dict[str, Any] = {
    "relax": _relax,
    "tier_wait_seconds": _seconds(0, 86_400),
    "tier_wait_multiply": _flag,
    "tier_no_agent_no_wait": _flag,
    "no_answer_delay": _seconds(0, 3600),
    "busy_delay": _seconds(0, 3600),
    "reject_delay": _seconds(0, 3600),
    "unregistered_delay": _seconds(0, 3600),
    "max_no_answer": _seconds(0, 100),
    "pause_reason": _pause_reason,
    "max_wait_no_agent_seconds": _seconds(0, 86_400),
    "no_agent_grace_seconds": _seconds(0, 86_400),
    "join_empty": _conditions,
    "leave_empty": _conditions,
    "ring_progressively_delay": _seconds(1, 600),
    "exit_key": _key,
    "exit_target": _target,
    "callback_key": _key,
    "callback_attempts": _seconds(1, 10),
    "callback_retry_seconds": _seconds(0, 86_400),
    "callback_min_digits": _seconds(3, 20),
    "callback_max_digits": _seconds(3, 20),
    "callback_ring_seconds": _seconds(5, 300),
    "callback_whisper": _prompt,
    "callback_wrapup": _flag,
    "callback_prompt": _prompt,
    "callback_choice_prompt": _prompt,
    "callback_enter_prompt": _prompt,
    "callback_done_prompt": _prompt,
}

"""Feature codes: which action a number dialled from an agent's phone asks for. Pure.

The codes come from settings (``feature_codes``, ``pause_reasons``); the pause code takes
the reason's digits after it (``*231``: reason 1), a bare pause code the default reason;
the eavesdrop code takes an agent's extension (``*331001``: a supervisor listens to 1001);
the disposition code a campaign's disposition key (``*302``: disposition 2 of the agent's
last campaign call).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from callcenter.errors import ConfigError


class Feature(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    PAUSE = "pause"
    READY = "ready"
    WRAPUP_END = "wrapup_end"
    ON_DEMAND = "on_demand"
    STATUS = "status"
    EAVESDROP = "eavesdrop"  # a supervisor: *33<agent extension>
    DISPOSITION = "disposition"  # after a campaign's call: *30<key> (dialer.dispositions)
    # pressed during a call (DTMF on the agent's leg), not dialled: PCI pause and resume of
    # the call's recording (recording.on_call)
    RECORD_PAUSE = "record_pause"
    RECORD_RESUME = "record_resume"


IN_CALL = frozenset({Feature.RECORD_PAUSE, Feature.RECORD_RESUME})

DEFAULT_CODES: tuple[tuple[str, str], ...] = (
    ("login", "*21"),
    ("logout", "*22"),
    ("pause", "*23"),
    ("ready", "*24"),
    ("wrapup_end", "*25"),
    ("on_demand", "*26"),
    ("status", "*29"),
    ("eavesdrop", "*33"),
    ("disposition", "*30"),
    ("record_pause", "*27"),
    ("record_resume", "*28"),
)
DEFAULT_PAUSE_REASONS: tuple[tuple[str, str], ...] = (
    ("1", "break"),
    ("2", "lunch"),
    ("3", "training"),
    ("4", "meeting"),
)
_CODE = re.compile(r"\*[0-9]{1,8}")
_REASON_DIGITS = re.compile(r"[0-9]{1,4}")
_REASON_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_EXTENSION_DIGITS = re.compile(r"[0-9]{1,16}")
_KEY_DIGITS = re.compile(r"[0-9]{1,2}")
_TAKE_DIGITS = frozenset({Feature.EAVESDROP, Feature.DISPOSITION})


@dataclass(frozen=True, slots=True)
class Request:
    feature: Feature
    reason: str | None = None  # pause: the reason's name
    target: str | None = None  # eavesdrop: the agent's extension; disposition: its key


@dataclass(frozen=True, slots=True)
class Unknown:
    """Not a feature code, or a pause with a reason code nobody configured."""

    dialled: str
    why: str


@dataclass(frozen=True, slots=True)
class FeatureCodes:
    codes: Mapping[str, Feature]  # "*21" -> LOGIN
    reasons: Mapping[str, str]  # "1" -> "break"
    default_reason: str = "phone"

    def parse(self, dialled: str) -> Request | Unknown:
        feature = self.codes.get(dialled)
        if feature is Feature.PAUSE:
            return Request(Feature.PAUSE, self.default_reason)
        if feature is not None and feature not in _TAKE_DIGITS:  # those take digits
            return Request(feature)
        pause = self.code_of(Feature.PAUSE)
        if pause is not None and dialled.startswith(pause):
            digits = dialled[len(pause) :]
            name = self.reasons.get(digits)
            if name is None:
                return Unknown(dialled, f"no pause reason {digits!r}")
            return Request(Feature.PAUSE, name)
        eavesdrop = self.code_of(Feature.EAVESDROP)
        if eavesdrop is not None and dialled.startswith(eavesdrop):
            agent = dialled[len(eavesdrop) :]
            if not _EXTENSION_DIGITS.fullmatch(agent):
                return Unknown(dialled, f"{eavesdrop} takes an agent's extension, got {agent!r}")
            return Request(Feature.EAVESDROP, target=agent)
        disposition = self.code_of(Feature.DISPOSITION)
        if disposition is not None and dialled.startswith(disposition):
            key = dialled[len(disposition) :]
            if not _KEY_DIGITS.fullmatch(key):
                return Unknown(dialled, f"{disposition} takes a disposition key 0-99, got {key!r}")
            return Request(Feature.DISPOSITION, target=key)
        return Unknown(dialled, "not a feature code")

    def in_call(self, keys: str) -> Feature | None:
        """The in-call feature whose code ``keys`` (an agent's last keys) end with."""
        for code, feature in self.codes.items():
            if feature in IN_CALL and keys.endswith(code):
                return feature
        return None

    def code_of(self, feature: Feature) -> str | None:
        return next((code for code, f in self.codes.items() if f is feature), None)


def feature_codes(
    codes: Iterable[tuple[str, str]],
    reasons: Iterable[tuple[str, str]] = DEFAULT_PAUSE_REASONS,
    default_reason: str = "phone",
    where: str = "feature_codes",
) -> FeatureCodes:
    """Checked: every code ``*`` and 1-8 digits, one per feature, none the start of another
    (the phone dials the whole number: ``*2`` would hide ``*21``), except that the pause
    code's reasons follow it."""
    by_code: dict[str, Feature] = {}
    seen: set[Feature] = set()
    for name, code in codes:
        try:
            feature = Feature(name)
        except ValueError:
            known = ", ".join(f.value for f in Feature)
            raise ConfigError(f"{where}: unknown feature {name!r} (known: {known})") from None
        if not _CODE.fullmatch(code):
            raise ConfigError(f"{where}: {name}: expected * and 1-8 digits, got {code!r}")
        if feature in seen or code in by_code:
            raise ConfigError(f"{where}: {name} {code} given twice")
        seen.add(feature)
        by_code[code] = feature
    for code in by_code:
        for other in by_code:
            if other != code and other.startswith(code):
                raise ConfigError(f"{where}: {code} is the start of {other}: one hides the other")
    table = {}
    for digits, reason in reasons:
        if not _REASON_DIGITS.fullmatch(digits) or not _REASON_NAME.fullmatch(reason):
            raise ConfigError(
                f"pause_reasons: expected DIGITS=name (name: a-z 0-9 _ -), got {digits}={reason}"
            )
        if digits in table:
            raise ConfigError(f"pause_reasons: reason code {digits} given twice")
        table[digits] = reason
    if not _REASON_NAME.fullmatch(default_reason):
        raise ConfigError(f"pause_default_reason: expected a-z 0-9 _ -, got {default_reason!r}")
    return FeatureCodes(by_code, table, default_reason)


def parse_pairs(value: object, where: str) -> tuple[tuple[str, str], ...]:
    """``name=value,name=value`` (environment) or a mapping (the YAML file)."""
    if isinstance(value, Mapping):
        return tuple((str(k), str(v)) for k, v in value.items())
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected name=value,... or a mapping")
    pairs = []
    for chunk in (c.strip() for c in value.split(",")):
        if not chunk:
            continue
        name, sep, text = chunk.partition("=")
        if not sep:
            raise ConfigError(f"{where}: expected name=value, got {chunk!r}")
        pairs.append((name.strip(), text.strip()))
    return tuple(pairs)

"""Checks of what an operator gives a service, from the CLI or the HTTP API alike.

Input is hostile until checked: each check raises ``InvalidArgument`` naming the field
and what was expected, before anything is read from or written to the database.
"""

from __future__ import annotations

import re
import secrets

from callcenter.errors import CallCenterError, DomainError
from callcenter.esl import quoting
from callcenter.esl.vocabulary import HangupCause
from callcenter.trunks import targets
from callcenter.vocabulary import EXTENSION, SKILL

QUEUE_NAME = targets.QUEUE_NAME
PAUSE_REASON_MAX = 64
AGENT_NAME_MAX = 64
SIP_PASSWORD_MIN = 10
SIP_PASSWORD_MAX = 128
TARGET_MAX = targets.TARGET_MAX
_PIN = re.compile(r"\d{4,12}")
_CALL_UUID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class InvalidArgument(DomainError):
    """``field`` names what was wrong (an option or JSON field), ``reason`` says why."""

    code = "invalid_argument"

    def __init__(self, field: str, reason: str, *, code: str | None = None) -> None:
        super().__init__(f"{field}: {reason}", code=code)
        self.field = field
        self.reason = reason


def shown(value: str) -> str:
    """At most 40 characters, quoted and escaped: a value must not drive the terminal."""
    text = repr(value[:40] + ("..." if len(value) > 40 else ""))
    return text if text.isascii() else text.encode("ascii", "backslashreplace").decode()


def _pattern(field: str, value: str, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidArgument(field, f"{shown(str(value))}: expected {what}")
    return value


def extension(value: str, field: str = "extension") -> str:
    return _pattern(field, value, EXTENSION, "1-32 letters, digits, '.', '_' or '-'")


def queue_name(value: str, field: str = "queue") -> str:
    return _pattern(field, value, QUEUE_NAME, "1-64 letters, digits, '.', '_' or '-'")


def skill(value: str, field: str = "skill") -> str:
    return _pattern(field, value, SKILL, "1-64 lowercase letters, digits, '_' or '-'")


def call_uuid(value: str, field: str = "uuid") -> str:
    return _pattern(field, value, _CALL_UUID, "a call UUID (1-64 of A-Z a-z 0-9 . _ -)")


def level(value: int, field: str = "level") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidArgument(field, f"{value!r}: expected a level 0-100")
    return value


def in_range(value: int, low: int, high: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgument(field, f"{value!r}: expected {low}-{high}")
    return value


def skills(values: dict[str, int], field: str = "skills") -> dict[str, int]:
    return {skill(k, field): level(v, field) for k, v in values.items()}


def printable(value: str, field: str, most: int, *, empty: bool = False) -> str:
    if not isinstance(value, str) or not (
        (empty or value) and len(value) <= most and value.isprintable()
    ):
        expected = f"at most {most}" if empty else f"1-{most}"
        raise InvalidArgument(
            field, f"{shown(str(value))}: expected {expected} printable characters"
        )
    return value


def pause_reason(value: str | None) -> str | None:
    return None if value is None else printable(value, "reason", PAUSE_REASON_MAX)


def agent_name(value: str) -> str:
    return printable(value, "name", AGENT_NAME_MAX, empty=True)


def pin(value: str | None) -> str | None:
    if value is not None and not _PIN.fullmatch(value):
        raise InvalidArgument("pin", "a PIN is 4 to 12 digits", code="invalid_pin")
    return value


def sip_password(value: str, extension: str | None = None) -> str:
    """What a phone can be given and an attacker cannot guess in a night of REGISTERs:
    10-128 printable ASCII characters without spaces, not the extension, not one repeated
    character, at least two of: lowercase, uppercase, digits, symbols."""
    field = "sip_password"
    if not SIP_PASSWORD_MIN <= len(value) <= SIP_PASSWORD_MAX:
        raise InvalidArgument(
            field,
            f"expected {SIP_PASSWORD_MIN}-{SIP_PASSWORD_MAX} characters, got {len(value)} "
            "(omit it to have one generated)",
        )
    if not all("!" <= c <= "~" for c in value):
        raise InvalidArgument(field, "expected printable ASCII characters without spaces")
    classes = sum(
        any(test(c) for c in value)
        for test in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )
    if len(set(value)) < 4 or classes < 2:
        raise InvalidArgument(
            field,
            "too easy to guess: mix letters, digits and symbols, and leave the extension out "
            "(omit it to have one generated)",
        )
    if extension is not None and extension in value:
        raise InvalidArgument(field, "too easy to guess: leave the extension out")
    return value


def new_sip_password() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, about 144 bits


def playback(value: str, field: str) -> str:
    """One playback argument: a file, local_stream:// or tone_stream:// source."""
    try:
        quoting.token(field, value)
    except CallCenterError as exc:
        raise InvalidArgument(field, exc.message) from exc
    if len(value) > TARGET_MAX:
        raise InvalidArgument(field, f"longer than {TARGET_MAX} characters")
    return value


def hangup_cause(value: str) -> str:
    if value not in HangupCause.__members__:
        raise InvalidArgument(
            "cause",
            f"{shown(value)} is not a FreeSWITCH hangup cause (e.g. NORMAL_CLEARING, "
            "CALL_REJECTED)",
        )
    return value


_WHISPER_FILE = re.compile(r"(?:/|[a-z_]+://)[^\s!;,'\"{}()]{1,500}")
_CALLER_ID = re.compile(r"\+?[0-9]{1,20}")
WHISPER_QUEUE = "queue"  # the queue's name, spoken by the TTS engine


def whisper(value: str | None) -> str | None:
    """What an agent hears before a queue caller is bridged: ``queue`` (its name, spoken),
    an absolute file path or a ``scheme://`` prompt; ``""``: nothing."""
    if value is None or value in ("", WHISPER_QUEUE) or _WHISPER_FILE.fullmatch(value):
        return value
    raise InvalidArgument(
        "whisper", "expected 'queue', an absolute file path or a scheme:// prompt (no spaces)"
    )


def caller_id(value: str | None, field: str = "caller_id") -> str | None:
    if value is None or value == "" or _CALLER_ID.fullmatch(value):
        return value
    raise InvalidArgument(field, "expected a number: digits, an optional leading +")


def region(value: str, field: str = "region") -> str:
    """An ISO country code phonenumbers knows (the numbering plan of numbers without '+')."""
    import phonenumbers  # the numbering plans' data: loaded by those who read numbers only

    if not isinstance(value, str) or value.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidArgument(field, f"{shown(str(value))}: not an ISO country code, e.g. US")
    return value.upper()

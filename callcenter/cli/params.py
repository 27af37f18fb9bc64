"""Checks for the agent and queue commands' arguments, as click callbacks.

An argument is hostile until checked: each check raises ``click.BadParameter``, which
click reports naming the argument, before anything is read from or written to the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import click

from callcenter import vocabulary
from callcenter.errors import CallCenterError
from callcenter.esl import quoting
from callcenter.trunks import targets
from callcenter.vocabulary import EXTENSION

# what an IVR flow's queue node and a queue: route target accept as a queue name
QUEUE_NAME = targets.QUEUE_NAME
SKILL = vocabulary.SKILL
FLOW_NAME = targets.FLOW_NAME
PAUSE_REASON_MAX = 64
TARGET_MAX = targets.TARGET_MAX  # queues.overflow_target

Check = Callable[[click.Context | None, click.Parameter | None, str | None], str | None]


def _shown(value: str) -> str:
    return repr(value[:40] + ("..." if len(value) > 40 else ""))


def _pattern(pattern: re.Pattern[str], what: str) -> Check:
    def check(
        ctx: click.Context | None, param: click.Parameter | None, value: str | None
    ) -> str | None:
        if value is not None and not pattern.fullmatch(value):
            raise click.BadParameter(f"{_shown(value)}: expected {what}")
        return value

    return check


extension = _pattern(EXTENSION, "1-32 letters, digits, '.', '_' or '-'")
queue_name = _pattern(QUEUE_NAME, "1-64 letters, digits, '.', '_' or '-'")
skill = _pattern(SKILL, "1-64 lowercase letters, digits, '_' or '-'")


def pause_reason(
    ctx: click.Context | None, param: click.Parameter | None, value: str | None
) -> str | None:
    if value is not None and not (0 < len(value) <= PAUSE_REASON_MAX and value.isprintable()):
        raise click.BadParameter(
            f"{_shown(value)}: expected 1-{PAUSE_REASON_MAX} printable characters"
        )
    return value


def music_on_hold(
    ctx: click.Context | None, param: click.Parameter | None, value: str | None
) -> str | None:
    """One playback argument: a file, local_stream:// or tone_stream:// source."""
    if value is None:
        return None
    try:
        quoting.token("music on hold", value)
    except CallCenterError as exc:
        raise click.BadParameter(exc.message) from exc
    if len(value) > TARGET_MAX:
        raise click.BadParameter(f"longer than {TARGET_MAX} characters")
    return value


def target(
    ctx: click.Context | None, param: click.Parameter | None, value: str | None
) -> str | None:
    """A route target (``extension:1001``, ``queue:support``, ...), checked as ``route add``
    checks one, returned normalized."""
    if value is None:
        return None
    try:
        return str(targets.check_target(value))
    except targets.InvalidRoute as exc:
        raise click.BadParameter(exc.reason) from exc


AGENT_NAME_MAX = 64
SIP_PASSWORD_MIN = 10
SIP_PASSWORD_MAX = 128


def agent_name(
    ctx: click.Context | None, param: click.Parameter | None, value: str | None
) -> str | None:
    """A display name, shown as the agent's caller ID: printable, at most 64 characters."""
    if value is not None and not (len(value) <= AGENT_NAME_MAX and value.isprintable()):
        raise click.BadParameter(
            f"{_shown(value)}: expected at most {AGENT_NAME_MAX} printable characters"
        )
    return value


def sip_password(
    ctx: click.Context | None, param: click.Parameter | None, value: str | None
) -> str | None:
    """What a phone can be given and an attacker cannot guess in a night of REGISTERs:
    10-128 printable ASCII characters without spaces, not the extension, not one repeated
    character, at least two of: lowercase, uppercase, digits, symbols."""
    if value is None:
        return None
    if not SIP_PASSWORD_MIN <= len(value) <= SIP_PASSWORD_MAX:
        raise click.BadParameter(
            f"expected {SIP_PASSWORD_MIN}-{SIP_PASSWORD_MAX} characters, got {len(value)} "
            "(omit --sip-password to have one generated)"
        )
    if not all("!" <= c <= "~" for c in value):
        raise click.BadParameter("expected printable ASCII characters without spaces")
    classes = sum(
        any(test(c) for c in value)
        for test in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )
    if len(set(value)) < 4 or classes < 2:
        raise click.BadParameter(
            "too easy to guess: mix letters, digits and symbols, and leave the extension out "
            "(omit --sip-password to have one generated)"
        )
    return value


def sip_password_for(extension: str, value: str) -> None:
    """The part of the strength check that needs the extension (click checks options
    before arguments)."""
    if extension in value:
        raise click.BadParameter(
            "too easy to guess: leave the extension out", param_hint="'--sip-password'"
        )


def new_sip_password() -> str:
    import secrets

    return secrets.token_urlsafe(18)  # 24 characters, about 144 bits

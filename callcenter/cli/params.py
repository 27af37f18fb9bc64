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

"""Checks for the agent and queue commands' arguments, as click callbacks.

An argument is hostile until checked: each check raises ``click.BadParameter``, which
click reports naming the argument, before anything is read from or written to the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import click

from callcenter import vocabulary
from callcenter.calls.routing import parse_target
from callcenter.errors import CallCenterError
from callcenter.esl import quoting
from callcenter.vocabulary import EXTENSION, RouteTarget

# what an IVR flow's queue node accepts as a queue name
QUEUE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
SKILL = vocabulary.SKILL
FLOW_NAME = re.compile(r"[a-z0-9_-]{1,64}")
PAUSE_REASON_MAX = 64
TARGET_MAX = 255  # queues.overflow_target

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


_TARGET_ARG: dict[RouteTarget, tuple[re.Pattern[str], str]] = {
    RouteTarget.EXTENSION: (EXTENSION, "an extension"),
    RouteTarget.QUEUE: (QUEUE_NAME, "a queue name"),
    RouteTarget.IVR: (FLOW_NAME, "a flow name [a-z0-9_-]"),
    RouteTarget.HANGUP: (re.compile(r"[A-Z0-9_]{0,64}"), "a hangup cause, e.g. CALL_REJECTED"),
}


def target(
    ctx: click.Context | None, param: click.Parameter | None, value: str | None
) -> str | None:
    """A route target (``extension:1001``, ``queue:support``, ...), returned normalized."""
    if value is None:
        return None
    try:
        parsed = parse_target(value, "target")
        if parsed.kind is RouteTarget.PLAYBACK:
            quoting.token("playback", parsed.arg)
    except CallCenterError as exc:
        raise click.BadParameter(exc.message) from exc
    pattern, what = _TARGET_ARG.get(parsed.kind, (None, ""))
    if pattern is not None and not pattern.fullmatch(parsed.arg):
        raise click.BadParameter(f"{_shown(parsed.arg)}: expected {what}")
    text = str(parsed)
    if len(text) > TARGET_MAX:
        raise click.BadParameter(f"longer than {TARGET_MAX} characters")
    return text

"""Checks for the commands' arguments, as click callbacks over ``services.checks``.

An argument is hostile until checked: each check raises ``click.BadParameter``, which
click reports naming the argument, before anything is read from or written to the database.
The services check again (the HTTP API calls them too).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from callcenter import vocabulary
from callcenter.services import checks
from callcenter.trunks import targets

QUEUE_NAME = targets.QUEUE_NAME
SKILL = vocabulary.SKILL
FLOW_NAME = targets.FLOW_NAME
PAUSE_REASON_MAX = checks.PAUSE_REASON_MAX
TARGET_MAX = targets.TARGET_MAX  # queues.overflow_target
AGENT_NAME_MAX = checks.AGENT_NAME_MAX
SIP_PASSWORD_MIN = checks.SIP_PASSWORD_MIN
SIP_PASSWORD_MAX = checks.SIP_PASSWORD_MAX

Check = Callable[[click.Context | None, click.Parameter | None, str | None], str | None]


def _callback(check: Callable[[str], Any]) -> Check:
    def callback(
        ctx: click.Context | None, param: click.Parameter | None, value: str | None
    ) -> str | None:
        if value is None:
            return None
        try:
            check(value)
        except checks.InvalidArgument as exc:
            raise click.BadParameter(exc.reason) from exc
        return value

    return callback


extension = _callback(checks.extension)
queue_name = _callback(checks.queue_name)
skill = _callback(checks.skill)
pause_reason = _callback(checks.pause_reason)
agent_name = _callback(checks.agent_name)
sip_password = _callback(checks.sip_password)
music_on_hold = _callback(lambda value: checks.playback(value, "music on hold"))
call_uuid = _callback(checks.call_uuid)
region = _callback(checks.region)  # the imports': checked before the file is read


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


def sip_password_for(extension: str, value: str) -> None:
    """The part of the strength check that needs the extension (click checks options
    before arguments)."""
    if extension in value:
        raise click.BadParameter(
            "too easy to guess: leave the extension out", param_hint="'--sip-password'"
        )


class Moment(click.ParamType[datetime]):
    """A time as an operator gives it, the same for every command that takes one: ISO 8601,
    a date, a time to the minute or second, with ``Z`` or an offset or without a zone; the
    command reads one without a zone in the engine's time_zone (``reports.aware``), as the
    HTTP API does."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:  # fmt: skip
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r}: expected ISO 8601, e.g. {TIME_EXAMPLES}", param, ctx)


TIME_EXAMPLES = "2026-11-30, 2026-11-30T08:00, 2026-11-30T07:00:00Z or 2026-11-30T08:00+01:00"
TIME = Moment()
ZONE_HELP = "without Z or an offset: in the engine's time_zone"

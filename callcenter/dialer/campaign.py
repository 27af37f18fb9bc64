"""A campaign as operators give it and the dialer reads it, and the checks that make it one
the dialer may run. Pure: one check for every way in (``campaign create``/``set``, the HTTP
API); a refused value raises ``InvalidArgument`` naming the field.

Percentages are percent at the surface (``abandon_target_pct`` 1.5 is 1.5%); the store
keeps fractions. Durations of retry rules are seconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from types import MappingProxyType
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callcenter.dialer.compliance import DEFAULT_RETRIES, REDIAL_HOLD, Outcome, RetryRule
from callcenter.dialer.vocabulary import AmdAction, CampaignMode
from callcenter.errors import ConfigError, InvalidNumber
from callcenter.recording import policy as recording_policy
from callcenter.services.checks import InvalidArgument, region, shown
from callcenter.trunks.numbers import normalized_or_none, to_e164
from callcenter.trunks.targets import FLOW_NAME, QUEUE_NAME, InvalidRoute, check_target
from callcenter.vocabulary import EXTENSION

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
DISPOSITION_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
RETRYABLE = (Outcome.BUSY, Outcome.NO_ANSWER, Outcome.MACHINE, Outcome.FAILED, Outcome.ABANDONED)
MIN_RING_SECONDS = 15  # FCC/TSR practice: let a phone ring at least 15 s (4 rings)
MAX_RING_SECONDS = 120
LIMIT_CAP_PCT = 3.0  # TSR 310.4(b)(4) and Ofcom: at most 3% abandoned
MAX_ATTEMPTS = 50
MAX_AGENTS = 500
MAX_HOLD_HOURS = 24 * 30
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_CALLER_NAME = re.compile(r"[A-Za-z0-9 .,&'()_-]{1,64}")


def _default_retries() -> Mapping[Outcome, RetryRule]:
    return MappingProxyType(dict(DEFAULT_RETRIES))


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    name: str
    mode: CampaignMode = CampaignMode.PROGRESSIVE
    queue: str | None = None  # the queue whose agents take the calls
    agents: tuple[str, ...] = ()  # or these agents' extensions
    flow: str | None = None  # broadcast: the IVR flow answered calls go to
    outbound_route: str | None = None  # None: the outbound routes pick, as for any call
    trunks: tuple[str, ...] = ()
    caller_id: str | None = None
    caller_id_name: str | None = None
    region: str = "US"  # numbers without "+" in lead files
    window_start: time = time(8, 0)  # calling hours, in each lead's local time
    window_end: time = time(21, 0)
    report_zone: str = "UTC"  # the calendar day of the per-day (UK) abandon rate
    retries: Mapping[Outcome, RetryRule] = field(default_factory=_default_retries)
    max_attempts: int = 5
    redial_hold_hours: float = REDIAL_HOLD.total_seconds() / 3600
    ring_seconds: int = 20
    abandon_target_pct: float = 1.5
    abandon_limit_pct: float = 3.0
    amd_false_positive_pct: float = 0.0  # the estimate of machine verdicts that were people
    amd: AmdAction = AmdAction.HANGUP
    amd_message: str | None = None  # AMD message: the file left after the beep
    amd_flow: str | None = None  # AMD flow: where a machine goes
    recording: str | None = None  # always|never|sample:N|on-demand; None: the queue's
    safe_harbor_message: str | None = None  # played to a live answer with no agent free
    max_lines: int | None = None
    max_lines_per_agent: int = 3
    description: str = ""


def check(spec: CampaignSpec) -> CampaignSpec:
    """``spec`` as the dialer stores it (enums and lists normalized); ``InvalidArgument``
    naming the field if it may not be stored."""
    check_name(spec.name)
    spec = replace(
        spec,
        mode=_member(CampaignMode, spec.mode, "mode"),
        amd=_member(AmdAction, spec.amd, "amd"),
        agents=tuple(spec.agents),
        trunks=tuple(spec.trunks),
        region=str(spec.region).upper(),
        retries={_member(Outcome, o, "retries"): r for o, r in spec.retries.items()},
    )
    _mode_and_targets(spec)
    _routing(spec)
    _compliance(spec)
    _media(spec)
    if spec.max_lines is not None and not 1 <= spec.max_lines <= 10_000:
        raise InvalidArgument("max_lines", f"{spec.max_lines}: expected 1-10000 (or none)")
    if not 1 <= spec.max_lines_per_agent <= 10:
        raise InvalidArgument("max_lines_per_agent", f"{spec.max_lines_per_agent}: expected 1-10")
    if len(spec.description) > 500 or not _printable(spec.description):
        raise InvalidArgument("description", "at most 500 printable characters")
    return spec


def check_name(name: str, field: str = "name") -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InvalidArgument(field, f"{shown(str(name))}: expected 1-64 of A-Z a-z 0-9 _ . -")
    return name


M = TypeVar("M", CampaignMode, AmdAction, Outcome)


def _member(kind: type[M], value: object, where: str) -> M:
    try:
        return kind(str(value))
    except ValueError:
        known = ", ".join(m.value for m in kind)
        raise InvalidArgument(where, f"{shown(str(value))}: expected one of {known}") from None


def _mode_and_targets(spec: CampaignSpec) -> None:
    if spec.queue is not None and not QUEUE_NAME.fullmatch(spec.queue):
        raise InvalidArgument("queue", f"{shown(spec.queue)}: not a queue name")
    if len(spec.agents) > MAX_AGENTS:
        raise InvalidArgument("agents", f"{len(spec.agents)} agents: at most {MAX_AGENTS}")
    for agent in spec.agents:
        if not EXTENSION.fullmatch(agent):
            raise InvalidArgument("agents", f"{shown(agent)}: not an extension")
    if spec.flow is not None and not FLOW_NAME.fullmatch(spec.flow):
        raise InvalidArgument("flow", f"{shown(spec.flow)}: not a flow name (a-z 0-9 _ -)")
    if spec.mode is CampaignMode.BROADCAST:
        if spec.flow is None:
            raise InvalidArgument("flow", "a broadcast campaign sends answered calls to a flow")
        if spec.queue is not None or spec.agents:
            raise InvalidArgument("queue", "a broadcast campaign has no agents (give --flow)")
        return
    if spec.queue is None and not spec.agents:
        raise InvalidArgument("queue", f"a {spec.mode} campaign needs a queue or agents")
    if spec.queue is not None and spec.agents:
        raise InvalidArgument("agents", "give a queue or agents, not both")


def _routing(spec: CampaignSpec) -> None:
    if spec.outbound_route is not None and not NAME.fullmatch(spec.outbound_route):
        raise InvalidArgument("outbound_route", f"{shown(spec.outbound_route)}: not a route name")
    for trunk in spec.trunks:
        if not NAME.fullmatch(trunk):
            raise InvalidArgument("trunks", f"{shown(trunk)}: not a trunk name")
    if spec.outbound_route is not None and spec.trunks:
        raise InvalidArgument("trunks", "give an outbound route or trunks, not both")
    if spec.caller_id is not None:
        check_caller_id(spec.caller_id, spec.region)
    if spec.caller_id_name is not None and not _CALLER_NAME.fullmatch(spec.caller_id_name):
        raise InvalidArgument(
            "caller_id_name",
            f"{shown(spec.caller_id_name)}: 1-64 of A-Z a-z 0-9 space . , & ' ( ) _ -",
        )
    region(spec.region)


def check_caller_id(value: str, region_of: str = "US") -> str:
    """A campaign's caller ID: ``+``, then a number possible in its country (``phonenumbers``:
    ``+12125550199``, not ``2125550199`` nor ``+1234``), as carriers and TSR 310.4(a)(8) want
    it; ``InvalidArgument`` naming ``caller_id`` (and the E.164 form of a national number read
    in ``region_of``, the campaign's region) otherwise."""
    if not _E164.fullmatch(value):
        hint = normalized_or_none(value, region_of) if len(value) <= 40 else None
        also = f" (in {region_of}: {hint}?)" if hint else ""
        raise InvalidArgument(
            "caller_id", f"{shown(value)}: expected E.164, + then the country code and number, "
            f"e.g. +12125550199{also}",
        )  # fmt: skip
    try:
        return to_e164(value, None)
    except InvalidNumber as exc:
        raise InvalidArgument("caller_id", f"not a number a called party can call back: "
                              f"{exc.message}") from None  # fmt: skip


def _compliance(spec: CampaignSpec) -> None:
    if not spec.window_start < spec.window_end:
        raise InvalidArgument(
            "window", f"{spec.window_start:%H:%M}-{spec.window_end:%H:%M}: start must be before end"
        )
    try:
        ZoneInfo(spec.report_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument(
            "report_zone", f"{shown(spec.report_zone)}: not an IANA time zone, e.g. Europe/London"
        ) from None
    if not MIN_RING_SECONDS <= spec.ring_seconds <= MAX_RING_SECONDS:
        raise InvalidArgument(
            "ring_seconds",
            f"{spec.ring_seconds}: expected {MIN_RING_SECONDS}-{MAX_RING_SECONDS} "
            "(a phone rings at least 15 s before the dialer gives up)",
        )
    if not 1 <= spec.max_attempts <= MAX_ATTEMPTS:
        raise InvalidArgument("max_attempts", f"{spec.max_attempts}: expected 1-{MAX_ATTEMPTS}")
    if not _finite(spec.redial_hold_hours) or not 0 <= spec.redial_hold_hours <= MAX_HOLD_HOURS:
        raise InvalidArgument("redial_hold_hours", f"expected 0-{MAX_HOLD_HOURS} hours")
    target, limit = spec.abandon_target_pct, spec.abandon_limit_pct
    if not _finite(limit) or not 0 < limit <= LIMIT_CAP_PCT:
        raise InvalidArgument(
            "abandon_limit_pct",
            f"{limit}: expected more than 0 and at most {LIMIT_CAP_PCT:g} (the US and UK rules)",
        )
    if not _finite(target) or not 0 < target <= limit:
        raise InvalidArgument(
            "abandon_target_pct", f"{target}: expected more than 0, at most the limit {limit:g}"
        )
    if not _finite(spec.amd_false_positive_pct) or not 0 <= spec.amd_false_positive_pct <= 100:
        raise InvalidArgument("amd_false_positive_pct", "expected a percent 0-100")
    for outcome, rule in spec.retries.items():
        where = f"retries.{outcome}"
        if outcome not in RETRYABLE:
            retryable = ", ".join(RETRYABLE)
            raise InvalidArgument(where, f"not an outcome with retries ({retryable})")
        if not 0 <= rule.times <= MAX_ATTEMPTS:
            raise InvalidArgument(where, f"{outcome} {rule.times} times: expected 0-{MAX_ATTEMPTS}")
        if not 60 <= rule.after.total_seconds() <= 30 * 86400:
            after = f"{rule.after.total_seconds():g} s"
            raise InvalidArgument(where, f"{outcome} after {after}: expected 1 minute to 30 days")


def _media(spec: CampaignSpec) -> None:
    if spec.amd is AmdAction.MESSAGE and spec.amd_message is None:
        raise InvalidArgument("amd_message", "AMD 'message' needs the file to leave")
    if spec.amd is AmdAction.FLOW and spec.amd_flow is None:
        raise InvalidArgument("amd_flow", "AMD 'flow' needs the flow machines go to")
    if spec.amd_flow is not None and not FLOW_NAME.fullmatch(spec.amd_flow):
        raise InvalidArgument("amd_flow", f"{shown(spec.amd_flow)}: not a flow name")
    for where in ("amd_message", "safe_harbor_message"):
        value = getattr(spec, where)
        if value is not None:
            try:
                check_target(f"playback:{value}")
            except InvalidRoute as exc:
                raise InvalidArgument(where, exc.reason.replace("playback ", "")) from None
    if spec.recording is not None:
        try:
            recording_policy.parse(spec.recording)
        except ConfigError as exc:
            raise InvalidArgument("recording", str(exc).removeprefix("recording: ")) from None
    if spec.mode is CampaignMode.PREDICTIVE and spec.safe_harbor_message is None:
        raise InvalidArgument(
            "safe_harbor_message",
            "a predictive campaign abandons some calls: give the message played to them "
            "within 2 s (the seller's name and a number to call back)",
        )


def check_disposition_code(code: str) -> str:
    if not isinstance(code, str) or not DISPOSITION_CODE.fullmatch(code):
        raise InvalidArgument("code", f"{shown(str(code))}: expected 1-32 of a-z 0-9 _ -")
    return code


def _finite(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _printable(text: str) -> bool:
    return text.isprintable()


@dataclass(frozen=True, slots=True)
class DispositionSpec:
    """``key``: the N of ``*30N`` on the phone; ``retry_after``: seconds (None: final);
    ``dnc``: the number goes on the campaign's do-not-call list, ``global_dnc``: on the
    global one (the seller's, which every campaign obeys) instead."""

    code: str
    key: int
    label: str = ""
    retry_after: int | None = None
    dnc: bool = False
    success: bool = False
    global_dnc: bool = False


DEFAULT_DISPOSITIONS = (
    DispositionSpec("sale", 1, "Sale / success", success=True),
    DispositionSpec("not_interested", 2, "Not interested"),
    DispositionSpec("call_back", 3, "Call back later", retry_after=86400),
    # a person's "do not call me" binds the seller, not one campaign (the US TSR's
    # company-specific list): the global list
    DispositionSpec("do_not_call", 4, "Asked not to be called", dnc=True, global_dnc=True),
    DispositionSpec("wrong_number", 5, "Wrong number"),
)


def check_disposition(spec: DispositionSpec) -> DispositionSpec:
    check_disposition_code(spec.code)
    if isinstance(spec.key, bool) or not 0 <= spec.key <= 99:
        raise InvalidArgument("key", f"{spec.key!r}: expected 0-99 (the N of *30N)")
    if len(spec.label) > 128 or not spec.label.isprintable():
        raise InvalidArgument("label", "at most 128 printable characters")
    if spec.retry_after is not None and not 60 <= spec.retry_after <= 30 * 86400:
        raise InvalidArgument("retry_after", "expected 1 minute to 30 days")
    if (spec.dnc or spec.global_dnc) and spec.retry_after is not None:
        raise InvalidArgument("retry_after", "a do-not-call disposition is never retried")
    return replace(spec, dnc=True) if spec.global_dnc else spec

"""Outbound routes: which SIP gateway an external number leaves through, and as what number.

Pure logic, no I/O. A route's ``pattern`` must match the whole number (``re.fullmatch``);
its ``number_format`` rewrites it the way FreeSWITCH's dialplan does: ``$0`` is the whole
match, ``$1``..``$9`` the groups (one digit each: ``$12`` is group 1, then a literal 2).
The number comes from IVR variables and caller input, so it is checked before any pattern
sees it, and the dial string is built only from checked parts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from callcenter import safe_regex
from callcenter.errors import InvalidNumber, InvalidOutboundRoute, UnsafeValue
from callcenter.esl import quoting as q
from callcenter.trunks.failover import DEFAULT_CAUSES, MAX_TRUNKS, check_causes

NUMBER = re.compile(r"\+?[0-9*#]{1,32}")
NUMBER_CHARACTERS = "+0123456789*#"  # all a number to dial can hold: what a pattern sees
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
GATEWAY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")  # no `/`: it ends the gateway
CALLER_ID = re.compile(r"\+?[0-9A-Za-z*#]{1,32}")
_FORMAT = re.compile(r"(?:\$[0-9]|[+0-9*#A-Za-z])+")
_GROUP = re.compile(r"\$([0-9])")
MAX_PATTERN = 500
MAX_FORMAT = 64
MAX_PRIORITY = 1_000_000


def _bad(field_name: str, message: str) -> InvalidOutboundRoute:
    """``message`` may come from a check that names the field already (``q.token``)."""
    reason = message.removeprefix(f"{field_name}: ")
    return InvalidOutboundRoute(f"{field_name}: {reason}", field=field_name)


def check_number(number: str) -> str:
    """The number to dial: ``+`` (optional), then 1 to 32 of ``0-9 * #``; nothing else."""
    if not isinstance(number, str) or not NUMBER.fullmatch(number):
        shown = repr(number[:40]) if isinstance(number, str) else type(number).__name__
        raise InvalidNumber(f"{shown} is not a number to dial (+, then 1 to 32 of 0-9 * #)")
    return number


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise _bad("name", f"{name[:70]!r} is not a route name ([A-Za-z0-9_.-], 1 to 64)")
    return name


def check_pattern(pattern: str) -> re.Pattern[str]:
    """A regular expression the whole number must match, refused when it could backtrack
    for long (``callcenter.safe_regex``: nested repeats, alternatives that begin alike
    inside a repeat, backreferences, lookarounds, more than 3 of ``*`` ``+`` ``{m,}``)."""
    try:
        q.line_safe("pattern", pattern)
    except UnsafeValue as exc:
        raise _bad("pattern", exc.message) from exc
    if not pattern or len(pattern) > MAX_PATTERN:
        raise _bad("pattern", f"must be 1 to {MAX_PATTERN} characters")
    try:
        return safe_regex.check(pattern, alphabet=NUMBER_CHARACTERS)
    except re.error as exc:
        raise _bad("pattern", f"not a valid regular expression ({exc}) in {pattern!r}") from exc
    except safe_regex.UnsafeRegex as exc:
        raise _bad("pattern", f"{exc.message}, in '{pattern[:70]}'") from exc  # line-safe


def check_gateway(gateway: str) -> str:
    """A sofia gateway name: one token that cannot end or extend the dial string."""
    try:
        q.token("gateway", gateway)
    except UnsafeValue as exc:
        raise _bad("gateway", exc.message) from exc
    if not GATEWAY.fullmatch(gateway):
        raise _bad("gateway", f"{gateway[:70]!r} is not a gateway name ([A-Za-z0-9_.-])")
    return gateway


def check_gateways(gateways: tuple[str, ...]) -> tuple[str, ...]:
    """The ordered trunks of a route: 1 to ``MAX_TRUNKS`` gateway names, each once."""
    if not 1 <= len(gateways) <= MAX_TRUNKS:
        raise _bad("gateway", f"{len(gateways)} trunks: a route has 1 to {MAX_TRUNKS}")
    for gateway in gateways:
        check_gateway(gateway)
    if len(set(gateways)) != len(gateways):
        raise _bad("gateway", f"a trunk is listed twice in {', '.join(gateways)}")
    return gateways


def check_number_format(number_format: str, groups: int) -> str:
    """Only ``$0``-``$9`` and ``+ 0-9 * # A-Z a-z``; no ``$n`` beyond the pattern's groups."""
    if len(number_format) > MAX_FORMAT or not _FORMAT.fullmatch(number_format):
        raise _bad(
            "number_format",
            f"{number_format[:70]!r}: use $0-$9 and + 0-9 * # A-Z a-z (1 to {MAX_FORMAT})",
        )
    used = max((int(g) for g in _GROUP.findall(number_format)), default=0)
    if used > groups:
        raise _bad("number_format", f"${used} but the pattern has {groups} group(s)")
    return number_format


def check_caller_id(caller_id_number: str | None) -> str | None:
    if caller_id_number is not None and not CALLER_ID.fullmatch(caller_id_number):
        raise _bad(
            "caller_id_number",
            f"{caller_id_number[:70]!r} is not a caller ID number (+, then 0-9 A-Z a-z * #)",
        )
    return caller_id_number


def check_priority(priority: int) -> int:
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise _bad("priority", "must be a whole number")
    if not 0 <= priority <= MAX_PRIORITY:
        raise _bad("priority", f"{priority} is not in 0..{MAX_PRIORITY}")
    return priority


@dataclass(frozen=True, slots=True)
class OutboundRoute:
    """A checked route: building one raises ``InvalidOutboundRoute`` naming the bad field."""

    name: str
    pattern: str
    gateway: str
    number_format: str = "$0"
    caller_id_number: str | None = None
    priority: int = 100
    enabled: bool = True
    failover: tuple[str, ...] = ()  # the trunks tried after ``gateway``, in order
    failover_causes: frozenset[str] = DEFAULT_CAUSES
    group: str | None = None  # a trunk group instead of ``gateway`` and ``failover``
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_name(self.name)
        regex = check_pattern(self.pattern)
        if self.group is None:
            check_gateways((self.gateway, *self.failover))
        elif self.gateway or self.failover:
            raise _bad("group", "a route names a trunk group or its trunks, not both")
        elif not NAME.fullmatch(self.group):
            raise _bad("group", f"{self.group[:70]!r} is not a trunk group name ([A-Za-z0-9_.-])")
        check_causes(self.failover_causes)
        check_number_format(self.number_format, regex.groups)
        check_caller_id(self.caller_id_number)
        check_priority(self.priority)
        object.__setattr__(self, "regex", regex)

    @property
    def gateways(self) -> tuple[str, ...]:
        return (self.gateway, *self.failover) if self.group is None else ()


@dataclass(frozen=True, slots=True)
class Dialout:
    """Where one number goes: the route that matched and the number after its rewrite."""

    route: str
    gateway: str
    number: str
    caller_id_number: str | None = None
    failover: tuple[str, ...] = ()
    failover_causes: frozenset[str] = DEFAULT_CAUSES
    group: str | None = None  # the trunk group the route named (its members, in this order)

    def __post_init__(self) -> None:
        q.dial_string("dial string", self.dial_string)  # built from checked parts: a bug if not

    @property
    def gateways(self) -> tuple[str, ...]:
        return (self.gateway, *self.failover)

    @property
    def dial_string(self) -> str:
        return dial_string(self.gateway, self.number)


def dial_string(gateway: str, number: str) -> str:
    """``sofia/gateway/<gateway>/<number>``, both checked: a bad part is a bug, refused."""
    check_gateway(gateway)
    return q.dial_string("dial string", f"sofia/gateway/{gateway}/{number}")


def rewrite(number_format: str, match: re.Match[str]) -> str:
    """``$0``..``$9`` replaced by the match's groups (an unmatched group is empty)."""
    return _GROUP.sub(lambda m: match.group(int(m.group(1))) or "", number_format)


def pick(
    routes: Iterable[OutboundRoute],
    number: str,
    members: Callable[[str], tuple[str, ...]] | None = None,
) -> Dialout | None:
    """The first enabled route by (priority, name) whose pattern matches the whole number;
    a route naming a trunk group gets its trunks from ``members`` (in the order the group's
    strategy gives this call; ``InvalidOutboundRoute`` for a group that does not exist)."""
    check_number(number)
    for route in sorted((r for r in routes if r.enabled), key=lambda r: (r.priority, r.name)):
        match = route.regex.fullmatch(number)
        if match is None:
            continue
        dialled = rewrite(route.number_format, match)
        if not dialled:
            raise _bad("number_format", f"route {route.name} rewrote {number} to nothing")
        gateways = route.gateways
        if route.group is not None:
            gateways = members(route.group) if members is not None else ()
            if not gateways:
                raise _bad(
                    "group",
                    f"route {route.name}: no trunk group {route.group!r}, or none of its "
                    "trunks enabled",
                )
        return Dialout(
            route.name,
            gateways[0],
            dialled,
            route.caller_id_number,
            gateways[1:],
            route.failover_causes,
            route.group,
        )
    return None

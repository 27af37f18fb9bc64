"""Placing a campaign's call: the lead's number through its outbound route's trunks in order
(failover), each within its limits (channels, calls per second), as ``trunks.dialout`` does
for a caller's transfer, but with no call yet: the leg is originated parked and tagged
``cc_entry=dialer``; once answered it parks, becomes a call, and ``dialer.calls`` runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Generic, Protocol, TypeVar

from callcenter.calls.control import _cause_of as cause_of
from callcenter.dialer.compliance import Outcome
from callcenter.errors import (
    ESLCommandFailed,
    ESLError,
    InvalidNumber,
    InvalidOutboundRoute,
    NoOutboundRoute,
)
from callcenter.esl import commands
from callcenter.trunks.dialout import CALLER_ID, TRUNK_VARIABLE, _count, _limited, _number_for
from callcenter.trunks.failover import fails_over
from callcenter.trunks.numbers import caller_id_for
from callcenter.trunks.outbound import Dialout, check_number, dial_string, pick
from callcenter.trunks.table import OutboundRoutes

log = logging.getLogger(__name__)


class Node(Protocol):
    @property
    def connected(self) -> bool: ...


N = TypeVar("N", bound=Node)


class NodeRing(Generic[N]):
    """The node a campaign's next call goes out through: the connected ESL nodes in turn,
    so a campaign's calls spread over them (a node down is skipped until it is back). A
    call answered stays on its node: its agent is dialled through it (docs/dialer.md)."""

    def __init__(self, nodes: Callable[[], Iterable[N]]) -> None:
        self.nodes = nodes
        self._turn = 0

    def __call__(self) -> N | None:
        up = [node for node in self.nodes() if node.connected]
        if not up:
            return None
        self._turn += 1
        return up[self._turn % len(up)]


BUSY = frozenset({"USER_BUSY"})
NO_ANSWER = frozenset(
    {"NO_ANSWER", "NO_USER_RESPONSE", "ORIGINATOR_CANCEL", "ALLOTTED_TIMEOUT", "CALL_REJECTED"}
)


def outcome_of(cause: str) -> Outcome:
    """A call that never answered: how the retry rules see it."""
    if cause in BUSY:
        return Outcome.BUSY
    if cause in NO_ANSWER:
        return Outcome.NO_ANSWER
    return Outcome.FAILED


LIMITED = "TRUNKS_AT_LIMITS"  # not a FreeSWITCH cause: no trunk could take the call now
Originate = Callable[[str, float], str]  # (the originate command, timeout) -> reply


def dialout_for(
    routes: OutboundRoutes, number: str, route: str | None = None, trunks: tuple[str, ...] = ()
) -> Dialout:
    """How a campaign's number leaves: its ``trunks`` in order (the number as stored, each
    trunk's style applied), else its outbound ``route`` (which must take the number), else
    the outbound routes, as for any call."""
    if trunks:
        check_number(number)
        return Dialout(f"trunks:{trunks[0]}", trunks[0], number, None, trunks[1:])
    if route is not None:
        found = pick([r for r in routes.routes if r.name == route], number)
        if found is None:
            raise NoOutboundRoute(f"route {route} does not take {number} (or is disabled)")
        return found
    return routes.resolve(number)


def place(
    originate: Originate,
    routes: OutboundRoutes,
    number: str,
    leg: str,
    tags: Mapping[str, str],
    ring_seconds: int,
    *,
    route: str | None = None,
    trunks: tuple[str, ...] = (),
) -> str:
    """Dial ``number`` as leg ``leg``; "" once it answered (it is parked and tagged), else
    the hang-up cause that ended the attempts."""
    try:
        dialout = dialout_for(routes, number, route, trunks)
    except (InvalidNumber, NoOutboundRoute, InvalidOutboundRoute) as exc:
        log.error("dialer: %s not dialled: %s", number, exc)
        return "NO_ROUTE_DESTINATION"
    trunking = routes.trunking
    cause = LIMITED  # every trunk at its limits: nothing was dialled
    for gateway in dialout.gateways:
        trunk = trunking.directory.get(gateway)
        try:
            sent = _number_for(dialout, trunk, trunking.default_country)
        except InvalidNumber as exc:
            log.error("dialer: leg %s: trunk %s: %s", leg, gateway, exc.message)
            cause = "INVALID_NUMBER_FORMAT"
            continue
        why = _limited(trunking, trunk, gateway, leg)
        if why:
            log.info("dialer: leg %s: trunk %s skipped: %s", leg, gateway, why)
            continue
        shown = {**tags, TRUNK_VARIABLE: gateway, "originate_timeout": str(ring_seconds)}
        if trunk is not None and shown.get(CALLER_ID):
            shown[CALLER_ID] = caller_id_for(shown[CALLER_ID], trunk, trunking.default_country)
        line = commands.originate(dial_string(gateway, sent), shown, uuid=leg)
        try:
            originate(line, ring_seconds + 10.0)
        except ESLCommandFailed as exc:
            cause = cause_of(str(exc))
        except ESLError as exc:
            log.warning("dialer: leg %s through %s: %s", leg, gateway, exc)
            cause = "NORMAL_TEMPORARY_FAILURE"
        else:
            _count(trunking, gateway, leg, "")
            return ""
        _count(trunking, gateway, leg, cause)
        if not fails_over(cause, "", dialout.failover_causes):
            return cause
        log.warning("dialer: leg %s: trunk %s failed (%s), trying the next", leg, gateway, cause)
    return cause

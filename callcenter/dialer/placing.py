"""Placing a campaign's call: the lead's number through its outbound route's trunks in order
(failover, SIP status included), each within its limits (channels, calls per second), by the
loop a caller's transfer uses (``trunks.dialout.dial_trunks``), but with no call yet: each
attempt is a fresh leg originated parked and tagged ``cc_entry=dialer``; once answered it
parks, becomes a call, and ``dialer.calls`` runs it.

Every attempt is a CDR leg with its trunk and cause, as a live call's (issue 14), those
refused before any channel included (the limiter, ``GATEWAY_DOWN``, a number the trunk
cannot take): a call that answered nowhere is a CDR of its own (``Attempts.cdr``); the
attempts before the trunk that answered join that call's CDR (``dialer.calls``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Generic, Protocol, TypeVar

from callcenter.calls.control import OriginateFailed, cause_of
from callcenter.cdr.builder import build_cdr
from callcenter.cdr.timeline import CallTimeline, LegTimeline
from callcenter.dialer.compliance import Outcome
from callcenter.errors import (
    ESLCommandFailed,
    ESLError,
    InvalidNumber,
    InvalidOutboundRoute,
    NoOutboundRoute,
)
from callcenter.esl import commands
from callcenter.esl.events import Event
from callcenter.esl.router import EventRouter
from callcenter.store.records import CdrRecord
from callcenter.trunks.dialout import dial_trunks
from callcenter.trunks.numbers import caller_id_for
from callcenter.trunks.outbound import Dialout, check_number, pick
from callcenter.trunks.spec import TrunkSpec
from callcenter.trunks.table import OutboundRoutes
from callcenter.trunks.trunking import Trunking
from callcenter.vocabulary import Direction, HangupBy

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


def _now_us() -> int:
    return time.time_ns() // 1000


class Attempts:
    """A campaign call's attempts that did not answer, each a leg with its trunk (from its
    dial string) and cause, timed from its originate (one refused before any channel
    begins and ends at once, as ``CallTimeline.refused_leg`` has it)."""

    def __init__(self, first_leg: str, node: str) -> None:
        self.timeline = CallTimeline(call_uuid=first_leg, node=node, direction=Direction.OUTBOUND)
        self._started: dict[str, int] = {}

    def dialling(self, leg: str) -> None:
        self._started[leg] = _now_us()

    def failed(self, leg: str, dialled: str, cause: str) -> None:
        found = self.timeline.refused_leg(leg, dialled, cause, _now_us())
        found.created_us = self._started.pop(leg, found.created_us)

    @property
    def legs(self) -> list[LegTimeline]:
        return list(self.timeline.legs.values())

    def cdr(
        self, failure: OriginateFailed, number: str, caller_id: str, caller_name: str
    ) -> CdrRecord | None:
        """The CDR of a call that answered nowhere (None: no leg was tried, ESL down), under
        the UUID of the leg whose failure ended the attempts (the lead's attempt row names
        it), else the first leg's (every trunk at its limits)."""
        if not self.timeline.legs:
            return None
        if failure.leg in self.timeline.legs:
            self.timeline.call_uuid = failure.leg
        self.timeline.dial_cause = failure.cause
        built = build_cdr(self.timeline, now_us=_now_us())
        by = HangupBy.CALLER if outcome_of(failure.cause) is Outcome.BUSY else HangupBy.SYSTEM
        return replace(
            built, from_number=caller_id, from_name=caller_name, to_number=number, hangup_by=by
        )


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
    router: EventRouter | None = None,
    attempts: Attempts | None = None,
) -> str | OriginateFailed:
    """Dial ``number`` through its trunks (``trunks.dialout.dial_trunks``, the first as leg
    ``leg``, each next one a fresh leg): the answered leg's UUID (it is parked and tagged),
    else the failure that ended the attempts; one with no ``leg`` dialled nothing (every
    trunk at its limits). ``router``: where the failed legs' SIP status is heard;
    ``attempts``: where each attempt that did not answer is kept (its CDR leg). Raises
    ``ESLError`` when FreeSWITCH did not say how a leg ended (the connection lost, no job
    result in time): that leg may still ring, so no other trunk is tried."""
    try:
        dialout = dialout_for(routes, number, route, trunks)
    except InvalidNumber as exc:  # the lead's number: its outcome
        log.error("dialer: %s not dialled: %s", number, exc)
        if attempts is not None:
            attempts.failed(leg, "", "NO_ROUTE_DESTINATION")
        return OriginateFailed("NO_ROUTE_DESTINATION", leg)
    except (NoOutboundRoute, InvalidOutboundRoute) as exc:  # the configuration's: no attempt
        return Misconfigured("NO_ROUTE_DESTINATION", "", reason=str(exc))
    trunking = routes.trunking
    parked = ParkedLegs(originate, trunking, float(ring_seconds), router, attempts)
    variables = {**tags, "originate_timeout": str(ring_seconds)}
    return dial_trunks(trunking, dialout, variables, parked, first_leg=leg)


# a trunk no call can use (not loaded on the node, down, no such endpoint): the same for
# every lead, so not one lead's outcome
TRUNK_FAULTS = frozenset({"INVALID_GATEWAY", "GATEWAY_DOWN", "CHAN_NOT_IMPLEMENTED"})


class Misconfigured(OriginateFailed):
    """No call could be placed for a configuration fault (no outbound route takes the
    number, the route is unusable): nothing dialled, nothing the lead did."""

    def __init__(self, cause: str, leg: str = "", *, reason: str) -> None:
        super().__init__(cause, leg)
        self.reason = reason


def misconfigured(failure: OriginateFailed, attempts: Attempts | None) -> str:
    """Why no lead can be called now, when the failure is the configuration's (no route,
    every trunk tried unusable: ``TRUNK_FAULTS``), else "" (busy, no answer, a carrier's
    refusal, a bad number: the call's outcome; every trunk at its limits: due again)."""
    if isinstance(failure, Misconfigured):
        return failure.reason
    legs = attempts.legs if attempts is not None else []
    causes = [leg.hangup_cause or "" for leg in legs]
    if causes and failure.cause in TRUNK_FAULTS and all(c in TRUNK_FAULTS for c in causes):
        return f"no usable trunk: {', '.join(sorted(set(causes)))}"
    return ""


NODE_REFUSED = "DESTINATION_OUT_OF_ORDER"  # what an originate gets when no session is made


class NodeRefused(OriginateFailed):
    """FreeSWITCH made no session for the leg (beyond its sessions per second, "Throttle
    Error!", or its max-sessions): ``-ERR DESTINATION_OUT_OF_ORDER`` with no channel, no
    event. The number was never dialled; a far end's own DESTINATION_OUT_OF_ORDER (a
    carrier's 502) comes after the leg's channel and is a failed dial like any other."""


def dialled_nothing(failure: OriginateFailed) -> bool:
    """No trunk took the call (all at their limits, ESL down, FreeSWITCH made no session for
    it): the lead was not called."""
    return not failure.leg or isinstance(failure, NodeRefused)


@dataclass(frozen=True, slots=True)
class ParkedLegs:
    """``dial_trunks`` for a campaign's call: no call exists until the leg answers and parks
    (``cc_entry=dialer``), so each attempt that did not answer is kept in ``attempts`` (its
    CDR leg); the failed leg's SIP status is heard from its hang-up (a listener on the
    router for the attempt's time)."""

    originate_line: Originate
    trunking: Trunking
    ring_seconds: float
    router: EventRouter | None
    attempts: Attempts | None = None
    heard: dict[str, str] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)  # legs a channel's event was heard of

    @property
    def label(self) -> str:
        return "dialer"

    def caller_id(self, trunk: TrunkSpec, configured: str | None) -> str | None:
        if not configured:
            return None
        return caller_id_for(configured, trunk, self.trunking.default_country)

    def originate(self, dialled: str, variables: dict[str, str], leg: str) -> str:
        line = commands.originate(dialled, variables, uuid=leg)
        if self.attempts is not None:
            self.attempts.dialling(leg)
        listener = _SipStatus(leg, self.heard, self.seen)
        if self.router is not None:
            self.router.attach_call(leg, listener)
        try:
            self.originate_line(line, self.ring_seconds + 10.0)
        except ESLCommandFailed as exc:
            cause = cause_of(str(exc))
            # a leg that had a channel sent its hang-up before the job's -ERR
            if cause == NODE_REFUSED and self.router is not None and leg not in self.seen:
                raise NodeRefused(cause, leg) from exc
            raise OriginateFailed(cause, leg) from exc
        except ESLError as exc:  # not FreeSWITCH's answer: the leg may ring on (no failover)
            log.warning("dialer: leg %s through %s, its end unknown: %s", leg, dialled, exc)
            raise
        finally:
            self.seen.discard(leg)
            if self.router is not None and self.router.mailbox(leg) is listener:
                self.router.unregister_call(leg)  # not when the answered leg's call took it
        return leg

    def refused(self, leg: str, dialled: str, cause: str) -> None:
        """An attempt that did not answer (refused before any channel, or failed): a leg
        of the attempts' CDR, or of the call a later trunk's answer becomes."""
        if self.attempts is not None:
            self.attempts.failed(leg, dialled, cause)

    def sip_status(self, leg: str) -> str:
        return self.heard.pop(leg, "")


class _SipStatus:
    """A router mailbox for one dialled leg: keeps its far end's final SIP status, and that
    the leg had a channel."""

    __slots__ = ("heard", "leg", "seen")
    wants = frozenset({"CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE"})

    def __init__(self, leg: str, heard: dict[str, str], seen: set[str]) -> None:
        self.leg, self.heard, self.seen = leg, heard, seen

    def qsize(self) -> int:
        return 0  # holds no event: the router's mailbox depth counts none for it

    def put_nowait(self, event: Event) -> None:
        self.seen.add(self.leg)
        status = event.get("variable_sip_term_status")
        if status and self.leg not in self.heard:
            self.heard[self.leg] = status

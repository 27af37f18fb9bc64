"""Sending a caller to an external number: the outbound route's trunks in order (failover),
each within its limits and sent the number the way it wants it, then a bridge.

One loop, ``dial_trunks``, places every external call: a live call's (``first_answer``:
every attempt a leg of the call, its CDR leg: the dial string names the trunk, the leg its
cause) and a campaign's, which has no call until it answers (``dialer.placing``). A failure
that means "this carrier could not" (``trunks.failover``: its cause, or the far end's SIP
status) tries the next trunk; the callee's answer (busy, no answer) ends the attempts. A
trunk at its channel limit is skipped; one at its CPS limit is waited for at most
``CPS_WAIT`` seconds.
"""

from __future__ import annotations

import logging
import time
import uuid as uuidlib
from dataclasses import dataclass
from typing import Protocol

from callcenter.calls.control import CallControl, OriginateFailed
from callcenter.calls.features import busy_then_hang_up
from callcenter.errors import InvalidNumber, InvalidOutboundRoute, NoOutboundRoute
from callcenter.trunks.failover import fails_over
from callcenter.trunks.limits import Verdict
from callcenter.trunks.numbers import caller_id_for, dial_number
from callcenter.trunks.outbound import Dialout, dial_string
from callcenter.trunks.spec import TrunkSpec
from callcenter.trunks.table import OutboundRoutes
from callcenter.trunks.trunking import Trunking
from callcenter.vocabulary import LegRole

log = logging.getLogger(__name__)
CPS_WAIT = 2.0  # seconds a call waits for a trunk's next CPS token before the next trunk
TRUNK_VARIABLE = "cc_trunk"  # set on every leg dialled through a trunk
CALLER_ID = "origination_caller_id_number"
CONGESTION = "NORMAL_CIRCUIT_CONGESTION"  # a trunk at its limits (no circuit to use)


def _number_for(dialout: Dialout, trunk: TrunkSpec | None, country: str | None) -> str:
    """The number a trunk is sent: normalized and styled for a known trunk, else as the
    route rewrote it."""
    return dial_number(dialout.number, trunk, country) if trunk is not None else dialout.number


def _limited(trunking: Trunking, trunk: TrunkSpec | None, gateway: str, leg: str) -> str:
    """Why ``gateway`` cannot take the call now (its limits), or ""."""
    if trunk is None or trunking.limiter is None:
        return ""
    decision = trunking.limiter.acquire(trunk, leg, wait_up_to=CPS_WAIT)
    if decision.granted:
        return ""
    if trunking.metrics is not None:
        limit = "channels" if decision.verdict is Verdict.FULL else "cps"
        trunking.metrics.refused.labels(gateway, limit).inc()
    return decision.reason


def transfer_out(
    control: CallControl,
    routes: OutboundRoutes,
    number: str,
    *,
    ring_seconds: float = 30.0,
    caller_id: str | None = None,
    default_caller_id: str | None = None,
) -> None:
    """Ring ``number`` through its outbound route's trunks, in order, and bridge the caller
    to the first that answers. The number shown: ``caller_id`` (an agent's own), else the
    route's, else ``default_caller_id``, else the caller's.

    A number that is not one hangs up with INVALID_NUMBER_FORMAT, a number no route takes
    with NO_ROUTE_DESTINATION; a far end that is busy or does not answer (or every trunk
    failing) gets the caller a busy tone.
    """
    try:
        dialout = routes.resolve(number)
    except InvalidNumber as exc:
        log.error("call %s: transfer to an external number refused: %s", control.uuid, exc)
        control.hangup("INVALID_NUMBER_FORMAT")
        return
    except (NoOutboundRoute, InvalidOutboundRoute) as exc:
        log.error("call %s: transfer to %s: %s", control.uuid, number, exc)
        control.hangup("NO_ROUTE_DESTINATION")
        return
    variables = {}
    shown = caller_id or dialout.caller_id_number or default_caller_id
    if shown:
        variables[CALLER_ID] = shown
    control.ring_ready()
    leg = first_answer(control, routes.trunking, dialout, variables, ring_seconds)
    if isinstance(leg, OriginateFailed):
        busy_then_hang_up(control, leg.cause)
        return
    control.answer()
    control.bridge(leg)


class Originator(Protocol):
    """How ``dial_trunks`` rings one trunk: for a live call (``CallLegs``: a leg of the call,
    each attempt a CDR leg) or for no call yet (the dialer's parked leg, ``dialer.placing``)."""

    @property
    def label(self) -> str: ...  # who dials, in log lines: "call <uuid>", "dialer"

    def caller_id(self, trunk: TrunkSpec, configured: str | None) -> str | None:
        """The caller ID sent through ``trunk`` (None: the leg's own)."""
        ...

    def originate(self, dialled: str, variables: dict[str, str], leg: str) -> str:
        """The answered leg's UUID; raises ``OriginateFailed``."""
        ...

    def refused(self, leg: str, dialled: str, cause: str) -> None: ...

    def sip_status(self, leg: str) -> str: ...


def dial_trunks(
    trunking: Trunking,
    dialout: Dialout,
    variables: dict[str, str],
    originator: Originator,
    first_leg: str | None = None,
) -> str | OriginateFailed:
    """The route's trunks in order, each within its limits and sent the number its way, a
    fresh leg UUID each (``first_leg`` for the first, when given): the answered leg's UUID,
    or the failure that ended the attempts (``CONGESTION`` with no leg: nothing was dialled,
    every trunk at its limits). A failure ``trunks.failover`` says another carrier could
    fix (its cause, or the far end's SIP status) tries the next trunk."""
    failure = OriginateFailed(CONGESTION)  # every trunk at its limits
    who = originator.label
    for gateway in dialout.gateways:
        trunk = trunking.directory.get(gateway)
        leg, first_leg = first_leg or str(uuidlib.uuid4()), None
        try:
            sent = _number_for(dialout, trunk, trunking.default_country)
        except InvalidNumber as exc:
            log.error("%s: trunk %s: %s", who, gateway, exc.message)
            failure = OriginateFailed("INVALID_NUMBER_FORMAT", leg)
            originator.refused(leg, f"sofia/gateway/{gateway}/{dialout.number}", failure.cause)
            continue
        dialled = dial_string(gateway, sent)
        why = _limited(trunking, trunk, gateway, leg)
        if why:
            log.warning("%s: trunk %s skipped: %s", who, gateway, why)
            originator.refused(leg, dialled, CONGESTION)
            continue
        log.info("%s: %s through route %s, trunk %s as %s", who, dialout.number, dialout.route,
                 gateway, sent)  # fmt: skip
        shown = {**variables, TRUNK_VARIABLE: gateway}
        if trunk is not None:  # the caller ID in the trunk's style too, when it is a number
            caller_id = originator.caller_id(trunk, variables.get(CALLER_ID))
            if caller_id is not None:
                shown[CALLER_ID] = caller_id
        try:
            answered = originator.originate(dialled, shown, leg)
        except OriginateFailed as exc:
            failure = exc
            _count(trunking, gateway, leg, failure.cause)
            originator.refused(leg, dialled, failure.cause)
        except BaseException:
            _count(trunking, gateway, leg, "NORMAL_TEMPORARY_FAILURE")
            raise
        else:
            _count(trunking, gateway, leg, "")
            return answered
        sip = originator.sip_status(failure.leg) if failure.leg else ""
        if not fails_over(failure.cause, sip, dialout.failover_causes):
            log.info("%s: %s on trunk %s: no failover", who, failure.cause, gateway)
            return failure
        log.warning("%s: trunk %s failed (%s%s), trying the next", who, gateway, failure.cause,
                    f", SIP {sip}" if sip else "")  # fmt: skip
    return failure


def first_answer(
    control: CallControl,
    trunking: Trunking,
    dialout: Dialout,
    variables: dict[str, str],
    ring_seconds: float,
) -> str | OriginateFailed:
    """The answered leg's UUID, or the failure that ended the attempts (every external
    call of a live call goes this way: transfers, agents' calls, queue callbacks, a
    preview's lead)."""
    return dial_trunks(trunking, dialout, variables, CallLegs(control, trunking, ring_seconds))


@dataclass(frozen=True, slots=True)
class CallLegs:
    """``dial_trunks`` for a live call: each attempt a leg of the call (its CDR leg)."""

    control: CallControl
    trunking: Trunking
    ring_seconds: float

    @property
    def label(self) -> str:
        return f"call {self.control.uuid}"

    def caller_id(self, trunk: TrunkSpec, configured: str | None) -> str | None:
        return _caller_id(self.control, self.trunking, trunk, configured)

    def originate(self, dialled: str, variables: dict[str, str], leg: str) -> str:
        return self.control.originate(
            dialled, role=LegRole.OUTBOUND, variables=variables, timeout=self.ring_seconds,
            leg_uuid=leg,
        )  # fmt: skip

    def refused(self, leg: str, dialled: str, cause: str) -> None:
        """An attempt that never had a channel (``-ERR GATEWAY_DOWN`` before any event, the
        limiter's refusal, a number the trunk cannot take) is a leg of the CDR all the same;
        a leg FreeSWITCH did create keeps what its events said."""
        timeline = self.control.call.timeline
        if timeline.leg(leg) is None:
            timeline.refused_leg(leg, dialled, cause, time.time_ns() // 1000)

    def sip_status(self, leg: str) -> str:
        timeline = self.control.call.timeline.leg(leg)
        return timeline.sip_status if timeline is not None else ""


def _caller_id(
    control: CallControl, trunking: Trunking, trunk: TrunkSpec, configured: str | None
) -> str:
    """A configured caller ID (an agent's, the route's) is read in the outgoing trunk's
    country; the caller's own number in the country of the trunk it arrived on, else the
    default country."""
    if configured:
        return caller_id_for(configured, trunk, trunking.default_country)
    call = control.call
    read_in = call.country or trunking.default_country
    return caller_id_for(call.from_number, trunk, trunking.default_country, read_in=read_in)


def _count(trunking: Trunking, gateway: str, leg: str, cause: str) -> None:
    """One attempt in the metrics; a failed one's channel freed at once (an originate that
    failed before a channel existed has no hang-up to free it)."""
    answered = not cause
    if trunking.metrics is not None:
        trunking.metrics.attempt(gateway, answered=answered, cause=cause)
    if not answered and trunking.limiter is not None:
        trunking.limiter.release(gateway, leg)  # no channel: its hang-up may never come

"""Sending a caller to an external number: the outbound route's gateway, then a bridge."""

from __future__ import annotations

import logging

from callcenter.calls.control import CallControl, OriginateFailed
from callcenter.calls.features import busy_then_hang_up
from callcenter.errors import InvalidNumber, InvalidOutboundRoute, NoOutboundRoute
from callcenter.trunks.table import OutboundRoutes
from callcenter.vocabulary import LegRole

log = logging.getLogger(__name__)


def transfer_out(
    control: CallControl,
    routes: OutboundRoutes,
    number: str,
    *,
    ring_seconds: float = 30.0,
    caller_id: str | None = None,
    default_caller_id: str | None = None,
) -> None:
    """Ring ``number`` through its outbound route and bridge the caller to it. The number
    shown: ``caller_id`` (an agent's own), else the route's, else ``default_caller_id``,
    else the caller's.

    A number that is not one hangs up with INVALID_NUMBER_FORMAT, a number no route takes
    with NO_ROUTE_DESTINATION; a far end that is busy or does not answer gets the caller
    a busy tone.
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
    log.info(
        "call %s: transfer to %s through route %s: %s",
        control.uuid, number, dialout.route, dialout.dial_string,
    )  # fmt: skip
    variables = {}
    shown = caller_id or dialout.caller_id_number or default_caller_id
    if shown:
        variables["origination_caller_id_number"] = shown
    control.ring_ready()
    try:
        leg = control.originate(
            dialout.dial_string, role=LegRole.OUTBOUND, variables=variables, timeout=ring_seconds
        )
    except OriginateFailed as exc:
        log.info("call %s: %s did not answer: %s", control.uuid, dialout.dial_string, exc.cause)
        busy_then_hang_up(control, exc.cause)
        return
    control.answer()
    control.bridge(leg)

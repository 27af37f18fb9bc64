"""Transfers made from agents' phones (the transfer key: a SIP REFER), kept under the engine.

FreeSWITCH carries out a blind REFER itself (sessions-3 s13): it hangs up the agent's leg
(``endpoint_disposition=BLIND_TRANSFER``) and sends the caller through its own context again
with the Refer-To user as destination, so the caller parks a second time with the same
Unique-ID and ``transfer_source=<epoch>:<uuid>:bl_xfer:<user>/<context>/XML``. The call
manager reads that park (``referral``) and posts a ``PhoneTransfer`` to the call's actor,
which releases the agent (wrap-up) and routes the caller to what the phone dialled
(``Destinations``):

- ``*8<number>``: the queue with that number (``queue add --number``);
- a DID with a route (``route add``): that route's target (a queue, a flow, ...);
- an agent's extension: that agent, if idle and available (a reservation, as an operator's
  bridge); busy, paused, logged out or not answering sends the caller back to the queue it
  was answered from, or, with none, to a busy tone;
- anything else made of digits: dialled out through the outbound routes.

An attended transfer (the agent consults the target on a second call from the phone, then
REFER with Replaces) is carried out by FreeSWITCH as a bridge of the caller to the consult
call's far end; the call manager sees the caller bridged to a leg of another call
(``attended``), moves that leg to the caller's call (``LegMoved`` to the consult call) and
posts a ``PhoneTransfer`` carrying the leg. Not recorded on a real FreeSWITCH: built from
mod_sofia's source (``sofia_handle_sip_i_refer``), see docs/transfers.md.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from callcenter.calls.control import CallControl
from callcenter.calls.intents import LegSnapshot, PhoneTransfer
from callcenter.calls.routing import RouteTable, Target
from callcenter.cdr.timeline import ChannelEvent
from callcenter.errors import CallCenterError
from callcenter.store.database import Database
from callcenter.store.repos import QueueRepository
from callcenter.vocabulary import EXTENSION, RouteTarget

log = logging.getLogger(__name__)

QUEUE_PREFIX = "*8"
BLIND = "blind"
ATTENDED = "attended"
_SIP_USER = re.compile(r"<?sips?:([^@;>]{1,64})@")
_NUMBER = re.compile(r"\+?[0-9]{1,32}")


def referral(event: ChannelEvent) -> PhoneTransfer | None:
    """The ``PhoneTransfer`` a CHANNEL_PARK of a call already held means, if it is the end of
    a blind REFER (its ``transfer_source`` says ``bl_xfer``); None otherwise (a park of the
    engine's own ``uuid_transfer``, the first park)."""
    source = event.get("variable_transfer_source") or event.get("Caller-Transfer-Source") or ""
    parts = source.split(":", 3)
    if len(parts) < 4 or parts[2] != "bl_xfer":
        return None
    destination = (
        event.get("variable_cc_did")
        or event.get("Caller-Destination-Number")
        or parts[3].split("/", 1)[0]
    )
    agent = sip_user(event.get("variable_sip_h_Referred-By") or "")
    return PhoneTransfer(
        destination=destination,
        by=f"agent:{agent}" if agent else "phone",
        kind=BLIND,
        source=source,
        at_us=event.timestamp_us,
        agent=agent,
    )


def attended(event: ChannelEvent, leg: LegSnapshot) -> PhoneTransfer:
    """The ``PhoneTransfer`` a CHANNEL_BRIDGE of a caller to a leg of another call means: an
    attended transfer (REFER with Replaces; mod_sofia bridges the caller to the consult
    call's far end, ``uuid_bridge(br_a, br_b)``). The transferor is read from the
    ``att_xfer`` entry mod_sofia pushes on the caller's ``transfer_history``
    (``<epoch>:<uuid>:att_xfer:<transferor>@<host>/<target>@<host>``)."""
    history = (event.get("variable_transfer_history") or "").removeprefix("ARRAY::")
    entries = [one for one in history.split("|:") if one.split(":")[2:3] == ["att_xfer"]]
    source = entries[-1] if entries else f"bridge:{leg.uuid}"
    agent = ""
    if entries:
        who = source.split(":", 3)[3].split("/", 1)[0].split("@", 1)[0]
        agent = who if EXTENSION.fullmatch(who) else ""
    return PhoneTransfer(
        destination=leg.extension or leg.to_number,
        by=f"agent:{agent}" if agent else "phone",
        kind=ATTENDED,
        source=source,
        at_us=event.timestamp_us,
        agent=agent,
        leg=leg,
    )


def sip_user(header: str) -> str:
    """``<sip:1001@callcenter>`` -> ``1001``; "" when it is not a plain user."""
    found = _SIP_USER.search(header)
    user = found.group(1) if found else ""
    return user if EXTENSION.fullmatch(user) else ""


@dataclass(frozen=True, slots=True)
class ToAgent:
    """Next: ring this agent's extension (respecting its state) and bridge the caller."""

    extension: str


Destination = Target | ToAgent


class Destinations:
    """What a phone's transfer destination means here. Reads the routes table (cached) and,
    for ``*8<number>``, the queues' numbers in the database."""

    def __init__(self, routes: RouteTable, database: Database) -> None:
        self.routes = routes
        self.database = database

    def resolve(self, destination: str) -> Destination | None:
        """None: nothing here answers to it (the transfer fails)."""
        if destination.startswith(QUEUE_PREFIX):
            number = destination[len(QUEUE_PREFIX) :]
            queue = self._queue(number) if number.isascii() and number.isdigit() else None
            return Target(RouteTarget.QUEUE, queue) if queue else None
        route = self.routes.lookup(destination)
        if route is not None:
            return route
        if _NUMBER.fullmatch(destination):
            return ToAgent(destination)  # not an agent: the reservation says so, then dial out
        return None

    def _queue(self, number: str) -> str | None:
        try:
            with self.database.session_scope() as session:
                return QueueRepository(session).by_number(number)
        except CallCenterError as exc:
            log.warning("queue number %s not looked up: %s", number, exc)
            return None


def fallback(control: CallControl, cause: str) -> Target:
    """A transfer that reached nobody: the caller goes back to the queue it was answered
    from; with none it hears a busy tone (the CDR keeps the cause)."""
    timeline = control.call.timeline
    if timeline.queue:
        log.info("call %s: transfer failed (%s): back to queue %s", control.uuid, cause,
                 timeline.queue)  # fmt: skip
        return Target(RouteTarget.QUEUE, timeline.queue)
    timeline.dial_failed(cause)
    return Target(RouteTarget.PLAYBACK, BUSY_TONE)


BUSY_TONE = "tone_stream://%(500,500,480,620);loops=3"

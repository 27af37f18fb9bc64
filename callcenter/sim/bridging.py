"""Bridges: ``uuid_bridge`` (NOTES §4 order), the ``bridge`` application, and unbridging.

``uuid_bridge`` prepares both legs before they leave their applications, as FreeSWITCH
does: a second caller profile, the bridge variables and the partner's ``Other-Leg-*``
are already in their CHANNEL_UNPARK (sessions-3, s17).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import gevent
from gevent.event import AsyncResult, Event

from callcenter.sim import varsets
from callcenter.sim.channel import ChannelState
from callcenter.sim.session import Control, Exit, Session
from callcenter.sim.xml_cdr import Originatee

if TYPE_CHECKING:
    from callcenter.sim.core import SimCore

log = logging.getLogger(__name__)

ACK_TIMEOUT = 10.0


def prepare(a: Session, b: Session) -> None:
    """What ``uuid_bridge`` does before it takes the legs out of their applications: each
    leg gets a second caller profile (``Profile-Index`` 2, ``Transfer-Source``), the bridge
    variables and its partner, so UNPARK already shows them (sessions-3, s17)."""
    core = a.core
    now = core.clock.now_us()
    for one, other in ((a, b), (b, a)):
        one.take_ack()
        chan, profile = one.chan, one.chan.profile
        entry = varsets.transfer_entry(now, core.new_uuid(), "uuid_br", other.uuid)
        before = chan.get_var("transfer_history")  # pushed to, as FreeSWITCH does
        chan.set_vars(
            varsets.bridged(
                other_uuid=other.uuid,
                other_name=other.chan.name,
                destination=profile.destination_number,
                cid_name=profile.caller_id_name,
                cid_number=profile.caller_id_number,
                history=entry,
            )
        )
        if before:
            entries = before.removeprefix("ARRAY::").split("|:")
            chan.set_var("transfer_history", "ARRAY::" + "|:".join([*entries, entry]))
        profile.index += 1
        profile.transfer_source = entry
        profile.times["Profile-Created-Time"] = now
        chan.profile_changed()
    a.chan.set_partner(b.chan, "originatee")
    b.chan.set_partner(a.chan, "originator")
    a.chan.bridge_a, b.chan.bridge_a = True, False
    pb = b.chan.profile
    a.originatee = Originatee(b.uuid, pb.destination_number, pb.orig_caller_id_number, b.chan.name)
    b.was_b_leg = True  # FreeSWITCH: it has an originator profile now (log-b-leg false)
    _caller_ids(a, b)
    if b.chan.direction == "outbound":
        b.chan.set_hit_dialplan(False)


def _caller_ids(a: Session, b: Session) -> None:
    """A's callee becomes B's original caller id; B shows A's caller id (as recorded)."""
    pa, pb = a.chan.profile, b.chan.profile
    pa.callee_id_name, pa.callee_id_number = pb.orig_caller_id_name, pb.orig_caller_id_number
    pb.caller_id_name, pb.caller_id_number = pa.caller_id_name, pa.caller_id_number
    a.chan.profile_changed()
    b.chan.profile_changed()


def cancel(a: Session, b: Session) -> None:
    """A prepared bridge that did not happen (a leg went away meanwhile)."""
    for one in (a, b):
        if one.peer is None:
            one.chan.set_partner(None)
            one.chan.bridge_a = False


def link(a: Session, b: Session) -> None:
    """Make ``a`` the bridge originator (Other-Type originatee) and ``b`` its partner."""
    now = a.core.clock.now_us()
    if a.chan.partner is not b.chan or b.chan.partner is not a.chan:
        prepare(a, b)  # the bridge app, or a leg that was bridged elsewhere
    a.peer, b.peer = b, a
    for one in (a, b):
        one.chan.set_time("Channel-Bridged-Time", now)
    a.core.people.bridged(a)
    a.core.people.bridged(b)


def unlink(s: Session, *, hangup_partner: bool) -> None:
    peer = s.peer
    if peer is None:
        return
    if s.chan.bridge_a:
        s.emit("CHANNEL_UNBRIDGE", lead=_ids(s, peer))
    s.peer = None
    if s.chan.partner is peer.chan:
        s.chan.set_partner(None)
        s.chan.bridge_a = False
    s.bridged.clear()
    if peer.peer is s:
        peer.peer = None
        if hangup_partner and not peer.chan.gone:
            if peer.chan.get_var("park_after_bridge") == "true":
                peer.control(Control(Exit.UNBRIDGED))
            else:
                peer.hangup("NORMAL_CLEARING", "send_bye")


def _ids(a: Session, b: Session) -> tuple[tuple[str, str], ...]:
    return (("Bridge-A-Unique-ID", a.uuid), ("Bridge-B-Unique-ID", b.uuid))


def enter_bridge(s: Session, control: Control) -> None:
    """A leg left its park for a bridge: HIBERNATE, RESET, then tell the coordinator."""
    if s.peer is not None:
        unlink(s, hangup_partner=True)
    s.set_state(ChannelState.CS_HIBERNATE)
    s.set_state(ChannelState.CS_RESET)
    if control.ack is not None:
        control.ack.set()


def uuid_bridge(core: SimCore, a_uuid: str, b_uuid: str) -> str:
    """FreeSWITCH's ``switch_ivr_uuid_bridge``: a leg it cannot find (gone, destroyed) or an
    originator already hung up is refused (``-ERR Invalid uuid``); an originatee hung up and
    not yet destroyed is not looked at: accepted, and the bridge then fails (``_coordinate``)."""
    a, b = core.session(a_uuid), core.session(b_uuid)
    if a is None or b is None or a is b or a.chan.gone:
        return "-ERR Invalid uuid\n"
    a.chan.set_var("uuid_bridge", b.uuid)
    if a.peer is None and b.peer is None:  # a bridged leg is prepared once it has left
        prepare(a, b)
    core.spawn(_coordinate, a, b, name=f"uuid_bridge-{a_uuid}")
    return f"+OK {b_uuid}\n"


def _coordinate(a: Session, b: Session) -> None:
    for one in (b, a):
        if a.chan.gone or b.chan.gone:
            break
        ack = Event()
        one.control(Control(Exit.BRIDGE, (), ack))
        gevent.wait([ack, one.hungup], timeout=ACK_TIMEOUT, count=1)
        if not ack.is_set() and not one.chan.gone:
            log.warning("uuid_bridge: %s did not leave its application in time", one.uuid)
            cancel(a, b)
            return
    if a.chan.gone or b.chan.gone:
        cancel(a, b)
        if not a.chan.gone:  # uuid_bridge_on_soft_execute: the originatee is not up
            a.hangup("ORIGINATOR_CANCEL", "send_bye")  # (uuid_bridge_continue_on_cancel: unset)
        return
    link(a, b)
    a.set_state(ChannelState.CS_SOFT_EXECUTE)
    b.set_state(ChannelState.CS_SOFT_EXECUTE)
    a.chan.set_var("uuid_bridge", None)
    a.execute("uuid_bridge", b.uuid, None, complete=False)
    b.execute("uuid_bridge", a.uuid, None, complete=False)
    a.emit("CHANNEL_BRIDGE", lead=_ids(a, b))
    b.chan.set_var("call_uuid", a.uuid)  # the B leg joins A's call
    b.chan.set_state(ChannelState.CS_EXCHANGE_MEDIA)
    b.emit("CHANNEL_STATE")
    _call_updates(a, b)


def _call_updates(a: Session, b: Session) -> None:
    pa, pb = a.chan.profile, b.chan.profile
    sent = (
        (a, b, pa.callee_id_name or pa.callee_id_number, pa.callee_id_number),
        (b, a, pb.caller_id_name or pb.caller_id_number, pb.caller_id_number),
    )
    for one, other, name, number in sent:
        one.chan.set_vars(
            varsets.bridge_up(other_uuid=other.uuid, sent_name=name, sent_number=number)
        )
        lead = (
            ("Direction", "SEND"),
            ("Sent-Callee-ID-Name", name),
            ("Sent-Callee-ID-Number", number),
            ("Bridged-To", other.uuid),
        )
        one.emit("CALL_UPDATE", lead=lead)


def bridge_app(s: Session, arg: str) -> str:
    """The ``bridge`` application: dial (or take a parked uuid), bridge, wait for the end."""
    from callcenter.sim.originate import originate

    core = s.core
    target = arg.strip()
    other = core.session(target)
    if other is not None and other is not s:
        ack = Event()
        other.control(Control(Exit.BRIDGE, (), ack))
        if not ack.wait(timeout=ACK_TIMEOUT):
            return "_none_"
    else:
        result: AsyncResult = AsyncResult()
        leg = originate(core, target, result.set, park_after=False)
        body = _await(s, result)
        if body is None or not body.startswith("+OK"):
            if leg is not None and body is None:
                leg.hangup("ORIGINATOR_CANCEL", "send_cancel")
            cause = (body or "-ERR ORIGINATOR_CANCEL").removeprefix("-ERR ").strip()
            s.chan.set_vars({"originate_disposition": cause, "DIALSTATUS": cause})
            return "_none_"
        other = core.session(body[4:].strip())
        if other is None:
            return "_none_"
    if s.chan.gone:
        other.hangup("ORIGINATOR_CANCEL", "send_cancel")
        return "_none_"
    link(s, other)
    s.in_bridge_app = True
    s.emit("CHANNEL_BRIDGE", lead=_ids(s, other))
    other.chan.set_state(ChannelState.CS_EXCHANGE_MEDIA)
    other.emit("CHANNEL_STATE")
    _call_updates(s, other)
    s.serve(parked=False)
    control = s.take_control()
    s.in_bridge_app = False
    if control is not None and control.exit is Exit.UNBRIDGED:
        unlink(s, hangup_partner=False)
        if s.chan.get_var("hangup_after_bridge") == "true":
            s.hangup("NORMAL_CLEARING", "send_bye")
    elif control is not None:
        s.pending = control
    return "_none_"


def _await(s: Session, result: AsyncResult) -> str | None:
    while not s.hungup.is_set():
        result.wait(timeout=0.5)
        if result.ready():
            return str(result.value)
    return None

"""A phone's transfer key: an in-dialog REFER on an agent's leg (blind, sessions-3 s13).

What FreeSWITCH does with ``REFER Refer-To: <sip:1002@callcenter>`` received on the agent's
leg B of a bridged call A<->B (recorded): 202 Accepted, a NOTIFY ``SIP/2.0 200 OK``, then BYE
to the agent. Over ESL: ``B:HANGUP(NORMAL_CLEARING) B:cs:HANGUP A:UNBRIDGE A:cs:RINGING
A:st:ROUTING B:HANGUP_COMPLETE A:cs:ACTIVE A:EXEC/DONE set x6 A:EXEC(park) A:PARK
B:DESTROY``. The caller keeps its Unique-ID, runs its own context again with the Refer-To
user as destination and parks a second time; no CUSTOM event is sent. B's hang-up carries
``endpoint_disposition=BLIND_TRANSFER``, ``transfer_disposition=recv_replace`` and
``transfer_destination=blind:<user>``; A's second PARK carries
``transfer_source=<epoch>:<uuid>:bl_xfer:<user>/<context>/XML``, ``sip_refer_to`` and
``sip_h_Referred-By``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from callcenter.sim import varsets
from callcenter.sim.behaviour import CallerBehaviour
from callcenter.sim.bridging import uuid_bridge
from callcenter.sim.phones import place_phone_call
from callcenter.sim.session import Control, Exit, Session

if TYPE_CHECKING:
    from callcenter.sim.core import SimCore

CONSULT_PARK_SECONDS = 2.0  # mod_sofia: park_timeout=2:attended_transfer on the replaced leg


def blind(core: SimCore, leg_uuid: str, target: str, domain: str = "callcenter") -> bool:
    """The phone on ``leg_uuid`` sends a blind REFER to ``target``. False when FreeSWITCH
    would not carry it out: the leg is gone, or not bridged (nothing to transfer)."""
    b = core.session(leg_uuid)
    if b is None or b.chan.gone or b.peer is None or b.peer.chan.gone:
        return False
    a = b.peer
    referrer = b.chan.profile.destination_number  # the agent's own user (user/1001 -> 1001)
    context = a.chan.profile.context
    entry = varsets.transfer_entry(
        core.clock.now_us(), core.new_uuid(), "bl_xfer", f"{target}/{context}/XML"
    )
    b.chan.set_vars(
        {
            "transfer_disposition": "recv_replace",
            "endpoint_disposition": "BLIND_TRANSFER",
            "transfer_destination": f"blind:{target}",
            "transfer_to": f"blind:{a.uuid}",
            "transfer_fallback_extension": referrer,
        }
    )
    a.chan.set_vars(
        {
            "sip_refer_to": f"<sip:{target}@{domain}>",
            "sip_h_Referred-By": f"<sip:{referrer}@{domain}>",
            "max_forwards": "69",
        }
    )
    b.handoff = Control(Exit.TRANSFER, (target, "XML", context, entry))
    return b.hangup("NORMAL_CLEARING", "send_bye")


def consult(core: SimCore, ext: str, dest: str, domain: str = "callcenter") -> str:
    """The agent's phone ``ext`` places a call to ``dest`` (its consult call): the same call
    an authenticated phone makes (``phones.place_phone_call``, sessions-3 s18's park),
    tagged ``cc_entry=agent_outbound`` by freeswitch-conf; the agent stays on it until the
    transfer completes. "" when the core refuses its session."""
    session = place_phone_call(core, ext, dest, CallerBehaviour(), domain=domain)
    return session.uuid if session is not None else ""


def attended(core: SimCore, leg_uuid: str, consult_uuid: str, domain: str = "callcenter") -> bool:
    """The phone completes an attended transfer: REFER on ``leg_uuid`` (the agent's leg,
    bridged to the caller) with ``Refer-To: <sip:target?Replaces=<the consult dialog>>``,
    ``consult_uuid`` being the consult call's channel, bridged to the target.

    Not recorded (NOTES s14); what mod_sofia's ``sofia_handle_sip_i_refer`` does when both
    dialogs are bridged (``br_a`` and ``br_b``): ``transfer_disposition=recv_replace`` and
    ``refer_uuid`` on the REFER's leg, ``replaced`` and ``endpoint_disposition=
    ATTENDED_TRANSFER`` on the replaced (consult) leg, ``bridge`` on the target,
    ``transfer_to=att:<target>``, an ``att_xfer`` transfer record on the caller
    (``mark_transfer_record``), then ``uuid_bridge(caller, target)``; the replaced leg is
    parked with ``park_timeout=2:attended_transfer`` and ends with that cause. The REFER's
    leg loses its partner and is hung up (the phone's BYE after the NOTIFY may come first
    on a real switch). False when either leg is gone or not bridged (FreeSWITCH NOTIFYs 403).
    """
    b, c = core.session(leg_uuid), core.session(consult_uuid)
    if b is None or c is None or b.peer is None or c.peer is None:
        return False
    a, d = b.peer, c.peer
    if any(one.chan.gone for one in (a, b, c, d)):
        return False
    referrer = b.chan.profile.destination_number
    target = d.chan.profile.destination_number
    b.chan.set_vars(
        {
            "transfer_disposition": "recv_replace",
            "refer_uuid": c.uuid,
            "transfer_to": f"att:{d.uuid}",
        }
    )
    c.chan.set_vars(
        {
            "transfer_disposition": "replaced",
            "endpoint_disposition": "ATTENDED_TRANSFER",
            "park_timeout": "2:attended_transfer",
            "park_after_bridge": "true",  # the target leaves: the consult leg parks
        }
    )
    d.chan.set_var("transfer_disposition", "bridge")
    entry = varsets.transfer_entry(
        core.clock.now_us(), core.new_uuid(), "att_xfer", f"{referrer}@{domain}/{target}@{domain}"
    )
    _push_history(a, entry)
    a.chan.profile.transfer_source = entry
    reply = uuid_bridge(core, a.uuid, d.uuid)
    if not reply.startswith("+OK"):
        return False
    core.spawn(_end_consult, c, name=f"attended-{c.uuid}")
    return True


def _push_history(s: Session, entry: str) -> None:
    history = s.chan.get_var("transfer_history")
    entries = history.removeprefix("ARRAY::").split("|:") if history else []
    s.chan.set_vars(
        {"transfer_source": entry, "transfer_history": "ARRAY::" + "|:".join([*entries, entry])}
    )


def _end_consult(c: Session) -> None:
    if not c.wait(CONSULT_PARK_SECONDS):
        c.hangup("ATTENDED_TRANSFER", "send_bye")

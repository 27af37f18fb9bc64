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
from callcenter.sim.session import Control, Exit

if TYPE_CHECKING:
    from callcenter.sim.core import SimCore


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

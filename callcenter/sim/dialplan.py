"""Inbound calls and the simulated dialplan (freeswitch-conf's ``callcenter`` context).

Every inbound call runs ``set cc_managed=true``, ``set cc_entry=inbound``,
``set cc_did=<dest>``, ``set hangup_after_bridge=false``, ``set continue_on_fail=true``,
``set park_timeout=...`` then ``park``: the controller receives CHANNEL_PARK of an
unanswered channel carrying ``variable_cc_did``. The carrier's INVITE already negotiated the
media (sessions-3: CODEC before CHANNEL_CREATE), so every event after CS_NEW carries the codec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from callcenter.sim import varsets
from callcenter.sim.channel import CallState, Channel, ChannelState, Profile
from callcenter.sim.phones import AGENTS_CONTEXT, entry_of
from callcenter.sim.session import Exit, Session

if TYPE_CHECKING:
    from callcenter.sim.behaviour import CallerBehaviour
    from callcenter.sim.core import SimCore

PARK_TIMEOUT = "3600:RECOVERY_ON_TIMER_EXPIRE"  # freeswitch-conf's default


def dialplan(dest: str, context: str = "callcenter") -> list[tuple[str, str]]:
    """freeswitch-conf's context ``callcenter`` (carriers), or ``callcenter-agents`` (the
    agents' phones: ``*`` codes are ``agent_feature``, anything else ``agent_outbound``)."""
    entry = entry_of(dest) if context == AGENTS_CONTEXT else "inbound"
    return [
        ("set", "cc_managed=true"),
        ("set", f"cc_entry={entry}"),
        ("set", f"cc_did={dest}"),
        ("set", "hangup_after_bridge=false"),
        ("set", "continue_on_fail=true"),
        ("set", f"park_timeout={PARK_TIMEOUT}"),
        ("park", ""),
    ]


def sip_channel(
    core: SimCore, uuid: str, chan_name: str, context: str, user: str, name: str, dest: str
) -> Channel:
    """A new inbound SIP channel (mod_sofia), answered later, with media from the INVITE:
    a carrier's caller (context ``callcenter``) or an agent's phone (``callcenter-agents``)."""
    now = core.clock.now_us()
    profile = Profile(
        direction="inbound",
        username=user,
        dialplan="XML",
        caller_id_name=name,
        caller_id_number=user,
        destination_number=dest,
        unique_id=uuid,
        source="mod_sofia",
        context=context,
        channel_name=chan_name,
        times={"Profile-Created-Time": now, "Channel-Created-Time": now},
    )
    chan = Channel(uuid, chan_name, "inbound", profile)
    chan.created_us = now
    chan.media = True
    return chan


def inbound_channel(
    core: SimCore, uuid: str, did: str, number: str, name: str, display: str | None
) -> Channel:
    rng = core.rng
    port = 5090 + rng.randrange(0, 1000)
    chan_name = f"sofia/callcenter-carriers/{number}@127.0.0.1:{port}"
    # callcenter-carriers negotiates at the INVITE (CODEC before CREATE)
    chan = sip_channel(core, uuid, chan_name, "callcenter", number, name, did)
    now = chan.created_us
    tag = f"{rng.getrandbits(32)}SIPpTag{rng.randrange(100, 1000)}"
    chan.set_vars(
        varsets.inbound_invite(
            uuid=uuid,
            session_id=core.next_session_id(),
            number=number,
            did=did,
            port=port,
            display=name if display is None else display,
            invite_us=now,
            call_id=f"{rng.randrange(1, 100)}-{rng.randrange(10000, 100000)}@127.0.0.1",
            from_tag=tag,
            remote_port=6000 + 2 * rng.randrange(0, 1000),
        )
    )
    return chan


def place_call(
    core: SimCore, did: str, number: str, name: str, behaviour: CallerBehaviour
) -> Session | None:
    """A carrier's INVITE for ``did``; None when the core refuses its session (mod_sofia
    answers 503 Maximum Calls In Progress: no channel, no event)."""
    if not core.request_session("inbound", did):
        return None
    uuid = core.new_uuid()
    chan = inbound_channel(core, uuid, did, number, name, behaviour.sip_from_display)
    session = Session(core, chan, caller=behaviour)
    session.start(inbound_program)
    core.people.caller_arrived(session)
    return session


def inbound_program(s: Session) -> None:
    s.emit("CHANNEL_STATE")  # CS_NEW: the 23 core headers only
    s.chan.set_state(ChannelState.CS_INIT)
    s.emit("CHANNEL_STATE")
    s.emit("CHANNEL_CREATE")
    s.set_callstate(CallState.RINGING)
    s.set_state(ChannelState.CS_ROUTING)
    s.set_state(ChannelState.CS_EXECUTE)
    run_dialplan(s, s.chan.profile.destination_number)
    live(s)


def run_dialplan(s: Session, dest: str) -> None:
    # the extension's regex captures, an array in json events (recorded: ["5100", "5100"])
    s.chan.set_var("DP_MATCH", f"ARRAY::{dest}|:{dest}")
    for app, arg in dialplan(dest, s.chan.profile.context):
        if s.chan.gone:
            return
        s.execute(app, arg, None)


def live(s: Session) -> None:
    """After the first park: follow controls (bridge, transfer, unbridge) until hang-up."""
    from callcenter.sim.bridging import enter_bridge, unlink

    while not s.hungup.is_set():
        control = s.take_control()
        if control is None:
            s.serve(parked=False)
            continue
        if control.exit is Exit.BRIDGE:
            enter_bridge(s, control)
        elif control.exit is Exit.TRANSFER:
            unlink(s, hangup_partner=True)
            transfer(s, control.data)
        elif control.exit is Exit.UNBRIDGED:
            unlink(s, hangup_partner=False)
            s.execute("park", "", None)


def transfer(s: Session, target: tuple[str, ...]) -> None:
    """uuid_transfer / transfer app / a blind REFER: re-run the dialplan, park again (NOTES
    §4). A REFER's control carries its ``transfer_source`` entry (``...:bl_xfer:...``)."""
    chan = s.chan
    dest = target[0] if target else chan.profile.destination_number
    profile = chan.profile
    now = s.core.clock.now_us()
    if len(target) > 3:
        profile.transfer_source = target[3]
        history = chan.get_var("transfer_history")
        entries = history.removeprefix("ARRAY::").split("|:") if history else []
        chan.set_vars(
            {
                "transfer_source": target[3],
                "transfer_history": "ARRAY::" + "|:".join([*entries, target[3]]),
            }
        )
    profile.rdnis = profile.destination_number
    profile.destination_number = dest
    profile.index += 1
    profile.times["Profile-Created-Time"] = now
    if len(target) > 2:
        profile.context = target[2]
    chan.set_time("Channel-Transfer-Time", now)
    answered = chan.callstate is CallState.ACTIVE
    s.set_callstate(CallState.RINGING)
    s.set_state(ChannelState.CS_ROUTING)
    if answered:
        s.set_callstate(CallState.ACTIVE)
    s.set_state(ChannelState.CS_EXECUTE)
    run_dialplan(s, dest)

"""Inbound calls and the simulated dialplan (freeswitch-conf's ``callcenter`` context).

Every inbound call runs ``set cc_managed=true``, ``set cc_entry=inbound``,
``set cc_did=<dest>``, ``set hangup_after_bridge=false``, ``set continue_on_fail=true``,
``set park_timeout=...`` then ``park``: the controller receives CHANNEL_PARK of an
unanswered channel carrying ``variable_cc_did``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from callcenter.sim.channel import CallState, Channel, ChannelState, Profile
from callcenter.sim.session import Exit, Session

if TYPE_CHECKING:
    from callcenter.sim.behaviour import CallerBehaviour
    from callcenter.sim.core import SimCore

PARK_TIMEOUT = "600:RECOVERY_ON_TIMER_EXPIRE"


def dialplan(dest: str) -> list[tuple[str, str]]:
    return [
        ("set", "cc_managed=true"),
        ("set", "cc_entry=inbound"),
        ("set", f"cc_did={dest}"),
        ("set", "hangup_after_bridge=false"),
        ("set", "continue_on_fail=true"),
        ("set", f"park_timeout={PARK_TIMEOUT}"),
        ("park", ""),
    ]


def inbound_channel(
    core: SimCore, uuid: str, did: str, number: str, name: str, display: str | None
) -> Channel:
    port = str(5090 + core.rng.randrange(0, 1000))
    chan_name = f"sofia/callcenter-carriers/{number}@127.0.0.1:{port}"
    now = core.clock.now_us()
    profile = Profile(
        direction="inbound",
        username=number,
        dialplan="XML",
        caller_id_name=name,
        caller_id_number=number,
        destination_number=did,
        unique_id=uuid,
        source="mod_sofia",
        context="callcenter",
        channel_name=chan_name,
        times={"Profile-Created-Time": now, "Channel-Created-Time": now},
    )
    chan = Channel(uuid, chan_name, "inbound", profile)
    chan.created_us = now
    tag = f"{core.rng.getrandbits(32):x}"
    from_display = name if display is None else display
    uri = f"{number}@127.0.0.1:{port}"
    chan.set_vars(
        {
            "direction": "inbound",
            "uuid": uuid,
            "call_uuid": uuid,
            "session_id": core.next_session_id(),
            "sip_from_user": number,
            "sip_from_port": port,
            "sip_from_uri": uri,
            "sip_from_host": "127.0.0.1",
            "video_media_flow": "disabled",
            "audio_media_flow": "disabled",
            "text_media_flow": "disabled",
            "channel_name": chan_name,
            "sip_call_id": f"{core.rng.getrandbits(48):x}@127.0.0.1",
            "sip_local_network_addr": "127.0.0.1",
            "sip_network_ip": "127.0.0.1",
            "sip_network_port": port,
            "sip_invite_stamp": str(now),
            "sip_received_ip": "127.0.0.1",
            "sip_received_port": port,
            "sip_via_protocol": "udp",
            "sip_from_user_stripped": number,
            "sip_from_tag": tag,
            "sofia_profile_name": "callcenter-carriers",
            "sofia_profile_url": "sip:mod_sofia@127.0.0.1:5080",
            "recovery_profile_name": "callcenter-carriers",
            "sip_full_via": f"SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{tag}",
            "sip_from_display": from_display,
            "sip_full_from": f'"{from_display}" <sip:{uri}>;tag={tag}',
            "sip_full_to": f"<sip:{did}@127.0.0.1:5080>",
            "sip_req_user": did,
            "sip_req_port": "5080",
            "sip_req_uri": f"{did}@127.0.0.1:5080",
            "sip_req_host": "127.0.0.1",
            "sip_to_user": did,
            "sip_to_port": "5080",
            "sip_to_uri": f"{did}@127.0.0.1:5080",
            "sip_to_host": "127.0.0.1",
            "sip_contact_user": number,
            "sip_contact_port": port,
            "sip_contact_uri": uri,
            "sip_contact_host": "127.0.0.1",
            "rtp_use_codec_string": "OPUS,G722,PCMU,PCMA",
            "sip_user_agent": "callcenter-sim",
            "sip_via_host": "127.0.0.1",
            "sip_via_port": port,
            "max_forwards": "70",
            "switch_r_sdp": (
                "v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                "t=0 0\r\nm=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n"
            ),
            "ep_codec_string": "CORE_PCM_MODULE.PCMU@8000h@20i@64000b",
            "endpoint_disposition": "DELAYED NEGOTIATION",
        }
    )
    return chan


def place_call(
    core: SimCore, did: str, number: str, name: str, behaviour: CallerBehaviour
) -> Session:
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
    for app, arg in dialplan(dest):
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
    """uuid_transfer / transfer app: re-run the dialplan, park again (NOTES §4)."""
    chan = s.chan
    dest = target[0] if target else chan.profile.destination_number
    profile = chan.profile
    now = s.core.clock.now_us()
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

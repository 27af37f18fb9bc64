"""Calls agents place from their phones (profile ``callcenter-agents``), as sessions-3/s18 shows.

A phone dials ``*21`` (or another agent, or a number): FreeSWITCH challenges the INVITE (407),
the phone answers with its digest credentials, and the call enters the ``callcenter-agents``
context with the directory's variables: ``sip_authorized=true``, ``sip_auth_username``,
``sip_auth_realm``, ``user_name``, ``domain_name``, ``user_context``... (the
``sofia::pre_register``/``register_attempt`` events FreeSWITCH sends around it are the digest
check, not registrations: the simulator sends none). Its dialplan tags ``*`` codes
``cc_entry=agent_feature`` and anything else ``cc_entry=agent_outbound``, then parks.

``authenticated=False`` is a phone (or a spoofer) whose INVITE reached the context without
the directory's user: the caller ID still says an extension, nothing else does.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from callcenter.sim import varsets
from callcenter.sim.channel import CallState, Channel, ChannelState
from callcenter.sim.session import Session

if TYPE_CHECKING:
    from callcenter.sim.behaviour import CallerBehaviour
    from callcenter.sim.core import SimCore

AGENTS_CONTEXT = "callcenter-agents"
_FEATURE = re.compile(r"\*[0-9*]{1,31}")  # freeswitch-conf: callcenter_agent_feature


def entry_of(dest: str) -> str:
    return "agent_feature" if _FEATURE.fullmatch(dest) else "agent_outbound"


def phone_invite(
    *,
    uuid: str,
    session_id: str,
    ext: str,
    domain: str,
    dest: str,
    display: str,
    invite_us: int,
    call_id: str,
    from_tag: str,
    port: int,
    remote_port: int,
    authenticated: bool,
    event_sequence: int = 1,
) -> varsets.Vars:
    """The INVITE's variables, in the order s18's CHANNEL_PARK lists them."""
    host = varsets.HOST
    out: varsets.Vars = {
        "direction": "inbound",
        "uuid": uuid,
        "call_uuid": uuid,
        "session_id": session_id,
        "sip_from_user": ext,
        "sip_from_uri": f"{ext}@{domain}",
        "sip_from_host": domain,
        "video_media_flow": "disabled",
        "text_media_flow": "disabled",
        "channel_name": f"sofia/{AGENTS_CONTEXT}/{ext}@{domain}",
        "sip_call_id": call_id,
        "sip_local_network_addr": host,
        "sip_network_ip": host,
        "sip_network_port": str(port),
        "sip_invite_stamp": str(invite_us),
        "sip_received_ip": host,
        "sip_received_port": str(port),
        "sip_via_protocol": "udp",
        "sip_authorized": "true",
        # the directory lookup's REQUEST_PARAMS event, left on the channel (s18)
        "Event-Name": "REQUEST_PARAMS",
        "Core-UUID": "",
        "FreeSWITCH-Hostname": "",
        "FreeSWITCH-Switchname": "",
        "FreeSWITCH-IPv4": host,
        "FreeSWITCH-IPv6": "::1",
        "Event-Date-Local": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(invite_us / 1e6)),
        "Event-Date-GMT": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(invite_us / 1e6)),
        "Event-Date-Timestamp": str(invite_us),
        "Event-Calling-File": "sofia.c",
        "Event-Calling-Function": "sofia_handle_sip_i_invite",
        "Event-Calling-Line-Number": "10735",
        "Event-Sequence": str(event_sequence),
        "sip_number_alias": ext,
        "sip_auth_username": ext,
        "sip_auth_realm": domain,
        "number_alias": ext,
        "requested_domain_name": domain,
        "requested_user_name": ext,
        "user_name": ext,
        "domain_name": domain,
        "effective_caller_id_name": display,
        "effective_caller_id_number": ext,
        "user_context": AGENTS_CONTEXT,
        "sip_from_user_stripped": ext,
        "sip_from_tag": from_tag,
        "sofia_profile_name": AGENTS_CONTEXT,
        "sofia_profile_url": f"sip:mod_sofia@{host}:{varsets.AGENTS_PORT}",
        "recovery_profile_name": AGENTS_CONTEXT,
        "sip_full_via": f"SIP/2.0/UDP {host}:{port};branch=z9hG4bK-{from_tag}-1-4",
        "sip_from_display": display,
        "sip_full_from": f'"{display}" <sip:{ext}@{domain}>;tag={from_tag}',
        "sip_full_to": f"<sip:{dest}@{domain}>",
        "sip_req_user": dest,
        "sip_req_port": varsets.AGENTS_PORT,
        "sip_req_uri": f"{dest}@{host}:{varsets.AGENTS_PORT}",
        "sip_req_host": host,
        "sip_to_user": dest,
        "sip_to_uri": f"{dest}@{domain}",
        "sip_to_host": domain,
        "sip_contact_user": ext,
        "sip_contact_port": str(port),
        "sip_contact_uri": f"{ext}@{host}:{port}",
        "sip_contact_host": host,
        "sip_via_host": host,
        "sip_via_port": str(port),
        "max_forwards": "70",
        "switch_r_sdp": varsets.remote_sdp("user1", remote_port),
        "ep_codec_string": "CORE_PCM_MODULE.PCMU@8000h@20i@64000b",
        "rtp_use_codec_string": varsets.CODEC_PREFS,
    }
    if not authenticated:  # no digest answered: none of the directory's variables
        for name in (
            "sip_authorized", "sip_number_alias", "sip_auth_username", "sip_auth_realm",
            "number_alias", "requested_domain_name", "requested_user_name", "user_name",
            "domain_name", "effective_caller_id_name", "effective_caller_id_number",
            "user_context", "Event-Name", "Core-UUID", "FreeSWITCH-Hostname",
            "FreeSWITCH-Switchname", "FreeSWITCH-IPv4", "FreeSWITCH-IPv6", "Event-Date-Local",
            "Event-Date-GMT", "Event-Date-Timestamp", "Event-Calling-File",
            "Event-Calling-Function", "Event-Calling-Line-Number", "Event-Sequence",
        ):  # fmt: skip
            out.pop(name)
    out.update(varsets.negotiated(remote_port))
    out["endpoint_disposition"] = "RECEIVED"
    return out


def phone_channel(
    core: SimCore,
    uuid: str,
    ext: str,
    dest: str,
    display: str,
    *,
    domain: str,
    authenticated: bool,
) -> Channel:
    from callcenter.sim.dialplan import sip_channel

    rng = core.rng
    port = 5071 + rng.randrange(0, 900)
    chan_name = f"sofia/{AGENTS_CONTEXT}/{ext}@{domain}"
    chan = sip_channel(core, uuid, chan_name, AGENTS_CONTEXT, ext, display, dest)
    now = chan.created_us
    tag = f"{rng.randrange(10000, 100000)}ft1"
    variables = phone_invite(
        uuid=uuid,
        session_id=core.next_session_id(),
        ext=ext,
        domain=domain,
        dest=dest,
        display=display,
        invite_us=now,
        call_id=f"{rng.randrange(1, 100)}-{rng.randrange(10000, 100000)}@{varsets.HOST}",
        from_tag=tag,
        port=port,
        remote_port=6000 + 2 * rng.randrange(0, 1000),
        authenticated=authenticated,
        event_sequence=rng.randrange(1000, 100000),
    )
    if authenticated:
        variables.update(
            {
                "Core-UUID": core.core_uuid,
                "FreeSWITCH-Hostname": core.hostname,
                "FreeSWITCH-Switchname": core.hostname,
            }
        )
    chan.set_vars(variables)
    return chan


def place_phone_call(
    core: SimCore,
    ext: str,
    dest: str,
    behaviour: CallerBehaviour,
    *,
    domain: str = "callcenter",
    authenticated: bool = True,
) -> Session | None:
    """The phone of ``ext`` dials ``dest``; the session behaves as ``behaviour`` says. None
    when the core refuses its session (503, as ``dialplan.place_call``)."""
    from callcenter.sim.dialplan import live, run_dialplan

    if not core.request_session("inbound", dest):
        return None
    uuid = core.new_uuid()
    display = behaviour.sip_from_display or f"Agent {ext}"
    chan = phone_channel(core, uuid, ext, dest, display, domain=domain, authenticated=authenticated)
    session = Session(core, chan, caller=behaviour)

    def program(s: Session) -> None:
        s.emit("CHANNEL_STATE")
        s.chan.set_state(ChannelState.CS_INIT)
        s.emit("CHANNEL_STATE")
        s.emit("CHANNEL_CREATE")
        s.set_callstate(CallState.RINGING)
        s.set_state(ChannelState.CS_ROUTING)
        s.set_state(ChannelState.CS_EXECUTE)
        run_dialplan(s, dest)
        live(s)

    session.start(program)
    core.people.caller_arrived(session)
    return session

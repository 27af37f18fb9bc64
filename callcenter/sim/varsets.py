"""The channel variables a real FreeSWITCH behind ``freeswitch-conf/`` sets over a leg's life.

Names, order and value shapes are those of the recorded sessions in ``sessions-3/`` (the
project's own config): s17 for a carrier caller and a ``user/`` agent leg bridged with
``uuid_bridge``, s12 for a gateway leg, s16 for recording, s18 for playback and digits.
Values are derived from the leg (numbers, ports, UUIDs, times) so that their sizes are the
real ones: a real switch puts every variable in nearly every channel event, and the
controller pays for all of them. Pure: functions of their arguments.
"""

from __future__ import annotations

import random
import string
import time

Vars = dict[str, str]
_TAG_CHARS = string.ascii_letters + string.digits

HOST = "127.0.0.1"
AGENTS_PORT = "5060"
CARRIERS_PORT = "5080"
CODEC_PREFS = "PCMU,PCMA,G722,OPUS"
NO_NUMBER = "0000000000"  # originate's default caller id number
NO_NAME = "Outbound Call"  # and the callee name mod_sofia gives an outbound leg


def sip_tag(rng: random.Random, size: int = 13) -> str:
    """A sofia-sip tag or branch (``Qy8QHr31Qay3Q``)."""
    return "".join(rng.choice(_TAG_CHARS) for _ in range(size))


def remote_sdp(origin: str, port: int) -> str:
    """The far end's SDP (``switch_r_sdp``): PCMU plus telephone-event."""
    return (
        f"v=0\r\no={origin} 53655765 2353687637 IN IP4 {HOST}\r\ns=-\r\nc=IN IP4 {HOST}\r\n"
        f"t=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
    )


def local_answer_sdp(session: int, port: int) -> str:
    """FreeSWITCH's answer to a caller's offer (``rtp_local_sdp_str``)."""
    return (
        f"v=0\r\no=FreeSWITCH {session} {session + 1} IN IP4 {HOST}\r\ns=FreeSWITCH\r\n"
        f"c=IN IP4 {HOST}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\n"
        "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
        "a=ptime:20\r\na=sendrecv\r\n"
    )


def local_offer_sdp(session: int, port: int) -> str:
    """FreeSWITCH's offer on an outbound leg: every codec of the profile's prefs."""
    return (
        f"v=0\r\no=FreeSWITCH {session} {session + 1} IN IP4 {HOST}\r\ns=FreeSWITCH\r\n"
        f"c=IN IP4 {HOST}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 8 9 102 101 103\r\n"
        "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:9 G722/8000\r\n"
        "a=rtpmap:102 opus/48000/2\r\na=fmtp:102 useinbandfec=1; maxaveragebitrate=30000; "
        "maxplaybackrate=48000; ptime=20; minptime=10; maxptime=40\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
        "a=rtpmap:103 telephone-event/48000\r\na=fmtp:103 0-15\r\na=ptime:20\r\na=sendrecv\r\n"
    )


def negotiated(remote_port: int) -> Vars:
    """What the offer/answer settles (PCMU, RFC 2833), in mod_sofia's order."""
    return {
        "remote_video_media_flow": "inactive",
        "remote_text_media_flow": "inactive",
        "remote_audio_media_flow": "sendrecv",
        "audio_media_flow": "sendrecv",
        "remote_media_ip": HOST,
        "remote_media_port": str(remote_port),
        "rtp_audio_recv_pt": "0",
        "rtp_use_codec_name": "PCMU",
        "rtp_use_codec_rate": "8000",
        "rtp_use_codec_ptime": "20",
        "rtp_use_codec_channels": "1",
        "rtp_last_audio_codec_string": "PCMU@8000h@20i@1c",
        "read_codec": "PCMU",
        "original_read_codec": "PCMU",
        "read_rate": "8000",
        "original_read_rate": "8000",
        "write_codec": "PCMU",
        "write_rate": "8000",
        "dtmf_type": "rfc2833",
    }


def rtp_started(ssrc: int) -> Vars:
    return {
        "rtp_use_timer_name": "soft",
        "rtp_use_pt": "0",
        "rtp_use_ssrc": str(ssrc),
        "rtp_2833_send_payload": "101",
        "rtp_2833_recv_payload": "101",
    }


def local_media(port: int) -> Vars:
    return {
        "local_media_ip": HOST,
        "local_media_port": str(port),
        "advertised_media_ip": HOST,
    }


def inbound_invite(
    *,
    uuid: str,
    session_id: str,
    number: str,
    did: str,
    port: int,
    display: str,
    invite_us: int,
    call_id: str,
    from_tag: str,
    remote_port: int,
) -> Vars:
    """A carrier's INVITE on ``callcenter-carriers`` (media negotiated at once: no late
    negotiation in freeswitch-conf, so CHANNEL_CREATE already carries the codec)."""
    uri = f"{number}@{HOST}:{port}"
    to_uri = f"{did}@{HOST}:{CARRIERS_PORT}"
    out: Vars = {
        "direction": "inbound",
        "uuid": uuid,
        "call_uuid": uuid,
        "session_id": session_id,
        "sip_from_user": number,
        "sip_from_port": str(port),
        "sip_from_uri": uri,
        "sip_from_host": HOST,
        "video_media_flow": "disabled",
        "text_media_flow": "disabled",
        "channel_name": f"sofia/callcenter-carriers/{uri}",
        "sip_call_id": call_id,
        "sip_local_network_addr": HOST,
        "sip_network_ip": HOST,
        "sip_network_port": str(port),
        "sip_invite_stamp": str(invite_us),
        "sip_received_ip": HOST,
        "sip_received_port": str(port),
        "sip_via_protocol": "udp",
        "sip_from_user_stripped": number,
        "sip_from_tag": from_tag,
        "sofia_profile_name": "callcenter-carriers",
        "sofia_profile_url": f"sip:mod_sofia@{HOST}:{CARRIERS_PORT}",
        "recovery_profile_name": "callcenter-carriers",
        "sip_full_via": f"SIP/2.0/UDP {HOST}:{port};branch=z9hG4bK-{from_tag}-1-0",
        "sip_from_display": display,
        "sip_full_from": f'"{display}" <sip:{uri}>;tag={from_tag}',
        "sip_full_to": f"<sip:{to_uri}>",
        "sip_req_user": did,
        "sip_req_port": CARRIERS_PORT,
        "sip_req_uri": to_uri,
        "sip_req_host": HOST,
        "sip_to_user": did,
        "sip_to_port": CARRIERS_PORT,
        "sip_to_uri": to_uri,
        "sip_to_host": HOST,
        "sip_contact_user": number,
        "sip_contact_port": str(port),
        "sip_contact_uri": uri,
        "sip_contact_host": HOST,
        "sip_via_host": HOST,
        "sip_via_port": str(port),
        "max_forwards": "70",
        "switch_r_sdp": remote_sdp("user1", remote_port),
        "ep_codec_string": "CORE_PCM_MODULE.PCMU@8000h@20i@64000b",
        "rtp_use_codec_string": CODEC_PREFS,
    }
    out.update(negotiated(remote_port))
    out["endpoint_disposition"] = "RECEIVED"
    return out


def inbound_acked(*, did: str, port: int, from_tag: str, to_tag: str) -> Vars:
    """The caller's ACK of FreeSWITCH's 200 OK (seen in the first event after the answer)."""
    return {
        "sip_to_tag": to_tag,
        "sip_cseq": "1",
        "sip_full_via": f"SIP/2.0/UDP {HOST}:{port};branch=z9hG4bK-{from_tag}-1-5",
        "sip_full_to": f"<sip:{did}@{HOST}:{CARRIERS_PORT}>;tag={to_tag}",
    }


def outbound_create(
    *,
    uuid: str,
    session_id: str,
    channel_name: str,
    contact: str,
    profile: str,
    dial_vars: Vars,
    user: tuple[str, str] | None,
    gateway: str | None,
    local_port: int,
    sdp_session: int,
) -> Vars:
    """An originated sofia leg at CHANNEL_CREATE: to a registered ``user/<ext>@<domain>``
    (profile callcenter-agents, s17) or through a gateway of callcenter-carriers (s12)."""
    port = AGENTS_PORT if profile == "callcenter-agents" else CARRIERS_PORT
    out: Vars = {
        "direction": "outbound",
        "is_outbound": "true",
        "uuid": uuid,
        "call_uuid": uuid,
        "session_id": session_id,
    }
    if gateway is not None:
        out["sip_gateway_name"] = gateway
    out["sip_local_network_addr"] = HOST
    out["sip_profile_name"] = profile if gateway is None else "gateway"
    out.update(
        {
            "video_media_flow": "disabled",
            "text_media_flow": "disabled",
            "channel_name": channel_name,
            "sip_destination_url": f"sip:{contact}",
        }
    )
    out.update(dial_vars)
    if user is not None:
        ext, domain = user
        out.update(
            {
                "dialed_user": ext,
                "dialed_domain": domain,
                "sip_invite_domain": domain,
                "presence_id": f"{ext}@{domain}",
            }
        )
    contact_host = contact.split("@", 1)[-1]
    outgoing_contact = (
        f"<sip:gw+{gateway}@{HOST}:{port};transport=udp;gw={gateway}>"
        if gateway is not None
        else f"<sip:mod_sofia@{HOST}:{port}>"
    )
    out.update(
        {
            "originate_early_media": "true",
            "originate_endpoint": "sofia",
            "rtp_use_codec_string": CODEC_PREFS,
            **local_media(local_port),
            "audio_media_flow": "sendrecv",
            "rtp_local_sdp_str": local_offer_sdp(sdp_session, local_port),
            "sip_outgoing_contact_uri": outgoing_contact,
            "sip_req_uri": contact,
            "sip_to_host": contact_host,
            "sip_from_host": user[1] if user is not None else contact_host,
            "sofia_profile_name": profile,
            "recovery_profile_name": profile,
            "sofia_profile_url": f"sip:mod_sofia@{HOST}:{port}",
        }
    )
    return out


def outbound_progress(
    *,
    contact: str,
    from_user: str,
    from_host: str,
    far_user: str,
    branch: str,
    from_tag: str,
    to_tag: str,
    cseq: int,
    call_id: str,
    phone: bool,
) -> Vars:
    """The far end's 180/183 on an originated leg: a registered phone (``phone``, s17)
    or a carrier reached through a gateway (s12)."""
    user, _, hostport = contact.partition("@")
    host, _, port = hostport.partition(":")
    via = f"SIP/2.0/UDP {HOST}{'' if phone else ':' + CARRIERS_PORT};rport;branch=z9hG4bK{branch}"
    from_uri = f"{from_user}@{from_host}" if phone else f"{from_user}@{hostport}"
    contact_suffix = ";transport=UDP" if phone else ""
    out: Vars = {
        "sip_reply_host": host,
        "sip_reply_port": port,
        "sip_network_ip": host,
        "sip_network_port": port,
        "sip_recover_contact": f"<sip:{far_user}@{hostport}{contact_suffix}>",
        "sip_full_via": via,
        "sip_recover_via": via,
        "sip_full_from": f"<sip:{from_uri}>;tag={from_tag}",
        "sip_full_to": f"<sip:{contact}>;tag={to_tag}",
        "sip_from_user": from_user,
    }
    if not phone:
        out["sip_from_port"] = port
    out.update(
        {
            "sip_from_uri": from_uri,
            "sip_from_host": from_host if phone else host,
            "sip_to_user": user,
            "sip_to_port": port,
            "sip_to_uri": contact,
            "sip_to_host": host,
        }
    )
    if phone:
        out["sip_contact_params"] = "transport=UDP"
    out.update(
        {
            "sip_contact_user": far_user,
            "sip_contact_port": port,
            "sip_contact_uri": f"{far_user}@{hostport}",
            "sip_contact_host": host,
            "sip_to_tag": to_tag,
            "sip_from_tag": from_tag,
            "sip_cseq": str(cseq),
            "sip_call_id": call_id,
        }
    )
    return out


def outbound_answer(*, origin: str, remote_port: int, ssrc: int) -> Vars:
    """The far end's 200 OK with its SDP."""
    out: Vars = {
        "switch_r_sdp": remote_sdp(origin, remote_port),
        "ep_codec_string": "CORE_PCM_MODULE.PCMU@8000h@20i@64000b",
    }
    media = negotiated(remote_port)
    remote = {k: media.pop(k) for k in ("remote_media_ip", "remote_media_port")}
    media.pop("audio_media_flow")
    out.update(media)
    out.update(rtp_started(ssrc))
    out.update(remote)
    return out


def user_answered(*, ext: str, display: str, orig_number: str) -> Vars:
    """What the ``user/`` endpoint adds once the phone answered (directory variables and
    the caller-id flip of every originated leg)."""
    return {
        "endpoint_disposition": "ANSWER",
        "user_context": "callcenter-agents",
        "effective_caller_id_name": display,
        "effective_caller_id_number": ext,
        "originate_endpoint": "user",
        "pre_transfer_caller_id_number": orig_number,
        "channel_cid_flipped": "yes",
    }


SIP_STATUS = {
    "USER_BUSY": ("486", "Busy Here"),
    "NORMAL_TEMPORARY_FAILURE": ("503", "Service Unavailable"),
    "CALL_REJECTED": ("603", "Decline"),
    "UNALLOCATED_NUMBER": ("404", "Not Found"),
    "NO_USER_RESPONSE": ("408", "Request Timeout"),
    "NO_ANSWER": ("480", "Temporarily Unavailable"),
    "NETWORK_OUT_OF_ORDER": ("502", "Bad Gateway"),
    "RECOVERY_ON_TIMER_EXPIRE": ("504", "Server Time-out"),
}


def refused(*, contact: str, call_id: str) -> Vars:
    """The far end's final error response to the INVITE (before the hang-up)."""
    host, _, port = contact.partition("@")[2].partition(":")
    return {
        "sip_call_id": call_id,
        "sip_reply_host": host,
        "sip_reply_port": port,
        "sip_network_ip": host,
        "sip_network_port": port,
    }


def far_end_hangup(disposition: str, cause: str, q850: str) -> Vars:
    """What a BYE or an error response from the far end leaves (s02 recv_bye, s12 486)."""
    if disposition == "recv_bye":
        return {
            "sip_term_status": "200",
            "proto_specific_hangup_cause": "sip:200",
            "sip_term_cause": q850,
            "sip_hangup_disposition": disposition,
        }
    status, phrase = SIP_STATUS.get(cause, ("480", "Temporarily Unavailable"))
    return {
        "sip_hangup_disposition": disposition,
        "sip_invite_failure_status": status,
        "sip_invite_failure_phrase": phrase,
        "sip_term_status": status,
        "proto_specific_hangup_cause": f"sip:{status}",
        "sip_term_cause": q850,
    }


def transfer_entry(now_us: int, actor: str, kind: str, target: str) -> str:
    """One ``transfer_history`` / ``transfer_source`` entry: ``<epoch>:<uuid>:<kind>:<target>``."""
    return f"{now_us // 1_000_000}:{actor}:{kind}:{target}"


def bridged(
    *,
    other_uuid: str,
    other_name: str,
    destination: str,
    cid_name: str,
    cid_number: str,
    history: str,
) -> Vars:
    """Set on both legs as ``uuid_bridge`` takes them out of their applications."""
    return {
        "bridge_channel": other_name,
        "bridge_uuid": other_uuid,
        "signal_bond": other_uuid,
        "original_destination_number": destination,
        "original_caller_id_name": cid_name,
        "original_caller_id_number": cid_number,
        "transfer_history": history,
        "transfer_source": history,
    }


def bridge_up(*, other_uuid: str, sent_name: str, sent_number: str) -> Vars:
    """At the bridge's CALL_UPDATE."""
    return {
        "bridge_to": other_uuid,
        "last_bridge_to": other_uuid,
        "last_sent_callee_id_name": sent_name,
        "last_sent_callee_id_number": sent_number,
    }


def _stamp(us: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(us // 1_000_000))


def cdr(
    *,
    cause: str,
    q850: str,
    digits: str,
    times: dict[str, int],
    end_us: int,
    last_app: str,
    last_arg: str,
    caller_id: str,
) -> Vars:
    """The timing and CDR variables of CHANNEL_HANGUP_COMPLETE, in FreeSWITCH's order."""
    created = times.get("Channel-Created-Time", 0)
    profile = times.get("Profile-Created-Time", 0) or created
    answered = times.get("Channel-Answered-Time", 0)
    bridged_at = times.get("Channel-Bridged-Time", 0)
    progress = times.get("Channel-Progress-Time", 0)
    media = times.get("Channel-Progress-Media-Time", 0)
    out: Vars = {
        "hangup_cause": cause,
        "hangup_cause_q850": q850,
        "digits_dialed": digits or "none",
        "start_stamp": _stamp(created),
        "profile_start_stamp": _stamp(profile),
    }
    for name, us in (
        ("answer", answered),
        ("bridge", bridged_at),
        ("progress", progress),
        ("progress_media", media),
    ):
        if us:
            out[f"{name}_stamp"] = _stamp(us)
    out["end_stamp"] = _stamp(end_us)
    for name, us in (
        ("start", created),
        ("profile_start", profile),
        ("answer", answered),
        ("bridge", bridged_at),
        ("last_hold", 0),
    ):
        out[f"{name}_epoch"] = str(us // 1_000_000)
        out[f"{name}_uepoch"] = str(us)
    out.update({"hold_accum_seconds": "0", "hold_accum_usec": "0", "hold_accum_ms": "0"})
    for name, us in (
        ("resurrect", 0),
        ("progress", progress),
        ("progress_media", media),
        ("end", end_us),
    ):
        out[f"{name}_epoch"] = str(us // 1_000_000)
        out[f"{name}_uepoch"] = str(us)
    if last_app:
        out["last_app"] = last_app
    if last_arg:
        out["last_arg"] = last_arg
    out["caller_id"] = caller_id

    def since(us: int) -> int:
        return max(0, us - created) if us else 0

    spans = {
        "duration": max(0, end_us - created),
        "bill": max(0, end_us - answered) if answered else 0,
        "progress": since(progress),
        "answer": since(answered),
        "wait": since(bridged_at),
        "progress_media": since(media),
        "flow_bill": max(0, end_us - created) if answered else 0,
    }
    for unit, div, suffix in (("s", 1_000_000, "sec"), ("ms", 1000, "msec"), ("us", 1, "usec")):
        for name, us in spans.items():
            if name == "duration":
                key = {"s": "duration", "ms": "mduration", "us": "uduration"}[unit]
            else:
                key = f"{name}{suffix}"
            out[key] = str(us // div)
    return out


def rtp_stats(*, seconds: float, sent_ms: int, dtmf_packets: int) -> Vars:
    """RTP statistics mod_sofia adds at hang-up (``rtp_audio_in_*`` / ``_out_*``)."""
    skipped = int(seconds * 50)
    sent = sent_ms // 20
    return {
        "rtp_audio_in_raw_bytes": str(dtmf_packets * 16),
        "rtp_audio_in_media_bytes": "0",
        "rtp_audio_in_packet_count": str(dtmf_packets),
        "rtp_audio_in_media_packet_count": "0",
        "rtp_audio_in_skip_packet_count": str(skipped),
        "rtp_audio_in_jitter_packet_count": "0",
        "rtp_audio_in_dtmf_packet_count": str(dtmf_packets),
        "rtp_audio_in_cng_packet_count": "0",
        "rtp_audio_in_flush_packet_count": "0",
        "rtp_audio_in_largest_jb_size": "0",
        "rtp_audio_in_jitter_min_variance": "0.00",
        "rtp_audio_in_jitter_max_variance": "0.00",
        "rtp_audio_in_jitter_loss_rate": "0.00",
        "rtp_audio_in_jitter_burst_rate": "0.00",
        "rtp_audio_in_mean_interval": "0.00",
        "rtp_audio_in_flaw_total": "0",
        "rtp_audio_in_quality_percentage": "100.00",
        "rtp_audio_in_mos": "4.50",
        "rtp_audio_out_raw_bytes": str(sent * 172),
        "rtp_audio_out_media_bytes": str(sent * 172),
        "rtp_audio_out_packet_count": str(sent),
        "rtp_audio_out_media_packet_count": str(sent),
        "rtp_audio_out_skip_packet_count": "0",
        "rtp_audio_out_dtmf_packet_count": "0",
        "rtp_audio_out_cng_packet_count": "0",
        "rtp_audio_rtcp_packet_count": "0",
        "rtp_audio_rtcp_octet_count": "0",
    }

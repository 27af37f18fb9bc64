"""``show channels``, ``show calls``, ``status``, ``uuid_dump``: the listing texts (NOTES §8)."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from callcenter.sim.encoding import json_fragment

if TYPE_CHECKING:
    from callcenter.sim.core import SimCore
    from callcenter.sim.session import Session

VERSION = "1.11.3-dev+git~20260821T141014Z~cc93a683ca~64bit"
VERSION_LINE = f"FreeSWITCH Version {VERSION} (git cc93a68 2026-08-21 14:10:14Z 64bit)"


def uptime_words(seconds: float) -> str:
    """FreeSWITCH's uptime as ``status`` and HEARTBEAT's Up-Time print it."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    ms, us = divmod(int((seconds - whole) * 1_000_000), 1000)
    return (
        f"0 years, {days} days, {hours} hours, {minutes} minutes, {secs} seconds, "
        f"{ms} milliseconds, {us} microseconds"
    )


CHANNEL_KEYS = [
    "uuid",
    "direction",
    "created",
    "created_epoch",
    "name",
    "state",
    "cid_name",
    "cid_num",
    "ip_addr",
    "dest",
    "application",
    "application_data",
    "dialplan",
    "context",
    "read_codec",
    "read_rate",
    "read_bit_rate",
    "write_codec",
    "write_rate",
    "write_bit_rate",
    "secure",
    "hostname",
    "presence_id",
    "presence_data",
    "accountcode",
    "callstate",
    "callee_name",
    "callee_num",
    "callee_direction",
    "call_uuid",
    "sent_callee_name",
    "sent_callee_num",
    "initial_cid_name",
    "initial_cid_num",
    "initial_ip_addr",
    "initial_dest",
    "initial_dialplan",
    "initial_context",
]
CALL_KEYS = [
    "uuid",
    "direction",
    "created",
    "created_epoch",
    "name",
    "state",
    "cid_name",
    "cid_num",
    "ip_addr",
    "dest",
    "presence_id",
    "presence_data",
    "accountcode",
    "callstate",
    "callee_name",
    "callee_num",
    "callee_direction",
    "call_uuid",
    "hostname",
    "sent_callee_name",
    "sent_callee_num",
]
# the b_* half of a bridged row in `show calls`: the leg's own fields, prefixed b_
B_KEYS = [k for k in CALL_KEYS if k not in ("call_uuid", "hostname")]


def channel_row(core: SimCore, s: Session) -> dict[str, str]:
    chan = s.chan
    profile = chan.profile
    created = chan.created_us // 1_000_000
    media = chan.media
    partner = chan.partner
    inbound = chan.direction == "inbound"
    return {
        "uuid": chan.uuid,
        "direction": chan.direction,
        "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created)),
        "created_epoch": str(created),
        "name": chan.name,
        "state": chan.state,
        "cid_name": profile.caller_id_name,
        "cid_num": profile.caller_id_number,
        "ip_addr": profile.network_addr if inbound else "",
        "dest": profile.destination_number,
        "application": chan.application,
        "application_data": chan.application_data,
        "dialplan": profile.dialplan,
        "context": profile.context,
        "read_codec": "PCMU" if media else "",
        "read_rate": "8000" if media else "",
        "read_bit_rate": "64000" if media else "",
        "write_codec": "PCMU" if media else "",
        "write_rate": "8000" if media else "",
        "write_bit_rate": "64000" if media else "",
        "secure": "",
        "hostname": core.hostname,
        "presence_id": "",
        "presence_data": "",
        "accountcode": "",
        "callstate": chan.callstate,
        "callee_name": profile.callee_id_name,
        "callee_num": profile.callee_id_number,
        "callee_direction": "SEND" if partner is not None else "",
        "call_uuid": "" if partner is None else (chan.uuid if chan.bridge_a else partner.uuid),
        "sent_callee_name": partner.profile.caller_id_name if partner is not None else "",
        "sent_callee_num": partner.profile.caller_id_number if partner is not None else "",
        "initial_cid_name": profile.orig_caller_id_name or profile.caller_id_name,
        "initial_cid_num": profile.orig_caller_id_number or profile.caller_id_number,
        "initial_ip_addr": profile.network_addr if inbound else "",
        "initial_dest": profile.destination_number,
        "initial_dialplan": profile.dialplan,
        "initial_context": profile.context,
    }


def _live(core: SimCore) -> list[Session]:
    return sorted(
        (s for s in core.sessions.values() if not s.destroyed.is_set()),
        key=lambda s: s.chan.created_us,
    )


def _call_rows(core: SimCore) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for s in _live(core):
        if s.uuid in seen:
            continue
        row = channel_row(core, s)
        out = {key: row[key] for key in CALL_KEYS}
        peer = s.peer
        if peer is not None and s.chan.bridge_a:
            seen.add(peer.uuid)
            b_row = channel_row(core, peer)
            out.update({f"b_{key}": b_row[key] for key in B_KEYS})
            out["call_created_epoch"] = row["created_epoch"]
        elif peer is not None:
            continue
        else:
            out.update({f"b_{key}": "" for key in B_KEYS})
            out["call_created_epoch"] = ""
        rows.append(out)
    return rows


def _as_json(rows: list[dict[str, str]]) -> str:
    if not rows:
        return '{"row_count": 0}\n'
    body = ",".join("{" + json_fragment(row.items()) + "}" for row in rows)
    return f'{{"row_count":{len(rows)},"rows":[{body}]}}'


def _as_csv(rows: list[dict[str, str]], keys: list[str]) -> str:
    lines = [",".join(keys), *(",".join(row.get(k, "") for k in keys) for row in rows)]
    return "\n".join(lines) + f"\n\n{len(rows)} total.\n"


def show(core: SimCore, args: list[str]) -> str:
    if not args:
        return "-USAGE: show <channels|calls> [as json|count]\n"
    what = args[0]
    as_json = args[1:3] == ["as", "json"]
    if what == "channels":
        if args[1:2] == ["count"]:
            return f"\n{len(_live(core))} total.\n"
        rows = [channel_row(core, s) for s in _live(core)]
        return _as_json(rows) if as_json else _as_csv(rows, CHANNEL_KEYS)
    if what == "calls":
        call_rows = _call_rows(core)
        if args[1:2] == ["count"]:
            return f"\n{len(call_rows)} total.\n"
        keys = [*CALL_KEYS, *(f"b_{k}" for k in B_KEYS), "call_created_epoch"]
        return _as_json(call_rows) if as_json else _as_csv(call_rows, keys)
    return "-ERR Unknown or invalid show command\n"


def status(core: SimCore) -> str:
    live = len(_live(core))
    sps = core.sessions_per_second
    last, peak, five_minutes = core.sps_figures()
    return (
        f"UP {uptime_words(time.monotonic() - core.started)}\n"
        f"FreeSWITCH (Version 1.11.3-dev git cc93a68 2026-08-21 14:10:14Z 64bit) is ready\n"
        f"{core.sessions_since_startup} session(s) since startup\n"
        f"{live} session(s) - peak {core.peak_sessions}, last 5min {core.peak_sessions} \n"
        f"{last} session(s) per Sec out of max {sps}, peak {peak}, last 5min {five_minutes} \n"
        f"{core.max_sessions} session(s) max\n"
        "min idle cpu 0.00/99.00\n"
        "Current Stack Size/Max 240K/8192K\n"
    )


def uuid_dump(core: SimCore, s: Session, as_json: bool) -> str:
    event = core.factory.channel_data(s.chan)
    if as_json:
        return json.dumps(dict(event.headers()), ensure_ascii=False, separators=(",", ":"))
    return "".join(block.plain for block in event.blocks) + "\n"


def sofia_status(core: SimCore) -> str:
    sep = "=" * 97
    count = len(_live(core))
    return (
        "                     Name\t   Type\t                                      Data\tState\n"
        f"{sep}\n"
        "     callcenter-carriers\tprofile\t              sip:mod_sofia@127.0.0.1:5080\t"
        f"RUNNING ({count})\n"
        "      callcenter-agents\tprofile\t              sip:mod_sofia@127.0.0.1:5060\t"
        "RUNNING (0)\n"
        + "".join(
            f"  callcenter-carriers::{g.name}\tgateway\t   sip:{g.username}@{g.proxy}\t{g.state}\n"
            for g in core.gateways.loaded.values()
        )
        + f"{sep}\n2 profiles 0 aliases\n"
    )

"""``originate``: dial strings, simulated phones, and the outbound leg's event flow.

Answered (NOTES §4): OUTGOING st:INIT CREATE ORIGINATE st:ROUTING st:CONSUME_MEDIA PROGRESS
cs:RINGING ANSWER cs:ACTIVE CALL_UPDATE [result] st:EXECUTE EXEC(park) PARK.
Failed: ... HANGUP(cause) [result] st:HANGUP cs:HANGUP st:REPORTING HANGUP_COMPLETE DESTROY.
``user/<ext>`` of an unknown or unregistered phone: no channel at all, SUBSCRIBER_ABSENT.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from callcenter.sim.behaviour import AgentBehaviour
from callcenter.sim.channel import AnswerState, CallState, Channel, ChannelState, Profile
from callcenter.sim.session import Session

if TYPE_CHECKING:
    from callcenter.sim.core import SimCore

USAGE = (
    "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
    "[<cid_name>] [<cid_num>] [<timeout_sec>]\n"
)
_VARS = re.compile(r"^(?:\{([^}]*)\}|\[([^\]]*)\])")


@dataclass(frozen=True)
class Dial:
    variables: dict[str, str]
    target: str
    app: str | None
    app_arg: str
    exten: str | None


def split_vars(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    current, quoted = "", False
    items: list[str] = []
    for char in text:
        if char == "'":
            quoted = not quoted
        elif char == "," and not quoted:
            items.append(current)
            current = ""
            continue
        current += char
    items.append(current)
    for item in items:
        name, sep, value = item.partition("=")
        if sep and name.strip():
            out[name.strip()] = value.strip().strip("'")
    return out


def parse(args: str) -> Dial | None:
    text = args.strip()
    variables: dict[str, str] = {}
    while (match := _VARS.match(text)) is not None:
        variables.update(split_vars(match.group(1) or match.group(2) or ""))
        text = text[match.end() :]
    target, _, rest = text.partition(" ")
    rest = rest.strip()
    if not target:
        return None
    if rest.startswith("&"):
        name, paren, tail = rest[1:].partition("(")
        # quirk (NOTES §13): the first ")" ends the arguments
        arg = tail.split(")", 1)[0] if paren else ""
        return Dial(variables, target, name.strip(), arg, None)
    exten = rest.split()[0] if rest else None
    return Dial(variables, target, None, "", exten)


def resolve(core: SimCore, target: str) -> tuple[AgentBehaviour | None, str, str, str]:
    """(behaviour or None when absent, failure cause, channel name, destination)."""
    if target.startswith("error/"):
        return None, target[len("error/") :] or "NORMAL_TEMPORARY_FAILURE", "", ""
    if target.startswith("user/"):
        ext = target[len("user/") :].split("@", 1)[0]
        behaviour = core.agents.get(ext)
        if behaviour is None or not behaviour.registered:
            return None, "SUBSCRIBER_ABSENT", "", ""
        return behaviour, "", f"sofia/callcenter-agents/{ext}@127.0.0.1:5070", ext
    dest = target.rsplit("/", 1)[-1].split("@", 1)[0]
    behaviour = core.far_end(target) or AgentBehaviour()
    return behaviour, "", target, dest


def originate(
    core: SimCore,
    args: str,
    on_result: Callable[[str], None],
    *,
    park_after: bool = True,
) -> Session | None:
    """Start an outbound leg; ``on_result`` gets ``+OK <uuid>\\n`` or ``-ERR <CAUSE>\\n``."""
    dial = parse(args)
    if dial is None or (park_after and dial.app is None and dial.exten is None):
        on_result(USAGE)
        return None
    behaviour, cause, name, dest = resolve(core, dial.target)
    if behaviour is None:
        on_result(f"-ERR {cause}\n")
        return None
    uuid = dial.variables.get("origination_uuid") or core.new_uuid()
    if uuid in core.sessions:
        on_result("-ERR INVALID_PROFILE\n")
        return None
    chan = _channel(core, uuid, name, dest, dial.variables, behaviour)
    session = Session(core, chan, agent=behaviour)
    timeout = float(dial.variables.get("originate_timeout", "60") or 60)
    session.start(lambda s: _outbound(s, behaviour, timeout, on_result, dial))
    return session


def _channel(
    core: SimCore,
    uuid: str,
    name: str,
    dest: str,
    variables: dict[str, str],
    behaviour: AgentBehaviour,
) -> Channel:
    now = core.clock.now_us()
    profile = Profile(
        direction="outbound",
        username="",
        dialplan="",
        caller_id_name=variables.get("origination_caller_id_name", "FreeSWITCH"),
        caller_id_number=variables.get("origination_caller_id_number", "0000000000"),
        destination_number=dest,
        unique_id=uuid,
        source="src/switch_ivr_originate.c",
        context="default",
        channel_name=name,
        times={"Profile-Created-Time": now, "Channel-Created-Time": now},
    )
    chan = Channel(uuid, name, "outbound", profile)
    chan.hit_dialplan = False
    chan.created_us = now
    chan.set_vars(
        {
            "direction": "outbound",
            "uuid": uuid,
            "call_uuid": uuid,
            "session_id": core.next_session_id(),
            "channel_name": name,
            "video_media_flow": "disabled",
            "audio_media_flow": "disabled",
            "text_media_flow": "disabled",
            "rtp_use_codec_string": "OPUS,G722,PCMU,PCMA",
            **variables,
            **behaviour.extra_variables,
        }
    )
    return chan


def _outbound(
    s: Session,
    behaviour: AgentBehaviour,
    timeout: float,
    on_result: Callable[[str], None],
    dial: Dial,
) -> None:
    from callcenter.sim.dialplan import live, run_dialplan

    chan = s.chan
    s.emit("CHANNEL_OUTGOING")
    s.set_state(ChannelState.CS_INIT)
    s.emit("CHANNEL_CREATE")
    s.emit("CHANNEL_ORIGINATE")
    s.set_state(ChannelState.CS_ROUTING)
    s.set_state(ChannelState.CS_CONSUME_MEDIA)
    if behaviour.busy or behaviour.fail_cause:
        if not s.wait(0.02):
            s.hangup(behaviour.fail_cause or "USER_BUSY", "recv_refuse")
        on_result(f"-ERR {chan.hangup_cause}\n")
        return
    if s.wait(0.02):
        on_result(f"-ERR {chan.hangup_cause}\n")
        return
    chan.set_time("Channel-Progress-Time", s.core.clock.now_us())
    s.emit("CHANNEL_PROGRESS")
    s.set_callstate(CallState.RINGING)
    ring = timeout if behaviour.no_answer else min(behaviour.answer_delay, timeout)
    if s.wait(ring):
        on_result(f"-ERR {chan.hangup_cause}\n")
        return
    if behaviour.no_answer or behaviour.answer_delay > timeout:
        s.hangup("NO_ANSWER", "send_cancel")
        on_result("-ERR NO_ANSWER\n")
        return
    _answer(s, behaviour)
    on_result(f"+OK {chan.uuid}\n")
    s.set_state(ChannelState.CS_EXECUTE)
    if dial.exten is not None:
        run_dialplan(s, dial.exten)
    elif dial.app is not None:
        s.execute(dial.app, dial.app_arg, None)
        if dial.app != "park" and not chan.gone and s.pending is None:
            s.hangup("NORMAL_CLEARING", "send_bye")
            return
    live(s)


def _answer(s: Session, behaviour: AgentBehaviour) -> None:
    chan = s.chan
    now = s.core.clock.now_us()
    chan.media = True
    chan.set_vars(s.core.media_variables(chan))
    chan.set_vars({"endpoint_disposition": "ANSWER"})
    if behaviour.machine:
        chan.set_var("cc_sim_machine", "true")
    chan.set_time("Channel-Answered-Time", now)
    chan.set_answer_state(AnswerState.ANSWERED)
    s.emit("CHANNEL_ANSWER")
    s.set_callstate(CallState.ACTIVE)
    s.emit("CALL_UPDATE", lead=(("Direction", "RECV"),))

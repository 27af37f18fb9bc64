"""``originate``: dial strings, simulated phones, and the outbound leg's event flow.

Answered (NOTES §4; sessions-3 s17, s12): OUTGOING st:INIT CREATE ORIGINATE st:ROUTING
st:CONSUME_MEDIA PROGRESS cs:RINGING ANSWER cs:ACTIVE [OUTGOING] CALL_UPDATE [result]
st:EXECUTE EXEC(park) PARK. The second OUTGOING is ``user/``'s (its nested originate), with
the directory's variables; every answered leg gets the caller-id flip at CALL_UPDATE.
Failed: ... HANGUP(cause) [result] st:HANGUP cs:HANGUP st:REPORTING HANGUP_COMPLETE DESTROY.
``user/<ext>`` of an unknown or unregistered phone: no channel at all, SUBSCRIBER_ABSENT.
A leg beyond the core's sessions per second (``SimCore.request_session``): no channel at
all, ``-ERR DESTINATION_OUT_OF_ORDER``.
"""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from callcenter.sim import varsets
from callcenter.sim.behaviour import AgentBehaviour
from callcenter.sim.channel import AnswerState, CallState, Channel, ChannelState, Profile
from callcenter.sim.core import SESSION_REFUSED
from callcenter.sim.session import Session

if TYPE_CHECKING:
    from callcenter.sim.core import SimCore

USAGE = (
    "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
    "[<cid_name>] [<cid_num>] [<timeout_sec>]\n"
)
AUTO_ANSWER = 0.3  # seconds a phone takes to answer an auto-answer (intercom) call
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


@dataclass(frozen=True)
class Target:
    """Where an originate goes, as mod_sofia names it."""

    channel_name: str
    destination: str
    contact: str  # the far end's SIP URI (user@host:port)
    profile: str
    user: tuple[str, str] | None = None  # (extension, domain) of a ``user/`` dial
    gateway: str | None = None


def resolve(core: SimCore, target: str) -> tuple[AgentBehaviour | None, str, Target | None]:
    """(behaviour or None when absent, failure cause, where the leg goes)."""
    if target.startswith("error/"):
        return None, target[len("error/") :] or "NORMAL_TEMPORARY_FAILURE", None
    if target.startswith("user/"):
        ext, _, domain = target[len("user/") :].partition("@")
        behaviour = core.agents.get(ext)
        if behaviour is None or not behaviour.registered:
            return None, "SUBSCRIBER_ABSENT", None
        contact = f"{ext}@127.0.0.1:5070"
        where = Target(
            f"sofia/callcenter-agents/{contact}",
            ext,
            contact,
            "callcenter-agents",
            user=(ext, domain or "callcenter"),
        )
        return behaviour, "", where
    behaviour = core.far_end(target) or AgentBehaviour()
    dest = target.rsplit("/", 1)[-1].split("@", 1)[0]
    parts = target.split("/")
    if len(parts) >= 4 and parts[:2] == ["sofia", "gateway"]:
        refused = core.gateways.refusal(parts[2])
        if refused:  # mod_sofia refuses before any channel: no event at all
            return None, refused, None
        behaviour = core.gateways.carriers.get(parts[2]) or behaviour
        number = parts[-1]
        where = Target(
            f"sofia/callcenter-carriers/{number}",
            number,
            f"{number}@127.0.0.1:5095",
            "callcenter-carriers",
            gateway=parts[2],
        )
        return behaviour, "", where
    uri = parts[-1] if len(parts) >= 3 else f"{dest}@127.0.0.1"
    profile = parts[1] if len(parts) >= 3 and parts[0] == "sofia" else "callcenter-carriers"
    return behaviour, "", Target(target, dest, uri, profile)


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
    behaviour, cause, where = resolve(core, dial.target)
    gateway = dial.target.startswith("sofia/gateway/")
    if (behaviour is None or where is None) and not gateway:  # no session asked for
        on_result(f"-ERR {cause}\n")
        return None
    uuid = dial.variables.get("origination_uuid") or core.new_uuid()
    if uuid in core.sessions:
        on_result("-ERR INVALID_PROFILE\n")
        return None
    # mod_sofia asks the core for the session first, then looks at the gateway: a gateway
    # that refuses the call has taken one of the second's sessions all the same
    if not core.request_session("outbound", dial.target):
        on_result(f"-ERR {SESSION_REFUSED}\n")
        return None
    if behaviour is None or where is None:
        on_result(f"-ERR {cause}\n")
        return None
    chan = _channel(core, uuid, where, dial.variables, behaviour)
    session = Session(core, chan, agent=behaviour)
    timeout = float(dial.variables.get("originate_timeout", "60") or 60)
    session.start(lambda s: _outbound(s, behaviour, timeout, on_result, dial))
    return session


def _channel(
    core: SimCore,
    uuid: str,
    where: Target,
    variables: dict[str, str],
    behaviour: AgentBehaviour,
) -> Channel:
    now = core.clock.now_us()
    rng = core.rng
    profile = Profile(
        direction="outbound",
        username="",
        dialplan="",
        caller_id_name=variables.get("origination_caller_id_name", ""),
        caller_id_number=variables.get("origination_caller_id_number", varsets.NO_NUMBER),
        callee_id_name=varsets.NO_NAME,
        callee_id_number=where.destination,
        destination_number=where.destination,
        unique_id=uuid,
        source="src/switch_ivr_originate.c",
        context="default",
        channel_name=where.channel_name,
        network_addr="",
        times={"Profile-Created-Time": now, "Channel-Created-Time": now},
    )
    chan = Channel(uuid, where.channel_name, "outbound", profile)
    chan.hit_dialplan = False
    chan.created_us = now
    if where.user is not None:
        chan.presence_id = "@".join(where.user)
    chan.set_vars(
        varsets.outbound_create(
            uuid=uuid,
            session_id=core.next_session_id(),
            channel_name=where.channel_name,
            contact=where.contact,
            profile=where.profile,
            dial_vars={**variables, **behaviour.extra_variables},
            user=where.user,
            gateway=where.gateway,
            local_port=16384 + 2 * rng.randrange(0, 8000),
            sdp_session=1796500000 + rng.randrange(0, 100000),
        )
    )
    return chan


def _outbound(
    s: Session,
    behaviour: AgentBehaviour,
    timeout: float,
    on_result: Callable[[str], None],
    dial: Dial,
) -> None:
    chan = s.chan
    s.emit("CHANNEL_OUTGOING")
    s.set_state(ChannelState.CS_INIT)
    s.emit("CHANNEL_CREATE")
    s.emit("CHANNEL_ORIGINATE")
    s.set_state(ChannelState.CS_ROUTING)
    s.set_state(ChannelState.CS_CONSUME_MEDIA)
    if behaviour.busy or behaviour.fail_cause:
        if not s.wait(0.02):
            call_id = str(uuidlib.UUID(int=s.core.rng.getrandbits(128)))
            chan.set_vars(varsets.refused(contact=chan.variables["sip_req_uri"], call_id=call_id))
            chan.profile.network_addr = "127.0.0.1"
            chan.profile_changed()
            s.hangup(behaviour.fail_cause or "USER_BUSY", "recv_refuse")
        on_result(f"-ERR {chan.hangup_cause}\n")
        return
    if s.wait(0.02):
        on_result(f"-ERR {chan.hangup_cause}\n")
        return
    _progress(s, dial.target)
    s.emit("CHANNEL_PROGRESS")
    s.set_callstate(CallState.RINGING)
    delay = behaviour.answer_delay
    if dial.variables.get("sip_auto_answer") == "true" and dial.target.startswith("user/"):
        delay = min(delay, AUTO_ANSWER)  # the phone honours Call-Info answer-after=0
    ring = timeout if behaviour.no_answer else min(delay, timeout)
    early = behaviour.early_media
    if early is not None and early < ring:
        if s.wait(early):
            on_result(f"-ERR {chan.hangup_cause}\n")
            return
        _early_media(s)
        ring -= early
        if not ignores_early_media(dial.variables):
            # the originate's job is done: the leg runs its application unanswered, and the
            # far end answers (or gives up) in its own time, no originate_timeout any more
            late, after = (_give_up, ring) if behaviour.no_answer else (_answer_late, delay - early)
            s.core.spawn(late, s, behaviour, dial.target, after, name=f"far-end-{chan.uuid}")
            on_result(f"+OK {chan.uuid}\n")
            _run_application(s, dial)
            return
    if s.wait(ring):
        on_result(f"-ERR {chan.hangup_cause}\n")
        return
    if behaviour.no_answer or delay > timeout:
        s.hangup("NO_ANSWER", "send_cancel")
        on_result("-ERR NO_ANSWER\n")
        return
    _answer(s, behaviour, dial.target)
    if behaviour.voice is not None:
        s.core.people.picked_up(s, behaviour.voice)
    on_result(f"+OK {chan.uuid}\n")
    _run_application(s, dial)


def _run_application(s: Session, dial: Dial) -> None:
    """What the originate named (``&park()``, an extension) runs on the leg it brought up."""
    from callcenter.sim.dialplan import live, run_dialplan

    chan = s.chan
    s.set_state(ChannelState.CS_EXECUTE)
    if dial.exten is not None:
        run_dialplan(s, dial.exten)
    elif dial.app is not None:
        s.execute(dial.app, dial.app_arg, None)
        if dial.app != "park" and not chan.gone and s.pending is None:
            s.hangup("NORMAL_CLEARING", "send_bye")
            return
    live(s)


def ignores_early_media(variables: dict[str, str]) -> bool:
    """``ignore_early_media``: true (any of FreeSWITCH's ``switch_true`` words), ``consume``
    or ``ring_ready``: the originate waits for the answer."""
    value = variables.get("ignore_early_media", "").strip().lower()
    return value in (
        "true",
        "yes",
        "on",
        "enabled",
        "active",
        "allow",
        "consume",
        "ring_ready",
    ) or (value.isdigit() and int(value) > 0)


def _early_media(s: Session) -> None:
    """183 Session Progress with SDP: media before any answer (ringback, an announcement)."""
    chan = s.chan
    s.media_open = True
    chan.media = True
    chan.set_time("Channel-Progress-Media-Time", s.core.clock.now_us())
    chan.set_var("endpoint_disposition", "EARLY MEDIA")  # mod_sofia's, at a 183 with SDP
    chan.set_answer_state(AnswerState.EARLY)
    s.emit("CHANNEL_PROGRESS_MEDIA")
    s.set_callstate(CallState.EARLY)


def _answer_late(s: Session, behaviour: AgentBehaviour, target: str, after: float) -> None:
    """The far end of a leg the originate returned early on answers ``after`` seconds on."""
    if s.wait(after) or s.chan.answer_state is not AnswerState.EARLY:
        return
    _answer(s, behaviour, target)
    if behaviour.voice is not None:
        s.core.people.picked_up(s, behaviour.voice)


def _give_up(s: Session, behaviour: AgentBehaviour, target: str, after: float) -> None:
    """...or never does: the network ends the early dialog (480) once its timer runs out."""
    if not s.wait(after):
        s.hangup("NO_ANSWER", "recv_refuse")


def _progress(s: Session, target: str) -> None:
    """The far end rings (180): its dialog's SIP variables, and the network address."""
    chan, rng = s.chan, s.core.rng
    profile = chan.profile
    variables = chan.variables
    contact = variables.get("sip_req_uri", "")
    user = target.startswith("user/")
    chan.set_vars(
        varsets.outbound_progress(
            contact=contact,
            from_user=profile.caller_id_number if user else "trunkuser",
            from_host=variables.get("sip_from_host", "127.0.0.1"),
            far_user="nobody" if user else "carrier",
            branch=varsets.sip_tag(rng),
            from_tag=varsets.sip_tag(rng),
            to_tag=f"{rng.randrange(10000, 100000)}ag1",
            cseq=rng.randrange(100_000_000, 200_000_000),
            call_id=str(uuidlib.UUID(int=rng.getrandbits(128))),
            phone=user,
        )
    )
    profile.network_addr = "127.0.0.1"
    chan.set_time("Channel-Progress-Time", s.core.clock.now_us())


def _answer(s: Session, behaviour: AgentBehaviour, target: str) -> None:
    """200 OK: media, ANSWER, then the caller-id flip every originated leg gets (and, for
    ``user/``, the directory's variables and a second CHANNEL_OUTGOING, as recorded)."""
    chan, rng = s.chan, s.core.rng
    now = s.core.clock.now_us()
    s.media_open = True
    chan.media = True
    origin = "user1" if target.startswith("user/") else "carrier"
    chan.set_vars(
        varsets.outbound_answer(
            origin=origin, remote_port=6000 + 2 * rng.randrange(0, 1000), ssrc=rng.getrandbits(32)
        )
    )
    chan.set_time("Channel-Answered-Time", now)
    chan.set_answer_state(AnswerState.ANSWERED)
    s.emit("CHANNEL_ANSWER")
    s.set_callstate(CallState.ACTIVE)
    profile = chan.profile
    orig_name, orig_number = profile.caller_id_name, profile.caller_id_number
    if target.startswith("user/"):
        s.emit("CHANNEL_OUTGOING")
        ext = profile.destination_number
        chan.set_vars(
            varsets.user_answered(ext=ext, display=f"Agent {ext}", orig_number=orig_number)
        )
    else:
        chan.set_vars(
            {
                "endpoint_disposition": "ANSWER",
                "pre_transfer_caller_id_number": orig_number,
                "channel_cid_flipped": "yes",
            }
        )
    profile.caller_id_name, profile.caller_id_number = (
        profile.callee_id_name,
        profile.callee_id_number,
    )
    profile.callee_id_name, profile.callee_id_number = orig_name, orig_number
    chan.profile_changed()
    chan.set_hit_dialplan(True)
    s.emit("CALL_UPDATE", lead=(("Direction", "RECV"),))

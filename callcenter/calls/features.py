"""What a route target does with a call; IVR flows and queues come from their own packages."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Protocol

from callcenter.calls.control import CallControl, OriginateFailed
from callcenter.calls.routing import Target
from callcenter.events.types import AgentAnswered, AgentOffered
from callcenter.vocabulary import RouteTarget

log = logging.getLogger(__name__)

DEFAULT_PROMPT = "tone_stream://%(1000,500,440);loops=2"
BUSY_TONE = "tone_stream://%(500,500,480,620);loops=3"

FlowRunner = Callable[[CallControl, str], None]  # callcenter.ivr.on_call.IvrRunner


class QueueEntry(Protocol):
    """A caller into a queue (``callcenter.acd.on_call.QueueRunner``): what route targets and
    IVR queue nodes call, so that neither imports the ACD."""

    def __call__(
        self,
        control: CallControl,
        queue: str,
        *,
        priority: int = 0,
        skills: Mapping[str, int] | None = None,
        language: str = "en",
    ) -> None: ...


def run_target(
    control: CallControl,
    target: Target,
    *,
    ring_seconds: float = 30.0,
    ivr: FlowRunner | None = None,
    queue: QueueEntry | None = None,
) -> None:
    control.call.timeline.routed(str(target.kind))
    if target.kind is RouteTarget.PLAYBACK:
        control.answer()
        control.play(target.arg or DEFAULT_PROMPT)
        control.hangup("NORMAL_CLEARING")
    elif target.kind is RouteTarget.HANGUP:
        control.hangup(target.arg or "CALL_REJECTED")
    elif target.kind is RouteTarget.EXTENSION:
        ring_extension(control, target.arg, ring_seconds)
    elif target.kind is RouteTarget.IVR and ivr is not None:
        ivr(control, target.arg)
    elif target.kind is RouteTarget.QUEUE and queue is not None:
        queue(control, target.arg)
    else:
        log.error(
            "call %s: route target %s is not available in this build; rejecting",
            control.uuid,
            target,
        )
        control.hangup("SERVICE_NOT_IMPLEMENTED")


def ring_extension(control: CallControl, extension: str, ring_seconds: float) -> None:
    """Ring an agent's phone and bridge the caller to it; busy tone if nobody answers, or
    if the agent is on a call or being offered one (the phone is held from the first ring:
    the ACD offers it nothing meanwhile)."""
    refused = control.claim_agent(extension)
    if refused is not None:
        log.info("call %s: extension %s is busy (%s)", control.uuid, extension, refused)
        busy_then_hang_up(control, "USER_BUSY")
        return
    control.emit(AgentOffered, agent_extension=extension, offer=1)  # its caller on the boards
    control.ring_ready()
    try:
        leg = control.originate(
            control.agent_dial_string(extension), extension=extension, timeout=ring_seconds
        )
    except OriginateFailed as exc:
        log.info("call %s: extension %s did not answer: %s", control.uuid, extension, exc.cause)
        busy_then_hang_up(control, exc.cause)
        return
    control.answer()
    control.bridge(leg)
    control.emit(AgentAnswered, agent_extension=extension)
    if control.recorder is not None:  # a direct call: the agent's own recording policy
        control.recorder.direct(control, extension)


def busy_then_hang_up(control: CallControl, cause: str) -> None:
    """What the caller hears when the far side did not answer (``cause``, which the CDR
    keeps): a busy tone, then goodbye."""
    control.call.timeline.dial_failed(cause)
    control.answer()
    control.play(BUSY_TONE)
    control.hangup("NORMAL_CLEARING")

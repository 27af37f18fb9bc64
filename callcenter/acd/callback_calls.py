"""Calling back a caller who kept its place: the agent first, then the customer.

The dispatcher posts a ``CallbackOffer`` to the ``CallbackDialer`` (its ``callback_port``)
when a virtual caller reaches the front with an agent free. The dialler originates the
agent's phone as the first leg of a call of its own (``cc_entry=callback``, parked on
answer, as every leg of the engine is); a phone that does not answer is an offer that failed,
as for any queue call. The parked leg becomes a call with its actor, run by ``CallbackCalls``:
it tells the dispatcher the agent answered (the agent is then in a call, offered nothing
else), whispers "callback for 5 5 5 ..." (or the queue's prompt) to the agent, dials the
customer through the outbound routes, tells it (and the agent) the call may be recorded
when the queue says so, and bridges. The customer's answer, or why not, goes back to the
dispatcher (``CallbackDialled``), which retries later or closes the stay. Once
bridged, the call is recorded as a call of its queue is (``Recorder.bridged``: the agent's
override over the queue's policy, in stereo from the bridge, the row the queue's and the
agent's); the agent's leg being the call's own, the agent is on the left.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import replace

from gevent.pool import Group

from callcenter.acd import callback
from callcenter.acd import messages as m
from callcenter.acd.dispatcher import Dispatcher
from callcenter.acd.rules import CallbackRules
from callcenter.calls.call import Call
from callcenter.calls.control import CallControl, OriginateFailed, cause_of
from callcenter.calls.routing import Target
from callcenter.errors import (
    CallGone,
    ESLCommandFailed,
    ESLError,
    InvalidNumber,
    InvalidOutboundRoute,
    NoOutboundRoute,
    UnsafeValue,
)
from callcenter.esl import commands
from callcenter.esl.connection import ESLConnection
from callcenter.recording.on_call import QueueRecording
from callcenter.trunks.dialout import CALLER_ID, first_answer
from callcenter.trunks.table import OutboundRoutes
from callcenter.vocabulary import Direction, LegRole

log = logging.getLogger(__name__)

TONE_FAILED = "tone_stream://%(500,500,480,620);loops=2"  # the customer was not reached
ANSWER_TIMEOUT = 5.0
WHISPER_TIMEOUT = 30.0
NOTICE_TIMEOUT = 60.0  # the queue's recording notice, played to the customer
GONE_WAIT = 5.0  # a bridge refused: the customer's hang-up may come after the reply


class CallbackDialer:
    """The dispatcher's port for callback offers: rings the agent, in a helper greenlet."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        channel: Callable[[], ESLConnection | None],
        agents_domain: str,
    ) -> None:
        self.dispatcher = dispatcher
        self.channel = channel  # the node the agent is dialled through
        self.agents_domain = agents_domain
        self.group = Group()

    def post(self, message: object) -> None:
        if isinstance(message, m.CallbackOffer):
            greenlet = self.group.spawn(self._ring, message)
            greenlet.link_exception(
                lambda g: log.error("callback %s: ringing failed: %r", message.ticket, g.exception)
            )

    def stop(self) -> None:
        self.group.kill(block=True, timeout=2.0)

    def _ring(self, offer: m.CallbackOffer) -> None:
        channel = self.channel()
        if channel is None or not channel.connected:
            self._failed(offer, "ENGINE_DISCONNECTED")
            return
        leg = str(uuidlib.uuid4())
        tags = {
            "cc_managed": "true",
            "cc_role": str(LegRole.CALLER),
            "cc_entry": "callback",
            "cc_callback": offer.ticket,
            "cc_callback_number": offer.number,
            "cc_queue": offer.queue,
            "cc_agent": offer.extension,
            "originate_timeout": str(offer.ring_seconds),
            "origination_caller_id_number": offer.number,
            "origination_caller_id_name": f"callback {offer.queue}"[:64],
        }
        dial = f"user/{offer.extension}@{self.agents_domain}"
        log.info("callback %s: ringing agent %s for %s (attempt %d)", offer.ticket,
                 offer.extension, offer.number, offer.attempt)  # fmt: skip
        try:
            channel.bgapi(commands.originate(dial, tags, uuid=leg), offer.ring_seconds + 10.0)
        except ESLError as exc:
            self._failed(offer, cause_of(str(exc)))

    def _failed(self, offer: m.CallbackOffer, cause: str) -> None:
        log.info("callback %s: agent %s not reached: %s", offer.ticket, offer.extension, cause)
        self.dispatcher.post(m.OfferFailed(offer.ticket, offer.extension, cause))


class CallbackCalls:
    """A ``TargetRunner`` for the calls ``CallbackDialer`` made (the target is not used)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        routes: OutboundRoutes | None,
        *,
        tts: tuple[str, str] = ("flite", "kal"),
        caller_id: str = "",
    ) -> None:
        self.dispatcher = dispatcher
        self.routes = routes
        self.tts = tts
        self.caller_id = caller_id  # shown to the customer when the route sets none

    def __call__(self, control: CallControl, _target: Target) -> None:
        call = control.call
        call.timeline.direction = Direction.OUTBOUND
        call.timeline.routed("callback")
        if call.callback is None or call.adopted:  # a restart cut it short: back in line
            control.hangup("NORMAL_CLEARING")
            return
        ticket, number, extension, queue = call.callback
        rules, recording = self._queue(control, queue)
        if not self._taken(control, ticket, extension):
            control.hangup("NORMAL_CLEARING")
            return
        cause: str | None = callback.AGENT_LEFT
        try:
            self._whisper(control, number, rules.whisper)
            cause = self._dial(control, number, rules.ring_seconds, recording, extension)
        except CallGone:
            log.info("call %s: agent %s left the callback before talking to the customer",
                     call.uuid, extension)  # fmt: skip
            raise
        finally:
            self.dispatcher.post(m.CallbackDialled(ticket, call.uuid, cause))
        if cause is not None:  # the customer not reached: the agent hears why, then is free
            call.timeline.dial_failed(cause)  # the CDR's disposition and cause: why
            try:
                control.play(TONE_FAILED, timeout=10.0)
            finally:
                control.hangup("NORMAL_CLEARING")
        elif call.caller.bridged_us is None or call.caller_gone:  # reached, gone before the talk
            control.hangup("NORMAL_CLEARING")
        elif control.recorder is not None:
            control.recorder.bridged(control, queue, recording, extension)

    def _taken(self, control: CallControl, ticket: str, extension: str) -> bool:
        answer = m.OneShot()
        self.dispatcher.post(m.CallbackAnswered(ticket, extension, control.uuid, answer))
        granted = answer.get(ANSWER_TIMEOUT)
        if not isinstance(granted, m.Reservation) or not granted.granted:
            why = granted.refused if isinstance(granted, m.Reservation) else "no answer"
            log.info("call %s: callback %s not for agent %s: %s", control.uuid, ticket,
                     extension, why)  # fmt: skip
            return False
        return True

    def _queue(self, control: CallControl, queue: str) -> tuple[CallbackRules, QueueRecording]:
        """The queue's callback rules and what its calls are recorded by, as the dispatcher's
        board has them; not read (the queue deleted, the dispatcher not answering): the
        default rules, and only the agent's own policy records the call."""
        spec = self.dispatcher.read(lambda board, _now: board.queues.get(queue))
        if spec is None:
            log.warning("call %s: callback queue %s not read: its default rules, recorded by "
                        "the agent's policy alone", control.uuid, queue)  # fmt: skip
            return CallbackRules(), QueueRecording()
        return spec.routing.callback, spec.recording

    def _whisper(self, control: CallControl, number: str, prompt: str | None) -> None:
        if not prompt or prompt.startswith("say:"):
            engine, voice = self.tts
            control.set_variable("tts_engine", engine)
            control.set_variable("tts_voice", voice)
        control.execute(
            "playback", prompt or f"say:callback for {callback.said(number)}",
            timeout=WHISPER_TIMEOUT,
        )  # fmt: skip

    def _dial(
        self,
        control: CallControl,
        number: str,
        ring: int,
        recording: QueueRecording,
        extension: str,
    ) -> str | None:
        """Ring the customer through its outbound route, tell it the call may be recorded,
        and bridge; None once it answered (bridged, or gone before the bridge), else the
        cause it was not reached. Raises ``CallGone`` when the agent left first."""
        if self.routes is None:
            return "NO_ROUTE_DESTINATION"
        try:
            dialout = self.routes.resolve(number)
        except InvalidNumber as exc:
            log.error("call %s: callback to %s refused: %s", control.uuid, number, exc)
            return "INVALID_NUMBER_FORMAT"
        except (NoOutboundRoute, InvalidOutboundRoute) as exc:
            log.error("call %s: callback to %s: %s", control.uuid, number, exc)
            return "NO_ROUTE_DESTINATION"
        shown = dialout.caller_id_number or self.caller_id
        variables = {CALLER_ID: shown} if shown else {}
        with control.shielded():  # the trunks in order (failover), within their limits
            leg = first_answer(control, self.routes.trunking, dialout, variables, float(ring))
            if isinstance(leg, OriginateFailed):
                log.info(
                    "call %s: callback to %s not answered: %s", control.uuid, number, leg.cause
                )
                return leg.cause
            try:
                self._notice(control, leg, recording, extension)
                _bridge(control, leg)
            except CallGone:
                if _agent_left(control.call, leg):
                    raise  # the actor hangs up the customer's leg, answered and unbridged
                log.info("call %s: callback to %s answered, then hung up before the bridge",
                         control.uuid, number)  # fmt: skip
                return None
            except (ESLError, UnsafeValue):
                control.kill_leg(leg)
                raise
        log.info("call %s: callback to %s answered", control.uuid, number)
        return None

    def _notice(
        self, control: CallControl, leg: str, recording: QueueRecording, extension: str
    ) -> None:
        """The queue's "this call may be recorded" to the customer, who answered a call they
        have not heard it on (theirs, maybe hours ago, is not this one), before the bridge:
        before any recording starts. The agent hears it too meanwhile, not silence, and
        knows the customer is there. Whether the call may be recorded is the inbound
        caller's rule (``Recorder.may_record``) with the agent known: its policy, else the
        queue's."""
        if control.recorder is None:
            return
        notice = control.recorder.notice(control, replace(recording, members=(extension,)))
        if notice is None:
            return
        try:
            control.broadcast(notice)  # the agent's leg, parked: queued, not waited for
        except (ESLError, UnsafeValue) as exc:  # the customer's notice matters, not this
            log.warning("call %s: recording notice not played to the agent: %s",
                        control.uuid, exc)  # fmt: skip
        control.play(notice, leg=leg, timeout=NOTICE_TIMEOUT)


def _bridge(control: CallControl, leg: str) -> None:
    """``uuid_bridge`` the agent to the customer. A customer gone before it is ``CallGone``:
    its hang-up already seen (nothing sent), the bridge refused for it (FreeSWITCH's
    ``-ERR Invalid uuid``: the leg no longer exists; its hang-up may come after the reply),
    or the bridge accepted and the agent's leg then hung up by FreeSWITCH
    (``ORIGINATOR_CANCEL``: the originatee was gone when the bridge ran)."""
    call = control.call
    control.ensure_alive(leg)
    try:
        control.bridge(leg)
    except ESLCommandFailed:
        gone = lambda: call.leg_gone(leg) or call.caller_gone  # noqa: E731
        control.wait_until(gone, GONE_WAIT, interruptible=False)
        control.ensure_alive()
        control.ensure_alive(leg)
        raise


def _agent_left(call: Call, leg: str) -> bool:
    """The agent's leg is gone, not bridged, and before the customer's (FreeSWITCH's hang-ups
    come in order): the agent left the customer; else the customer was reached and left
    (a bridge that came up was a call, however short)."""
    if not call.caller_gone or call.caller.bridged_us is not None:
        return False
    order = call.timeline.hangup_order
    return leg not in order or order.index(call.uuid) < order.index(leg)

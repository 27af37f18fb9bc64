"""A caller in a queue, inside the call's actor: music on hold, agents rung, bridge, overflow.

The dispatcher decides who is offered to whom; this side does the telephony for its own call.
They talk in messages (``acd.messages``): the caller posts ``Join`` and gets a ``Seat`` then
``Offer``s in its mailbox; it reports an offer that failed (and why) or an answer. The end of
the agent's call reaches the dispatcher from the call manager (``CallEnded``). Whatever way
the caller leaves (an agent, the queue's limit, hanging up, an intent, an error), the stay is
closed and any agent held for this caller is freed, in ``finally``.

The queue's music plays with ``playback`` while agents ring (an originate is a ``bgapi``, the
caller's channel keeps playing); ``uuid_bridge`` ends it when an agent answers, as
mod_callcenter does.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import gevent

from callcenter.acd import callback, waiting
from callcenter.acd import messages as m
from callcenter.acd.board import QueueSpec
from callcenter.acd.dispatcher import Dispatcher
from callcenter.acd.music import MusicOnHold, break_media
from callcenter.acd.rules import CallbackRules
from callcenter.calls.call import Call, QueueSeat
from callcenter.calls.control import CallControl, OriginateFailed
from callcenter.calls.intents import BridgeAgent, Hangup, IntentArrived
from callcenter.calls.routing import Target, parse_target
from callcenter.errors import CallGone, ConfigError, ESLError, ESLNotConnected
from callcenter.esl import commands
from callcenter.events.types import AgentAnswered, AgentOffered, QueueJoined, QueueLeft
from callcenter.ids import new_uuid
from callcenter.phone.offers import AgentPhone, offer_variables, whisper_prompt
from callcenter.recording.on_call import Recorder
from callcenter.vocabulary import CallState, Disposition, QueueOutcome

log = logging.getLogger(__name__)

TargetRunner = Callable[[CallControl, Target], None]
MAX_OVERFLOWS = 5  # queue -> overflow -> queue ... on one call
JOIN_TIMEOUT = 10.0
RESUME_TIMEOUT = 120.0
WHISPER_TIMEOUT = 30.0
_WAIT_EXITS = frozenset(
    str(o)
    for o in (
        QueueOutcome.TIMEOUT,
        QueueOutcome.NO_AGENT,
        QueueOutcome.OVERFLOW,
        QueueOutcome.EXIT_KEY,
    )
)
TONE_REFUSED = "tone_stream://%(150,100,480);loops=2"
EXIT_KEY = "exit_key"
CALLBACK = "callback"
PARK_MARGIN = 30.0  # seconds before FreeSWITCH's park_timeout a queued caller is moved on


class Phones(Protocol):
    """Agents' phone settings (``phone.offers.AgentPhones``)."""

    def get(self, extension: str) -> AgentPhone | None: ...


@dataclass
class _Seat:
    """This call's side of a stay, owned by its actor: what the dispatcher said (its answers
    arrive as values), the phones ringing for it, the agent it got."""

    ticket: str
    queue: str
    answer: m.Seat | None = None
    offer: m.Offer | None = None
    gone: bool = False  # the queue was deleted
    exit: m.Exit | None = None  # the queue sends the caller away (no agent, empty)
    keys_seen: int = 0  # the caller's keys pressed (Call.keys_pressed) already looked at
    pressed: str | None = None  # a key that means something: "exit_key" or "callback"
    ringing: set[str] = field(default_factory=set)
    agent: str | None = None
    leg: str | None = None
    bridged_at: float | None = None
    marked: bool = False  # the channel carries the cc_queue* variables of this stay
    suspended: bool = False  # the engine stopped: the stay stays open for the next run
    left: bool = False  # the dispatcher was told the caller left
    outcome: QueueOutcome = QueueOutcome.ABANDONED  # how it leaves if it leaves unbridged
    reason: str = "caller hung up"

    def absorb(self, inbox: Any) -> None:
        """Take the dispatcher's answers about this stay from the actor's inbox (an answer
        about an earlier stay of the call is stale: dropped)."""
        kept = []
        while inbox:
            message = inbox.popleft()
            if isinstance(message, m.Seat | m.Offer | m.QueueGone | m.Exit):
                if message.ticket != self.ticket:
                    continue
                if isinstance(message, m.Seat):
                    self.answer = message
                elif isinstance(message, m.Offer):
                    self.offer = message
                elif isinstance(message, m.Exit):
                    self.exit = message
                else:
                    self.gone = True
            else:
                kept.append(message)
        inbox.extend(kept)

    @property
    def decided(self) -> bool:
        return self.answer is not None

    @property
    def accepted(self) -> bool:
        return self.answer is not None and self.answer.accepted


class QueueRunner:
    """What a route target ``queue:<name>`` and an IVR ``queue`` node call."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        route: TargetRunner | None = None,
        park_timeout: float = 3600.0,
        phones: Phones | None = None,
        tts: tuple[str, str] = ("flite", "kal"),
        recorder: Recorder | None = None,
    ) -> None:
        self.recorder = recorder  # records the bridged call per the queue's policy
        self.dispatcher = dispatcher
        self.route = route  # for overflow targets; set by the composition root
        self.park_timeout = park_timeout  # FreeSWITCH's, from the park (0: none)
        self.phones = phones  # per-agent offer settings: auto-answer, whisper
        self.tts = tts  # (engine, voice) a whisper of the queue's name is spoken with

    def __call__(
        self,
        control: CallControl,
        queue: str,
        *,
        priority: int = 0,
        skills: Mapping[str, int] | None = None,
        language: str = "en",
    ) -> None:
        call = control.call
        resumed, call.queue_seat = call.queue_seat, None
        if resumed is not None and resumed.queue != queue:
            resumed = None
        if resumed is not None:
            priority, skills, language = resumed.priority, dict(resumed.skills), resumed.language
        ticket = resumed.ticket if resumed else new_uuid()
        if resumed is None:
            self._returning(call, ticket, queue)
        self.dispatcher.post(
            m.Join(
                ticket, call.uuid, queue, control.mailbox, priority,
                tuple(sorted((skills or {}).items())), resumed.joined_us if resumed else 0,
                call.queue_first_us,
            )
        )  # fmt: skip
        if resumed is not None:
            log.info("call %s: back in queue %s where it waited before", call.uuid, queue)
        seat = _Seat(ticket, queue, keys_seen=call.keys_pressed)  # earlier keys: not for it
        try:
            # a caller resumed after a restart may have to wait for the queues to load
            decided = lambda: _absorbed(control, seat) or call.caller_gone  # noqa: E731
            control.wait_until(decided, RESUME_TIMEOUT if resumed else JOIN_TIMEOUT)
            control.ensure_alive()  # a caller hanging up while held leaves at once
            answer = seat.answer
            spec = answer.spec if answer is not None else None
            if answer is None or spec is None or not answer.accepted:
                why = answer.refused if answer is not None else "no answer from the dispatcher"
                log.warning("call %s: queue %s refused the caller: %s", call.uuid, queue, why)
                self._overflow(control, spec, why or "refused")
                return
            if call.adopted:  # found live after a restart: the old run's music may still play
                break_media(control)
            control.answer(wait=False)  # the music and the ring go out right behind it
            if self.recorder is not None and resumed is None:
                self.recorder.announce(control, spec.recording)  # "may be recorded"
            control.set_state(CallState.QUEUED)
            call.queue_first_us = call.queue_first_us or answer.since_us
            call.timeline.queue_joined(queue, answer.since_us)
            control.emit(QueueJoined, queue=queue, position=answer.position, priority=priority)
            place = QueueSeat(
                queue, ticket, priority, answer.since_us,
                tuple(sorted((skills or {}).items())), language,
            )  # fmt: skip
            seat.marked = _mark(control, place)
            limit = self._wait(control, seat, spec, language)
            if limit is not None and limit != CALLBACK:
                outcome = _exit_outcome(seat, limit)
                call.timeline.queue_left(_now_us(), str(outcome))
                control.emit(QueueLeft, queue=queue, outcome=str(outcome), reason=limit)
                self._leave(seat, outcome, limit)
                log.info("call %s: leaves queue %s: %s", call.uuid, queue, limit)
                self._unmark(control, seat)
                target = spec.routing.exit_target if outcome is QueueOutcome.EXIT_KEY else None
                self._overflow(control, spec, str(outcome), target)
        except IntentArrived as arrived:
            intent = arrived.intent
            seat.outcome = (
                QueueOutcome.ABANDONED if isinstance(intent, Hangup) else QueueOutcome.TRANSFERRED
            )
            seat.reason = f"{_what(intent)} by {intent.by}"
            if seat.bridged_at is None:
                self._unmark(control, seat)
            raise
        except gevent.GreenletExit:
            control.pump()
            seat.suspended = not call.caller_gone  # the engine stopping, not the caller leaving
            raise
        finally:
            self._close(control, seat)

    def _returning(self, call: Call, ticket: str, queue: str) -> None:
        """The caller's number, for the queue's rejoin window (``acd.rejoin``)."""
        if call.from_number:
            self.dispatcher.post(m.Returning(ticket, queue, call.from_number))

    # -- waiting ------------------------------------------------------------------------

    def _wait(
        self, control: CallControl, seat: _Seat, spec: QueueSpec, language: str
    ) -> str | None:
        """Wait, ring what the dispatcher offers, bridge. None once bridged, else why the
        caller must leave: the queue's limit, FreeSWITCH's park_timeout ahead, the queue gone."""
        call = control.call
        deadline = seat.answer.deadline if seat.answer is not None else None
        why = "max_wait_seconds"
        park_deadline = self._park_deadline(call)
        if park_deadline is not None and (deadline is None or park_deadline < deadline):
            deadline, why = park_deadline, "park_timeout"
        music = MusicOnHold(
            control,
            spec.music_on_hold,
            announce_every=spec.announce_every,
            announcement=spec.announcements.get("periodic"),
            position_prompt=spec.announcements.get("position"),
            position=functools.partial(self._position, seat),
            language=language,
            place=self._place(control, seat, spec, language),
        )
        music.start()
        rung = 0  # the dispatcher's offers are numbered: ring each one once
        try:
            while True:
                left = 60.0
                if deadline is not None:
                    left = min(left, deadline - self.dispatcher.clock())
                    if left <= 0:
                        return why
                look = functools.partial(self._news, control, seat, rung)
                control.wait_until(look, left)
                control.ensure_alive()
                offer = seat.offer
                if seat.exit is not None:
                    return seat.exit.reason
                pressed, seat.pressed = seat.pressed or _pressed_key(call, seat, spec), None
                if pressed == EXIT_KEY:
                    return pressed
                if pressed == CALLBACK:
                    music.stop()
                    if self._callback(control, seat, spec, language):
                        return CALLBACK
                    control.pump()
                    seat.keys_seen = call.keys_pressed  # the dialogue's keys mean nothing here
                    music.start()
                if offer is None or offer.number <= rung:
                    if seat.gone:
                        return "queue deleted"
                    continue
                rung = offer.number
                answered = self._ring(control, seat, offer.agents, spec, offer.stagger)
                if answered is None or not self._whisper(control, seat, spec, *answered):
                    continue
                # end the music first: a playback queued at the bridge would run inside it
                music.stop()
                if self._bridge(control, seat, *answered):
                    return None
                music.start()
        except gevent.GreenletExit:
            music.stop(interrupt=False)  # the caller keeps its music while the engine restarts
            raise
        finally:
            music.stop(interrupt=call.caller.bridged_us is None)

    def _callback(self, control: CallControl, seat: _Seat, spec: QueueSpec, language: str) -> bool:
        """The caller asked for a callback: confirm its number (or take another), hand its
        place to the dispatcher as a virtual caller, say goodbye, hang up. False: the
        caller waits on (no valid number, no choice made, the place already offered)."""
        call, rules = control.call, spec.routing.callback
        number = self._callback_number(control, rules, language)
        if number is None:
            control.play(TONE_REFUSED)
            return False
        answer = m.OneShot()
        self.dispatcher.post(m.CallbackRequested(seat.ticket, number, answer))
        taken = answer.get(JOIN_TIMEOUT)
        if not isinstance(taken, m.CallbackTaken) or not taken.accepted:
            why = taken.refused if isinstance(taken, m.CallbackTaken) else "no answer"
            log.info("call %s: callback not taken: %s", call.uuid, why)
            return False
        seat.left = True  # the stay goes on without the caller: no Leave
        call.timeline.queue_left(_now_us(), str(QueueOutcome.CALLBACK))
        call.timeline.outcome = str(Disposition.CALLBACK)
        control.emit(QueueLeft, queue=seat.queue, outcome=str(QueueOutcome.CALLBACK),
                     reason=f"callback to {number}")  # fmt: skip
        self._unmark(control, seat)  # a restart must not put the caller back in line
        log.info("call %s: queue %s will call back %s", call.uuid, seat.queue, number)
        control.play(rules.done_prompt)
        control.hangup("NORMAL_CLEARING")
        return True

    def _callback_number(
        self, control: CallControl, rules: CallbackRules, language: str
    ) -> str | None:
        """Caller ID read back, 1 confirms and 2 takes another; a number keyed in ends with
        # and is checked (``acd.callback``). None: nothing usable."""
        self._speaks(control)
        number = callback.number_to_call(control.call.from_number, rules)
        if number is not None:
            control.play(rules.prompt)
            control.say(number, method="iterated", lang=language)
            control.play(rules.choice_prompt)
            choice = control.collect_digits(
                "silence_stream://250", tries=2, timeout=5.0, regex="[12]"
            )
            if choice.value == callback.CONFIRM:
                return number
            if choice.value != callback.OTHER:
                return None
        control.play(rules.enter_prompt)
        keyed = control.collect_digits(
            "silence_stream://250", min_digits=rules.min_digits, max_digits=rules.max_digits,
            tries=2, timeout=10.0, regex=r"\d+", digit_timeout=5.0,
        )  # fmt: skip
        return callback.keyed_number(keyed.value, rules)

    def _speaks(self, control: CallControl) -> None:
        """``say:`` prompts need the channel's TTS engine and voice."""
        engine, voice = self.tts
        control.set_variable("tts_engine", engine)
        control.set_variable("tts_voice", voice)

    def _position(self, seat: _Seat) -> int:
        """Asked of the dispatcher when announced (the music's greenlet); the place at
        joining if it does not answer in time."""
        now = self.dispatcher.position(seat.ticket)
        if now:
            return now
        return seat.answer.position if seat.answer is not None else 1

    def _place(
        self, control: CallControl, seat: _Seat, spec: QueueSpec, language: str
    ) -> Callable[[], list[tuple[str, str]]] | None:
        """The place and expected wait said at each announcement (``acd.waiting``)."""
        if not spec.announcements.get("wait_about"):
            return None  # the position alone, as before
        ask = functools.partial(self.dispatcher.wait, seat.ticket)
        fallback = functools.partial(self._position, seat)
        return waiting.announcer(ask, fallback, spec.announcements, language, control.uuid)

    def _news(self, control: CallControl, seat: _Seat, rung: int) -> bool:
        """What ends a wait: a new offer, the caller gone, the queue deleted."""
        seat.absorb(control.inbox)
        new = seat.offer is not None and seat.offer.number > rung
        call = control.call
        pressed = call.keys_pressed > seat.keys_seen
        return (
            new or seat.gone or seat.exit is not None or pressed or call.caller_gone
            or seat.pressed is not None
        )  # fmt: skip

    def _unmark(self, control: CallControl, seat: _Seat) -> None:
        """The caller left the queue without an agent: a restart must not put it back."""
        if seat.marked and not control.call.caller_gone:
            seat.marked = not _mark(control, None)

    def _park_deadline(self, call: Call) -> float | None:
        """When, on the dispatcher's clock, to give up before FreeSWITCH's park_timeout."""
        created = call.caller.created_us
        if not self.park_timeout or created is None:
            return None
        parked_for = max(0.0, (_now_us() - created) / 1e6)
        return self.dispatcher.clock() + self.park_timeout - parked_for - PARK_MARGIN

    def _ring(
        self,
        control: CallControl,
        seat: _Seat,
        agents: tuple[str, ...],
        spec: QueueSpec,
        stagger: float = 0.0,
    ) -> tuple[str, str] | None:
        """Ring the offered phones (all at once for ring-all, one more every ``stagger``
        seconds for ring-progressively); the first to answer wins."""
        seat.ringing = set(agents)
        number = seat.offer.number if seat.offer is not None else 0
        for ext in agents:
            control.emit(AgentOffered, queue=spec.name, agent_extension=ext, offer=number)
        jobs = {
            _spawn_after(
                n * stagger,
                _attempt,
                control.originate,
                control.agent_dial_string(ext),
                extension=ext,
                variables={"cc_queue": spec.name, **self._offer_variables(control, spec, ext)},
                timeout=spec.agent_ring_seconds,
                interruptible=False,  # the actor stops for an intent below, and cancels
            ): ext
            for n, ext in enumerate(agents)
        }
        winner: tuple[str, str] | None = None
        try:
            pending = set(jobs)
            keyed = control.mailbox.keyed
            while pending and winner is None and seat.pressed is None:
                stops: list[Any] = [*pending, control.mailbox.intent, keyed]
                for job in gevent.wait(stops, count=1):
                    if job is control.mailbox.intent:
                        control.pump()
                        control.check_intents()  # the finally below cancels the phones
                        if not control.intents:
                            control.mailbox.intent.clear()  # nothing left: wait again
                        continue
                    if job is keyed:  # the exit (or callback) key cancels the offer
                        keyed.clear()
                        control.pump()
                        seat.pressed = _pressed_key(control.call, seat, spec)
                        continue
                    pending.discard(job)
                    ext = jobs[job]
                    leg, error = job.value if job.successful() else ("", job.exception)
                    if error is not None:
                        self._fail(seat, ext, _cause(control, ext, error), _gone(control))
                    elif winner is None:  # two answers in one wake-up: the first one wins
                        winner = (ext, leg)
                if seat.pressed is not None:
                    winner = None  # the caller's key wins over an answer in the same wake-up
        finally:
            for job, ext in jobs.items():
                if not job.ready():
                    job.kill(block=True)
                if winner is None or ext != winner[0]:
                    # first: it never raises
                    self._fail(seat, ext, "ORIGINATOR_CANCEL", _gone(control))
                    self._hang_up_agent_legs(control, ext)
        control.ensure_alive()
        return winner

    def _phone(self, extension: str) -> AgentPhone | None:
        return self.phones.get(extension) if self.phones is not None else None

    def _offer_variables(
        self, control: CallControl, spec: QueueSpec, extension: str
    ) -> dict[str, str]:
        call = control.call
        return offer_variables(spec.name, call.from_name, call.from_number, self._phone(extension))

    def _whisper(
        self, control: CallControl, seat: _Seat, spec: QueueSpec, extension: str, leg: str
    ) -> bool:
        """The agent's whisper, on its leg only (the caller keeps its music); False when the
        agent hung up meanwhile (the offer failed, the caller waits on)."""
        prompt = whisper_prompt(self._phone(extension), spec.name)
        if prompt is None:
            return True
        try:
            if prompt.startswith("say:"):
                engine, voice = self.tts
                control.execute("set", f"tts_engine={engine}", leg=leg)
                control.execute("set", f"tts_voice={voice}", leg=leg)
            control.execute("playback", prompt, leg=leg, timeout=WHISPER_TIMEOUT)
        except (CallGone, ESLError) as exc:
            control.ensure_alive()  # the caller gone: that ends the stay
            log.info("call %s: agent %s left during the whisper: %s", control.uuid, extension, exc)
            control.kill_leg(leg)
            self._fail(seat, extension, "NORMAL_TEMPORARY_FAILURE")
            return False
        return True

    def _hang_up_agent_legs(self, control: CallControl, extension: str) -> None:
        """Cancel the legs still ringing (or just answered) for a phone that lost the race."""
        for uuid, leg in control.call.timeline.legs.items():
            if leg.agent_extension == extension and not leg.ended:
                control.kill_leg(uuid, "LOSE_RACE")

    def _fail(self, seat: _Seat, ext: str, cause: str, caller_gone: bool = False) -> None:
        if ext in seat.ringing:
            seat.ringing.discard(ext)
            self.dispatcher.post(m.OfferFailed(seat.ticket, ext, cause, caller_gone))

    def _bridge(self, control: CallControl, seat: _Seat, extension: str, leg: str) -> bool:
        with control.shielded():  # an intent waits until the dispatcher knows the outcome
            return self._bridge_now(control, seat, extension, leg)

    def _bridge_now(self, control: CallControl, seat: _Seat, extension: str, leg: str) -> bool:
        call = control.call
        seat.agent, seat.leg = extension, leg
        try:
            control.bridge(leg)
        except CallGone:
            if call.caller.bridged_us is None:
                raise
            gone = True  # bridged, and the caller hung up at once: answered all the same
        except ESLError as exc:  # the agent hung up between answering and the bridge
            log.warning("call %s: bridge to agent %s failed: %s", call.uuid, extension, exc)
            control.kill_leg(leg)
            seat.agent = seat.leg = None
            self._fail(seat, extension, "NORMAL_TEMPORARY_FAILURE")
            control.ensure_alive()
            return False
        else:
            gone = False
        seat.ringing.discard(extension)
        seat.bridged_at = self.dispatcher.clock()
        self.dispatcher.post(m.OfferAnswered(seat.ticket, extension, call.uuid))
        seat.left = True
        call.timeline.queue_left(_now_us(), str(QueueOutcome.ANSWERED))
        control.emit(AgentAnswered, queue=seat.queue, agent_extension=extension)
        control.emit(QueueLeft, queue=seat.queue, agent_extension=extension,
                     outcome=str(QueueOutcome.ANSWERED))  # fmt: skip
        log.info("call %s: bridged to agent %s", call.uuid, extension)
        spec = seat.answer.spec if seat.answer is not None else None
        if self.recorder is not None and spec is not None and not gone:
            self.recorder.bridged(control, seat.queue, spec.recording, extension)
        if gone:
            raise CallGone(f"call {call.uuid}: caller hung up as the bridge came up")
        return True

    # -- leaving ------------------------------------------------------------------------

    def _overflow(
        self, control: CallControl, spec: QueueSpec | None, why: str, to: str | None = None
    ) -> None:
        call = control.call
        target_text = to or (spec.overflow_target if spec is not None else None)
        call.queue_overflows += 1
        if not target_text or self.route is None or call.queue_overflows > MAX_OVERFLOWS:
            waited = why in _WAIT_EXITS  # moved on after waiting, not refused
            control.hangup("NORMAL_CLEARING" if waited else "NORMAL_TEMPORARY_FAILURE")
            return
        try:
            target = parse_target(target_text, f"queue {spec.name if spec else '?'} overflow")
        except ConfigError as exc:
            log.error("call %s: %s", call.uuid, exc)
            control.hangup("NORMAL_TEMPORARY_FAILURE")
            return
        log.info("call %s: queue overflow (%s) -> %s", call.uuid, why, target)
        self.route(control, target)

    def _close(self, control: CallControl, seat: _Seat) -> None:
        """However the caller left: free the phones still held for it, close the ticket."""
        ticket, ringing = seat.ticket, list(seat.ringing)
        for ext in ringing:
            self._fail(seat, ext, "ORIGINATOR_CANCEL")
        if seat.suspended and seat.bridged_at is None:
            self.dispatcher.post(m.Suspend(ticket))  # no outcome: the next run resumes the stay
        elif seat.bridged_at is None and not seat.left:  # told before any command is tried
            if seat.accepted:
                control.call.timeline.queue_left(_now_us(), str(seat.outcome))
                control.emit(QueueLeft, queue=seat.queue, outcome=str(seat.outcome),
                             reason=seat.reason)  # fmt: skip
            self._leave(seat, seat.outcome, seat.reason)
        for ext in ringing:
            self._hang_up_agent_legs(control, ext)  # never raises (CallControl.kill_leg)

    def _leave(self, seat: _Seat, outcome: QueueOutcome, reason: str) -> None:
        seat.left = True
        self.dispatcher.post(m.Leave(seat.ticket, outcome, reason))


def _pressed_key(call: Call, seat: _Seat, spec: QueueSpec) -> str | None:
    """The keys the caller pressed while waiting, read once: the queue's exit key is a
    reason to leave (``"exit_key"``), its callback key asks for a callback (``"callback"``);
    others are ignored."""
    keys = call.keys_since(seat.keys_seen)
    seat.keys_seen = call.keys_pressed
    routing = spec.routing
    for key in keys:
        if key == routing.exit_key:
            log.info("call %s: caller pressed %s: leaves queue %s", call.uuid, key, spec.name)
            return EXIT_KEY
        if key == routing.callback.key:
            log.info("call %s: caller pressed %s: callback asked (queue %s)", call.uuid, key,
                     spec.name)  # fmt: skip
            return CALLBACK
    return None


def _exit_outcome(seat: _Seat, why: str) -> QueueOutcome:
    """How a caller the queue moves on leaves: the queue's own exit (no agent), a time limit
    (the queue's, or FreeSWITCH's park_timeout ahead), or the queue deleted (overflow)."""
    if seat.exit is not None:
        return seat.exit.outcome
    if why in ("max_wait_seconds", "park_timeout"):
        return QueueOutcome.TIMEOUT
    if why == "exit_key":
        return QueueOutcome.EXIT_KEY
    return QueueOutcome.OVERFLOW


def _spawn_after(delay: float, fn: Callable[..., Any], *args: Any, **kw: Any) -> gevent.Greenlet:
    """``gevent.spawn_later``, or ``spawn`` for no delay (every phone of a ring-all, the
    first of a progressive ring): started by the hub's callbacks, without a timer."""
    if delay > 0:
        return gevent.spawn_later(delay, fn, *args, **kw)
    return gevent.spawn(fn, *args, **kw)


def _attempt(fn: Callable[..., str], *args: Any, **kw: Any) -> tuple[str, BaseException | None]:
    """Run an originate in a helper greenlet; its failure is a result here, not a crash."""
    try:
        return fn(*args, **kw), None
    except Exception as exc:  # noqa: BLE001 (handed back to _ring, which decides)
        return "", exc


def _mark(control: CallControl, seat: QueueSeat | None) -> bool:
    """Write (or clear) the caller's place on its channel; True when it went out. Its reply
    is not waited for: it comes back with the music's and the ring's commands, which go out
    right behind it, not in a wake-up of its own. A refusal (the channel just gone) is
    logged when it comes: a restart would then re-run the route, worse, not wrong."""
    values = seat.variables() if seat is not None else QueueSeat.cleared()
    uuid = control.uuid
    try:
        control.channel.api_sent(
            commands.uuid_setvar_multi(uuid, values),
            lambda why: log.info("call %s: queue place not stored on the channel: %s", uuid, why),
        )
    except ESLError as exc:
        log.info("call %s: queue place not stored on the channel: %s", uuid, exc)
        return False
    return True


def _absorbed(control: CallControl, seat: _Seat) -> bool:
    seat.absorb(control.inbox)
    return seat.decided


def _what(intent: object) -> str:
    if isinstance(intent, Hangup):
        return "hung up"
    if isinstance(intent, BridgeAgent):
        return f"bridged to agent {intent.extension}"
    return "transferred"


def _gone(control: CallControl) -> bool:
    """The caller hung up (its hangup maybe not read into the call yet)."""
    return control.call.caller_gone or control.mailbox.caller_hangup.is_set()


def _cause(control: CallControl, ext: str, exc: BaseException | None) -> str:
    if isinstance(exc, OriginateFailed):
        log.info("call %s: agent %s did not answer: %s", control.uuid, ext, exc.cause)
        return exc.cause
    if isinstance(exc, CallGone):
        return "ORIGINATOR_CANCEL"
    if isinstance(exc, ESLNotConnected):
        return "ENGINE_DISCONNECTED"
    log.warning("call %s: ringing agent %s failed: %r", control.uuid, ext, exc)
    return "NORMAL_TEMPORARY_FAILURE"


def _now_us() -> int:
    return time.time_ns() // 1000

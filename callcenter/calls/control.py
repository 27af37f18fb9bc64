"""CallControl: the blocking-style API every feature uses on a call, inside the call's actor.

Each method returns when FreeSWITCH says the step is done (the CHANNEL_EXECUTE_COMPLETE of
its Event-UUID, an api reply, a BACKGROUND_JOB) and raises ``CallGone`` as soon as the caller
is gone. Values from outside reach FreeSWITCH only through ``callcenter.esl.commands``.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import gevent

from callcenter.calls.call import Call
from callcenter.calls.digits import Digits
from callcenter.calls.intents import (
    INTENTS,
    BridgeAgent,
    CallIntent,
    Hangup,
    IntentArrived,
    LegMoved,
)
from callcenter.calls.mailbox import Mailbox
from callcenter.errors import (
    CallGone,
    ESLCommandFailed,
    ESLError,
    ESLNotConnected,
    ESLTimeout,
    UnsafeValue,
)
from callcenter.esl import commands
from callcenter.esl import quoting as q
from callcenter.esl.connection import INVALID_SESSION, BackgroundJob
from callcenter.esl.events import Event
from callcenter.events import types as events
from callcenter.events.bus import EventBus
from callcenter.events.types import CallAnswered
from callcenter.ids import new_uuid
from callcenter.recording.policy import Policy
from callcenter.recording.state import RecordingCommand
from callcenter.vocabulary import CallState, Direction, LegRole, language_code

if TYPE_CHECKING:
    from callcenter.recording.on_call import QueueRecording

log = logging.getLogger(__name__)

_CAME_UP = frozenset({"CHANNEL_ANSWER", "CHANNEL_PARK", "CHANNEL_BRIDGE"})
MAX_BREAKS = 5  # uuid_breaks sent to end one application for an intent
BREAK_GRACE = 1.0  # seconds an application gets to end after a uuid_break
CLAIM_TIMEOUT = 5.0  # seconds the ACD has to say whether an agent's phone is free


class Channel(Protocol):
    """What CallControl needs of an ESL connection (``callcenter.esl.ESLConnection``)."""

    @property
    def connected(self) -> bool: ...

    def api(self, line: str, timeout: float | None = None, *, check: bool = True) -> str: ...

    def api_sent(self, line: str, failed: Callable[[str], None], *, check: bool = True) -> None: ...

    def bgapi(self, line: str, timeout: float | None = None, *, check: bool = True) -> str: ...

    def execute_sent(self, uuid: str, app: str, failed: Callable[[str], None]) -> None: ...

    def bgapi_sent(self, line: str, timeout: float | None = None) -> BackgroundJob: ...

    def execute(
        self,
        uuid: str,
        app: str,
        arg: str | None = None,
        timeout: float | None = None,
        *,
        sent: Callable[[], None] | None = None,
    ) -> Event: ...

    def hangup(
        self, uuid: str, cause: str = "NORMAL_CLEARING", timeout: float | None = None
    ) -> None: ...


class AgentPresence(Protocol):
    """Who must know that an agent's phone is on a call (the ACD's dispatcher)."""

    def busy(self, call_uuid: str, extension: str) -> None: ...

    def claim(self, call_uuid: str, extension: str, reply: Mailbox) -> None:
        """Hold the agent's phone for a direct call unless it is offering or on a call;
        answered in ``reply`` by a message with ``id`` (the call's uuid) and ``refused``."""
        ...

    def call_ended(self, call_uuid: str) -> None: ...

    def released(self, call_uuid: str, extension: str) -> None: ...

    def reserve(self, extension: str, reply: Mailbox, seconds: float = 30.0) -> str:
        """Answered in ``reply`` by a message with ``id``, ``granted`` and ``refused``."""
        ...

    def bind(self, reservation: str, call_uuid: str) -> None: ...

    def release(self, reservation: str) -> None: ...

    def bridged_before(
        self,
        ticket: str,
        queue: str,
        call_uuid: str,
        extension: str,
        joined_us: int,
        priority: int = 0,
    ) -> None:
        """A queue caller found bridged to ``extension`` after a restart: its stay is
        answered (the last run may have died before writing so)."""
        ...


class RecordingHandler(Protocol):
    """``recording.on_call.Recorder``: a recording command, in the call's actor."""

    def command(self, control: CallControl, command: RecordingCommand) -> bool: ...

    def pressed(self, control: CallControl, leg: str, digit: str) -> None: ...

    def stopped(self, control: CallControl, path: str) -> None: ...

    def answered(self, control: CallControl, flow: str, chosen: Policy) -> None: ...

    def notice(self, control: CallControl, queue: QueueRecording) -> str | None: ...

    def pci(self, control: CallControl, on: bool, by: str) -> None: ...

    def direct(self, control: CallControl, extension: str) -> None: ...

    def bridged(
        self, control: CallControl, queue_name: str, queue: QueueRecording, agent: str
    ) -> None: ...


class OriginateFailed(Exception):
    """The new leg did not come up; ``cause`` is FreeSWITCH's (USER_BUSY, NO_ANSWER, ...)."""

    def __init__(self, cause: str, leg: str = "") -> None:
        super().__init__(cause)
        self.cause = cause
        self.leg = leg  # the UUID the leg was given (its CDR leg, when it existed)


def say_argument(
    text: str, *, kind: str = "NUMBER", method: str = "pronounced", lang: str = "en"
) -> str:
    """The ``say`` application's argument; its module is the language code (mod_say)."""
    module = language_code(lang)
    for field, value in (("lang", module), ("kind", kind), ("method", method), ("text", text)):
        q.token(field, value)
    return f"{module} {kind} {method} {text}"


def _file_list(prompts: tuple[str, ...]) -> str:
    if not prompts:
        raise UnsafeValue("play: at least one prompt is needed")
    for prompt in prompts:
        q.line_safe("prompt", prompt)
        if "!" in prompt and len(prompts) > 1:
            raise UnsafeValue(f"prompt: '!' separates files in a list, in {prompt[:60]!r}")
    return prompts[0] if len(prompts) == 1 else "file_string://" + "!".join(prompts)


class CallControl:
    def __init__(
        self,
        call: Call,
        channel: Channel,
        mailbox: Mailbox,
        *,
        attach_leg: Callable[[str], None],
        command_timeout: float = 10.0,
        agents_domain: str = "callcenter",
        presence: AgentPresence | None = None,
        events: EventBus | None = None,
    ) -> None:
        self.call = call
        self.events = events or EventBus()
        self.presence = presence
        self.channel = channel
        self.mailbox = mailbox
        self._attach_leg = attach_leg
        self.command_timeout = command_timeout
        self.agents_domain = agents_domain
        self.inbox: deque[object] = deque()  # others' answers (the ACD's), for the actor's code
        self.intents: deque[CallIntent] = deque()  # not yet carried out, oldest first
        self._shield = 0  # > 0: a step that must not be cut (a bridge being set up)
        # carries out recording commands (start, stop, PCI pause/resume) at the next pump
        self.recorder: RecordingHandler | None = None

    @property
    def uuid(self) -> str:
        return self.call.uuid

    # -- the actor's view of its mailbox ------------------------------------------------

    def pump(self) -> None:
        """Apply every event already delivered to this call, without waiting; sort the
        messages posted to it (intents apart)."""
        for event in self.mailbox.drain():
            self.call.apply(event)
            self._check_cancelled(event)
            self._announce(event)
        for message in self.mailbox.take_messages():
            if isinstance(message, INTENTS):
                self.intents.append(message)
            elif isinstance(message, LegMoved):  # an attended transfer took it away
                self.call.timeline.leg_moved(message.leg, message.to_call, message.at_us)
            elif isinstance(message, RecordingCommand):
                if self.recorder is not None:
                    self.recorder.command(self, message)
            else:
                self.inbox.append(message)

    def set_state(self, state: CallState) -> None:
        """The actor's own step changes the call's state (queued, transferred, ended)."""
        self.call.state = state

    def check_intents(self) -> None:
        """Raise ``IntentArrived`` for the oldest intent waiting, unless shielded."""
        if self.intents and not self._shield:
            intent = self.intents.popleft()
            if not self.intents:
                self.mailbox.intent.clear()
            raise IntentArrived(intent)

    def take_intent(self) -> CallIntent | None:
        self.pump()
        if not self.intents:
            return None
        intent = self.intents.popleft()
        if not self.intents:
            self.mailbox.intent.clear()
        return intent

    @contextmanager
    def shielded(self) -> Iterator[None]:
        """Intents wait until the block is done (it is short: a bridge, a cleanup)."""
        self._shield += 1
        try:
            yield
        finally:
            self._shield -= 1

    def _check_cancelled(self, event: Event) -> None:
        """A leg this call gave up on came up anyway (the uuid_kill raced its creation, or
        was lost in a reconnect): hang it up now."""
        leg = event.unique_id or ""
        if leg in self.call.cancelled_legs and event.name in _CAME_UP:
            log.info("call %s: cancelled leg %s came up; hanging it up", self.uuid, leg)
            self._kill_quietly(leg, "LOSE_RACE")

    def _announce(self, event: Event) -> None:
        if event.name == "CHANNEL_ANSWER" and event.unique_id == self.uuid:
            self.emit(CallAnswered)
        elif event.name == "DTMF" and self.recorder is not None and self._agents_key(event):
            self.recorder.pressed(self, event.unique_id or "", event.get("DTMF-Digit") or "")
        elif event.name == "RECORD_STOP" and self.recorder is not None:
            self.recorder.stopped(self, event.get("Record-File-Path") or "")

    def _agents_key(self, event: Event) -> bool:
        """A key that may be an agent's: pressed on another leg than the call's own, or on
        its own when that is an agent's phone (a preview's); the caller's keys are not."""
        return event.unique_id != self.uuid or self.call.agent_first

    def emit(self, kind: type[events.Event], **fields: Any) -> None:
        """Publish an event of ``kind`` about this call (never blocks)."""
        self.events.publish(events.for_call(kind, self.call, **fields))

    def ensure_alive(self, leg: str | None = None) -> None:
        self.pump()
        target = leg or self.uuid
        if self.call.leg_gone(target):
            raise CallGone(f"call {self.uuid}: leg {target} is gone")

    def wait_until(
        self,
        done: Callable[[], bool],
        timeout: float,
        *,
        poll: float = 1.0,
        interruptible: bool = True,
    ) -> bool:
        """Process events until ``done()`` or the timeout; False on timeout. ``done()`` is
        also looked at every ``poll`` seconds without an event, for what changes without
        one (a queue deleted); a wait only events can end passes ``poll=timeout``. An intent
        ends the wait with ``IntentArrived`` unless ``interruptible`` is False."""
        deadline = gevent.get_hub().loop.now() + timeout
        while True:
            self.pump()
            if done():
                return True
            if interruptible:
                self.check_intents()
            left = deadline - gevent.get_hub().loop.now()
            if left <= 0:
                return False
            event = self.mailbox.get(timeout=min(left, poll))
            if event is not None:
                self.call.apply(event)
                self._check_cancelled(event)
                self._announce(event)

    # -- applications ---------------------------------------------------------------------

    def execute(
        self,
        app: str,
        arg: str | None = None,
        *,
        timeout: float | None = None,
        leg: str | None = None,
    ) -> Event:
        target = leg or self.uuid
        self.ensure_alive(target)
        self.check_intents()
        limit = timeout or self.command_timeout
        try:
            if limit > self.command_timeout and target == self.uuid and not self._shield:
                done = self._execute_media(app, arg, limit)  # minutes: an intent may cut it
            else:
                done = self.channel.execute(target, app, arg, limit)
        except (CallGone, ESLTimeout):
            self.ensure_alive(target)
            raise
        try:
            self.ensure_alive(target)  # a hang-up during the app completes it early
        except CallGone as exc:
            exc.response = done.application_response or ""  # it ran: what it said
            raise
        self.check_intents()
        return done

    def _execute_media(self, app: str, arg: str | None, timeout: float) -> Event:
        """A long application (a prompt, a menu, a recording) that an intent ends: a hang-up
        at once (its uuid_kill ends the application), a transfer once ``uuid_break`` has
        ended it (a menu takes one break per prompt and wait), a bridge to an agent after it."""
        job = gevent.spawn(_executed, self.channel.execute, self.uuid, app, arg, timeout)
        deadline = gevent.get_hub().loop.now() + timeout + 5.0
        breaks = 0
        while not job.ready():
            left = deadline - gevent.get_hub().loop.now()
            if left <= 0:
                break
            if not gevent.wait([job, self.mailbox.intent], timeout=left, count=1):
                continue
            if job.ready():
                break
            self.pump()
            first = self.intents[0] if self.intents else None
            if first is None:
                self.mailbox.intent.clear()  # taken already: nothing to stop for
            elif isinstance(first, Hangup) or breaks >= MAX_BREAKS:
                self.check_intents()  # the application ends with the channel (or on its own)
            elif isinstance(first, BridgeAgent):
                job.join(timeout=left)  # the caller hears the prompt out
            else:
                breaks += 1
                self._break_media()
                job.join(timeout=BREAK_GRACE)
        if not job.ready():
            job.kill(block=False)
            raise ESLTimeout(f"call {self.uuid}: {app} did not complete in {timeout}s")
        outcome: tuple[Event | None, Exception | None] = job.value
        event, error = outcome
        if error is not None:
            raise error
        assert event is not None
        return event

    def _break_media(self) -> None:
        try:
            self.channel.api(commands.uuid_break(self.uuid), check=False)
        except ESLError as exc:
            log.info("call %s: uuid_break not sent: %s", self.uuid, exc)

    def answer(self, *, wait: bool = True) -> None:
        """Answer the caller. ``wait=False``: the answer is written and not waited for,
        neither its reply nor its end: what the call does next (a queue's music, its agents
        rung) goes out right behind it and FreeSWITCH runs it after the answer, so one
        read brings all their replies back. CHANNEL_ANSWER says when it came; a caller gone
        meanwhile is seen by its hang-up, or, when FreeSWITCH refuses the answer for it
        (``invalid session id``: the hang-up came before the engine saw it, or never will),
        by the end of its leg told to the mailbox, as a resync tells a leg lost unseen."""
        if wait:
            self.execute("answer")
            return
        self.ensure_alive()
        self.check_intents()
        uuid, mailbox = self.uuid, self.mailbox

        def refused(why: str) -> None:  # in the ESL reader, when the reply comes
            log.info("call %s: answer refused: %s", uuid, why)
            if INVALID_SESSION in why:
                mailbox.lost(uuid)

        self.channel.execute_sent(uuid, "answer", refused)

    def pre_answer(self) -> None:
        self.execute("pre_answer")

    def ring_ready(self) -> None:
        self.execute("ring_ready")

    def play(self, *prompts: str, timeout: float = 600.0, leg: str | None = None) -> Event:
        """Play files, ``tone_stream://`` or ``silence_stream://`` prompts, in order (to
        ``leg``, another leg of the call, parked: a callback's customer)."""
        return self.execute("playback", _file_list(prompts), timeout=timeout, leg=leg)

    def say(
        self, text: str, *, kind: str = "NUMBER", method: str = "pronounced", lang: str = "en"
    ) -> None:
        self.execute("say", say_argument(text, kind=kind, method=method, lang=lang), timeout=120.0)

    def set_variable(self, name: str, value: str) -> None:
        q.var_name("name", name)
        self.execute("set", f"{name}={value}")

    def collect_digits(
        self,
        prompt: str,
        *,
        min_digits: int = 1,
        max_digits: int = 1,
        tries: int = 3,
        timeout: float = 10.0,
        terminators: str = "#",
        invalid_prompt: str = "silence_stream://250",
        regex: str = r"\d+",
        digit_timeout: float | None = None,
        variable: str = "cc_digits",
    ) -> Digits:
        """play_and_get_digits: the prompt, up to ``tries`` attempts, validated by ``regex``."""
        if not 1 <= min_digits <= max_digits <= 128 or not 1 <= tries <= 20:
            raise UnsafeValue(f"collect_digits: bad bounds min={min_digits} max={max_digits}")
        for field, value in (
            ("prompt", prompt), ("invalid_prompt", invalid_prompt),
            ("terminators", terminators or "none"),
        ):  # fmt: skip
            q.token(field, value)
        q.regex_token("regex", regex)
        q.var_name("variable", variable)
        inter_digit = digit_timeout if digit_timeout is not None else timeout / 2
        arg = (
            f"{min_digits} {max_digits} {tries} {int(timeout * 1000)} {terminators or 'none'} "
            f"{prompt} {invalid_prompt} {variable} {regex} {int(inter_digit * 1000)}"
        )
        done = self.execute("play_and_get_digits", arg, timeout=tries * (timeout + 120.0))
        digits = done.variable(variable)
        result = done.variable("read_result") or ("success" if digits else "timeout")
        return Digits(digits or None, result, done.variable("read_terminator_used"))

    def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        self.pump()
        if self.call.caller_gone:
            return
        try:
            self.channel.hangup(self.uuid, cause)
        except CallGone:
            return
        self.wait_until(lambda: self.call.caller_gone, self.command_timeout)

    # -- other legs ---------------------------------------------------------------------

    def originate(
        self,
        dial_string: str,
        *,
        role: LegRole = LegRole.AGENT,
        extension: str | None = None,
        variables: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        interruptible: bool = True,
        leg_uuid: str | None = None,
    ) -> str:
        """Bring up a new leg parked for this call; return its UUID once it answered. An
        intent arriving meanwhile cancels the leg (``IntentArrived``) unless
        ``interruptible`` is False (a helper greenlet ringing one of several phones)."""
        self.ensure_alive()
        if not self.channel.connected:  # nothing would be sent: no leg to put in the CDR
            raise ESLNotConnected(f"call {self.uuid}: ESL is down, {dial_string} not dialled")
        leg_uuid = leg_uuid or new_uuid()
        tags = {
            "cc_managed": "true",
            "cc_role": str(role),
            "cc_call_uuid": self.uuid,
            "originate_timeout": str(int(timeout)),
            "origination_caller_id_number": q.scrub(self.call.from_number) or "unknown",
            "origination_caller_id_name": q.scrub(self.call.from_name) or "unknown",
            **(variables or {}),
        }
        if extension:
            tags["cc_agent"] = extension
        line = commands.originate(dial_string, tags, uuid=leg_uuid)
        if role is LegRole.AGENT:
            self.call.timeline.agent_leg(leg_uuid, extension or dial_string)
        else:
            self.call.timeline.add_leg(leg_uuid, role, Direction.OUTBOUND, to_number=dial_string)
        self._attach_leg(leg_uuid)
        done, reply, error = self._originated(line, timeout, interruptible)
        self.pump()
        if self.call.caller_gone:
            self._kill_quietly(leg_uuid, "ORIGINATOR_CANCEL")
            raise CallGone(f"call {self.uuid}: caller left while {dial_string} rang")
        answered = done  # its outcome came (an error too): what follows deals with it
        if interruptible and self.intents and not self._shield and not answered:
            self._kill_quietly(leg_uuid, "ORIGINATOR_CANCEL")
            self.check_intents()
        if not done:
            self._kill_quietly(leg_uuid, "ALLOTTED_TIMEOUT")
            raise OriginateFailed("ALLOTTED_TIMEOUT", leg_uuid)
        if isinstance(error, ESLCommandFailed):
            self.pump()  # a leg that existed has sent its HANGUP before the job's -ERR
            self.call.timeline.forget_unseen_leg(leg_uuid)
            raise OriginateFailed(cause_of(str(error)), leg_uuid)
        if error is not None:
            self._kill_quietly(leg_uuid, "NORMAL_TEMPORARY_FAILURE")
            raise error
        log.debug("call %s: leg %s up: %s", self.uuid, leg_uuid, reply.strip())
        return leg_uuid

    def _originated(
        self, line: str, timeout: float, interruptible: bool
    ) -> tuple[bool, str, Exception | None]:
        """The originate's job, sent and waited for here, beside the caller hanging up and
        (``interruptible``) an intent, whichever comes first: (done, its reply, its error);
        not done: given up (the job is abandoned). No helper greenlet runs the bgapi: one
        spawn and two wake-ups fewer for every agent rung."""
        try:
            job = self.channel.bgapi_sent(line, timeout + 10.0)
        except Exception as exc:  # noqa: BLE001 (refused, or not taken in time: its outcome)
            return True, "", exc
        stops: list[Any] = [job.result, self.mailbox.caller_hangup]
        if interruptible and not self._shield:
            stops.append(self.mailbox.intent)
        done = False
        try:
            woken = gevent.wait(stops, timeout=max(0.0, job.deadline - time.monotonic()), count=1)
            if job.result.ready() or not woken:  # not woken: the job's deadline (ESLTimeout)
                done = True
                try:
                    return True, job.body(), None
                except Exception as exc:  # noqa: BLE001 (handed to originate, which raises it)
                    return True, "", exc
            return False, "", None
        finally:
            if not done:
                job.abandon()

    def agent_busy(self, extension: str) -> None:
        """This call holds the agent's phone until it ends: the ACD offers it nothing else."""
        if self.presence is not None:
            self.presence.busy(self.call.uuid, extension)

    def claim_agent(self, extension: str) -> str | None:
        """Hold the agent's phone for this call (dialled directly: a route, another agent):
        why the ACD refused (``busy``: on a call, ``offering``...), or None (held, a phone
        it does not know, or no answer in time: rung anyway, as a PBX would)."""
        if self.presence is None:
            return None
        self.presence.claim(self.uuid, extension, self.mailbox)
        refused = getattr(self.reply_to(self.uuid, CLAIM_TIMEOUT), "refused", None)
        return refused if isinstance(refused, str) else None

    def reply_to(self, asked: str, timeout: float) -> object | None:
        """The answer to what this call asked another owner (the ACD): the inbox's message
        whose ``id`` is ``asked``, taken out of it; None if none came within ``timeout``."""
        answer: list[object] = []

        def answered() -> bool:
            for message in list(self.inbox):
                if getattr(message, "id", None) == asked:
                    self.inbox.remove(message)
                    answer.append(message)
            return bool(answer)

        if not self.wait_until(answered, timeout, interruptible=False):
            return None
        return answer[0]

    def agent_dial_string(self, extension: str) -> str:
        q.token("extension", extension)
        return f"user/{extension}@{self.agents_domain}"

    def bridge(self, other_uuid: str) -> None:
        self.ensure_alive()
        self.channel.api(commands.uuid_bridge(self.uuid, other_uuid))
        # the other leg's bridge time: the caller's is an earlier bridge's after a transfer
        side = self.call.timeline.leg(other_uuid) or self.call.caller
        self.wait_until(
            lambda: side.bridged_us is not None or self.call.caller_gone,
            self.command_timeout,
            interruptible=False,
        )
        self.ensure_alive()
        if side.bridged_us is None:  # accepted, never done: said, not taken for a bridge
            raise ESLCommandFailed(
                f"uuid_bridge {self.uuid} {other_uuid}: no CHANNEL_BRIDGE within "
                f"{self.command_timeout:g} s"
            )

    def transfer(self, extension: str, dialplan: str = "XML", context: str = "callcenter") -> None:
        self.ensure_alive()
        self.channel.api(commands.uuid_transfer(self.uuid, extension, dialplan, context))

    def record_start(self, path: str) -> None:
        self.ensure_alive()
        self.channel.api(commands.uuid_record(self.uuid, "start", path))

    def record_stop(self, path: str) -> None:
        self._record("stop", path)

    def record_mask(self, path: str) -> None:
        self._record("mask", path)

    def record_unmask(self, path: str) -> None:
        self._record("unmask", path)

    def _record(self, action: Any, path: str) -> None:
        self.ensure_alive()
        self.channel.api(commands.uuid_record(self.uuid, action, path))

    def broadcast(self, path: str, leg: Any = "aleg") -> None:
        self.ensure_alive()
        self.channel.api(commands.uuid_broadcast(self.uuid, path, leg))

    def kill_leg(self, leg_uuid: str, cause: str = "NORMAL_CLEARING") -> None:
        self._kill_quietly(leg_uuid, cause)

    def _kill_quietly(self, leg_uuid: str, cause: str) -> None:
        """Hang up another leg, never raising: cleanup paths must go on (the leg is also
        remembered, and killed again should it still come up: see ``pump``)."""
        if leg_uuid != self.uuid:
            self.call.cancelled_legs.add(leg_uuid)
        try:
            self.channel.api(commands.uuid_kill(leg_uuid, cause), check=False)
        except ESLError as exc:
            log.info("call %s: uuid_kill %s not sent: %s", self.uuid, leg_uuid, exc)


def _executed(fn: Callable[..., Event], *args: Any) -> tuple[Event | None, Exception | None]:
    """Run an execute in a helper greenlet: its completion event, or its error (never
    raising: handed to the actor, which raises it)."""
    try:
        return fn(*args), None
    except Exception as exc:  # noqa: BLE001 (handed to the actor, which raises it)
        return None, exc


def cause_of(message: str) -> str:
    """``fs1: bgapi originate: -ERR USER_BUSY`` -> ``USER_BUSY``."""
    tail = message.rsplit("-ERR", 1)[-1].strip()
    return tail.split()[0] if tail else "NORMAL_TEMPORARY_FAILURE"

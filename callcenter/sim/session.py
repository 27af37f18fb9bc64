"""A channel's session: the greenlet that runs its applications, like FreeSWITCH's session
thread. ``sendmsg`` executes arrive in ``inbox``; the park loop picks them up on the next
20 ms frame; hang-ups, bridges and transfers arrive as controls and unwind the running
application so the event order is FreeSWITCH's (NOTES §4).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from gevent.event import Event
from gevent.queue import Empty, Queue

from callcenter.sim import recordfile, varsets
from callcenter.sim.channel import HANGUP_Q850, AnswerState, CallState, Channel, ChannelState
from callcenter.sim.encoding import Pair

# mod_avmd adds its bug with no target: switch_core_media_bug.c reports "N/A"
AVMD_BUG: tuple[Pair, ...] = (("Media-Bug-Function", "avmd"), ("Media-Bug-Target", "N/A"))

if TYPE_CHECKING:
    from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
    from callcenter.sim.core import SimCore
    from callcenter.sim.listening import AvmdRun
    from callcenter.sim.xml_cdr import Originatee, XmlCdrPoster

log = logging.getLogger(__name__)

PARK_POLL = 0.02
WAIT_CHUNK = 5.0


class Signal(StrEnum):
    HANGUP = "hangup"
    BREAK = "break"


class Exit(StrEnum):
    HANGUP = "hangup"
    BRIDGE = "bridge"
    TRANSFER = "transfer"
    UNBRIDGED = "unbridged"


@dataclass(frozen=True)
class ExecRequest:
    app: str
    arg: str
    app_uuid: str | None
    loops: int = 1


@dataclass(frozen=True)
class Control:
    exit: Exit
    data: tuple[str, ...] = ()
    ack: Event | None = field(default=None, compare=False)


class Session:
    def __init__(
        self,
        core: SimCore,
        chan: Channel,
        *,
        caller: CallerBehaviour | None = None,
        agent: AgentBehaviour | None = None,
    ) -> None:
        self.core = core
        self.chan = chan
        self.caller = caller
        self.agent = agent
        self.inbox: Queue[ExecRequest | Control | None] = Queue()
        self.dtmf: Queue[str] = Queue()
        self.hungup = Event()
        self.bridged = Event()
        self.destroyed = Event()
        self.parked = False
        self.running = False
        self.in_bridge_app = False
        self.last_response = "_none_"
        self.current_app = ""
        self.collects = 0
        self.digits_dialed: list[str] = []
        self.recordings: dict[str, int] = {}
        self.masks: dict[str, list[tuple[int, int | None]]] = {}  # path -> masked spans (us)
        self.bugless: set[str] = set()  # recorded by the ``record`` app: no media bug
        self.pending: Control | None = None
        self.interrupted = False
        self.flushed = False  # uuid_break ... all came while an execute waited to start
        self.starting = False  # an execute taken from the inbox, until it is done
        self.peer: Session | None = None
        self.media_open = False
        self.acked: dict[str, str] | None = None  # variables the next SIP message brings
        self.last_app = ""
        self.last_arg = ""
        self.disposition = ""
        self.played_ms = 0
        # mod_xml_cdr: the B leg a bridge joined to this one; whether this one was ever a B
        self.originatee: Originatee | None = None
        self.was_b_leg = False
        self._finishing = False
        # a REFER this leg received: its partner gets this control instead of a hang-up
        self.handoff: Control | None = None
        self.avmd: AvmdRun | None = None  # mod_avmd's media bug on this leg

    @property
    def uuid(self) -> str:
        return self.chan.uuid

    # -- events ------------------------------------------------------------------------
    def emit(self, name: str, *, lead: tuple[Pair, ...] = (), tail: tuple[Pair, ...] = ()) -> None:
        if self.destroyed.is_set():
            return
        factory = self.core.factory
        if name == "CHANNEL_STATE":
            event = factory.state(self.chan)
        elif name == "CHANNEL_HANGUP_COMPLETE":
            event = factory.hangup_complete(self.chan)
        else:
            event = factory.channel_event(name, self.chan, lead=lead, tail=tail)
        self.core.hub.emit(event)

    def set_state(self, state: ChannelState) -> None:
        self.chan.set_state(state)
        self.emit("CHANNEL_STATE")

    def set_callstate(self, callstate: CallState) -> None:
        previous = self.chan.set_callstate(callstate)
        if not self.destroyed.is_set():
            self.core.hub.emit(self.core.factory.callstate(self.chan, previous))

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, program: Callable[[Session], None]) -> None:
        self.running = True
        self.core.sessions[self.uuid] = self
        self.core.spawn(self._run, program, name=f"session-{self.uuid}")

    def _run(self, program: Callable[[Session], None]) -> None:
        try:
            program(self)
        finally:
            self.running = False
            if self.chan.gone:
                self.finish()

    def hangup(self, cause: str = "NORMAL_CLEARING", disposition: str = "send_bye") -> bool:
        """Start the hang-up: CHANNEL_HANGUP now, the rest when the running app unwinds."""
        chan = self.chan
        if chan.gone:
            return False
        now = self.core.clock.now_us()
        self.take_ack()
        chan.hangup_cause = cause
        chan.set_answer_state(AnswerState.HANGUP)
        chan.set_time("Channel-Hangup-Time", now)
        # a BYE received is known before the hang-up; one sent is written at reporting
        self.disposition = disposition
        if disposition.startswith("recv"):
            chan.set_vars(varsets.far_end_hangup(disposition, cause, q850(cause)))
        if chan.partner is not None:
            if chan.bridge_a:
                chan.set_var("last_bridge_role", "originator")
            else:
                chan.set_var("last_bridge_hangup_cause", cause)
                chan.set_var("bridge_to", None)
        self.emit("CHANNEL_HANGUP")
        self.hungup.set()
        self.inbox.put(None)
        self.dtmf.put(Signal.HANGUP)
        peer = self.peer
        if peer is not None and not peer.chan.gone:
            if self.handoff is not None:
                peer.control(self.handoff)
            elif peer.chan.get_var("park_after_bridge") == "true" or (
                peer.in_bridge_app and peer.chan.get_var("hangup_after_bridge") != "true"
            ):
                peer.control(Control(Exit.UNBRIDGED))
            else:
                peer.hangup("NORMAL_CLEARING", "send_bye")
        if not self.running:
            self.finish()
        return True

    def finish(self) -> None:
        """The tail of every hang-up (NOTES §4): ... HANGUP_COMPLETE DESTROY st:DESTROY."""
        if self.destroyed.is_set() or self._finishing:
            return
        self._finishing = True
        chan = self.chan
        for path in list(self.recordings):
            self.stop_recording(path)
        if self.avmd is not None:  # the hang-up removes every bug; mod_avmd sends no avmd::stop
            self.avmd = None
            self.emit("MEDIA_BUG_STOP", lead=AVMD_BUG)
        if chan.bridge_a and chan.partner is not None:
            chan.set_var("bridge_hangup_cause", chan.hangup_cause)
            chan.set_var("bridge_to", None)
            self.emit("CHANNEL_UNBRIDGE", lead=self._bridge_ids())
        self.set_state(ChannelState.CS_HANGUP)
        self.set_callstate(CallState.HANGUP)
        self.set_state(ChannelState.CS_REPORTING)
        self.core.cdr_variables(self)
        poster = self.core.xml_cdr
        if poster is not None and not self.was_b_leg:
            # the post (and its retries) run in the reporting step: HANGUP_COMPLETE waits
            self.core.spawn(self._report_then_complete, poster, name=f"xml-cdr-{self.uuid}")
            return
        self._complete()

    def _report_then_complete(self, poster: XmlCdrPoster) -> None:
        try:
            poster.report(self, self.core.hostname, self.core.core_uuid)
        finally:
            self._complete()

    def _complete(self) -> None:
        chan = self.chan
        self.emit("CHANNEL_HANGUP_COMPLETE")
        if chan.partner is not None and not chan.bridge_a:
            chan.set_vars({"bridge_hangup_cause": chan.hangup_cause or "", "call_uuid": chan.uuid})
        self.emit("CHANNEL_DESTROY")
        chan.set_state(ChannelState.CS_DESTROY)
        self.emit("CHANNEL_STATE")
        self.destroyed.set()
        self.core.session_gone(self)

    def _bridge_ids(self) -> tuple[Pair, ...]:
        partner = self.chan.partner
        other = partner.uuid if partner is not None else ""
        return (("Bridge-A-Unique-ID", self.uuid), ("Bridge-B-Unique-ID", other))

    def control(self, message: Control) -> None:
        self.inbox.put(message)
        self.interrupt()

    def flush_executes(self) -> None:
        """``uuid_break <uuid> all``: the executes queued behind the running app are dropped,
        as FreeSWITCH flushes the channel's private events; they never complete."""
        kept: list[ExecRequest | Control | None] = []
        while True:
            try:
                message = self.inbox.get_nowait()
            except Empty:
                break
            if not isinstance(message, ExecRequest):
                kept.append(message)
        for message in kept:
            self.inbox.put(message)
        self.flushed = True

    def interrupt(self) -> None:
        """Break the running media app (uuid_break, bridge, transfer), if there is one, or
        the one taken from the inbox and about to start: FreeSWITCH's break is a flag on
        the channel (CF_BREAK; a bridge's CF_TRANSFER likewise) that the next media loop
        reads, so an app dequeued by the park loop just before it ends at once."""
        if self.starting or (self.current_app and self.current_app != "park"):
            self.interrupted = True
            self.dtmf.put(Signal.BREAK)

    # -- waiting -----------------------------------------------------------------------
    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` of simulated time; True if the channel hung up meanwhile."""
        clock = self.core.clock
        remaining = seconds
        while remaining > 0 and not self.hungup.is_set():
            step = min(remaining, WAIT_CHUNK / clock.time_scale)
            clock.wait(self.hungup, step)
            remaining -= step
        return bool(self.hungup.is_set())

    def next_dtmf(self, seconds: float) -> str | None:
        """The next digit or Signal within ``seconds``; None on timeout."""
        clock = self.core.clock
        remaining = seconds
        while remaining > 0:
            step = min(remaining, WAIT_CHUNK / clock.time_scale)
            start = clock.now()
            try:
                item = self.dtmf.get(timeout=clock.real(step))
            except Empty:
                remaining -= max(step, clock.now() - start)
                continue
            if item == Signal.BREAK:
                if not self.interrupted:
                    remaining -= clock.now() - start
                    continue
                self.interrupted = False
            return str(item)
        return None

    def receive_dtmf(self, digit: str) -> None:
        if self.chan.gone:
            return
        self.digits_dialed.append(digit)
        tail = (("DTMF-Digit", digit), ("DTMF-Duration", "2240"), ("DTMF-Source", "RTP"))
        self.emit("DTMF", tail=tail)
        self.dtmf.put(digit)

    # -- applications ------------------------------------------------------------------
    def execute(self, app: str, arg: str, app_uuid: str | None, *, complete: bool = True) -> str:
        from callcenter.sim.apps import missing, run_app

        chan = self.chan
        app_uuid = app_uuid or self.core.new_uuid()
        self.take_ack()
        if complete and missing(self, app):
            return "_none_"
        if complete:  # uuid_bridge's EXECUTE is no application run: nothing changes
            chan.set_var("current_application_response", None)
            chan.set_var("current_application", app)
            chan.set_var("current_application_data", arg or None)
            self.last_app, self.last_arg = app, arg
        chan.application, chan.application_data = app, arg
        data: tuple[Pair, ...] = (("Application-Data", arg),) if arg else ()
        uuid_pair: tuple[Pair, ...] = (("Application-UUID", app_uuid),) if complete else ()
        self.emit("CHANNEL_EXECUTE", tail=(("Application", app), *data, *uuid_pair))
        if not complete:
            return "_none_"
        outer, self.current_app = self.current_app, app
        self.core.people.app_started(self, app)
        response = run_app(self, app, arg)
        self.current_app = outer
        self.emit(
            "CHANNEL_EXECUTE_COMPLETE",
            tail=(
                ("Application", app),
                *data,
                ("Application-Response", response),
                ("Application-UUID", app_uuid),
            ),
        )
        if app != "park":
            self.last_response = response
        return response

    def serve(self, *, parked: bool) -> Exit:
        """Run executes until a control or the hang-up ends this stretch."""
        self.parked = parked
        try:
            while True:
                if self.hungup.is_set():
                    return Exit.HANGUP
                if self.pending is not None:
                    message: ExecRequest | Control | None = self.pending
                    self.pending = None
                else:
                    try:
                        message = self.inbox.get(timeout=WAIT_CHUNK)
                    except Empty:
                        continue
                if isinstance(message, Control):
                    self.interrupted = False
                    self.pending = message
                    return message.exit
                if isinstance(message, ExecRequest):
                    self.flushed = False
                    self.starting = True
                    try:
                        if self.wait(PARK_POLL):
                            return Exit.HANGUP
                        if self.flushed:  # a uuid_break ... all came before it started
                            continue
                        self._run_request(message)
                    finally:
                        self.starting = False
        finally:
            self.parked = False

    def _run_request(self, message: ExecRequest) -> None:
        loops = max(1, message.loops)
        for loop in range(loops):
            # sendmsg's loop counters (recorded; gone when the park ends)
            self.chan.set_vars({"current_loop": str(loop + 1), "total_loops": str(loops)})
            self.execute(message.app, message.arg, message.app_uuid)

    def take_control(self) -> Control | None:
        message, self.pending = self.pending, None
        return message

    # -- answer / media ----------------------------------------------------------------
    def open_media(self) -> None:
        """FreeSWITCH's side of the media: its SDP answer and RTP, once per leg."""
        if self.media_open:
            return
        self.media_open = True
        chan, rng = self.chan, self.core.rng
        chan.media = True
        port = 16384 + 2 * rng.randrange(0, 8000)
        session = 1796500000 + rng.randrange(0, 100000)
        chan.set_vars(
            {
                "rtp_local_sdp_str": varsets.local_answer_sdp(session, port),
                **varsets.local_media(port),
                **varsets.rtp_started(rng.getrandbits(32)),
            }
        )

    def take_ack(self) -> None:
        """Apply what the far end's ACK brought (FreeSWITCH logs it in the next event)."""
        if self.acked is not None:
            acked, self.acked = self.acked, None
            self.chan.set_vars(acked)

    def pre_answer(self) -> None:
        chan = self.chan
        if chan.answer_state is not AnswerState.RINGING:
            return
        now = self.core.clock.now_us()
        self.open_media()
        chan.set_time("Channel-Progress-Media-Time", now)
        chan.set_answer_state(AnswerState.EARLY)
        self.emit("CHANNEL_PROGRESS_MEDIA")
        self.set_callstate(CallState.EARLY)

    def answer(self) -> None:
        """Answer an inbound leg. Its media was negotiated at the INVITE (freeswitch-conf
        has no late negotiation), so there is no PROGRESS_MEDIA first (sessions-3)."""
        chan = self.chan
        if chan.answer_state in (AnswerState.ANSWERED, AnswerState.HANGUP):
            return
        self.open_media()
        chan.set_time("Channel-Answered-Time", self.core.clock.now_us())
        chan.set_answer_state(AnswerState.ANSWERED)
        self.emit("CHANNEL_ANSWER")
        self.set_callstate(CallState.ACTIVE)
        chan.set_var("endpoint_disposition", "ANSWER")
        variables = chan.variables
        if chan.direction == "inbound" and "sip_from_tag" in variables:
            self.acked = varsets.inbound_acked(
                did=variables.get("sip_req_user", ""),
                port=int(variables.get("sip_network_port", "5060")),
                from_tag=variables["sip_from_tag"],
                to_tag=varsets.sip_tag(self.core.rng),
            )

    # -- recordings --------------------------------------------------------------------
    def start_recording(self, path: str, *, media_bug: bool = True) -> None:
        """``media_bug``: uuid_record and record_session record through a media bug
        (MEDIA_BUG_START after RECORD_START, s16); the ``record`` application does not."""
        self.recordings[path] = self.core.clock.now_us()
        self.masks[path] = []
        if not media_bug:
            self.bugless.add(path)
        self.emit("RECORD_START", tail=(("Record-File-Path", path),))
        if media_bug:
            bug = (("Media-Bug-Function", "session_record"), ("Media-Bug-Target", path))
            self.emit("MEDIA_BUG_START", lead=bug)

    def mask_recording(self, path: str, on: bool) -> bool:
        """``uuid_record ... mask|unmask``: silence in the file from now; no event (s03)."""
        spans = self.masks.get(path)
        if spans is None:
            return False
        now = self.core.clock.now_us()
        if on and (not spans or spans[-1][1] is not None):
            spans.append((now, None))
        elif not on and spans and spans[-1][1] is None:
            spans[-1] = (spans[-1][0], now)
        return True

    def stop_recording(self, path: str, cause: str = "success-maxtime") -> bool:
        started = self.recordings.pop(path, None)
        if started is None:
            return False
        now = self.core.clock.now_us()
        ms = (now - started) // 1000
        channels = 2 if self.chan.get_var("RECORD_STEREO") == "true" else 1
        masked = [
            ((a - started) // 1000, ((b if b is not None else now) - started) // 1000)
            for a, b in self.masks.pop(path, [])
        ]
        try:
            recordfile.write(Path(path), ms, channels, masked, self.core.record_files)
        except OSError as exc:  # FreeSWITCH logs it and still reports the stop
            log.warning("sim: recording %s not written: %s", path, exc)
        self.chan.set_vars(
            {
                "record_file_size": str(ms * 8 * 2 * channels + 44),
                "record_samples": str(ms * 8),
                "record_seconds": str(ms // 1000),
                "record_ms": str(ms),
                "record_completion_cause": cause,
            }
        )
        tail = (("Record-File-Path", path), ("Record-Completion-Cause", cause))
        self.emit("RECORD_STOP", tail=tail)
        if path in self.bugless:
            self.bugless.discard(path)
        else:
            bug = (("Media-Bug-Function", "session_record"), ("Media-Bug-Target", path))
            self.emit("MEDIA_BUG_STOP", lead=bug)
        return True


def q850(cause: str) -> str:
    return HANGUP_Q850.get(cause, "0")

"""A campaign's answered call, run by its actor (a ``TargetRunner`` for ``cc_entry=dialer``).

Answering-machine detection first (``amd``; none with ``--amd off``: every answer is a
person's), then:

- a person: an agent of the campaign, reserved through the dispatcher (so an inbound call
  and this one never get the same agent), rung with auto-answer and bridged within the safe
  harbor (2 s from the end of the person's greeting), then recorded as a queue call is, by
  the campaign's own policy, else its queue's (``runner.recording_of``); with no agent in
  time, the safe-harbor message is played and the call is an abandoned one (audited);
- a machine: per the campaign, hung up, left a message after the beep, or sent to a flow;
- a broadcast campaign's answer goes to its flow (the campaign's own policy, if set,
  recording it from there as a flow's would).

The attempt's outcome is stored (``store.record_attempt``: retries, day counts, the hold
after an abandon) and told to the campaign's runner. The CDR is the call's, as any call's,
with the trunks tried before the one that answered as legs (``Dialer.attempts_before``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from gevent import GreenletExit
from sqlalchemy import select

from callcenter.acd import messages as m
from callcenter.acd.dispatcher import Dispatcher
from callcenter.acd.music import break_media
from callcenter.calls.call import Call
from callcenter.calls.control import CallControl, Channel, OriginateFailed
from callcenter.calls.routing import Target
from callcenter.dialer import amd, store
from callcenter.dialer.amd import AmdSettings, Detection, Reason, Verdict
from callcenter.dialer.compliance import Outcome
from callcenter.dialer.placing import dialout_for, outcome_of
from callcenter.dialer.runner import (
    CampaignSpec,
    Dialer,
    LineDone,
    agents_view,
    recording_of,
    shown_as,
)
from callcenter.dialer.vocabulary import AmdAction, AuditKind, CampaignMode
from callcenter.errors import (
    CallCenterError,
    CallGone,
    DatabaseUnavailable,
    ESLError,
    ESLNotConnected,
    InvalidNumber,
    InvalidOutboundRoute,
    NoOutboundRoute,
)
from callcenter.esl import commands
from callcenter.events.types import (
    CallEnded,
    CampaignCallConnected,
    CampaignCallEnded,
    Event,
    PreviewDecision,
)
from callcenter.recording.on_call import QueueRecording
from callcenter.store.models import Campaign, Lead
from callcenter.store.records import CdrRecord
from callcenter.trunks.dialout import first_answer
from callcenter.vocabulary import CallState, Direction, Disposition, LegRole, RouteTarget

log = logging.getLogger(__name__)

PREVIEW_BEEP = "tone_stream://%(200,0,800)"
TONE_NOT_REACHED = "tone_stream://%(500,500,480,620);loops=2"
BEEP_WAIT = 30.0  # seconds a machine's greeting may still run before its beep
MESSAGE_TIMEOUT = 120.0
FILE_PLAYED = "FILE PLAYED"  # playback's Application-Response when it ran to its end
RESERVE_WAIT = 0.3

TargetRunner = Callable[[CallControl, Target], None]
ROUTES = frozenset({"dialer", "dialer-preview"})  # what a campaign call's timeline is routed


class DialerCalls:
    def __init__(
        self,
        dialer: Dialer,
        dispatcher: Dispatcher,
        run_target: TargetRunner,
        *,
        amd_settings: Callable[[Channel], AmdSettings] = lambda _node: AmdSettings(),
        tts: tuple[str, str] = ("flite", "kal"),
    ) -> None:
        self.dialer = dialer
        self.dispatcher = dispatcher
        self.run_target = run_target  # flows: a broadcast's, a machine's
        self.amd_settings = amd_settings  # per node: avmd only where module_exists says so
        self.tts = tts  # a preview's whisper
        self._talking: dict[str, tuple[CallControl, _Line]] = {}  # given to an agent, up

    def __call__(self, control: CallControl, _target: Target) -> None:
        call = control.call
        assert call.dialer is not None
        campaign, lead, preview = call.dialer
        again = not ROUTES.isdisjoint(call.timeline.routes)  # FreeSWITCH back after a loss
        if call.adopted or again:
            self._adopted(control, campaign, lead, preview, recorded=again)
            return
        if preview:
            self._preview(control, campaign, lead, preview)
            return
        call.timeline.direction = Direction.OUTBOUND
        call.timeline.routed("dialer")
        self.dialer.call_started(control.uuid, call.timeline)  # the trunks tried before
        spec = self.dialer.spec(campaign)
        line = _Line(campaign, lead)  # gone before a verdict: not reached
        try:
            if spec is None:  # the campaign stopped meanwhile
                line.outcome = Outcome.FAILED
                control.hangup("NORMAL_CLEARING")
                return
            settings = self.amd_settings(control.channel)  # the call's node's
            if spec.amd is AmdAction.OFF:  # every answer a person's, at once
                line.found = amd.Detection(Verdict.HUMAN, amd.Reason.NOT_RUN, 0.0)
            else:
                line.found = amd.detect(control, settings)
            if line.found.verdict is Verdict.MACHINE:  # a broadcast's too: its amd action
                line.outcome = Outcome.MACHINE
                self._machine(control, spec, settings, line)
                return
            if spec.amd is not AmdAction.OFF:
                amd.stop(control, settings)  # its media bug off before the agent's audio
            if spec.mode is CampaignMode.BROADCAST:  # its line lasts as long as its flow
                line.outcome = Outcome.ANSWERED
                self._store(control, line)  # now: a flow may outlast STALE_CLAIM
                self._to_flow(control, spec.flow, spec)
                return
            line.outcome = Outcome.ABANDONED  # until an agent has it
            kept = self._kept_for(lead)
            line.agent = self._connect(control, spec, _budget(spec, settings, line.found), kept)
            if line.agent is not None:
                line.outcome = Outcome.ANSWERED
                line.before = self._screen_pop(control, campaign, lead, line.agent)
                return
            self._safe_harbor(control, spec, lead)
        except GreenletExit:  # the engine stops: the call stays up, the next run adopts it
            line.left = True
            raise
        except ESLNotConnected:  # the route runs again once FreeSWITCH is back (_adopted)
            if line.found is None and line.outcome is Outcome.NO_ANSWER:
                line.outcome = Outcome.ABANDONED  # answered, the verdict lost: as adopted
            raise
        finally:
            self.dialer.call_left(control.uuid)
            self._record(control, line)

    # -- a preview: the agent first -------------------------------------------------------

    def _preview(self, control: CallControl, campaign: str, lead: int, reservation: str) -> None:
        """The agent answered the lead's offer: "1" dials it and bridges, anything else (or
        nothing in 10 s, or the agent hanging up) skips it (``Dialer.skipped``: due again
        later, not offered to that agent again, parked after ``PREVIEW_MAX_SKIPS``; no
        attempt counted). A leg parked after its offer was given back (``BIND_GRACE``) is
        hung up: neither the agent nor the lead is its own any more."""
        call = control.call
        call.timeline.direction = Direction.OUTBOUND
        call.timeline.routed("dialer-preview")
        if self.dialer.given_back(control.uuid):  # parked after its grace (a slow FreeSWITCH)
            log.warning("call %s: preview of lead %s (campaign %s) parked after its grace: its "
                        "agent and lead were given back, the agent's leg hung up", control.uuid,
                        lead, campaign)  # fmt: skip
            control.hangup("NORMAL_CLEARING")
            return
        self.dispatcher.bind(reservation, control.uuid, wrapup=True)  # held, then wrap-up
        if control.uuid in self.dialer.offers_waiting:  # the runner's grace: not gone
            self.dialer.offers_parked.add(control.uuid)
        spec, number, accepted, stopping = self.dialer.spec(campaign), None, False, False
        agent = call.agent or call.to_number
        decision: PreviewDecision | None = PreviewDecision.CANCELLED  # campaign gone, no number
        try:
            number = self._number(lead)
            if spec is not None and number is not None:  # else: the agent's leg hung up below
                decision = PreviewDecision.GONE  # until a key (or none) says otherwise
                control.set_variable("tts_engine", self.tts[0])
                control.set_variable("tts_voice", self.tts[1])
                control.execute(
                    "playback", f"say:{_spoken(number)}, press 1 to call, 2 to skip",
                    timeout=30.0,
                )  # fmt: skip
                key = control.collect_digits(
                    PREVIEW_BEEP, min_digits=1, max_digits=1, tries=1, timeout=10.0,
                    regex=r"[0-9]", variable="cc_preview_choice",
                ).value  # fmt: skip
                accepted = key == "1"
                decision = (
                    PreviewDecision.ACCEPTED if accepted
                    else PreviewDecision.SKIPPED if key else PreviewDecision.TIMEOUT
                )  # fmt: skip
        except (GreenletExit, ESLNotConnected) as exc:  # the engine stops, FreeSWITCH lost
            stopping = True  # no skip: the next run hangs it up and gives the lead back
            # told cancelled by that run: the next engine's adoption, or this one's (``again``)
            decision = None if isinstance(exc, GreenletExit) else PreviewDecision.CANCELLED
            raise
        finally:
            if not accepted:  # whatever ended it: the lead back, the runner's line done
                if stopping or spec is None or number is None:
                    self.dialer.release_lead(lead)
                else:
                    self.dialer.skipped(campaign, lead, agent)
                self.dialer.line_done(campaign, LineDone(control.uuid, Outcome.NO_ANSWER, False))
            if decision is not None:
                self.dialer.preview_decided(control.uuid, campaign, lead, agent, number, decision)
        if not accepted or spec is None or number is None:
            control.hangup("NORMAL_CLEARING")
            return
        self.dialer.skips.pop(lead, None)  # accepted: earlier skips no longer count
        line = _Line(campaign, lead, Outcome.FAILED, agent)
        recording = self._recording(control, spec)  # read before the lead hears anything
        try:
            line.outcome = self._dial_lead(control, spec, number)
            if line.outcome is Outcome.ANSWERED:
                _record_bridge(control, spec, recording, agent)
                line.before = self._screen_pop(control, campaign, lead, agent)
        except GreenletExit:  # the engine stops: the next run lets the agent go
            line.left = True
            raise
        finally:
            self._record(control, line)
        if line.outcome is not Outcome.ANSWERED:
            control.play(TONE_NOT_REACHED, timeout=10.0)
            control.hangup("NORMAL_CLEARING")

    def _dial_lead(self, control: CallControl, spec: CampaignSpec, number: str) -> Outcome:
        routes = self.dialer.routes
        try:
            dialout = dialout_for(routes, number, spec.route, spec.trunks)
        except (InvalidNumber, NoOutboundRoute, InvalidOutboundRoute) as exc:
            log.error("call %s: lead %s not dialled: %s", control.uuid, number, exc)
            return Outcome.FAILED
        shown = shown_as(spec)  # not the agent leg's "preview <campaign>"
        with control.shielded():
            leg = first_answer(control, routes.trunking, dialout, shown, float(spec.ring_seconds))
            if isinstance(leg, OriginateFailed):
                return outcome_of(leg.cause)
            try:
                control.bridge(leg)
            except ESLError as exc:  # refused, or the agent gone just as the lead answered
                log.warning("call %s: lead %s answered, not bridged: %s", control.uuid, number,
                            exc)  # fmt: skip
                control.kill_leg(leg, "NORMAL_CLEARING")  # not left parked in silence
                return Outcome.ABANDONED  # answered, and nobody there
            except BaseException:
                control.kill_leg(leg, "NORMAL_CLEARING")
                raise
        return Outcome.ANSWERED

    def _recording(self, control: CallControl, spec: CampaignSpec) -> QueueRecording:
        """What a preview is recorded by (``recording_of``); the dispatcher not answering:
        the campaign's own policy, else never, said."""
        found = self.dispatcher.read(lambda board, _now: recording_of(spec, board))
        if found is not None:
            return found
        log.warning("call %s: campaign %s: queue %s's recording policy not read: the "
                    "campaign's own, else never", control.uuid, spec.name, spec.queue)  # fmt: skip
        return QueueRecording(spec.recording) if spec.recording else QueueRecording()

    def _number(self, lead: int) -> str | None:
        with self.dialer.database.session_scope() as session:
            row = session.get(Lead, lead)
            return row.phone if row is not None else None

    # -- a person --------------------------------------------------------------------------

    def _kept_for(self, lead: int) -> str | None:
        """The agent a callback is kept for, if any (the database down: any agent, rather
        than a person answered and left with no one)."""
        try:
            with self.dialer.database.session_scope() as session:
                row = session.get(Lead, lead)
                return store.kept_for(row, datetime.now(UTC)) if row is not None else None
        except DatabaseUnavailable as exc:
            log.warning("lead %s: its kept agent not read, any agent takes it: %s", lead, exc)
            return None

    def _connect(
        self, control: CallControl, spec: CampaignSpec, budget: float, kept: str | None = None
    ) -> str | None:
        """An agent of the campaign bridged within ``budget`` seconds, or None; a callback
        ``kept`` for an agent goes to that agent first (free when it was dialled), to
        another free one rather than be abandoned when it no longer is. Whatever
        happens, a reservation not bound to the call is given back at once; with the cause
        when the agent's phone failed (unregistered, no answer): the dispatcher rests the
        agent as after a failed queue offer, so it is not reserved again at once."""
        deadline = time.monotonic() + budget
        agents = agents_view(spec)
        read = self.dispatcher.read(
            lambda board, now: (agents(board, now), recording_of(spec, board)),
            timeout=RESERVE_WAIT,
        )  # fmt: skip
        view, recording = read if read is not None else (None, QueueRecording())
        free = view.free if view is not None else ()
        if kept in free:
            free = (kept, *(name for name in free if name != kept))
        for extension in free:
            left = deadline - time.monotonic()
            if left <= 0.2:
                break
            answer = m.OneShot()
            reservation = self.dispatcher.reserve(extension, answer, seconds=left + 5.0)
            failed: str | None = ""  # None: bridged; else the phone's cause ("": none)
            try:
                granted = answer.get(min(left, RESERVE_WAIT))
                if isinstance(granted, m.Reservation) and granted.granted:
                    failed = self._bridge_agent(control, spec, extension, deadline, recording)
            finally:
                if failed is None:
                    self.dispatcher.bind(reservation, control.uuid, wrapup=True)  # to dispose
                else:
                    self.dispatcher.release(reservation, failed, spec.queue)
            if failed is None:
                return extension
        return None

    def _bridge_agent(
        self,
        control: CallControl,
        spec: CampaignSpec,
        extension: str,
        deadline: float,
        recording: QueueRecording,
    ) -> str | None:
        """The agent's phone rung (auto-answer) and bridged to the lead, the call recorded
        per ``recording``: None; else why not: the phone's cause when it was not reached, ""
        when the bridge failed (its leg hung up: the next agent may be tried)."""
        try:
            leg = control.originate(
                control.agent_dial_string(extension),
                role=LegRole.AGENT,
                extension=extension,
                variables={"sip_auto_answer": "true", "cc_campaign": spec.name},
                timeout=max(1.0, deadline - time.monotonic()),
                interruptible=False,
            )
        except OriginateFailed as exc:
            log.info("call %s: agent %s not reached: %s", control.uuid, extension, exc.cause)
            return exc.cause
        try:
            control.bridge(leg)
        except CallGone:
            control.kill_leg(leg, "NORMAL_CLEARING")
            if control.call.caller.bridged_us is None:
                raise
            log.info("call %s: campaign %s: lead hung up as agent %s was bridged",
                     control.uuid, spec.name, extension)  # fmt: skip
            return None  # they met: answered, as a queue call is, and nothing to record
        except ESLError as exc:  # the lead left just then, or FreeSWITCH refused
            log.warning("call %s: bridge to agent %s failed: %s", control.uuid, extension, exc)
            control.kill_leg(leg, "NORMAL_CLEARING")
            return ""
        except BaseException:
            control.kill_leg(leg, "NORMAL_CLEARING")
            raise
        log.info("call %s: campaign %s: bridged to agent %s", control.uuid, spec.name,
                 extension)  # fmt: skip
        _record_bridge(control, spec, recording, extension)
        return None

    def _safe_harbor(self, control: CallControl, spec: CampaignSpec, lead: int) -> None:
        """The safe-harbor message, then the hang-up. Its audit row (the operator's evidence,
        ``at`` the message's start) is written once it started, heard to its end or not (the
        person hanging up during it); none when the person was gone before it started."""
        if not spec.safe_harbor_message:
            log.error("campaign %s: no safe-harbor message to play", spec.name)
            control.hangup("NORMAL_CLEARING")
            return
        at = datetime.now(UTC)
        try:
            control.play(spec.safe_harbor_message, timeout=MESSAGE_TIMEOUT)
        except CallGone as exc:
            if exc.response is not None:  # it had started: the person left during it
                self._message_played(control, spec, lead, at, exc.response == FILE_PLAYED)
            raise
        self._message_played(control, spec, lead, at, True)
        control.hangup("NORMAL_CLEARING")

    def _message_played(
        self, control: CallControl, spec: CampaignSpec, lead: int, at: datetime, heard: bool
    ) -> None:
        phone = control.call.to_number
        self.dialer.persist(
            f"call {control.uuid}: campaign {spec.name}: lead {lead}'s safe-harbor audit",
            lambda session: store.audit(
                session, spec.name, AuditKind.MESSAGE_PLAYED, at, lead_id=lead, phone=phone,
                call_uuid=control.uuid, details={"heard_to_end": heard},
            ),
        )  # fmt: skip

    def _screen_pop(self, control: CallControl, campaign: str, lead: int, agent: str) -> str | None:
        """``campaign.call_connected`` with the lead's fields (the database down: without
        them; the lead and the agent talk on); the lead's disposition before the call (one
        entered during it is told at its end)."""
        fields: dict[str, object] = {}
        before = None
        try:
            with self.dialer.database.session_scope() as session:
                row = session.get(Lead, lead)
                fields = dict(row.fields or {}) if row is not None else {}
                before = row.disposition if row is not None else None
        except DatabaseUnavailable as exc:
            log.warning("call %s: lead %s's fields not read for the agent's screen: %s",
                        control.uuid, lead, exc)  # fmt: skip
        control.emit(
            CampaignCallConnected, campaign=campaign, lead_id=lead, agent_extension=agent,
            fields=fields,
        )  # fmt: skip
        return before

    # -- a machine -------------------------------------------------------------------------

    def _machine(
        self, control: CallControl, spec: CampaignSpec, settings: AmdSettings, line: _Line
    ) -> None:
        if spec.amd is AmdAction.FLOW and spec.amd_flow:
            self._store(control, line)  # now: a flow may outlast STALE_CLAIM
            self._tell(control, line)  # it needs no agent: no longer a line to pace
            self._to_flow(control, spec.amd_flow)
            return
        if spec.amd is AmdAction.MESSAGE and spec.amd_message:
            # stored now: a restart meanwhile adopts a machine (its message, not a person's
            # safe harbor or a broadcast's flow, and not counted abandoned)
            self._store(control, line)
            self._leave_message(control, spec.amd_message, settings)
        control.hangup("NORMAL_CLEARING")

    def _leave_message(self, control: CallControl, message: str, settings: AmdSettings) -> None:
        """``message`` after the machine's greeting: its beep (mod_avmd's, at most
        ``BEEP_WAIT`` s), else, with no beep detector, the quiet after the greeting and its
        beep (``AmdSettings.wait_for_greeting_end``, at most ``BEEP_WAIT`` s)."""
        if settings.avmd:
            amd.wait_for_beep(control, BEEP_WAIT)
            amd.stop(control, settings)
        else:
            wait = settings.wait_for_greeting_end(BEEP_WAIT)
            control.execute("wait_for_silence", wait, timeout=BEEP_WAIT + 5.0)
        control.play(message, timeout=MESSAGE_TIMEOUT)

    def _machine_adopted(self, control: CallControl, spec: CampaignSpec) -> None:
        """A machine the last run stored, as the campaign says now: its flow (``--amd
        flow``) from the start; its message (``--amd message``) heard to its end once: the
        one playing let finish, or, the last run stopped before it (in the beep wait),
        played after the greeting as that run would have; else (or once it is heard) the
        call hung up."""
        app = control.call.application
        message = spec.amd_message if spec.amd is AmdAction.MESSAGE else None
        log.info("call %s: campaign %s: adopted a machine (%s)", control.uuid, spec.name,
                 app.name if app is not None else "idle")  # fmt: skip
        if spec.amd is AmdAction.FLOW and spec.amd_flow:
            break_media(control)
            self._to_flow(control, spec.amd_flow)
            return
        if message and app is not None and (app.name, app.data) == ("playback", message):
            if not app.done:  # its end: the response playback sets (FILE PLAYED)
                control.wait_until(lambda: _responded(control), MESSAGE_TIMEOUT)
        elif message and control.call.adopted:
            break_media(control)  # the beep wait the last run was in
            self._leave_message(control, message, self.amd_settings(control.channel))
        else:  # no message; or its route run again on FreeSWITCH's return: what ran unknown
            break_media(control)
        control.hangup("NORMAL_CLEARING")

    def _to_flow(
        self, control: CallControl, flow: str | None, broadcast: CampaignSpec | None = None
    ) -> None:
        """The call to ``flow``; a ``broadcast`` campaign's own recording policy applies
        from now, in mono, as a flow's (``Recorder.answered``): the flow's own, if it has
        one, is applied over it as the flow starts."""
        if not flow:
            control.hangup("NORMAL_CLEARING")
            return
        recorder = control.recorder
        if broadcast is not None and broadcast.recording is not None and recorder is not None:
            recorder.answered(control, flow, broadcast.recording)
        self.run_target(control, Target(RouteTarget.IVR, flow))

    # -- the outcome -----------------------------------------------------------------------

    def _record(self, control: CallControl, line: _Line) -> None:
        """The attempt stored, the runner told, ``campaign.call_ended`` published (each
        once: a flow's call was stored before its flow; one given to an agent's at its end,
        ``on_event``); none of it for a call the engine left up as it stopped (the next run
        adopts it), nor again for a call whose route runs again (an ESL reconnect)."""
        if line.left or line.done:
            return
        if line.outcome in _DISPOSITIONS:  # the CDR's, which the events would not give
            control.call.timeline.outcome = str(_DISPOSITIONS[line.outcome])
        self._store(control, line)
        self._tell(control, line)
        if line.outcome is Outcome.ANSWERED:
            self._talking[control.uuid] = (control, line)  # its CallEnded follows, always
        else:
            self._ended(control, line, None)
        if line.outcome is Outcome.ABANDONED:
            log.warning("call %s: campaign %s: abandoned (answered, no agent connected)",
                        control.uuid, line.campaign)  # fmt: skip

    EVENTS = frozenset({CallEnded.type})  # what on_event reads: the bus's filter

    def on_event(self, event: Event) -> None:
        """From the event bus (in the publisher's greenlet: a pop and a spawn): a campaign
        call given to an agent ended: its ``campaign.call_ended``, with its CDR's times."""
        if isinstance(event, CallEnded) and event.call_uuid in self._talking:
            control, line = self._talking.pop(event.call_uuid)
            self.dialer.endings.spawn(self._ended, control, line, event.cdr)

    def _ended(self, control: CallControl, line: _Line, cdr: CdrRecord | None) -> None:
        disposition = None
        if cdr is not None:
            try:
                with self.dialer.database.session_scope() as session:
                    row = session.get(Lead, line.lead)
                    now = row.disposition if row is not None else None
                disposition = now if now != line.before else None
            except CallCenterError as exc:  # the event is still due: without it
                log.error("call %s: lead %s's disposition not read: %s", control.uuid,
                          line.lead, exc)  # fmt: skip
        control.emit(
            CampaignCallEnded, campaign=line.campaign, lead_id=line.lead,
            outcome=str(line.outcome),
            agent_extension=line.agent or (cdr.agent_extension if cdr is not None else None),
            amd=str(line.found.verdict) if line.found else None,
            amd_reason=str(line.found.reason) if line.found else None,
            duration_seconds=cdr.total_ms / 1000 if cdr is not None else None,
            talk_seconds=cdr.talk_ms / 1000 if cdr is not None else None,
            disposition=disposition,
        )  # fmt: skip

    def _store(self, control: CallControl, line: _Line) -> None:
        """The attempt stored once (the database down: as soon as it is back)."""
        if line.stored or line.done:
            return
        line.stored = True
        lead, outcome, at, agent = line.lead, line.outcome, datetime.now(UTC), line.agent
        try:
            self.dialer.persist(
                f"call {control.uuid}: {line.campaign}: attempt of lead {lead} ({outcome})",
                lambda session: store.record_attempt(
                    session, lead, outcome, at, call_uuid=control.uuid, agent=agent
                ),
            )
        except Exception:  # the call's own end must not be lost to it: logged, counted
            log.exception("call %s: campaign %s: attempt of lead %s not stored", control.uuid,
                          line.campaign, lead)  # fmt: skip

    def _tell(self, control: CallControl, line: _Line) -> None:
        if not line.told:
            line.told = True
            self.dialer.line_done(line.campaign, LineDone(control.uuid, line.outcome))

    # -- after a restart -------------------------------------------------------------------

    def _adopted(
        self, control: CallControl, campaign: str, lead: int, preview: str, recorded: bool = False
    ) -> None:
        """A campaign call the last run left up (it stopped or died), or whose route runs
        again after FreeSWITCH's connection was lost (``recorded``: its attempt already
        stored, told and published, none of it done again): bridged, it goes on
        (its attempt was stored at the bridge; stored now, with its agent, if that was
        lost); still ringing,
        it is cancelled and its lead due again (nobody answered: no attempt); a preview's
        agent not yet bridged is let go (the lead is due again); a broadcast's lead runs
        its flow again; a machine gets the campaign's amd action (``_machine_adopted``);
        a lead still in detection or
        waiting for an agent is past the safe harbor: abandoned, given the safe-harbor
        message and hung up."""
        call = control.call
        call.timeline.direction = Direction.OUTBOUND
        call.timeline.routed("dialer-preview" if preview else "dialer")
        agent = (call.agent or call.to_number) if preview else _agent_on(call)
        line = _Line(campaign, lead, Outcome.ANSWERED, agent, done=recorded)
        if call.state is CallState.BRIDGED:
            self._store(control, line)  # a no-op when the last run stored it
            self._talking[control.uuid] = (control, line)  # campaign.call_ended at its end
            log.info("call %s: campaign %s: adopted bridged; watching it", control.uuid, campaign)
            return
        if call.adopted and call.caller.answered_us is None:  # ringing: nothing to record
            log.info("call %s: campaign %s: adopted ringing; cancelled, lead %s due again",
                     control.uuid, campaign, lead)  # fmt: skip
            self.dialer.release_lead(lead)
            control.kill_leg(control.uuid, "ORIGINATOR_CANCEL")
            return
        if preview:
            self.dialer.release_lead(lead)
            if not recorded:  # the engine that offered it stopped without a decision told
                self.dialer.preview_decided(
                    control.uuid, campaign, lead, agent, None, PreviewDecision.CANCELLED
                )
            control.hangup("NORMAL_CLEARING")
            return
        spec = self._spec(campaign)
        with self.dialer.database.session_scope() as session:
            stored = store.attempt_of(session, lead, control.uuid)
        if stored is Outcome.MACHINE:  # its CDR's disposition, as the last run would have
            control.call.timeline.outcome = str(Disposition.MACHINE)
            if spec is not None:
                self._machine_adopted(control, spec)
                return
        break_media(control)  # the last run's message may still play: what follows is ours
        if spec is not None and spec.mode is CampaignMode.BROADCAST:
            log.info("call %s: campaign %s: adopted in its flow, which starts again",
                     control.uuid, campaign)  # fmt: skip
            if stored is None:  # the last run stopped before storing it
                self._store(control, line)
            self._to_flow(control, spec.flow, spec)
            return
        line.outcome = Outcome.ABANDONED
        try:
            if spec is None:
                control.hangup("NORMAL_CLEARING")
            else:
                self._safe_harbor(control, spec, lead)
        except GreenletExit:
            line.left = True
            raise
        finally:
            self._record(control, line)

    def _spec(self, campaign: str) -> CampaignSpec | None:
        """The campaign as its runner read it; at a start, before the runner's first tick,
        as the database has it."""
        spec = self.dialer.spec(campaign)
        if spec is not None:
            return spec
        with self.dialer.database.session_scope() as session:
            row = session.scalar(select(Campaign).where(Campaign.name == campaign))
            return CampaignSpec.of(row) if row is not None else None


@dataclass(slots=True)
class _Line:
    """One campaign call's attempt, as far as it is known: stored and told once each."""

    campaign: str
    lead: int
    outcome: Outcome = Outcome.NO_ANSWER
    agent: str | None = None
    found: Detection | None = None
    before: str | None = None  # the lead's disposition when it was given to the agent
    stored: bool = False  # the attempt is in the database
    told: bool = False  # the runner has the line's end
    left: bool = False  # the engine stopped with the call up: the next run's to record
    done: bool = False  # an earlier run of the call's route recorded it


def _record_bridge(
    control: CallControl, spec: CampaignSpec, recording: QueueRecording, agent: str
) -> None:
    """The lead and ``agent`` talk: recorded in stereo from now if the policy says so
    (``Recorder.bridged``: the agent's override over ``recording``), its row the campaign's
    queue's and the agent's, as a queue call's; the lead gone meanwhile: nothing to record."""
    if control.recorder is None:
        return
    try:
        control.recorder.bridged(control, spec.queue or "", recording, agent)
    except CallGone:
        log.info("call %s: campaign %s: lead gone before its recording started", control.uuid,
                 spec.name)  # fmt: skip


def _agent_on(call: Call) -> str | None:
    """The agent whose leg is up on an adopted call (the resync adopts its legs with it)."""
    for leg in call.timeline.legs.values():
        if leg.agent_extension and not leg.ended:
            return leg.agent_extension
    return None


def _spoken(number: str) -> str:
    return " ".join(d for d in number if d.isdigit())


def _responded(control: CallControl) -> bool:
    """Whether the application the channel runs has ended (its response set; the channel
    gone too). Asked, not awaited: an execute sent to wait behind it would not wait, since
    FreeSWITCH runs a message that arrives during a playback within it (the playback reads
    the channel's queue at every frame; only an ``event-lock`` message waits its turn)."""
    line = commands.uuid_getvar(control.uuid, "current_application_response")
    try:
        value = control.channel.api(line, check=False).strip()
    except ESLError:
        return True  # FreeSWITCH gone: nothing left to wait for
    return value not in ("", "_undef_")


# an answered lead no agent talked to: a machine (hung up on, or left the campaign's
# message), a person given no agent in the safe harbor (the rules' abandoned call)
_DISPOSITIONS = {Outcome.MACHINE: Disposition.MACHINE, Outcome.ABANDONED: Disposition.ABANDONED}


def _budget(spec: CampaignSpec, settings: AmdSettings, found: Detection) -> float:
    """Seconds left of the safe harbor: it runs from the end of the person's greeting,
    which was ``settle`` seconds before a short-greeting verdict."""
    spent = settings.settle if found.reason is Reason.SHORT_GREETING else 0.0
    return max(0.5, spec.targets.safe_harbor - spent)

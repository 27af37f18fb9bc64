"""The calls of one FreeSWITCH node: new calls from CHANNEL_PARK, resync after a reconnect.

``on_event`` runs in the ESL reader greenlet: it creates a call's mailbox and actor
synchronously when the dialplan parks a tagged channel (so no later event of that call can
miss its mailbox), then hands the event to the router. It never blocks.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import gevent
from gevent.lock import Semaphore
from gevent.pool import Group

from callcenter.calls.actor import CallActor, TargetRunner
from callcenter.calls.call import Call
from callcenter.calls.control import AgentPresence, CallControl, Channel, RecordingHandler
from callcenter.calls.intents import CallIntent, LegMoved, LegSnapshot, PhoneTransfer, Supervise
from callcenter.calls.mailbox import Mailbox
from callcenter.calls.metrics import CallMetrics
from callcenter.calls.operations import DialOutRunner
from callcenter.calls.previous_run import PreviousRun
from callcenter.calls.routing import RouteTable, Target
from callcenter.calls.transfers import Destinations, attended, referral
from callcenter.cdr.builder import build_cdr, build_recordings
from callcenter.errors import CallCenterError, ESLError
from callcenter.esl import commands
from callcenter.esl.events import Event
from callcenter.esl.router import EventRouter
from callcenter.events.bus import EventBus
from callcenter.events.types import CallCreated, CallEnded, CallFacts, for_call
from callcenter.phone.identity import AGENT_ENTRIES, agent_of
from callcenter.recording import adopted
from callcenter.recording.state import RecordingCommand
from callcenter.store.database import Database
from callcenter.store.records import CdrRecord, RecordingRecord, StoredRecording
from callcenter.store.repos import RecordingRepository
from callcenter.store.writer import DurableWriter
from callcenter.supervision.left import ORPHANED, SupervisionsLeft
from callcenter.supervision.modes import REQUESTABLE
from callcenter.supervision.run import Finish, Resumed, SupervisionRun
from callcenter.trunks.spec import TrunkSpec
from callcenter.vocabulary import CallState, LegRole, RouteTarget

LEG_EDGES = frozenset({"CHANNEL_CREATE", "CHANNEL_HANGUP_COMPLETE"})
SUPERVISOR = "supervisor"  # cc_role of a supervisor's eavesdrop leg (supervision.run)
log = logging.getLogger(__name__)

MAX_RESYNC_RETRIES = 12


@dataclass(frozen=True, slots=True)
class CallOptions:
    command_timeout: float = 10.0
    agents_domain: str = "callcenter"
    mailbox_size: int = 1000
    check_interval: float = 60.0
    resync_retry: float = 5.0  # seconds before asking again what a resync could not decide


class RecordingHooks(Protocol):
    """``recording.engine.Recordings``: the recorder a call's control uses, what a closed
    call's recordings carry, and the file check after the end."""

    @property
    def recorder(self) -> RecordingHandler: ...

    def closed(self, call: Call, records: list[RecordingRecord]) -> list[RecordingRecord]: ...

    def check(self, call: CallFacts, records: list[RecordingRecord]) -> None: ...


class CallManager:
    def __init__(
        self,
        node: str,
        router: EventRouter,
        routes: RouteTable,
        writer: DurableWriter,
        database: Database,
        metrics: CallMetrics,
        run_target: TargetRunner,
        *,
        options: CallOptions | None = None,
        presence: AgentPresence | None = None,
        events: EventBus | None = None,
        dial_out: DialOutRunner | None = None,
        phone: TargetRunner | None = None,
        supervision_finish: Finish | None = None,
        callback: TargetRunner | None = None,
        dialer: TargetRunner | None = None,
    ) -> None:
        self.node = node
        self.events = events or EventBus()
        self.router = router
        self.routes = routes
        self.writer = writer
        self.database = database
        self.metrics = metrics
        self.run_target = run_target
        self.options = options or CallOptions()
        self.presence = presence
        self.dial_out = dial_out  # number: transfers (trunks.dialout through the outbound routes)
        self.destinations = Destinations(routes, database)  # agents' phones' transfers
        self.phone = phone  # what agents' phones dial: feature codes, other agents, numbers
        self.supervision_finish = supervision_finish  # stores a supervisor session's end
        self.callback = callback  # a queue's callback: the agent's leg first, then the customer
        self.dialer = dialer  # a campaign's call, answered: detection, then an agent or not
        self._recordings: RecordingHooks | None = None  # set by the composition root
        self.channel: Channel | None = None
        self.actors: dict[str, CallActor] = {}
        self._legs: dict[str, str] = {}  # leg uuid -> call uuid
        self._attached: dict[str, set[str]] = {}  # call uuid -> every leg uuid routed to it
        self.group = Group()
        self.on_leg: Callable[[Event], None] | None = None
        # the trunk a call arrived on (its park's or its dump's headers, and its uuid): its
        # country reads the DID and the caller's number
        self.arrived_on: Callable[[Callable[[str], str | None], str], TrunkSpec | None] | None
        self.arrived_on = None
        self.accepting = True
        self.previous = PreviousRun(node, database, writer, metrics)
        self.supervisions = SupervisionsLeft(database, node)
        self._supervising: set[str] = set()  # supervisors' legs with a session running
        self._supervisions_left = False  # the last run's open sessions still to look at
        self._synced = False  # a resync has run since the engine started
        self._resync_pending = False
        self._retries = 0  # resyncs in a row that left channels undecided
        self._resync_lock = Semaphore()

    @property
    def recordings(self) -> RecordingHooks | None:
        return self._recordings

    @recordings.setter
    def recordings(self, hooks: RecordingHooks | None) -> None:
        self._recordings = hooks
        self.previous.check = hooks.check if hooks is not None else None  # calls ended away

    def bind(self, channel: Channel) -> None:
        self.channel = channel

    def is_connected(self) -> bool:
        return self.channel is not None and self.channel.connected

    # -- the reader's side ------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        if event.name in LEG_EDGES and self.on_leg is not None:
            self.on_leg(event)  # per-trunk channels and metrics (must not block)
        referred = None
        if event.name == "CHANNEL_PARK":
            if self._is_new_call(event):
                if self.accepting:
                    call = Call.from_park(event, self.node)
                    call.agent = agent_of(event.get, self.options.agents_domain)
                    self._arrival(call, event.get, event.unique_id or "")
                    self._start(call)
                    self.events.publish(
                        for_call(CallCreated, call, direction=str(call.direction), did=call.did)
                    )
                else:
                    self._reject(event)
            elif self._is_orphan_leg(event):
                self._hang_up_orphan(event)
            elif (event.unique_id or "") in self.actors:
                referred = referral(event)  # an agent's phone transferred the caller
        elif event.name == "CHANNEL_BRIDGE":
            referred = self._attended(event)  # before routing: the leg's events follow it
        self.router.route(event)
        if referred is not None:  # after its park: the actor reads the event first
            self.send_intent(event.unique_id or "", referred)

    def _arrival(self, call: Call, get: Callable[[str], str | None], uuid: str) -> None:
        """The trunk the call came in on and its country (DID, caller ID read in it)."""
        trunk = self.arrived_on(get, uuid) if self.arrived_on is not None else None
        if trunk is not None:
            call.trunk, call.country = trunk.name, trunk.country

    def _attended(self, event: Event) -> PhoneTransfer | None:
        """A caller bridged to a leg of another live call: an attended transfer (the other
        call is the agent's consult call). The leg moves to the caller's call, now, in the
        reader, so none of its events goes astray; the consult call is told."""
        caller, other = event.unique_id or "", event.get("Other-Leg-Unique-ID") or ""
        owner = self._legs.get(other, "")
        if caller not in self.actors or owner in ("", caller) or owner not in self.actors:
            return None
        consult = self.actors[owner]
        leg = consult.call.timeline.leg(other)  # a snapshot of the consult call's leg
        snapshot = LegSnapshot(
            other,
            leg.agent_extension if leg else None,
            leg.to_number if leg else "",
            leg.created_us if leg else None,
            leg.answered_us if leg else None,
        )
        self._attached.get(owner, set()).discard(other)
        self._attach(other, caller, self.actors[caller].control.mailbox)
        consult.control.mailbox.post(LegMoved(other, caller, event.timestamp_us))
        log.info("call %s: leg %s of call %s bridged to it: attended transfer", caller,
                 other, owner)  # fmt: skip
        return attended(event, snapshot)

    def _is_orphan_leg(self, event: Event) -> bool:
        """An agent or outbound leg that came up for a call that is over (its uuid_kill raced
        the leg's creation, or a leg of the previous run): nobody will ever bridge it. Before
        the first resync such legs are the resync's to adopt or hang up."""
        uuid = event.unique_id
        return (
            self._synced
            and uuid is not None
            and uuid not in self._legs
            and event.variable("cc_managed") == "true"
            and event.variable("cc_role") not in (None, "", str(LegRole.CALLER))
            and event.variable("cc_call_uuid") not in self.actors
        )

    def _hang_up_orphan(self, event: Event) -> None:
        uuid = event.unique_id or ""
        log.info("leg %s belongs to no live call: hanging it up", uuid)
        channel = self.channel
        if channel is not None:
            self.group.spawn(_quietly, channel.api, commands.uuid_kill(uuid, "LOSE_RACE"))

    def _is_new_call(self, event: Event) -> bool:
        uuid = event.unique_id
        return (
            uuid is not None
            and uuid not in self._legs
            and event.variable("cc_managed") == "true"
            and event.variable("cc_role") in (None, "", str(LegRole.CALLER))
        )

    def _reject(self, event: Event) -> None:
        self.metrics.rejected.inc()
        uuid = event.unique_id or ""
        log.info("call %s: engine shutting down; rejecting", uuid)
        channel = self.channel
        if channel is not None:
            self.group.spawn(_quietly, channel.api, commands.uuid_kill(uuid, "SWITCH_CONGESTION"))

    # -- actors -------------------------------------------------------------------------

    def _start(self, call: Call) -> CallActor:
        assert self.channel is not None, "bind() the ESL connection first"
        mailbox = Mailbox(call.uuid, self.options.mailbox_size)
        control = CallControl(
            call,
            self.channel,
            mailbox,
            attach_leg=lambda leg: self._attach(leg, call.uuid, mailbox),
            command_timeout=self.options.command_timeout,
            agents_domain=self.options.agents_domain,
            presence=self.presence,
            events=self.events,
        )
        control.recorder = self.recordings.recorder if self.recordings is not None else None
        run = self.run_target
        if self.phone is not None and call.entry in AGENT_ENTRIES:
            run = self.phone
        if self.callback is not None and call.callback is not None:
            run = self.callback
        if self.dialer is not None and call.dialer is not None:
            run = self.dialer
        actor = CallActor(
            control,
            lambda: self._target_of(call),
            run,
            on_finished=self._finished,
            mirror=self._mirror,
            is_connected=self.is_connected,
            on_error=lambda kind: self.metrics.actor_errors.labels(error=kind).inc(),
            check_interval=self.options.check_interval,
            presence=self.presence,
            dial_out=self.dial_out,
            destinations=self.destinations,
        )
        self.actors[call.uuid] = actor
        self.previous.seen(call.uuid)
        self._attach(call.uuid, call.uuid, mailbox)
        for leg in call.leg_uuids:
            self._attach(leg, call.uuid, mailbox)
        self.metrics.active_by(call.direction).inc()
        greenlet = self.group.spawn(actor.run)
        greenlet.link_exception(
            lambda g: log.error("call %s: actor died: %r", call.uuid, g.exception)
        )
        return actor

    def send_intent(self, uuid: str, intent: CallIntent | Supervise | RecordingCommand) -> bool:
        """Hand an intent to the live call ``uuid`` if this manager holds it; its actor
        carries it out (``calls.operations``), except a supervisor's session, run beside it."""
        actor = self.actors.get(uuid)
        if actor is None or actor.call.finished:
            return False
        if isinstance(intent, Supervise):
            return self._supervise(actor.call, intent)
        actor.control.mailbox.post(intent)
        log.info("call %s: %s", uuid, intent)
        return True

    def _supervise(self, call: Call, ask: Supervise) -> bool:
        if self.channel is None or self.supervision_finish is None:
            return False
        if ask.mode not in REQUESTABLE or not ask.leg or not ask.agent_leg:
            log.warning("call %s: supervision %d refused: %s", call.uuid, ask.session, ask)
            return False
        self._run_supervision(call, ask)
        log.info("call %s: supervisor %s joins (%s)", call.uuid, ask.supervisor, ask.mode)
        return True

    def _run_supervision(self, call: Call, ask: Supervise, resumed: Resumed | None = None) -> None:
        assert self.channel is not None and self.supervision_finish is not None
        run = SupervisionRun(
            ask, call.uuid, self.channel, self.router, self.supervision_finish,
            agents_domain=self.options.agents_domain, caller=(call.from_name, call.from_number),
            check_interval=self.options.check_interval,
            on_end=lambda mode, end: self.metrics.supervision.labels(mode=mode, end=end).inc(),
            resumed=resumed,
        )  # fmt: skip
        self._supervising.add(ask.leg)
        greenlet = self.group.spawn(run.run)
        where = f"call {call.uuid}: supervision {ask.session}"
        greenlet.link_exception(lambda g: log.error("%s died: %r", where, g.exception))
        greenlet.link(lambda _g: self._supervising.discard(ask.leg))

    def _adopt_supervision(self, channel: Channel, dump: dict[str, Any]) -> None:
        """A supervisor's leg of the last run, still eavesdropping: its session goes on,
        watched by this run; without its session or its call, it is hung up and closed."""
        uuid = dump.get("Unique-ID", "")
        owner = self.actors.get(dump.get("variable_cc_call_uuid", ""))
        row = self.supervisions.session_of(dump)
        if owner is None or row is None or self.supervision_finish is None:
            log.info("supervision leg %s: no live session or call to watch; hanging it up", uuid)
            _quietly(channel.api, commands.uuid_kill(uuid, "NORMAL_CLEARING"))
            if row is not None:
                self.supervisions.close(row.id, ORPHANED)
            return
        ask = Supervise(row.id, row.supervisor, row.mode, row.leg_uuid, row.agent_leg_uuid,
                        row.requested_by)  # fmt: skip
        started = row.started_at or _answered(dump)
        self._run_supervision(owner.call, ask, Resumed.from_dump(started, dump))
        log.info("call %s: supervision %d (%s) adopted", owner.call.uuid, row.id, row.supervisor)

    def _target_of(self, call: Call) -> Target:
        """The DID's route; a caller adopted while waiting in a queue goes back to that queue
        (not through its IVR again)."""
        if call.queue_seat is not None:
            return Target(RouteTarget.QUEUE, call.queue_seat.queue)
        if self.phone is not None and call.entry in AGENT_ENTRIES:
            return Target(RouteTarget.EXTENSION, call.did)  # not a DID: the phone runner's
        if call.callback is not None:
            return Target(RouteTarget.QUEUE, call.callback[3])  # the callback runner's
        if call.dialer is not None:
            return Target(RouteTarget.EXTENSION, call.dialer[0])  # the dialer runner's
        return self.routes.resolve(call.did, country=call.country)

    def _attach(self, leg: str, call_uuid: str, mailbox: Mailbox) -> None:
        self._legs[leg] = call_uuid
        self._attached.setdefault(call_uuid, set()).add(leg)
        self.router.attach_call(leg, mailbox)

    def _mirror(self, actor: CallActor) -> None:
        self.writer.write_call(actor.call.to_record())

    def _finished(self, actor: CallActor) -> None:
        call = actor.call
        try:
            cdr = build_cdr(call.timeline)  # the actor has set the state: ended
            self.writer.write_call(call.to_record(cdr.disposition))
            recordings = build_recordings(call.timeline)
            if self.recordings is not None:  # their queue, agent and PCI spans
                recordings = self.recordings.closed(call, recordings)
            for recording in recordings:
                self.writer.write_recording(recording)
            self.writer.write_cdr(cdr)  # last: a CDR written means the call is closed
            self._announce_end(call, cdr)
            if self.recordings is not None and recordings:
                self.recordings.check(call, recordings)  # off the call path
            self.metrics.total_by(call.direction, cdr.disposition).inc()
            log.info(
                "call %s: ended %s by %s (%s), %d ms",
                call.uuid, cdr.disposition, cdr.hangup_by, cdr.hangup_cause, cdr.total_ms,
            )  # fmt: skip
        finally:
            if self.presence is not None:  # the agents it held: wrap-up, or free
                self.presence.call_ended(call.uuid)
            # every leg routed to the call, including originates that never made a channel
            for leg in self._attached.pop(call.uuid, set()) | set(call.leg_uuids):
                if self._legs.get(leg, call.uuid) != call.uuid:
                    continue  # moved to another call (an attended transfer's target)
                self._legs.pop(leg, None)
                self.router.unregister_call(leg)
            self.actors.pop(call.uuid, None)
            self.metrics.active_by(call.direction).dec()

    def _announce_end(self, call: Call, cdr: CdrRecord) -> None:
        """call.ended with its CDR: right behind those records in the writer's queue, so in
        their transaction (each recording is announced after its file check)."""
        self.events.publish(
            for_call(
                CallEnded, call, queue=cdr.queue, agent_extension=cdr.agent_extension,
                disposition=str(cdr.disposition), hangup_cause=cdr.hangup_cause,
                hangup_by=str(cdr.hangup_by), cdr=cdr,
            )
        )  # fmt: skip

    # -- recovery -----------------------------------------------------------------------

    def on_connected(self) -> None:
        """Called by the connection after every (re)connect: resync in the background."""
        greenlet = self.group.spawn(self._try_resync)
        greenlet.link_exception(lambda g: log.error("resync failed: %r", g.exception))

    def _try_resync(self) -> None:
        """A resync FreeSWITCH did not answer (a timeout, the connection lost) is tried
        again while connected; the next reconnect resyncs anyway."""
        if not self.is_connected():
            return
        try:
            self.resync()
        except ESLError as exc:
            log.warning("resync failed, trying again: %s", exc)
            self._resync_later()

    def resync(self) -> None:
        """Reconcile with FreeSWITCH: close what ended unseen, adopt what lives. The first
        one also closes, in the same pass, what the previous run left open (the database
        and the spool say live, FreeSWITCH no longer has it). One at a time."""
        with self._resync_lock:
            self._resync()

    def _resync(self) -> None:
        channel = self.channel
        assert channel is not None
        listing = json.loads(channel.api(commands.show_channels_json()) or "{}")
        live = {row["uuid"] for row in listing.get("rows", [])}
        self._close_missing(channel, live)
        self._kill_cancelled(channel, live)
        gone = functools.partial(self._gone, channel, live=live)
        if not self.previous.reconciled:
            alive = self.previous.reconcile(self._legs, gone)
            if alive is None:
                self._resync_later()  # once the database answers
            self._supervisions_left = alive is not None
            live.update(alive or ())
        if self._supervisions_left:  # once, after the reconciliation (again if the DB failed)
            ours = self._supervising | set(self.actors)
            self._supervisions_left = not self.supervisions.close_ended(gone, ours)
        self.previous.recheck(live, self._legs, gone)
        undecided = self._adopt_listed(channel, live)
        self.previous.settle(live, undecided)
        self._ask_again(channel, undecided)
        self._synced = True
        for actor in list(self.actors.values()):
            actor.control.mailbox.wake()  # actors waiting for FreeSWITCH to come back

    def _kill_cancelled(self, channel: Channel, live: set[str]) -> None:
        """A leg its call gave up on while the connection was down (the ``uuid_kill`` was
        refused: not connected) is still up: hang it up now, or the agent's phone rings on
        and the agent stays offered."""
        for actor in list(self.actors.values()):
            for leg in sorted(actor.call.cancelled_legs & live):
                log.info("call %s: cancelled leg %s still up; hanging it up", actor.call.uuid, leg)
                _quietly(channel.api, commands.uuid_kill(leg, "ORIGINATOR_CANCEL"))

    def _adopt_listed(self, channel: Channel, live: set[str]) -> set[str]:
        """Adopt the listed channels no call has; close those that vanished meanwhile.
        Returns those FreeSWITCH did not answer about."""
        dumps: list[dict[str, Any]] = []
        undecided: set[str] = set()
        for uuid in sorted(live - set(self._legs) - self._supervising):
            found = self._dump(channel, uuid)
            if found is _VANISHED:
                self.previous.vanished(uuid)
            elif found is _UNKNOWN:
                undecided.add(uuid)
            elif isinstance(found, dict):
                dumps.append(found)
        legs = [d for d in dumps if d.get("variable_cc_role") not in (None, "", LegRole.CALLER)]
        callers = [d for d in dumps if d not in legs]
        files = self._recording_rows([d.get("Unique-ID", "") for d in callers])
        for dump in callers:
            self._adopt(dump, files.get(dump.get("Unique-ID", ""), []))
        for dump in legs:
            if dump.get("variable_cc_role") == SUPERVISOR:
                self._adopt_supervision(channel, dump)
            else:
                self._adopt_leg(channel, dump)
        return undecided

    def _ask_again(self, channel: Channel, undecided: set[str]) -> None:
        """FreeSWITCH did not say about some channels (a timeout, an unreadable dump):
        resync again soon, a few times. Then a call of the previous run still not adopted
        is given up: hung up and closed with its CDR, never left live in the database with
        its caller parked and nobody driving it. Other channels are left for the next
        reconnect's resync."""
        if not (undecided or self.previous.waiting):
            self._retries = 0
        elif self._retries < MAX_RESYNC_RETRIES:
            self._retries += 1
            self._resync_later()
        else:
            for uuid in sorted(undecided & set(self.previous.waiting)):
                log.warning("call %s: not adoptable after %d resyncs; hanging it up and "
                            "closing it", uuid, self._retries)  # fmt: skip
                _quietly(channel.api, commands.uuid_kill(uuid, "NORMAL_TEMPORARY_FAILURE"))
                self.previous.close(self.previous.waiting.pop(uuid))
            log.warning(
                "%d channel(s) still undecided after %d resyncs; left for the next reconnect",
                len(undecided - set(self.previous.waiting)), self._retries,
            )  # fmt: skip
            self._retries = 0

    def _resync_later(self) -> None:
        if self._resync_pending:
            return
        self._resync_pending = True

        def again() -> None:
            self._resync_pending = False
            self._try_resync()

        greenlet = gevent.spawn_later(self.options.resync_retry, again)
        self.group.add(greenlet)
        greenlet.link_exception(lambda g: log.error("resync failed: %r", g.exception))

    def _gone(self, channel: Channel, uuid: str, live: set[str]) -> bool:
        # `show channels` lags the core by up to a second or more: ask about each one
        if uuid in live:
            return False
        return _quietly(channel.api, commands.uuid_exists(uuid)) == "false"

    def _close_missing(self, channel: Channel, live: set[str]) -> None:
        for actor in list(self.actors.values()):
            call = actor.call
            for leg in call.leg_uuids:
                if not call.timeline.legs[leg].ended and self._gone(channel, leg, live):
                    log.info("call %s: leg %s ended while the engine was away", call.uuid, leg)
                    self.metrics.closed_on_resync.inc()
                    actor.control.mailbox.lost(leg)

    def _dump(self, channel: Channel, uuid: str) -> dict[str, Any] | _Unknown | _Vanished | None:
        """The channel's variables; ``_VANISHED`` when FreeSWITCH no longer has it,
        ``_UNKNOWN`` when it did not say (a timeout, the connection lost: ask later)."""
        try:
            reply = channel.api(commands.uuid_dump_json(uuid), check=False)
        except ESLError as exc:
            log.info("channel %s not adopted yet: %s", uuid, exc)
            return _UNKNOWN
        if reply.startswith("-ERR"):
            if _NO_SUCH_CHANNEL in reply:
                return _VANISHED
            log.info("channel %s not adopted yet: %s", uuid, reply.strip())
            return _UNKNOWN
        try:
            dump = json.loads(reply)
        except ValueError as exc:  # garbled, or cut short: ask again
            log.info("channel %s not adopted yet, its dump is not JSON: %s", uuid, exc)
            return _UNKNOWN
        if not isinstance(dump, dict) or dump.get("variable_cc_managed") != "true":
            return None
        return dump

    def _recording_rows(self, uuids: list[str]) -> dict[str, list[StoredRecording]]:
        """The files the last run was recording on these calls (``recording.adopted``)."""
        if self.recordings is None or not uuids:
            return {}
        try:
            with self.database.session_scope() as session:
                return RecordingRepository(session).live(uuids)
        except CallCenterError as exc:  # the channels' variables alone, without the spans
            log.warning("recordings of adopted calls not read: %s", exc)
            return {}

    def _adopt(self, dump: dict[str, Any], recorded: list[StoredRecording] | None = None) -> None:
        if dump.get("Unique-ID", "") in self._legs:
            return  # its CHANNEL_PARK arrived while the resync asked about it: already a call
        call = Call.from_dump(dump, self.node)
        call.agent = agent_of(dump.get, self.options.agents_domain)
        self._arrival(call, dump.get, "")
        if self.recordings is not None:
            for active in adopted.restore(call.recordings, call.timeline, dump, recorded or []):
                log.info("call %s: recording %s adopted (%s)", call.uuid, active.path,
                         "stopped" if active.stopped else "paused" if active.paused
                         else "recording")  # fmt: skip
        self.metrics.adopted.inc()
        log.info("call %s: adopted (%s)", call.uuid, call.state)
        self._start(call)
        if call.callback is not None and call.state is CallState.BRIDGED and self.presence:
            self.presence.busy(call.uuid, call.callback[2])  # a callback's agent, talking

    def _adopt_leg(self, channel: Channel, dump: dict[str, Any]) -> None:
        uuid = dump.get("Unique-ID", "")
        if uuid in self._legs:
            return  # attached meanwhile (its call originated it)
        owner = self.actors.get(dump.get("variable_cc_call_uuid", ""))
        if owner is None:
            log.info("leg %s belongs to no live call: hanging it up", uuid)
            _quietly(channel.api, commands.uuid_kill(uuid, "NORMAL_CLEARING"))
            return
        leg = owner.call.adopt_leg(dump)
        self._attach(uuid, owner.call.uuid, owner.control.mailbox)
        if leg.agent_extension and not leg.ended and not _bridged(owner.call, dump):
            # the last run's offer, ringing or answered, never bridged: its caller is back
            # in the queue and will be offered afresh; left up, the phone stays off-hook
            log.info("call %s: leg %s (agent %s) never bridged: hanging it up",
                     owner.call.uuid, uuid, leg.agent_extension)  # fmt: skip
            _quietly(channel.api, commands.uuid_kill(uuid, "ORIGINATOR_CANCEL"))
            return
        log.info("call %s: leg %s adopted", owner.call.uuid, uuid)
        if leg.agent_extension and not leg.ended:
            owner.control.agent_busy(leg.agent_extension)  # the ACD restarted knowing nothing
            seat = owner.call.bridged_seat
            if seat is not None and self.presence is not None:
                self.presence.bridged_before(
                    seat.ticket, seat.queue, owner.call.uuid, leg.agent_extension, seat.joined_us,
                    seat.priority,
                )  # fmt: skip

    # -- shutdown -----------------------------------------------------------------------

    def drain(self, deadline: float) -> int:
        """Stop taking calls, let live ones finish until the deadline; return those left."""
        self.accepting = False
        self.group.join(timeout=deadline)
        left = len(self.actors)
        if left:
            log.warning(
                "%d call(s) still up at shutdown; they stay in FreeSWITCH for adoption", left
            )
        self.group.kill(block=True, timeout=2.0)
        return left


class _Unknown:
    """FreeSWITCH did not say (timeout, connection lost)."""


class _Vanished:
    """FreeSWITCH says the channel does not exist."""


_UNKNOWN = _Unknown()
_VANISHED = _Vanished()
_NO_SUCH_CHANNEL = "No such channel"


def _answered(dump: dict[str, Any]) -> datetime | None:
    value = dump.get("Caller-Channel-Answered-Time", "0")
    return (
        datetime.fromtimestamp(int(value) / 1e6, UTC) if value.isdigit() and value != "0" else None
    )


def _bridged(call: Call, dump: dict[str, Any]) -> bool:
    """The leg is (or was) bridged: to its caller, as an adopted bridged call is."""
    bridged_time = dump.get("Caller-Channel-Bridged-Time", "0")
    return (
        call.state is CallState.BRIDGED
        or bool(dump.get("Other-Leg-Unique-ID"))
        or (bridged_time.isdigit() and bridged_time != "0")
    )


def _quietly(fn: Callable[..., str], *args: Any) -> str:
    try:
        return fn(*args, check=False).strip()
    except ESLError as exc:
        log.info("%s failed: %s", args[0] if args else fn, exc)
        return ""

"""Recording inside a call's actor: started per policy, paused for PCI, closed at the end.

Queue calls are recorded from the bridge in stereo (``RECORD_STEREO=true`` set on the caller's
channel before ``uuid_record start``: caller left, agent right, sessions-3/s16), and so are a
queue's callbacks (``acd.callback_calls``) and campaign calls given to an agent
(``dialer.calls``: the campaign's policy in the queue's place); IVR calls whose flow asks
for it (or a broadcast campaign's) from the answer, in mono. A PCI pause is ``uuid_record
... mask`` (FreeSWITCH writes silence and emits no event, s03/s16), its span kept on the
call and stored with the recording. FreeSWITCH stops every recording itself when the
channel hangs up (RECORD_STOP, then the file check off the call path:
``recording.checker``). Each file is also kept where a restart finds it (its row and the
channel's variables: ``recording.adopted``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from callcenter.cdr.builder import build_recording
from callcenter.errors import CallGone, ConfigError, ESLError
from callcenter.esl import commands
from callcenter.events.types import CallFacts
from callcenter.phone.codes import Feature, FeatureCodes
from callcenter.recording import adopted
from callcenter.recording import policy as p
from callcenter.recording.state import Action, ActiveRecording, CallRecordings, RecordingCommand
from callcenter.recording.template import PathTemplate
from callcenter.store.records import RecordingRecord

if TYPE_CHECKING:
    from callcenter.calls.control import CallControl

log = logging.getLogger(__name__)
KEYS_KEPT = 9  # * and up to 8 digits: the longest feature code


class AgentPolicies(Protocol):
    def policy(self, extension: str) -> p.Policy | None: ...


@dataclass(frozen=True, slots=True)
class QueueRecording:
    """What a queue says about recording (from its row, through ``acd.board.QueueSpec``)."""

    policy: p.Policy = p.NEVER
    announcement: str | None = None
    members: tuple[str, ...] = ()  # its agents' extensions: any may take the call


def _now_us() -> int:
    return time.time_ns() // 1000


class Recorder:
    def __init__(
        self,
        root: Path,
        template: PathTemplate,
        agents: AgentPolicies | None = None,
        codes: FeatureCodes | None = None,
        store: Callable[[RecordingRecord], None] | None = None,
    ) -> None:
        self.root = root
        self.template = template
        self.agents = agents
        self.codes = codes  # the agent's in-call codes: *27 pause, *28 resume
        self.store = store  # the durable writer's: a live file's row (recording.adopted)
        self.check: Callable[[CallFacts, list[RecordingRecord]], None] | None = None

    # -- deciding -------------------------------------------------------------------------

    def policy_for(
        self, control: CallControl, queue: QueueRecording, agent: str | None
    ) -> p.Policy:
        agent_policy = self.agents.policy(agent) if self.agents is not None and agent else None
        return p.effective(queue.policy, agent_policy, control.call.recordings.flow_policy)

    def announce(self, control: CallControl, queue: QueueRecording) -> None:
        """The queue's "this call may be recorded", before the caller waits, when the call
        may be recorded (``may_record``)."""
        notice = self.notice(control, queue)
        if notice is not None:
            control.play(notice)

    def notice(self, control: CallControl, queue: QueueRecording) -> str | None:
        """The queue's announcement when the call may be recorded (``may_record``), else
        None: what the caller must hear before anything is recorded (a queue's callback
        plays it to the customer before the bridge: ``acd.callback_calls``)."""
        if queue.announcement and self.may_record(control, queue):
            return queue.announcement
        return None

    def may_record(self, control: CallControl, queue: QueueRecording) -> bool:
        """Before the bridge the agent is not known: the call may be recorded when the
        flow's policy says so (it wins over the agent's), else when the policy of any agent
        who may take it does (the agent's override, else the queue's)."""
        flow = control.call.recordings.flow_policy
        if flow is not None:
            return flow.mode is not p.Mode.NEVER
        if control.call.recordings.current is not None:
            return True  # already recorded (from the IVR's answer)
        if not queue.members:
            return queue.policy.mode is not p.Mode.NEVER
        return any(
            self.policy_for(control, queue, member).mode is not p.Mode.NEVER
            for member in queue.members
        )

    def bridged(
        self, control: CallControl, queue_name: str, queue: QueueRecording, agent: str
    ) -> None:
        """The caller and ``agent`` talk: record, in stereo, if the policy says so."""
        recordings = control.call.recordings
        recordings.context = (queue_name or None, agent)
        running = recordings.current
        if running is not None:  # from the IVR's answer: it goes on, now the queue's (retention)
            running.queue = running.queue or queue_name or None
            running.agent = running.agent or agent
            if self.store is not None:  # its row too: a restart adopts it as the queue's
                self.store(adopted.live_record(control.uuid, running))
            return
        chosen = self.policy_for(control, queue, agent)
        recordings.on_demand = chosen.mode is p.Mode.ON_DEMAND
        log.info("call %s: recording policy %s (queue %s, agent %s)",
                 control.uuid, chosen, queue_name, agent)  # fmt: skip
        if chosen.records(control.uuid):
            self._start_or_say(control, stereo=True)

    def direct(self, control: CallControl, extension: str) -> None:
        """A call routed straight to an agent (``extension:``): the agent's override, else
        the flow's, decides; recorded from the bridge in stereo like a queue call."""
        self.bridged(control, "", QueueRecording(), extension)

    def answered(self, control: CallControl, flow: str, chosen: p.Policy) -> None:
        """An IVR call whose flow sets a policy: recorded from the answer, in mono."""
        recordings = control.call.recordings
        recordings.flow_policy, recordings.flow = chosen, flow
        recordings.on_demand = chosen.mode is p.Mode.ON_DEMAND
        if chosen.records(control.uuid) and recordings.current is None:
            self._start_or_say(control, stereo=False)

    # -- acting ---------------------------------------------------------------------------

    def _start_or_say(self, control: CallControl, *, stereo: bool) -> None:
        """A start the policy asked for; FreeSWITCH refusing it (``uuid_record`` -ERR, a
        timeout) leaves the call going on, unrecorded, said loudly."""
        try:
            self.start(control, stereo=stereo)
        except ESLError as exc:
            log.error("call %s: recording not started: %s", control.uuid, exc)

    def start(self, control: CallControl, *, stereo: bool) -> ActiveRecording | None:
        recordings = control.call.recordings
        if recordings.current is not None:
            return recordings.current
        queue, agent = recordings.context
        campaign = control.call.dialer[0] if control.call.dialer is not None else None
        try:
            path = self.template.render(
                self.root, call_uuid=control.uuid, at=datetime.now(UTC), queue=queue,
                agent=agent, flow=recordings.flow, campaign=campaign,
                kind=_kind(queue, agent, campaign),
            )  # fmt: skip
        except ConfigError as exc:
            log.error("call %s: not recorded: %s", control.uuid, exc)
            return None
        if recordings.by_path(str(path)) is not None:  # started again: a second file
            path = path.with_name(f"{path.stem}-{len(recordings.files) + 1}{path.suffix}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # when FreeSWITCH shares this disk
        except OSError as exc:
            log.warning("call %s: recording folder %s: %s", control.uuid, path.parent, exc)
        if stereo:
            control.channel.api(commands.uuid_setvar(control.uuid, "RECORD_STEREO", "true"))
        control.record_start(str(path))
        active = ActiveRecording(str(path), _now_us(), stereo, queue, agent)
        recordings.files.append(active)
        if recordings.pci and active.pause(active.started_us):  # never a card number
            control.record_mask(active.path)
        self._keep(control, active, adopted.started(active))
        log.info("call %s: recording to %s", control.uuid, path)
        return active

    def _keep(
        self, control: CallControl, active: ActiveRecording, variables: dict[str, str | None]
    ) -> None:
        """What an engine restarting needs to adopt the file: on the channel, and its row."""
        if self.store is not None:
            self.store(adopted.live_record(control.uuid, active))
        try:
            control.channel.api(commands.uuid_setvar_multi(control.uuid, variables))
        except (CallGone, ESLError) as exc:  # the file goes on; only a restart would lose it
            log.warning("call %s: recording %s not marked on the channel: %s",
                        control.uuid, active.path, exc)  # fmt: skip

    def stopped(self, control: CallControl, path: str) -> None:
        """FreeSWITCH stopped a file during the call (RECORD_STOP: an operator's stop, a
        voicemail's end): its row and the check now, off the call path, not at the call's
        end (``cdr.builder.build_recordings`` leaves it out then)."""
        call = control.call
        span = call.timeline.recordings.get(path)
        if span is None or span.handed or self.check is None or self.store is None:
            return
        span.handed = True
        [record] = closed(call.recordings, [build_recording(call.timeline, span)], _now_us())
        self.store(record)
        self.check(call, [record])

    def pci(self, control: CallControl, on: bool, by: str) -> None:
        """An IVR node collecting a card number begins (on) or ends: masked meanwhile."""
        control.call.recordings.pci = on
        self.command(control, RecordingCommand(Action.PAUSE if on else Action.RESUME, by))

    def pressed(self, control: CallControl, leg: str, digit: str) -> None:
        """A key on an agent's leg: the end of ``*27`` pauses the recording, ``*28`` resumes."""
        agent = _agent_on(control, leg)
        if self.codes is None or agent is None or len(digit) != 1:
            return
        recordings = control.call.recordings
        recordings.agent_keys = (recordings.agent_keys + digit)[-KEYS_KEPT:]
        feature = self.codes.in_call(recordings.agent_keys)
        if feature is None:
            return
        recordings.agent_keys = ""
        action = Action.PAUSE if feature is Feature.RECORD_PAUSE else Action.RESUME
        self.command(control, RecordingCommand(action, f"agent:{agent}"))

    def command(self, control: CallControl, command: RecordingCommand) -> bool:
        """An operator's or the agent's start, stop, pause or resume; False: nothing to do."""
        recordings = control.call.recordings
        current = recordings.current
        try:
            if command.action is Action.START:
                if current is not None:
                    return False
                return self.start(control, stereo=recordings.context[1] is not None) is not None
            if current is None:
                log.info(
                    "call %s: %s by %s: not recording", control.uuid, command.action, command.by
                )
                return False
            now = _now_us()
            if command.action is Action.PAUSE and current.pause(now):
                control.record_mask(current.path)
                self._keep(control, current, {adopted.PAUSED: str(now)})
            elif command.action is Action.RESUME and current.resume(now):
                control.record_unmask(current.path)
                self._keep(control, current, {adopted.PAUSED: None})
            elif command.action is Action.STOP:
                control.record_stop(current.path)
                current.close(now)
                self._keep(control, current, adopted.stopped())
            else:
                return False
        except (CallGone, ESLError) as exc:
            log.warning("call %s: recording %s not done: %s", control.uuid, command.action, exc)
            return False
        log.info("call %s: recording %s by %s", control.uuid, command.action, command.by)
        return True


def _kind(queue: str | None, agent: str | None, campaign: str | None = None) -> str:
    if campaign:
        return "campaign"
    return "queue" if queue else "direct" if agent else "ivr"


def _agent_on(control: CallControl, leg: str) -> str | None:
    """The agent whose phone ``leg`` is: an agent's leg of the call; the call's own channel
    when it is an agent's (a preview's, a callback's: ``Call.agent_first``), once bridged
    (``bridged``)."""
    call = control.call
    if leg == call.uuid:
        return call.recordings.context[1] if call.agent_first else None
    found = call.timeline.legs.get(leg)
    return (found.agent_extension or None) if found is not None else None


def closed(
    state: CallRecordings, records: list[RecordingRecord], ended_us: int
) -> list[RecordingRecord]:
    """The call's recordings as stored: each with its queue, agent and PCI spans."""
    out = []
    for record in records:
        active = state.by_path(record.path)
        if active is None:
            out.append(record)
            continue
        if not active.stopped:
            active.close(ended_us)
        out.append(
            replace(
                record, queue=active.queue, agent=active.agent, paused=active.spans_ms() or None
            )
        )
    return out

"""An IVR flow on a real call: ``CallControl`` as the interpreter's port, the path into the
CDR timeline, per-node metrics, and what each final action does.

Final actions:
- queue: the ACD (a ``calls.features.QueueEntry``) with the node's priority and skills;
- transfer to an extension: ring it and bridge (``features.ring_extension``); to an
  external number: through its outbound route (``trunks.dialout.transfer_out``), or
  NO_ROUTE_DESTINATION when the engine has no outbound routes table;
- voicemail: greeting, beep, FreeSWITCH's ``record`` into
  ``<voicemail_dir>/<box>/<call uuid>.wav``; RECORD_START/STOP put it in the recordings
  table with the CDR, whose disposition is ``voicemail``;
- hangup (and ``exit``, the loop guard...): hang up with the outcome's cause.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callcenter import grammar as q
from callcenter.calls.control import CallControl
from callcenter.calls.digits import Digits
from callcenter.calls.features import QueueEntry, ring_extension
from callcenter.errors import CallGone
from callcenter.events.types import CallTransferred, IvrNode
from callcenter.ivr import plan
from callcenter.ivr.http import Http, fetch_json
from callcenter.ivr.interpreter import Interpreter, Limits, wall_clock_us
from callcenter.ivr.metrics import IvrMetrics, NodeEvent
from callcenter.ivr.registry import FlowRegistry
from callcenter.ivr.runtime import (
    Caller,
    HangupOutcome,
    Outcome,
    QueueOutcome,
    Step,
    TransferOutcome,
    VoicemailOutcome,
)
from callcenter.recording import policy as recording_policy
from callcenter.trunks.dialout import transfer_out
from callcenter.trunks.table import OutboundRoutes
from callcenter.vocabulary import Disposition

log = logging.getLogger(__name__)

BEEP = "tone_stream://%(500,0,800)"
SILENCE_THRESHOLD = 200  # energy level under which the caller counts as silent


class CallPort:
    """``CallControl`` as a ``Port``: the same calls, plus the wall clock and HTTP."""

    def __init__(self, control: CallControl, http: Http = fetch_json) -> None:
        self.control = control
        self._http = http

    def answer(self) -> None:
        self.control.answer()

    def play(self, *prompts: str) -> object:
        return self.control.play(*prompts)

    def say(
        self, text: str, *, kind: str = "NUMBER", method: str = "pronounced", lang: str = "en"
    ) -> None:
        self.control.say(text, kind=kind, method=method, lang=lang)

    def collect_digits(self, prompt: str, **kw: Any) -> Digits:
        return self.control.collect_digits(prompt, **kw)

    def set_variable(self, name: str, value: str) -> None:
        self.control.set_variable(name, value)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def http(self, method: str, url: str, body: Mapping[str, str] | None, timeout: float) -> Any:
        return self._http(method, url, body, timeout)


class TimelineListener:
    """Each step into the call's CDR path; each node event into the metrics; the recording
    paused while a ``pci: true`` node collects a card number."""

    def __init__(
        self,
        control: CallControl,
        metrics: IvrMetrics | None,
        flows: Callable[[str], plan.Flow] | None = None,
    ) -> None:
        self.control = control
        self.metrics = metrics
        self.flows = flows
        self._pci: tuple[str, str] | None = None  # the PCI node being run

    def node(self, flow: str, node: str, event: NodeEvent) -> None:
        if self.metrics is not None:
            self.metrics.node(flow, node, event)
        if event is NodeEvent.ENTERED:
            self.control.emit(IvrNode, flow=flow, node=node)
            if self._is_pci(flow, node) and self.control.recorder is not None:
                self._pci = (flow, node)
                self.control.recorder.pci(self.control, True, f"ivr:{flow}")

    def _is_pci(self, flow: str, node: str) -> bool:
        try:
            found = self.flows(flow).nodes.get(node) if self.flows is not None else None
        except KeyError:
            return False
        return isinstance(found, plan.Collect) and found.pci

    def step(self, step: Step) -> None:
        done = step.next is not None  # a try that failed with tries left: still collecting
        if done and self._pci == (step.flow, step.node) and self.control.recorder is not None:
            self._pci = None
            self.control.recorder.pci(self.control, False, f"ivr:{step.flow}")
        self.control.call.timeline.ivr_step(step.node, step.at_us, **step.details())
        shown = f" input={step.input}" if step.input is not None else ""
        log.debug(
            "call %s: ivr %s.%s %s%s -> %s",
            self.control.uuid, step.flow, step.node, step.result, shown, step.next,
        )  # fmt: skip


class IvrRunner:
    """What ``features.run_target`` calls for a route target ``ivr:<flow>``."""

    def __init__(
        self,
        registry: FlowRegistry,
        metrics: IvrMetrics | None = None,
        *,
        voicemail_dir: Path,
        ring_seconds: float = 30.0,
        http: Http = fetch_json,
        limits: Limits | None = None,
        outbound: OutboundRoutes | None = None,
        queue: QueueEntry | None = None,
        tts: plan.Tts | None = None,
    ) -> None:
        self.registry = registry
        self.tts = tts
        self.metrics = metrics
        self.voicemail_dir = voicemail_dir
        self.ring_seconds = ring_seconds
        self.http = http
        self.limits = limits or Limits()
        self.outbound = outbound
        self.queue = queue

    def __call__(self, control: CallControl, flow_name: str) -> None:
        try:
            flow = self.registry.get(flow_name)
        except KeyError:
            log.error("call %s: route to IVR flow %r, which is not loaded", control.uuid, flow_name)
            control.hangup("NORMAL_TEMPORARY_FAILURE")
            return
        call = control.call
        if flow.recording is not None and control.recorder is not None:
            control.answer()  # recorded from the answer (the flow's own answer is then a no-op)
            chosen = recording_policy.parse(flow.recording, f"flow {flow.name}")
            control.recorder.answered(control, flow.name, chosen)
        caller = Caller(call.uuid, call.from_number, call.from_name, call.to_number, call.did)
        interpreter = Interpreter(
            CallPort(control, self.http),
            caller,
            listener=TimelineListener(control, self.metrics, self.registry.get),
            flows=self.registry.get,
            limits=self.limits,
            tts=self.tts,
            finish=lambda outcome: self._final(control, outcome),
        )
        call.timeline.ivr_entered(wall_clock_us())
        try:
            outcome = interpreter.run(flow)
        finally:
            call.timeline.ivr_left(wall_clock_us())
        log.info(
            "call %s: ivr %s ended at %s: %s", call.uuid, outcome.flow, outcome.node, outcome.kind
        )

    def _final(self, control: CallControl, outcome: Outcome) -> None:
        """The flow's final action, run inside its node (see ``Interpreter.finish``)."""
        self.finish(control, outcome)
        if self.metrics is not None:
            self.metrics.outcome(outcome.flow, outcome.kind)

    def finish(self, control: CallControl, outcome: Outcome) -> None:
        if isinstance(outcome, HangupOutcome):
            control.hangup(outcome.cause)
        elif isinstance(outcome, TransferOutcome) and outcome.extension:
            control.emit(CallTransferred, target=f"extension:{outcome.extension}")
            ring_extension(control, outcome.extension, self.ring_seconds)
        elif isinstance(outcome, TransferOutcome) and outcome.number:
            control.emit(CallTransferred, target=f"number:{outcome.number}")
            self.transfer_out(control, outcome.number)
        elif isinstance(outcome, VoicemailOutcome):
            self.voicemail(control, outcome)
        elif isinstance(outcome, QueueOutcome) and self.queue is not None:
            self.queue(
                control,
                outcome.queue,
                priority=outcome.priority,
                skills=dict(outcome.skills),
                language=outcome.language,
            )
        else:
            what = outcome.queue if isinstance(outcome, QueueOutcome) else outcome.kind
            log.warning(
                "call %s: ivr final action %s (%s) is not available in this build; hanging up",
                control.uuid, outcome.kind, what,
            )  # fmt: skip
            control.hangup("SERVICE_NOT_IMPLEMENTED")

    def transfer_out(self, control: CallControl, number: str) -> None:
        if self.outbound is None:
            log.error("call %s: transfer to %r: no outbound routes table", control.uuid, number)
            control.hangup("NO_ROUTE_DESTINATION")
            return
        transfer_out(control, self.outbound, number, ring_seconds=self.ring_seconds)

    def voicemail(self, control: CallControl, outcome: VoicemailOutcome) -> None:
        q.token("box", outcome.box)
        path = self.voicemail_dir / outcome.box / f"{control.uuid}.wav"
        q.token("voicemail path", str(path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # when FreeSWITCH shares this disk
        except OSError as exc:
            log.warning("call %s: voicemail folder %s: %s", control.uuid, path.parent, exc)
        if outcome.greeting:
            control.play(*outcome.greeting)
        if outcome.beep:
            control.play(BEEP)
        control.call.timeline.outcome = str(Disposition.VOICEMAIL)
        arg = f"{path} {outcome.max_seconds} {SILENCE_THRESHOLD} {outcome.silence_seconds}"
        try:
            control.execute("record", arg, timeout=outcome.max_seconds + 30.0)
        except CallGone:
            return  # hanging up is how a caller ends a message: it was left, not abandoned
        control.hangup("NORMAL_CLEARING")

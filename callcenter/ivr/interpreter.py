"""Runs a validated flow on one call, node by node, the way FreeSWITCH's ivr.conf menus do.

Menus: greet_long on the first pass, greet_short after; up to ``digit_len`` digits per
attempt; digits matching no option count a failure (invalid_sound plays), no digit counts a
timeout; ``max_failures`` / ``max_timeouts`` lead to ``on_max_failures`` / ``on_max_timeouts``.
Each attempt is one ``play_and_get_digits`` with one try, so the two counts stay apart.

The interpreter never ends the call itself: terminal nodes come back as an ``Outcome`` and
the caller (the engine, the simulator) acts on it. A ``CallGone`` from the port counts a
``hangup`` for the node the caller was in, then propagates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypedDict

from callcenter.errors import CallGone
from callcenter.ivr import plan
from callcenter.ivr.decisions import run_branch, run_http, run_schedule
from callcenter.ivr.menus import run_collect, run_menu
from callcenter.ivr.metrics import NodeEvent
from callcenter.ivr.runtime import (
    Caller,
    GotoFlowOutcome,
    HangupOutcome,
    Listener,
    NullListener,
    Outcome,
    Port,
    QueueOutcome,
    Step,
    TransferOutcome,
    VoicemailOutcome,
    node_type,
)
from callcenter.ivr.variables import fill, fill_path, for_freeswitch
from callcenter.ivr.variables import seed as seed_variables
from callcenter.vocabulary import language_code

log = logging.getLogger(__name__)

SAY_KINDS = {
    "number": ("NUMBER", "pronounced"),
    "digits": ("NUMBER", "iterated"),
    "money": ("CURRENCY", "pronounced"),
    "date": ("CURRENT_DATE", "pronounced"),
    "time": ("CURRENT_TIME", "pronounced"),
}


@dataclass(frozen=True, slots=True)
class Limits:
    silent_visits: int = 50  # node visits in a row without a digit pressed (loop guard)
    flow_hops: int = 8  # goto_flow jumps in one call


class _Common(TypedDict):
    flow: str
    node: str
    variables: Mapping[str, str]
    language: str


def wall_clock_us() -> int:
    return time.time_ns() // 1000


class Interpreter:
    def __init__(
        self,
        port: Port,
        caller: Caller,
        *,
        listener: Listener | None = None,
        flows: Callable[[str], plan.Flow] | None = None,
        limits: Limits | None = None,
        clock_us: Callable[[], int] = wall_clock_us,
        finish: Callable[[Outcome], None] | None = None,
        tts: plan.Tts | None = None,
    ) -> None:
        """``finish`` carries out a final action (voicemail, transfer...) as part of its node,
        so a caller hanging up during it counts as a hang-up in that node."""
        self.port = port
        self.finish = finish
        self.tts = tts or plan.Tts()  # a flow's own tts: wins
        self._tts_set: plan.Tts | None = None  # what the channel's tts_engine/voice hold
        self.caller = caller
        self.listener = listener or NullListener()
        self.flows = flows
        self.limits = limits or Limits()
        self.clock_us = clock_us
        self.variables: dict[str, str] = {}
        self.secrets: set[str] = set()
        self.language = "en"
        self.menus: list[str] = []
        self.silent = 0
        self.flow: plan.Flow | None = None

    # -- the walk ---------------------------------------------------------------------

    def run(self, flow: plan.Flow) -> Outcome:
        """Walk ``flow`` (and the flows it goes to) until a final action."""
        self.language = flow.language
        self.variables = seed_variables(
            uuid=self.caller.uuid,
            caller_id_number=self.caller.number,
            caller_id_name=self.caller.name,
            destination_number=self.caller.destination,
            did=self.caller.did,
            language=flow.language,
            flow_variables=flow.variables,
        )
        self.port.answer()
        for _ in range(self.limits.flow_hops):
            outcome = self._walk(flow)
            if not isinstance(outcome, GotoFlowOutcome) or self.flows is None:
                return outcome
            try:
                flow = self.flows(outcome.target_flow)
            except KeyError:
                log.error("call %s: goto_flow to unknown flow %r", self.caller.uuid, outcome)
                return self._hangup(outcome.node, "NORMAL_TEMPORARY_FAILURE", "unknown_flow")
            for name, value in flow.variables:
                self.variables.setdefault(name, fill(value, self.variables))
        return self._hangup(outcome.node, "NORMAL_TEMPORARY_FAILURE", "too_deep")

    def _walk(self, flow: plan.Flow) -> Outcome:
        self.flow, self.menus, self.silent = flow, [], 0
        target: str | Outcome = flow.start
        while not isinstance(target, Outcome):
            self.silent += 1
            if self.silent > self.limits.silent_visits:
                log.error(
                    "call %s: flow %s: %d nodes without caller input at %s; hanging up",
                    self.caller.uuid, flow.name, self.silent - 1, target,
                )  # fmt: skip
                return self._hangup(target, "NORMAL_TEMPORARY_FAILURE", "loop_guard")
            target = self._visit(flow.node(target))
        return target

    def _visit(self, node: plan.Node) -> str | Outcome:
        flow = self.current()
        self.listener.node(flow.name, node.name, NodeEvent.ENTERED)
        entered_us = self.clock_us()
        try:
            handler = getattr(self, f"_on_{type(node).__name__.lower()}")
            result: str | Outcome = self._resolve(handler(node), node)
            if (
                self.finish is not None
                and isinstance(result, Outcome)
                and not isinstance(result, GotoFlowOutcome)
            ):
                self.finish(result)
        except CallGone:
            self.listener.node(flow.name, node.name, NodeEvent.HANGUP)
            self.step(node, "hangup", entered_us, None, None)  # the CDR shows where they left
            raise
        self.listener.node(flow.name, node.name, NodeEvent.COMPLETED)
        return result

    def _resolve(self, target: str | Outcome, node: plan.Node) -> str | Outcome:
        """``back``, ``top`` and ``exit`` to a node name or an outcome."""
        if isinstance(target, Outcome) or target not in plan.SPECIAL_TARGETS:
            return target
        flow = self.current()
        if target == "back":
            if len(self.menus) >= 2:
                self.menus.pop()
                return self.menus[-1]
            return self.menus[0] if self.menus else flow.start
        if target == "top":
            return self.menus[0] if self.menus else flow.start
        menu = node if isinstance(node, plan.Menu) else self._last_menu()
        if menu is not None and menu.exit_sound:
            self.port.play(*self.render(menu.exit_sound))
        return self._hangup(node.name, "NORMAL_CLEARING", "exit")

    # -- helpers shared by the node handlers ---------------------------------------------

    def current(self) -> plan.Flow:
        assert self.flow is not None, "run() a flow first"
        return self.flow

    def _last_menu(self) -> plan.Menu | None:
        if not self.menus:
            return None
        menu = self.current().node(self.menus[-1])
        return menu if isinstance(menu, plan.Menu) else None

    def _hangup(self, node: str, cause: str, reason: str) -> HangupOutcome:
        return HangupOutcome(**self._common(node), cause=cause, reason=reason)

    def _common(self, node: str) -> _Common:
        public = {k: v for k, v in self.variables.items() if k not in self.secrets}
        return {
            "flow": self.current().name,
            "node": node,
            "variables": public,
            "language": self.language,
        }

    def step(
        self, node: plan.Node, result: str, started_us: int, nxt: str | None, value: str | None
    ) -> None:
        now = self.clock_us()
        self.listener.step(
            Step(
                flow=self.current().name,
                node=node.name,
                type=node_type(node),
                result=result,
                next=nxt,
                at_us=started_us,
                ms=max(0, (now - started_us) // 1000),
                input=value,
            )
        )

    def heard(self) -> None:
        self.silent = 0

    def render(self, prompts: tuple[plan.Prompt, ...]) -> tuple[str, ...]:
        return tuple(self.render_one(p) for p in prompts)

    def render_one(self, prompt: plan.Prompt) -> str:
        if prompt.file is not None:
            path, unsafe = fill_path(prompt.file, self.variables)
            if unsafe is not None:
                log.error(
                    "call %s: prompt %r not played: ${%s} holds what a file path cannot",
                    self.caller.uuid, prompt.file, unsafe,
                )  # fmt: skip
                return "silence_stream://1"
            if prompt.file.startswith("/") or "://" in prompt.file:  # as written, not filled
                return path
            sounds = self.current().sounds.rstrip("/")
            return f"{sounds}/{self.language}/{path}" if sounds else f"{self.language}/{path}"
        if prompt.tts is not None:
            self._speak_with(self.current().tts or self.tts)
            return "say:" + fill(prompt.tts, self.variables, for_freeswitch).replace("!", ".")
        return f"silence_stream://{prompt.silence_ms or 0}"

    def _speak_with(self, tts: plan.Tts) -> None:
        """FreeSWITCH plays ``say:`` only with tts_engine set on the channel."""
        if self._tts_set != tts:
            self.port.set_variable("tts_engine", tts.engine)
            self.port.set_variable("tts_voice", tts.voice)
            self._tts_set = tts

    # -- node handlers: each returns a target name or an Outcome -----------------------

    def _on_play(self, node: plan.Play) -> str:
        started = self.clock_us()
        if node.prompts:
            self.port.play(*self.render(node.prompts))
        self.step(node, "played", started, node.next, None)
        return node.next

    def _on_say(self, node: plan.Say) -> str:
        started = self.clock_us()
        text = "".join(fill(node.text, self.variables, for_freeswitch).split())
        kind, method = SAY_KINDS[node.kind]
        if text:
            self.port.say(text, kind=kind, method=method, lang=node.language or self.language)
        else:
            log.info("call %s: say %s: nothing to say", self.caller.uuid, node.name)
        self.step(node, "said" if text else "empty", started, node.next, None)
        return node.next

    def _on_menu(self, node: plan.Menu) -> str:
        if node.name in self.menus:
            del self.menus[self.menus.index(node.name) + 1 :]
        else:
            self.menus.append(node.name)
        return run_menu(self, node)

    def _on_collect(self, node: plan.Collect) -> str:
        return run_collect(self, node)

    def _on_setvariables(self, node: plan.SetVariables) -> str:
        started = self.clock_us()
        for name, value in node.variables:
            self.variables[name] = fill(value, self.variables)
            self.secrets.discard(name)
        self.step(node, "set", started, node.next, None)
        return node.next

    def _on_branch(self, node: plan.Branch) -> str:
        return run_branch(self, node)

    def _on_schedule(self, node: plan.Schedule) -> str:
        return run_schedule(self, node)

    def _on_language(self, node: plan.Language) -> str:
        started = self.clock_us()
        self.language = self.variables["language"] = node.language
        # FreeSWITCH's default_language is a language code (mod_say, phrases), not a path
        self.port.set_variable("default_language", language_code(node.language))
        self.step(node, node.language, started, node.next, None)
        return node.next

    def _on_httplookup(self, node: plan.HttpLookup) -> str:
        return run_http(self, node)

    # -- terminal nodes --------------------------------------------------------------------

    def _end(self, node: plan.Node, result: str) -> None:
        self.step(node, result, self.clock_us(), None, None)

    def _on_queue(self, node: plan.Queue) -> Outcome:
        self._end(node, "queue")
        return QueueOutcome(
            **self._common(node.name), queue=node.queue, priority=node.priority, skills=node.skills
        )

    def _on_transfer(self, node: plan.Transfer) -> Outcome:
        self._end(node, "transfer")
        return TransferOutcome(
            **self._common(node.name), extension=node.extension, number=node.number
        )

    def _on_voicemail(self, node: plan.Voicemail) -> Outcome:
        self._end(node, "voicemail")
        return VoicemailOutcome(
            **self._common(node.name),
            box=node.box,
            greeting=self.render(node.greeting),
            max_seconds=node.max_seconds,
            silence_seconds=node.silence_seconds,
            beep=node.beep,
        )

    def _on_hangup(self, node: plan.Hangup) -> Outcome:
        self._end(node, "hangup")
        return self._hangup(node.name, node.cause, "hangup")

    def _on_gotoflow(self, node: plan.GotoFlow) -> Outcome:
        self._end(node, f"goto_flow {node.flow}")
        return GotoFlowOutcome(**self._common(node.name), target_flow=node.flow)

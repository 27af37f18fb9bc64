"""What the interpreter needs from a call (``Port``), what it reports (``Listener``) and what
it hands back when a flow ends (an ``Outcome``). The caller of the interpreter decides what
an outcome does: the engine on a real call, the simulator on paper."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from callcenter.calls.digits import Digits
from callcenter.ivr import plan
from callcenter.ivr.metrics import NodeEvent

# the node types as flow files spell them
NODE_TYPES: dict[type[plan.Node], str] = {
    plan.Play: "play",
    plan.Say: "say",
    plan.Menu: "menu",
    plan.Collect: "collect",
    plan.SetVariables: "set",
    plan.Branch: "branch",
    plan.Schedule: "schedule",
    plan.Language: "language",
    plan.HttpLookup: "http",
    plan.Queue: "queue",
    plan.Transfer: "transfer",
    plan.Voicemail: "voicemail",
    plan.Hangup: "hangup",
    plan.GotoFlow: "goto_flow",
}


def node_type(node: plan.Node) -> str:
    return NODE_TYPES.get(type(node), type(node).__name__.lower())


class Port(Protocol):
    """The subset of ``CallControl`` a flow uses, plus a clock and an HTTP client.

    Every method raises ``CallGone`` when the caller is gone."""

    def answer(self) -> None: ...

    def play(self, *prompts: str) -> object: ...

    def say(
        self, text: str, *, kind: str = "NUMBER", method: str = "pronounced", lang: str = "en"
    ) -> None: ...

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
    ) -> Digits: ...

    def set_variable(self, name: str, value: str) -> None: ...

    def now(self) -> datetime: ...

    def http(
        self, method: str, url: str, body: Mapping[str, str] | None, timeout: float
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as the flow's seed variables see it."""

    uuid: str
    number: str = ""
    name: str = ""
    destination: str = ""
    did: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """One node visit or one input attempt, as the CDR's ``ivr_path`` keeps it."""

    flow: str
    node: str
    type: str
    result: str  # what happened: a key pressed, "timeout", "invalid", "open", "case 1"...
    next: str | None  # where the flow went (None when it ended here)
    at_us: int
    ms: int
    input: str | None = None  # digits pressed; never set for a secret collect

    def details(self) -> dict[str, Any]:
        out: dict[str, Any] = {"flow": self.flow, "type": self.type, "result": self.result}
        out["ms"] = self.ms
        if self.next is not None:
            out["next"] = self.next
        if self.input is not None:
            out["input"] = self.input
        return out


class Listener(Protocol):
    def node(self, flow: str, node: str, event: NodeEvent) -> None: ...

    def step(self, step: Step) -> None: ...


class NullListener:
    def node(self, flow: str, node: str, event: NodeEvent) -> None:
        return None

    def step(self, step: Step) -> None:
        return None


# -- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    flow: str
    node: str
    variables: Mapping[str, str] = field(default_factory=dict)  # secret ones left out
    language: str = "en"

    @property
    def kind(self) -> str:
        return "outcome"


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueOutcome(Outcome):
    queue: str
    priority: int = 0
    skills: tuple[tuple[str, int], ...] = ()

    @property
    def kind(self) -> str:
        return "queue"


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferOutcome(Outcome):
    extension: str | None = None
    number: str | None = None

    @property
    def kind(self) -> str:
        return "transfer"


@dataclass(frozen=True, slots=True, kw_only=True)
class VoicemailOutcome(Outcome):
    box: str
    greeting: tuple[str, ...] = ()  # rendered prompts, ready for CallControl.play
    max_seconds: int = 120
    silence_seconds: int = 5
    beep: bool = True

    @property
    def kind(self) -> str:
        return "voicemail"


@dataclass(frozen=True, slots=True, kw_only=True)
class HangupOutcome(Outcome):
    cause: str = "NORMAL_CLEARING"
    reason: str = "hangup"  # hangup (a hangup node), exit, loop_guard, unknown_flow, too_deep

    @property
    def kind(self) -> str:
        return "hangup"


@dataclass(frozen=True, slots=True, kw_only=True)
class GotoFlowOutcome(Outcome):
    target_flow: str

    @property
    def kind(self) -> str:
        return "goto_flow"

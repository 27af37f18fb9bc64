"""Flows built by hand and a port that records what a flow did to the call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from callcenter.calls.digits import Digits
from callcenter.errors import CallGone
from callcenter.ivr import plan
from callcenter.ivr.http import Http
from callcenter.ivr.interpreter import Interpreter, Limits
from callcenter.ivr.metrics import NodeEvent
from callcenter.ivr.runtime import Caller, Outcome, Step
from callcenter.ivr.simulate import SimulatedPort, offline_http

HERE = plan.Where("test.yaml", 1, 1)


def f(name: str) -> tuple[plan.Prompt, ...]:
    return (plan.Prompt(file=name),)


def flow(start: str, *nodes: plan.Node, name: str = "main", **kw: Any) -> plan.Flow:
    return plan.Flow(
        name=name,
        version="1",
        checksum="c" * 64,
        source=f"{name}.yaml",
        start=start,
        language=kw.pop("language", "en"),
        sounds=kw.pop("sounds", "/snd"),
        nodes={n.name: n for n in nodes},
        **kw,
    )


def menu(name: str, choices: dict[str, str], **kw: Any) -> plan.Menu:
    opts = tuple(plan.MenuOption(keys=k, target=t) for k, t in choices.items())
    kw.setdefault("greet_long", f(f"{name}-long.wav"))
    kw.setdefault("greet_short", f(f"{name}-short.wav"))
    kw.setdefault("options", opts)
    return plan.Menu(name=name, where=HERE, **kw)


def hangup(name: str = "bye", cause: str = "NORMAL_CLEARING") -> plan.Hangup:
    return plan.Hangup(name=name, where=HERE, cause=cause)


def queue(name: str = "sales", q: str = "sales") -> plan.Queue:
    return plan.Queue(name=name, where=HERE, queue=q)


class FakePort(SimulatedPort):
    """Records every call as a tuple; ``gone_on=("play", 2)``: the 2nd play raises CallGone."""

    def __init__(
        self,
        digits: Sequence[str] = (),
        *,
        at: datetime | None = None,
        http: Http = offline_http,
        gone_on: tuple[str, int] | None = None,
    ) -> None:
        self.lines: list[str] = []
        super().__init__(digits, at=at, echo=self.lines.append, http=http)
        self.calls: list[tuple[Any, ...]] = []
        self.gone_on = gone_on

    def _record(self, *call: Any) -> None:
        self.calls.append(call)
        if self.gone_on is not None:
            method, nth = self.gone_on
            if sum(1 for c in self.calls if c[0] == method) == nth:
                raise CallGone("caller hung up (test)")

    def answer(self) -> None:
        self._record("answer")

    def play(self, *prompts: str) -> object:
        self._record("play", *prompts)
        return None

    def say(
        self, text: str, *, kind: str = "NUMBER", method: str = "pronounced", lang: str = "en"
    ) -> None:
        self._record("say", text, kind, method, lang)

    def collect_digits(self, prompt: str, **kw: Any) -> Digits:
        self._record("collect", prompt, kw)
        return super().collect_digits(prompt, **kw)

    def set_variable(self, name: str, value: str) -> None:
        self._record("set", name, value)

    def played(self) -> list[str]:
        """Prompts heard, in order: played files and collect prompts (not the silences)."""
        out: list[str] = []
        for call in self.calls:
            if call[0] == "play":
                out.extend(call[1:])
            elif call[0] == "collect" and call[1] != "silence_stream://1":
                out.append(call[1])
        return out


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []
        self.steps: list[Step] = []

    def node(self, flow: str, node: str, event: NodeEvent) -> None:
        self.events.append((flow, node, str(event)))

    def step(self, step: Step) -> None:
        self.steps.append(step)

    def count(self, node: str, event: str) -> int:
        return sum(1 for _, n, e in self.events if n == node and e == event)

    def results(self) -> list[tuple[str, str]]:
        return [(s.node, s.result) for s in self.steps]


def run(
    the_flow: plan.Flow,
    port: FakePort,
    *,
    caller: Caller | None = None,
    flows: dict[str, plan.Flow] | None = None,
    limits: Limits | None = None,
    tts: plan.Tts | None = None,
) -> tuple[Outcome, Recorder]:
    recorder = Recorder()
    interpreter = Interpreter(
        port,
        caller or Caller(uuid="u-1", number="+15551234567", name="Alice", did="5000"),
        listener=recorder,
        flows=(flows or {}).__getitem__ if flows is not None else None,
        limits=limits,
        tts=tts,
    )
    return interpreter.run(the_flow), recorder

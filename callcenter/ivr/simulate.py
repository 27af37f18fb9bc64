"""Walk a flow without telephony: digits come from a list, every step is printed.

``callcenter ivr simulate main --digits 1,4#, --caller +15551234567 --at 2026-12-25T20:00``
An empty entry means "press nothing" (the attempt times out); when the list runs out the
simulated caller hangs up. Digits of a secret collect are never printed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from callcenter.calls.digits import Digits
from callcenter.errors import CallGone
from callcenter.ivr import plan
from callcenter.ivr.http import Http, HttpLookupFailed, fetch_json
from callcenter.ivr.interpreter import Interpreter, Limits
from callcenter.ivr.metrics import NodeEvent
from callcenter.ivr.runtime import (
    Caller,
    HangupOutcome,
    Outcome,
    QueueOutcome,
    Step,
    TransferOutcome,
    VoicemailOutcome,
)

Echo = Callable[[str], None]


def offline_http(method: str, url: str, body: Mapping[str, str] | None, timeout: float) -> Any:
    raise HttpLookupFailed(f"{method} {url}: offline simulation")


class SimulatedPort:
    def __init__(
        self,
        digits: Sequence[str],
        *,
        at: datetime | None = None,
        echo: Echo = print,
        http: Http = fetch_json,
    ) -> None:
        self.digits = list(digits)
        self.at = at
        self.echo = echo
        self._http = http

    def answer(self) -> None:
        self.echo("answer")

    def play(self, *prompts: str) -> object:
        self.echo("play " + " ! ".join(prompts))
        return None

    def say(
        self, text: str, *, kind: str = "NUMBER", method: str = "pronounced", lang: str = "en"
    ) -> None:
        self.echo(f"say {lang} {kind} {method} {text}")

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
    ) -> Digits:
        if prompt != "silence_stream://1":
            self.echo(f"play {prompt} (waiting for up to {max_digits} digit(s))")
        if not self.digits:
            self.echo("caller hangs up (no more digits)")
            raise CallGone("simulated caller hung up")
        return press(self.digits.pop(0), min_digits, max_digits, terminators, regex)

    def set_variable(self, name: str, value: str) -> None:
        self.echo(f"set {name}={value}")

    def now(self) -> datetime:
        return self.at or datetime.now(UTC)

    def http(self, method: str, url: str, body: Mapping[str, str] | None, timeout: float) -> Any:
        self.echo(f"http {method} {url}")
        return self._http(method, url, body, timeout)


def press(keys: str, min_digits: int, max_digits: int, terminators: str, regex: str) -> Digits:
    """What play_and_get_digits answers when the caller presses ``keys``."""
    value, used = "", None
    for key in keys:
        if terminators and key in terminators:
            used = key
            break
        value += key
        if len(value) >= max_digits:
            break
    if len(value) >= min_digits and re.fullmatch(regex, value):
        return Digits(value, "success", used)
    return Digits(None, "failure" if value else "timeout", used)


class PrintingListener:
    def __init__(self, echo: Echo = print) -> None:
        self.echo = echo

    def node(self, flow: str, node: str, event: NodeEvent) -> None:
        """Node events are counters; the steps below already say what happened."""

    def step(self, step: Step) -> None:
        pressed = f" input={step.input}" if step.input is not None else ""
        where = f" -> {step.next}" if step.next else ""
        self.echo(f"[{step.flow}.{step.node}] {step.type}: {step.result}{pressed}{where}")


def describe(outcome: Outcome) -> str:
    if isinstance(outcome, QueueOutcome):
        return f"queue {outcome.queue} (priority {outcome.priority})"
    if isinstance(outcome, TransferOutcome):
        return f"transfer to {outcome.extension or outcome.number}"
    if isinstance(outcome, VoicemailOutcome):
        return f"voicemail box {outcome.box} (max {outcome.max_seconds}s)"
    if isinstance(outcome, HangupOutcome):
        return f"hangup {outcome.cause} ({outcome.reason})"
    return f"{outcome.kind} from {outcome.flow}.{outcome.node}"


def simulate(
    flow: plan.Flow,
    digits: Sequence[str],
    *,
    flows: Callable[[str], plan.Flow] | None = None,
    caller: str = "+15550000000",
    did: str = "",
    at: datetime | None = None,
    echo: Echo = print,
    http: Http = fetch_json,
) -> Outcome | None:
    """Walk ``flow``; the final action, or None when the simulated caller hung up."""
    port = SimulatedPort(digits, at=at, echo=echo, http=http)
    who = Caller(uuid="00000000-0000-0000-0000-000000000000", number=caller, did=did)
    interpreter = Interpreter(
        port, who, listener=PrintingListener(echo), flows=flows, limits=Limits()
    )
    try:
        outcome = interpreter.run(flow)
    except CallGone:
        return None
    echo(f"final: {describe(outcome)}")
    return outcome

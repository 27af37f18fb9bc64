"""The two input nodes: a FreeSWITCH-style menu and a validated digit collection."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from callcenter.ivr import plan
from callcenter.ivr.metrics import NodeEvent
from callcenter.ivr.variables import fill, fill_captures

if TYPE_CHECKING:
    from callcenter.ivr.interpreter import Interpreter

SILENCE = "silence_stream://1"
DIGITS_VARIABLE = "cc_digits"  # where CallControl.collect_digits has FreeSWITCH put them
ANY_KEYS = "[0-9A-Da-d*#]+"
_NOT_A_TOKEN = re.compile(r"[\s'\"\\]|\$\{")


def attempt(
    ivr: Interpreter,
    prompts: tuple[plan.Prompt, ...],
    *,
    min_digits: int,
    max_digits: int,
    timeout: float,
    digit_timeout: float,
    terminators: str,
) -> tuple[str | None, bool]:
    """One play_and_get_digits with one try: (digits or None, True if digits were refused).

    A prompt that cannot be one argument (TTS text with spaces) is played first, then the
    digits are collected behind a silence: the caller cannot barge in on such a prompt."""
    rendered = ivr.render(prompts)
    prompt = rendered[0] if len(rendered) == 1 else "file_string://" + "!".join(rendered)
    if not rendered or _NOT_A_TOKEN.search(prompt) or any("!" in r for r in rendered[1:]):
        if any("!" in r for r in rendered):
            for one in rendered:
                ivr.port.play(one)
        elif rendered:
            ivr.port.play(*rendered)
        prompt = SILENCE
    digits = ivr.port.collect_digits(
        prompt,
        min_digits=min_digits,
        max_digits=max_digits,
        tries=1,
        timeout=timeout,
        terminators=terminators,
        invalid_prompt=SILENCE,
        regex=ANY_KEYS,
        digit_timeout=digit_timeout,
    )
    if digits.value:
        ivr.heard()
    return digits.value, digits.value is not None or digits.result == "failure"


def choose(node: plan.Menu, digits: str) -> tuple[plan.MenuOption, tuple[str | None, ...]] | None:
    """The first option matching ``digits``; regex options search, as FreeSWITCH's do."""
    for option in node.options:
        if option.regex:
            match = re.search(option.keys, digits)
            if match is not None:
                return option, match.groups()
        elif option.keys == digits:
            return option, ()
    return None


def run_menu(ivr: Interpreter, node: plan.Menu) -> str:
    flow = ivr.current().name
    failures = timeouts = passes = 0
    while True:
        greeting = node.greet_short if passes and node.greet_short else node.greet_long
        passes += 1
        started = ivr.clock_us()
        digits, pressed = attempt(
            ivr,
            greeting,
            min_digits=1,
            max_digits=node.digit_len,
            timeout=node.timeout,
            digit_timeout=node.inter_digit_timeout,
            terminators=node.terminators,
        )
        chosen = choose(node, digits) if digits else None
        if chosen is not None:
            option, groups = chosen
            for name, value in option.set:
                ivr.variables[name] = fill(fill_captures(value, groups), ivr.variables)
                ivr.secrets.discard(name)
            ivr.step(node, digits or "", started, option.target, digits)
            return option.target
        if pressed:
            failures += 1
            ivr.listener.node(flow, node.name, NodeEvent.INVALID)
            done = failures >= node.max_failures
            nxt = node.on_max_failures if done else None
            ivr.step(node, "invalid", started, nxt, digits)
            if node.invalid_sound:
                ivr.port.play(*ivr.render(node.invalid_sound))
            if done:
                return node.on_max_failures
        else:
            timeouts += 1
            ivr.listener.node(flow, node.name, NodeEvent.TIMEOUT)
            done = timeouts >= node.max_timeouts
            ivr.step(node, "timeout", started, node.on_max_timeouts if done else None, None)
            if done:
                return node.on_max_timeouts


def run_collect(ivr: Interpreter, node: plan.Collect) -> str:
    flow = ivr.current().name
    for number in range(1, node.tries + 1):
        started = ivr.clock_us()
        digits, pressed = attempt(
            ivr,
            node.prompt,
            min_digits=node.min_digits,
            max_digits=node.max_digits,
            timeout=node.timeout,
            digit_timeout=node.inter_digit_timeout,
            terminators=node.terminators,
        )
        shown = None if node.secret else digits
        if node.secret and digits:  # a PIN must not stay readable in uuid_dump
            ivr.port.set_variable(DIGITS_VARIABLE, "")
        if digits and re.search(node.regex, digits):
            ivr.variables[node.variable] = digits
            if node.secret:
                ivr.secrets.add(node.variable)
            else:
                ivr.secrets.discard(node.variable)
            ivr.step(node, "ok", started, node.next, shown)
            return node.next
        event = NodeEvent.INVALID if pressed else NodeEvent.TIMEOUT
        ivr.listener.node(flow, node.name, event)
        last = number == node.tries
        ivr.step(node, str(event), started, node.on_failure if last else None, shown)
        if not last and node.invalid_prompt:
            ivr.port.play(*ivr.render(node.invalid_prompt))
    return node.on_failure

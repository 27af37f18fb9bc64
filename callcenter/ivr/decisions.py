"""The nodes that choose a way without asking the caller: branch, schedule, http lookup."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from callcenter.ivr import plan
from callcenter.ivr.http import HttpLookupFailed
from callcenter.ivr.schedule_eval import is_open
from callcenter.ivr.variables import as_text, dig, fill, for_url

if TYPE_CHECKING:
    from callcenter.ivr.interpreter import Interpreter

log = logging.getLogger(__name__)


def run_branch(ivr: Interpreter, node: plan.Branch) -> str:
    started = ivr.clock_us()
    for index, case in enumerate(node.cases, start=1):
        if holds(ivr, case.when):
            ivr.step(node, f"case {index}", started, case.target, None)
            return case.target
    ivr.step(node, "default", started, node.default, None)
    return node.default


def holds(ivr: Interpreter, when: plan.Condition) -> bool:
    """Every test given in ``when`` holds (regexes search, as FreeSWITCH conditions do)."""
    value = ivr.variables.get(when.variable or "", "")
    caller = ivr.caller
    return (
        (when.equals is None or value == when.equals)
        and (when.matches is None or re.search(when.matches, value) is not None)
        and (when.caller_id is None or re.search(when.caller_id, caller.number) is not None)
        and (when.did is None or re.search(when.did, caller.did) is not None)
        and (when.schedule is None or _schedule_open(ivr, when.schedule))
    )


def _schedule_open(ivr: Interpreter, name: str) -> bool:
    schedule = ivr.current().node(name)
    assert isinstance(schedule, plan.Schedule), f"{name} is not a schedule (validated)"
    return is_open(schedule, ivr.port.now())


def run_schedule(ivr: Interpreter, node: plan.Schedule) -> str:
    started = ivr.clock_us()
    opened = is_open(node, ivr.port.now())
    target = node.open if opened else node.closed
    ivr.step(node, "open" if opened else "closed", started, target, None)
    return target


def run_http(ivr: Interpreter, node: plan.HttpLookup) -> str:
    started = ivr.clock_us()
    url = fill(node.url, ivr.variables, for_url)
    body = {k: fill(v, ivr.variables) for k, v in node.body} if node.method == "POST" else None
    try:
        answer = ivr.port.http(node.method, url, body, node.timeout)
    except HttpLookupFailed as exc:
        log.warning("call %s: http node %s failed: %s", ivr.caller.uuid, node.name, exc)
        ivr.step(node, "error", started, node.on_error, None)
        return node.on_error
    for name, path in node.map:
        ivr.variables[name] = as_text(dig(answer, path))
        ivr.secrets.discard(name)
    ivr.step(node, "ok", started, node.next, None)
    return node.next

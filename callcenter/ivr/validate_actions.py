"""Builders for http lookups and the nodes that end a flow: queue, transfer, voicemail,
hangup, goto_flow."""

from __future__ import annotations

import re

from callcenter import grammar as quoting
from callcenter.errors import UnsafeValue
from callcenter.grammar import VAR_NAME
from callcenter.ivr import plan
from callcenter.ivr.loader import YMap, YScalar
from callcenter.ivr.validate_fields import Checker, Ref, child
from callcenter.ivr.validate_nodes import COMMON
from callcenter.vocabulary import EXTENSION, SKILL, HangupCause

NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
FLOW_NAME = re.compile(r"[a-z0-9_-]+")
NUMBER = re.compile(r"\+?[0-9]{2,20}")
_URL = re.compile(r"(https?://[^/?#]+)(.*)")
_JSON_PATH = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")


def build_http(c: Checker, name: str, m: YMap, path: str) -> plan.Node | None:
    before = c.errors()
    optional = (*COMMON, "method", "timeout", "body", "map")
    c.fields(m, path, ("url", "next", "on_error"), optional)
    url = c.text(m, "url", path)
    if url:
        _check_url(c, m.values["url"].where, child(path, "url"), url)
    method = c.choice(m, "method", path, "GET", ("GET", "POST"))
    body = _pairs(c, m, "body", path)
    if body and method != "POST":
        c.error(m.values["body"].where, child(path, "body"), "a body needs method: POST")
    for key, value in body:
        c.interpolated(m.values["body"].where, child(child(path, "body"), key), value)
    mapping = _pairs(c, m, "map", path)
    for variable, json_path in mapping:
        vp = child(child(path, "map"), variable)
        where = m.values["map"].where
        if not VAR_NAME.fullmatch(variable):
            c.error(where, vp, "not a variable name (letters, digits, _)")
        elif not _JSON_PATH.fullmatch(json_path):
            c.error(where, vp, f"{json_path!r} is not a dotted path like account.tier")
        else:
            c.var_defs.append(Ref(variable, where, vp))
    node = plan.HttpLookup(
        name,
        m.where,
        url=url,
        method="POST" if method == "POST" else "GET",
        next=c.target(name, m, "next", path),
        on_error=c.target(name, m, "on_error", path),
        timeout=c.number(m, "timeout", path, 3.0, 0.1, 30.0),
        body=body,
        map=mapping,
    )
    return None if c.failed_since(before) else node


def _check_url(c: Checker, where: plan.Where, path: str, url: str) -> None:
    match = _URL.fullmatch(url)
    if not match:
        c.error(where, path, "expected an http:// or https:// URL")
    elif "${" in match.group(1) or " " in url:
        c.error(where, path, "variables and spaces are only allowed in the path and query")
    else:
        c.interpolated(where, path, url)


def _pairs(c: Checker, m: YMap, key: str, path: str) -> tuple[tuple[str, str], ...]:
    node = m.get(key)
    if node is None:
        return ()
    pm = c.mapping(node, child(path, key))
    if pm is None:
        return ()
    pairs = []
    for k, v in pm.values.items():
        vp = child(child(path, key), k)
        if not isinstance(v, YScalar) or v.value is None:
            c.error(v.where, vp, "expected a text value")
        elif c.line_safe(v.where, vp, v.raw):
            pairs.append((k, v.raw))
    return tuple(pairs)


def build_queue(c: Checker, name: str, m: YMap, path: str) -> plan.Node | None:
    before = c.errors()
    c.fields(m, path, ("queue",), (*COMMON, "priority", "skills"))
    queue = c.text(m, "queue", path, pattern=NAME, what="a queue name")
    if queue:
        c.queues.append(Ref(queue, m.values["queue"].where, child(path, "queue")))
    priority = c.integer(m, "priority", path, 0, 0, 100)
    node = m.get("skills")
    sm = c.mapping(node, child(path, "skills")) if node is not None else None
    skills = _skills(c, sm, child(path, "skills")) if sm is not None else ()
    if c.failed_since(before):
        return None
    return plan.Queue(name, m.where, queue, priority, skills)


def _skills(c: Checker, sm: YMap, path: str) -> tuple[tuple[str, int], ...]:
    for skill in sm.values:
        if not SKILL.fullmatch(skill):
            c.error(
                sm.key_where(skill),
                child(path, skill),
                "not a skill name (lowercase letters, digits, '_' or '-', as `agent skill` sets)",
            )
    return tuple((skill, c.integer(sm, skill, path, 0, 0, 100)) for skill in sm.values)


def build_transfer(c: Checker, name: str, m: YMap, path: str) -> plan.Node | None:
    before = c.errors()
    c.fields(m, path, (), (*COMMON, "extension", "number"))
    if ("extension" in m.values) == ("number" in m.values):
        c.error(m.where, path, "give exactly one of extension or number")
    extension = c.text(m, "extension", path, pattern=EXTENSION, what="an extension")
    number = c.text(m, "number", path, pattern=NUMBER, what="a phone number (+ and digits)")
    for key, value in (("extension", extension), ("number", number)):
        if value:
            try:
                quoting.dial_string(key, value)
            except UnsafeValue as exc:
                c.error(m.values[key].where, child(path, key), exc.message)
    if c.failed_since(before):
        return None
    return plan.Transfer(name, m.where, extension or None, number or None)


def build_voicemail(c: Checker, name: str, m: YMap, path: str) -> plan.Node | None:
    before = c.errors()
    optional = (*COMMON, "greeting", "max_seconds", "silence_seconds", "beep")
    c.fields(m, path, ("box",), optional)
    node = plan.Voicemail(
        name,
        m.where,
        box=c.text(m, "box", path, pattern=NAME, what="a mailbox name"),
        greeting=c.optional_prompts(m, "greeting", path),
        max_seconds=c.integer(m, "max_seconds", path, 120, 1, 3600),
        silence_seconds=c.integer(m, "silence_seconds", path, 5, 0, 60),
        beep=c.boolean(m, "beep", path, True),
    )
    return None if c.failed_since(before) else node


def build_hangup(c: Checker, name: str, m: YMap, path: str) -> plan.Node | None:
    before = c.errors()
    c.fields(m, path, (), (*COMMON, "cause"))
    cause = c.text(m, "cause", path, "NORMAL_CLEARING")
    if cause and cause not in HangupCause.__members__:
        c.error(m.values["cause"].where, child(path, "cause"), f"unknown hangup cause {cause!r}")
    return None if c.failed_since(before) else plan.Hangup(name, m.where, cause)


def build_goto_flow(c: Checker, name: str, m: YMap, path: str) -> plan.Node | None:
    before = c.errors()
    c.fields(m, path, ("flow",), COMMON)
    flow = c.text(m, "flow", path, pattern=FLOW_NAME, what="a flow name [a-z0-9_-]+")
    if flow:
        c.flows.append(Ref(flow, m.values["flow"].where, child(path, "flow")))
    return None if c.failed_since(before) else plan.GotoFlow(name, m.where, flow)

"""Builders for the nodes that talk to the caller: play, say, menu, collect, set, branch,
language. Each reads one ``nodes.<name>`` mapping and returns a plan node, or None after
reporting its errors."""

from __future__ import annotations

import re

from callcenter import grammar as quoting
from callcenter.errors import UnsafeValue
from callcenter.grammar import VAR_NAME
from callcenter.ivr import plan
from callcenter.ivr.loader import YMap, YScalar, YSeq
from callcenter.ivr.validate_fields import KEYS, Checker, Ref, child

COMMON = ("type", "description")
LANGUAGE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*(?:/[A-Za-z0-9_-]+)*")
DIGITS = re.compile(r"[0-9*#]+")
TERMINATORS = re.compile(r"[0-9*#]{1,12}")
_CAPTURE = re.compile(r"\$(\d+)")
SAY_KINDS = ("number", "digits", "money", "date", "time")
MAX_TIMEOUT = 600.0


def _timeouts(c: Checker, m: YMap, path: str) -> tuple[float, float]:
    timeout = c.number(m, "timeout", path, plan.DEFAULT_TIMEOUT, 0.5, MAX_TIMEOUT)
    inter = c.number(m, "inter_digit_timeout", path, timeout / 2, 0.5, MAX_TIMEOUT)
    return timeout, inter


def set_variables(c: Checker, m: YMap, key: str, path: str) -> tuple[tuple[str, str], ...]:
    """``{name: value}`` pairs that set variables; values are text, ``${...}`` allowed."""
    node = m.get(key)
    if node is None:
        return ()
    p = child(path, key)
    vars_map = c.mapping(node, p)
    if vars_map is None:
        return ()
    pairs = []
    for name, value in vars_map.values.items():
        vp = child(p, name)
        where = vars_map.key_where(name)
        if not VAR_NAME.fullmatch(name):
            c.error(where, vp, "not a variable name (letters, digits, _)")
            continue
        c.var_defs.append(Ref(name, where, vp))
        if not isinstance(value, YScalar) or value.value is None:
            c.error(value.where, vp, "expected a text value")
            continue
        text = value.raw
        if c.line_safe(value.where, vp, text):
            c.interpolated(value.where, vp, text)
        pairs.append((name, text))
    return tuple(pairs)


def build_play(c: Checker, name: str, m: YMap, path: str) -> plan.Node | None:
    before = c.errors()
    c.fields(m, path, ("prompts", "next"), COMMON)
    prompts = c.optional_prompts(m, "prompts", path)
    nxt = c.target(name, m, "next", path)
    if c.failed_since(before):
        return None
    return plan.Play(name, m.where, prompts, nxt)


def build_say(c: Checker, name: str, m: YMap, path: str) -> plan.Node | None:
    before = c.errors()
    c.fields(m, path, ("text", "kind", "next"), (*COMMON, "language"))
    text = c.text(m, "text", path)
    if text:
        c.interpolated(m.values["text"].where, child(path, "text"), text)
    kind = c.choice(m, "kind", path, "number", SAY_KINDS)
    language = c.text(m, "language", path, pattern=LANGUAGE, what="a language like en or fr")
    nxt = c.target(name, m, "next", path)
    if c.failed_since(before):
        return None
    return plan.Say(name, m.where, text, kind, nxt, language or None)  # type: ignore[arg-type]


def build_language(c: Checker, name: str, m: YMap, path: str) -> plan.Node | None:
    before = c.errors()
    c.fields(m, path, ("language", "next"), COMMON)
    language = c.text(m, "language", path, pattern=LANGUAGE, what="a language like en or fr")
    nxt = c.target(name, m, "next", path)
    if c.failed_since(before):
        return None
    return plan.Language(name, m.where, language, nxt)


def build_set(c: Checker, name: str, m: YMap, path: str) -> plan.Node | None:
    before = c.errors()
    c.fields(m, path, ("variables", "next"), COMMON)
    variables = set_variables(c, m, "variables", path)
    if "variables" in m.values and not variables and not c.failed_since(before):
        c.error(m.values["variables"].where, child(path, "variables"), "nothing to set")
    nxt = c.target(name, m, "next", path)
    if c.failed_since(before):
        return None
    return plan.SetVariables(name, m.where, variables, nxt)


_MENU_FIELDS = (
    "greet_short",
    "invalid_sound",
    "exit_sound",
    "timeout",
    "inter_digit_timeout",
    "max_failures",
    "max_timeouts",
    "digit_len",
    "terminators",
    "on_max_failures",
    "on_max_timeouts",
)


def build_menu(c: Checker, name: str, m: YMap, path: str) -> plan.Node | None:
    before = c.errors()
    c.fields(m, path, ("greet_long", "options"), (*COMMON, *_MENU_FIELDS))
    greet_long = c.optional_prompts(m, "greet_long", path)
    timeout, inter = _timeouts(c, m, path)
    digit_len = c.integer(m, "digit_len", path, plan.DEFAULT_DIGIT_LEN, 1, 32)
    options = _options(c, name, m, path, digit_len)
    on_fail = c.target(name, m, "on_max_failures", path) if "on_max_failures" in m.values else ""
    on_time = c.target(name, m, "on_max_timeouts", path) if "on_max_timeouts" in m.values else ""
    menu = plan.Menu(
        name,
        m.where,
        greet_long=greet_long,
        greet_short=c.optional_prompts(m, "greet_short", path),
        options=options,
        invalid_sound=c.optional_prompts(m, "invalid_sound", path),
        exit_sound=c.optional_prompts(m, "exit_sound", path),
        timeout=timeout,
        inter_digit_timeout=inter,
        max_failures=c.integer(m, "max_failures", path, plan.DEFAULT_MAX_FAILURES, 1, 100),
        max_timeouts=c.integer(m, "max_timeouts", path, plan.DEFAULT_MAX_TIMEOUTS, 1, 100),
        digit_len=digit_len,
        terminators=c.text(m, "terminators", path, "#", TERMINATORS, "digits, * or #"),
        on_max_failures=on_fail or "exit",
        on_max_timeouts=on_time or "exit",
    )
    return None if c.failed_since(before) else menu


def _options(
    c: Checker, name: str, m: YMap, path: str, digit_len: int
) -> tuple[plan.MenuOption, ...]:
    node = m.get("options")
    p = child(path, "options")
    opts = c.mapping(node, p) if node is not None else None
    if opts is None:
        return ()
    if not opts.values:
        c.error(opts.where, p, "a menu needs at least one option")
    result = []
    for keys, value in opts.values.items():
        op = child(p, keys)
        where = opts.key_where(keys)
        groups = 0
        is_regex = len(keys) >= 2 and keys.startswith("/") and keys.endswith("/")
        if is_regex:
            keys = keys[1:-1]
            compiled = c.regex(where, op, keys, KEYS)
            groups = compiled.groups if compiled is not None else 0
        elif not DIGITS.fullmatch(keys):
            c.error(where, op, "an option is digits (0-9, *, #) or a /regex/")
        elif len(keys) > digit_len:
            c.error(where, op, f"needs {len(keys)} digits but digit_len is {digit_len}")
        if isinstance(value, YScalar):
            target = c.text_of(value, op)
            if target:
                c.targets.append((name, Ref(target, value.where, op)))
            result.append(plan.MenuOption(keys, target, is_regex))
            continue
        om = c.mapping(value, op)
        if om is None:
            continue
        c.fields(om, op, ("target",), ("set",))
        target = c.target(name, om, "target", op)
        sets = set_variables(c, om, "set", op)
        for var, text in sets:
            for capture in _CAPTURE.findall(text):
                if int(capture) > groups or int(capture) == 0:
                    c.error(
                        om.values["set"].where,
                        child(child(op, "set"), var),
                        f"${capture} but the option has {groups} capture group(s)",
                    )
        result.append(plan.MenuOption(keys, target, is_regex, sets))
    return tuple(result)


_COLLECT_FIELDS = (
    "pci",
    "on_failure",
    "min",
    "max",
    "tries",
    "timeout",
    "inter_digit_timeout",
    "terminators",
    "regex",
    "invalid_prompt",
    "secret",
)


def build_collect(c: Checker, name: str, m: YMap, path: str) -> plan.Node | None:
    before = c.errors()
    c.fields(m, path, ("prompt", "variable", "next"), (*COMMON, *_COLLECT_FIELDS))
    prompt = c.optional_prompts(m, "prompt", path)
    variable = c.text(m, "variable", path, pattern=VAR_NAME, what="a variable name")
    if variable:
        c.var_defs.append(Ref(variable, m.values["variable"].where, child(path, "variable")))
    low = c.integer(m, "min", path, 1, 1, 64)
    high = c.integer(m, "max", path, low, 1, 64)
    if low > high:
        c.error(m.values["max"].where, child(path, "max"), f"max ({high}) is below min ({low})")
    regex = c.text(m, "regex", path, r"^\d+$")
    if "regex" in m.values and regex:
        _collect_regex(c, m.values["regex"], child(path, "regex"), regex)
    timeout, inter = _timeouts(c, m, path)
    nxt = c.target(name, m, "next", path)
    on_failure = c.target(name, m, "on_failure", path) if "on_failure" in m.values else "exit"
    node = plan.Collect(
        name,
        m.where,
        prompt=prompt,
        variable=variable,
        next=nxt,
        on_failure=on_failure,
        min_digits=low,
        max_digits=high,
        tries=c.integer(m, "tries", path, 3, 1, 20),
        timeout=timeout,
        inter_digit_timeout=inter,
        terminators=c.text(m, "terminators", path, "#", TERMINATORS, "digits, * or #"),
        regex=regex,
        invalid_prompt=c.optional_prompts(m, "invalid_prompt", path),
        secret=c.boolean(m, "secret", path, False),
        pci=c.boolean(m, "pci", path, False),
    )
    return None if c.failed_since(before) else node


def _collect_regex(c: Checker, node: YScalar | YMap | YSeq, path: str, regex: str) -> None:
    """play_and_get_digits gets the regex as one argument: it must survive FreeSWITCH."""
    try:
        quoting.regex_token(path, regex)
    except UnsafeValue as exc:
        c.error(node.where, path, exc.message.split(": ", 1)[-1])
        return
    c.regex(node.where, path, regex, KEYS)

"""Safe builders for every command the engine sends over ESL.

Two kinds of result:
- *wire commands* (``api``, ``bgapi``, ``execute``, ``hangup``, ``event_subscription``,
  ``filter``, ``auth``): the exact text of one ESL command, header lines included, without
  the terminating blank line (the connection adds it);
- *api lines* (``originate``, ``uuid_*``, ``show_channels_json``): the text after ``api `` /
  ``bgapi ``, passed to ``ESLConnection.api()`` / ``.bgapi()``, which wrap them with
  ``api_line()`` / ``bgapi_line()``.

``sendmsg`` execute arguments go in the ``execute-app-arg`` header, never in a body: the
engine has no argument that needs a newline, one encoding keeps one code path, and an
argument with a line break is refused instead of being silently reinterpreted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

from callcenter.errors import UnsafeValue
from callcenter.esl import quoting as q

RecordAction = Literal["start", "stop", "mask", "unmask"]
BroadcastLeg = Literal["aleg", "bleg", "both"]
EventFormat = Literal["json", "plain", "xml"]
_SOFIA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def auth(password: str) -> str:
    return "auth " + q.line_safe("password", password)


def api_line(line: str) -> str:
    return "api " + _checked_line(line)


def bgapi_line(line: str, job_uuid: str) -> str:
    return f"bgapi {_checked_line(line)}\nJob-UUID: {q.uuid('job_uuid', job_uuid)}"


def api(cmd: str, *args: str) -> str:
    return api_line(_join(cmd, args))


def bgapi(cmd: str, *args: str, job_uuid: str) -> str:
    return bgapi_line(_join(cmd, args), job_uuid)


def execute(
    uuid: str,
    app: str,
    arg: str | None,
    event_uuid: str,
    *,
    lock: bool = False,
    loops: int | None = None,
    expand: bool = False,
) -> str:
    lines = [
        f"sendmsg {q.uuid('uuid', uuid)}",
        "call-command: execute",
        f"execute-app-name: {q.app_name('app', app)}",
    ]
    if arg:
        lines.append(f"execute-app-arg: {_app_arg(arg, expand=expand)}")
    if loops is not None:
        if isinstance(loops, bool) or not isinstance(loops, int) or loops < 1:
            raise UnsafeValue(f"loops: expected a positive integer, got {loops!r}")
        lines.append(f"loops: {loops}")
    if lock:
        lines.append("event-lock: true")
    lines.append(f"Event-UUID: {q.uuid('event_uuid', event_uuid)}")
    return "\n".join(lines)


def hangup(uuid: str, cause: str = "NORMAL_CLEARING") -> str:
    return (
        f"sendmsg {q.uuid('uuid', uuid)}\ncall-command: hangup\n"
        f"hangup-cause: {q.cause('cause', cause)}"
    )


def originate(
    dial_string: str,
    variables: Mapping[str, str],
    *,
    uuid: str,
    app: str = "park",
    app_arg: str = "",
) -> str:
    """``originate {vars}DIAL &app(arg)``. Every leg the engine brings up waits for its answer
    (``ignore_early_media=true``, unless ``variables`` say otherwise): without it FreeSWITCH
    returns on a 183 with SDP (a carrier's ringback, a phone's early media) and runs ``app``
    on a leg that nobody answered, which the engine would bridge, record and detect
    answering machines on as if it had been (``switch_ivr_originate.c``)."""
    if "origination_uuid" in variables:
        raise UnsafeValue("variables: origination_uuid is set from the uuid argument")
    variables = {"ignore_early_media": "true", **variables}
    q.app_name("app", app)
    if app_arg:
        # A `)` ends `&app(...)` early and the rest is dropped (recorded in s04).
        q.token("app_arg", app_arg)
        if ")" in app_arg or "(" in app_arg:
            raise UnsafeValue(f"app_arg: parentheses cut &app(...) short in {app_arg[:60]!r}")
    block = q.originate_variables({"origination_uuid": q.uuid("uuid", uuid), **variables})
    dial = q.dial_string("dial_string", dial_string)
    return f"originate {{{block}}}{dial} &{app}({app_arg})"


def uuid_bridge(uuid: str, other_uuid: str) -> str:
    return f"uuid_bridge {q.uuid('uuid', uuid)} {q.uuid('other_uuid', other_uuid)}"


def uuid_kill(uuid: str, cause: str = "NORMAL_CLEARING") -> str:
    return f"uuid_kill {q.uuid('uuid', uuid)} {q.cause('cause', cause)}"


def uuid_transfer(
    uuid: str,
    destination: str,
    dialplan: str = "XML",
    context: str = "default",
    *,
    leg: Literal["", "-bleg", "-both"] = "",
) -> str:
    if leg not in ("", "-bleg", "-both"):
        raise UnsafeValue(f"leg: expected '', '-bleg' or '-both', got {leg!r}")
    parts = [q.uuid("uuid", uuid)]
    if leg:
        parts.append(leg)
    parts += [
        q.token("destination", destination),
        q.token("dialplan", dialplan),
        q.token("context", context),
    ]
    return "uuid_transfer " + " ".join(parts)


def uuid_record(
    uuid: str, action: RecordAction, path: str, limit_seconds: int | None = None
) -> str:
    if action not in ("start", "stop", "mask", "unmask"):
        raise UnsafeValue(f"action: expected start|stop|mask|unmask, got {action!r}")
    line = f"uuid_record {q.uuid('uuid', uuid)} {action} {q.token('path', path)}"
    if limit_seconds is not None:
        if isinstance(limit_seconds, bool) or not isinstance(limit_seconds, int):
            raise UnsafeValue(f"limit_seconds: expected an integer, got {limit_seconds!r}")
        line += f" {limit_seconds}"
    return line


def uuid_broadcast(uuid: str, path: str, leg: BroadcastLeg = "aleg") -> str:
    if leg not in ("aleg", "bleg", "both"):
        raise UnsafeValue(f"leg: expected aleg|bleg|both, got {leg!r}")
    q.token("path", path)
    if "::" in path:
        # uuid_broadcast reads `app::args` as an application to run on the channel.
        raise UnsafeValue(f"path: '::' would run an application in {path[:60]!r}")
    return f"uuid_broadcast {q.uuid('uuid', uuid)} {path} {leg}"


def uuid_break(uuid: str) -> str:
    """Stop what the channel is playing now, and anything queued behind it."""
    return f"uuid_break {q.uuid('uuid', uuid)} all"


def uuid_setvar(uuid: str, name: str, value: str | None) -> str:
    line = f"uuid_setvar {q.uuid('uuid', uuid)} {q.var_name('name', name)}"
    if value is None:
        return line
    if not value:
        raise UnsafeValue(f"{name}: empty value would unset the variable (pass None)")
    q.rest_of_line(name, value)
    if any(c in value for c in "'\"\\"):
        raise UnsafeValue(f"{name}: quote or backslash not allowed in {value[:60]!r}")
    return f"{line} {value}"


def uuid_setvar_multi(uuid: str, values: Mapping[str, str | None]) -> str:
    """Several variables in one command (``None`` unsets); values are plain tokens."""
    if not values:
        raise UnsafeValue("uuid_setvar_multi: no variables")
    parts = []
    for name, value in values.items():
        q.var_name("name", name)
        if value is not None:
            q.token(name, value)
            if ";" in value or "=" in value:
                raise UnsafeValue(f"{name}: ';' or '=' not allowed in {value[:60]!r}")
        parts.append(f"{name}={value or ''}")
    return f"uuid_setvar_multi {q.uuid('uuid', uuid)} {';'.join(parts)}"


def uuid_getvar(uuid: str, name: str) -> str:
    return f"uuid_getvar {q.uuid('uuid', uuid)} {q.var_name('name', name)}"


def uuid_exists(uuid: str) -> str:
    return f"uuid_exists {q.uuid('uuid', uuid)}"


def uuid_dump_json(uuid: str) -> str:
    return f"uuid_dump {q.uuid('uuid', uuid)} json"


def show_channels_json() -> str:
    return "show channels as json"


def event_subscription(format: EventFormat, names: Iterable[str]) -> str:
    if format not in ("json", "plain", "xml"):
        raise UnsafeValue(f"format: expected json|plain|xml, got {format!r}")
    keywords = [q.event_keyword("event name", str(name)) for name in names]
    if not keywords:
        raise UnsafeValue("names: at least one event name is required")
    return f"event {format} " + " ".join(keywords)


def filter(header: str, value: str, *, delete: bool = False) -> str:
    head = "filter delete" if delete else "filter"
    return f"{head} {q.header_name('header', header)} {q.token('value', value)}"


def _app_arg(arg: str, *, expand: bool) -> str:
    q.line_safe("arg", arg)
    if arg != arg.lstrip():
        raise UnsafeValue(f"arg: leading whitespace is dropped by FreeSWITCH in {arg[:60]!r}")
    if not expand and "${" in arg:
        raise UnsafeValue(f"arg: ${{ would be expanded by FreeSWITCH in {arg[:60]!r}")
    return arg


def _checked_line(line: str) -> str:
    q.line_safe("command", line)
    if not line.strip():
        raise UnsafeValue("command: must not be empty")
    return line


def _join(cmd: str, args: Iterable[str]) -> str:
    q.app_name("cmd", cmd)
    return " ".join([cmd, *(q.token("arg", a) for a in args)])


# -- sofia gateways (trunks), as recorded in s12-gateway-state --------------------------
SofiaProfileAction = Literal["rescan", "killgw"]


def sofia_profile(profile: str, action: SofiaProfileAction, gateway: str = "") -> str:
    """``sofia profile <profile> rescan`` (loads new gateways: ``reloadxml`` first) or
    ``sofia profile <profile> killgw <gateway>``."""
    if action not in ("rescan", "killgw"):
        raise UnsafeValue(f"action: expected rescan|killgw, got {action!r}")
    line = f"sofia profile {_sofia_name('profile', profile)} {action}"
    if action == "killgw":
        line += " " + _sofia_name("gateway", gateway)
    elif gateway:
        raise UnsafeValue("gateway: only killgw names a gateway")
    return line


def sofia_gateway_status(gateway: str) -> str:
    """``sofia xmlstatus gateway <name>``: XML, or ``Invalid Gateway!`` when not loaded."""
    return f"sofia xmlstatus gateway {_sofia_name('gateway', gateway)}"


def sofia_status() -> str:
    """Every profile, and every loaded gateway as ``<profile>::<gateway>\tgateway``."""
    return "sofia status"


def reloadxml() -> str:
    return "reloadxml"


def reloadacl() -> str:
    return "reloadacl"


def _sofia_name(field: str, value: str) -> str:
    q.token(field, value)
    if not _SOFIA_NAME.fullmatch(value):
        raise UnsafeValue(f"{field}: {value[:60]!r} is not a sofia name ([A-Za-z0-9_.-])")
    return value

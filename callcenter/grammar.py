"""The value grammar: checks and quoting for values that reach an ESL command line.

Pure and free of I/O, so that IVR validation and the CLI check values by the same rules the
ESL builders (``callcenter.esl.commands``, which re-exports this as ``esl.quoting``) apply.

Every check raises ``UnsafeValue`` naming the field; nothing is silently altered except by
``scrub``, which callers use on purpose for display text (caller ID names) before building.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from callcenter.errors import UnsafeValue

_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_APP = re.compile(r"[a-z0-9_]+")
_CAUSE = re.compile(r"[A-Z0-9_]+")
VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ORIGINATE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HEADER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_EVENT_KEYWORD = re.compile(r"[A-Za-z0-9_]+(::[A-Za-z0-9_.-]+)?")
_DIAL = re.compile(r"[A-Za-z0-9_.:/@+=;~#*%!$-]+")
_LINE_BREAKERS = re.compile(r"[\x00-\x1f\x7f]")
# FreeSWITCH's argument tokenizer (switch_separate_string) treats quotes and backslashes
# as syntax, and `${...}` is expanded (and can call an API) when an app runs.
_TOKEN_FORBIDDEN = re.compile(r"[\s'\"\\]|\$\{")
_QUOTED_FORBIDDEN = re.compile(r"['\"\\{}]|\$\{")
_SCRUB = re.compile(r"[\x00-\x1f\x7f'\"\\{}]|\$(?=\{)")


def _fail(field: str, value: str, why: str) -> UnsafeValue:
    return UnsafeValue(f"{field}: {why} in {value[:60]!r}")


def line_safe(field: str, value: str) -> str:
    """Anything that fits on one ESL line: no CR, LF, NUL or other control characters."""
    if not isinstance(value, str):
        raise UnsafeValue(f"{field}: expected text, got {type(value).__name__}")
    if _LINE_BREAKERS.search(value):
        raise _fail(field, value, "control character (could end the command line)")
    return value


def token(field: str, value: str) -> str:
    """One argument of an api command: no whitespace, quotes, backslashes or ``${``."""
    line_safe(field, value)
    if not value:
        raise UnsafeValue(f"{field}: must not be empty")
    if _TOKEN_FORBIDDEN.search(value):
        raise _fail(field, value, "whitespace, quote, backslash or ${ not allowed")
    return value


_REGEX_FORBIDDEN = re.compile(r"[\s'\"]|\$\{|\\(?:[nrts'\"\\]|$)")


def regex_token(field: str, value: str) -> str:
    r"""A regex passed as one app argument (play_and_get_digits).

    Backslashes pass, except before the letters FreeSWITCH's splitter turns into other
    characters (n, r, t, s), quotes and backslashes: ``\d+`` arrives intact.
    """
    line_safe(field, value)
    if not value:
        raise UnsafeValue(f"{field}: must not be empty")
    if _REGEX_FORBIDDEN.search(value):
        raise _fail(field, value, "whitespace, quote, ${ or an escape FreeSWITCH rewrites")
    try:
        re.compile(value)
    except re.error as exc:
        raise _fail(field, value, f"not a valid regular expression ({exc})") from exc
    return value


def rest_of_line(field: str, value: str, *, expand: bool = False) -> str:
    """The last argument, which FreeSWITCH reads to the end of the line (spaces allowed)."""
    line_safe(field, value)
    if value != value.strip():
        raise _fail(field, value, "leading/trailing whitespace (FreeSWITCH trims it)")
    if not expand and "${" in value:
        raise _fail(field, value, "${ would be expanded by FreeSWITCH")
    return value


def _match(pattern: re.Pattern[str], field: str, value: str, what: str) -> str:
    # every pattern given here admits no control character: a match is line-safe, and only
    # a refusal needs line_safe, to say why as it always has (a control character first)
    if isinstance(value, str) and pattern.fullmatch(value):
        return value
    line_safe(field, value)
    raise _fail(field, value, f"not {what}")


def uuid(field: str, value: str) -> str:
    return _match(_UUID, field, value, "a UUID")


def app_name(field: str, value: str) -> str:
    return _match(_APP, field, value, "an application name [a-z0-9_]+")


def cause(field: str, value: str) -> str:
    return _match(_CAUSE, field, value, "a hangup cause [A-Z0-9_]+")


def var_name(field: str, value: str) -> str:
    return _match(VAR_NAME, field, value, "a channel variable name")


def header_name(field: str, value: str) -> str:
    return _match(_HEADER_NAME, field, value, "a header name")


def event_keyword(field: str, value: str) -> str:
    return _match(_EVENT_KEYWORD, field, value, "an event name")


def dial_string(field: str, value: str) -> str:
    _match(_DIAL, field, value, "a single dial string")
    # `,` `|` and `:_:` would add legs; `{` `[` `<` would add variables.
    if ":_:" in value or "${" in value:
        raise _fail(field, value, "multiple legs or variable expansion")
    return value


def originate_value(field: str, value: str) -> str:
    """A value inside ``{k=v,...}``, encoded so that FreeSWITCH reads back exactly ``value``.

    mod_commands splits the originate line on spaces (single quotes group, then are
    stripped), then switch_ivr_originate splits the ``{}`` block on unescaped commas. So: a
    value with spaces is wrapped in single quotes, a comma becomes ``\\,``, and the
    characters each layer treats as syntax (quotes, backslash, braces, ``${``) are refused.
    """
    line_safe(field, value)
    if not value:
        raise UnsafeValue(f"{field}: must not be empty")
    if value != value.strip(" "):
        raise _fail(field, value, "leading/trailing spaces (FreeSWITCH trims them)")
    if _QUOTED_FORBIDDEN.search(value):
        raise _fail(field, value, "quote, backslash, brace or ${ not allowed")
    encoded = value.replace(",", "\\,")
    return f"'{encoded}'" if " " in encoded else encoded


def originate_variables(variables: Mapping[str, str]) -> str:
    parts = []
    for key, value in variables.items():
        _match(_ORIGINATE_KEY, "variable name", key, "a channel variable name")
        parts.append(f"{key}={originate_value(key, value)}")
    return ",".join(parts)


def scrub(value: str, replacement: str = " ") -> str:
    """Make display text (a caller ID name) safe for any builder: control characters,
    quotes, backslashes, braces and the ``$`` of ``${`` are replaced; edges are trimmed."""
    return _SCRUB.sub(replacement, value).strip()

"""A call's IVR variables and ``${name}`` interpolation.

Values come from callers (digits, caller ID names) and from CRMs, so each place a value is
filled in says how to make it safe there: URL-encoded in an http URL, scrubbed of quotes and
``${`` in anything FreeSWITCH will read (it expands ``${...}`` in application arguments).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from callcenter import grammar as q

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CAPTURE = re.compile(r"\$(\d)(?!\d)")

Escape = Callable[[str], str]


def raw(value: str) -> str:
    return value


def for_url(value: str) -> str:
    return quote(value, safe="")


def for_freeswitch(value: str) -> str:
    """Text that ends up in an application argument: no quotes, backslashes, braces, ``${``."""
    return q.scrub(value)


def fill(text: str, variables: Mapping[str, str], escape: Escape = raw) -> str:
    """Replace ``${name}``; an unknown name becomes empty (validation reports it earlier)."""
    return _REFERENCE.sub(lambda m: escape(variables.get(m.group(1), "")), text)


# what a variable may put into a file path: a name or a few folders, never a leading "/",
# "..", ":" (a URI), whitespace, quotes or "!" (file_string's separator)
SAFE_IN_PATH = re.compile(r"(?:[A-Za-z0-9_+*#-]{1,64}(?:/[A-Za-z0-9_+*#-]{1,64}){0,3})?")
# built-ins a file path may name: the caller chooses neither their name nor their number
PATH_VARIABLES = ("language", "did", "destination_number", "digits", "uuid")


def fill_path(template: str, variables: Mapping[str, str]) -> tuple[str, str | None]:
    """``template`` filled for a file path, and the name of the first variable whose value
    cannot go into one (``SAFE_IN_PATH``); the path is then not to be played."""
    bad: list[str] = []

    def one(match: re.Match[str]) -> str:
        value = variables.get(match.group(1), "")
        if not SAFE_IN_PATH.fullmatch(value):
            bad.append(match.group(1))
            return ""
        return value

    path = _REFERENCE.sub(one, template)
    return path, (bad[0] if bad else None)


def fill_captures(text: str, groups: tuple[str | None, ...]) -> str:
    """Replace ``$1``..``$9`` with a regex match's groups (FreeSWITCH menu options)."""

    def one(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return (groups[index] or "") if 0 <= index < len(groups) else ""

    return _CAPTURE.sub(one, text)


def seed(
    *,
    uuid: str,
    caller_id_number: str,
    caller_id_name: str,
    destination_number: str,
    did: str,
    language: str,
    flow_variables: tuple[tuple[str, str], ...] = (),
) -> dict[str, str]:
    variables = {
        "uuid": uuid,
        "caller_id_number": caller_id_number,
        "caller_id_name": caller_id_name,
        "destination_number": destination_number,
        "did": did,
        "language": language,
    }
    for name, value in flow_variables:
        variables[name] = fill(value, variables)
    return variables


_MISSING = object()


def dig(document: Any, path: str) -> Any:
    """``customer.accounts.0.id`` in a JSON document; ``_MISSING`` when a step is absent."""
    here = document
    for part in path.split("."):
        if isinstance(here, dict) and part in here:
            here = here[part]
        elif isinstance(here, list) and part.isdigit() and int(part) < len(here):
            here = here[int(part)]
        else:
            return _MISSING
    return here


def as_text(value: Any) -> str:
    """A JSON value as a variable: scalars as text, objects and lists as JSON, absent empty."""
    if value is _MISSING or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)

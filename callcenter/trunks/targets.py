"""DID routes as operators give them: the DID, the target, the description.

One check for every way in: ``route add`` (CLI, and the HTTP API behind the same service),
the settings' ``default_route`` (``config check``, engine start) and a queue's overflow
target, and again for rows read back from the database. Pure: whether a queue or a flow
exists is asked of the collections the caller passes; ``None`` means the caller could not
find out, and ``unverified`` says so instead of passing in silence.

A target is ``kind[:arg]``:

- ``playback:<file>``: an absolute path (``/srv/sounds/closed.wav``), a path relative to
  FreeSWITCH's sounds (``ivr/ivr-welcome.wav``) or a ``tone_stream://``,
  ``silence_stream://``, ``local_stream://`` or ``file_string://`` source;
- ``hangup[:CAUSE]``: a FreeSWITCH hangup cause (``CALL_REJECTED`` when none is given);
- ``extension:<ext>``, ``queue:<queue>``, ``ivr:<flow>``: a name that must exist.

Nowhere is ``${`` allowed (FreeSWITCH would expand it: ``playback:${system(id)}``), nor
whitespace, quotes, backslashes, braces or control characters, nor a ``,`` or ``/`` that
would turn one extension into a dial string of several.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from callcenter.errors import DomainError
from callcenter.esl.vocabulary import HangupCause
from callcenter.vocabulary import EXTENSION, RouteTarget

DID = re.compile(r"[A-Za-z0-9+*#_.-]{1,128}")
DID_MAX = 128  # routes.did
TARGET_MAX = 255  # routes.target, queues.overflow_target
DESCRIPTION_MAX = 500
QUEUE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
FLOW_NAME = re.compile(r"[a-z0-9_-]{1,64}")
PLAYBACK_SCHEMES = ("tone_stream", "silence_stream", "local_stream", "file_string")
_FILE = re.compile(r"[A-Za-z0-9_./+@%,=-]+")
_URI = re.compile(r"([a-z_]+)://(.+)")
_SOURCE = re.compile(r"[A-Za-z0-9_./+@%,=;:()!#*-]+")  # tone_stream://%(2000,0,440);loops=2
_FORBIDDEN = re.compile(r"[\s'\"\\{}]|[^\x20-\x7e]")
_DEFAULT_CAUSE = "CALL_REJECTED"


class InvalidRoute(DomainError):
    """A DID route (or default route, or overflow target) that cannot be stored or used;
    ``field`` names the bad part: ``did``, ``target`` or ``description``."""

    code = "route_invalid"

    def __init__(self, field: str, reason: str, *, code: str | None = None) -> None:
        super().__init__(f"{field}: {reason}", code=code)
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Target:
    kind: RouteTarget
    arg: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.arg}" if self.arg else str(self.kind)


def _shown(value: str) -> str:
    """At most 40 characters, quoted, escaped: a value must not drive the terminal."""
    text = repr(value[:40] + ("..." if len(value) > 40 else ""))
    return text if text.isascii() else text.encode("ascii", "backslashreplace").decode()


def _bad(field: str, reason: str, code: str | None = None) -> InvalidRoute:
    return InvalidRoute(field, reason, code=code)


def check_did(did: str) -> str:
    """The dialled number a route answers: 1 to 128 of ``A-Z a-z 0-9 + * # _ . -``."""
    if len(did) > DID_MAX:
        raise _bad("did", f"{_shown(did)} is {len(did)} characters long (at most {DID_MAX})")
    if not DID.fullmatch(did):
        raise _bad("did", f"{_shown(did)} is not a DID (1 to {DID_MAX} of A-Z a-z 0-9 + * # _ . -)")
    return did


def check_description(text: str) -> str:
    if len(text) > DESCRIPTION_MAX:
        raise _bad("description", f"{len(text)} characters long (at most {DESCRIPTION_MAX})")
    if not text.isprintable():
        raise _bad("description", "control characters (newline, tab, escape...) not allowed")
    return text


def check_target(
    text: str,
    *,
    queues: Collection[str] | None = None,
    flows: Collection[str] | None = None,
    agents: Collection[str] | None = None,
) -> Target:
    """The target ``text`` names, normalized; ``InvalidRoute`` with the reason otherwise.

    With ``queues`` (``flows``, ``agents``) given, a ``queue:`` (``ivr:``, ``extension:``)
    target must name one of them; without, the name's grammar alone is checked (see
    ``unverified``)."""
    if len(text) > TARGET_MAX:
        raise _bad("target", f"{len(text)} characters long (at most {TARGET_MAX})")
    if "${" in text:
        raise _bad("target", f"{_shown(text)}: ${{ is not allowed (FreeSWITCH would expand it)")
    kind_text, _, arg = text.partition(":")
    try:
        kind = RouteTarget(kind_text)
    except ValueError:
        kinds = ", ".join(t.value for t in RouteTarget)
        raise _bad("target", f"unknown target type {_shown(kind_text)} (one of {kinds})") from None
    if _FORBIDDEN.search(arg):
        raise _bad(
            "target",
            f"{_shown(text)}: whitespace, quotes, backslashes, braces and control characters "
            "are not allowed",
        )
    if not arg and kind is not RouteTarget.HANGUP:
        raise _bad("target", f"{kind} needs {_EXAMPLE[kind]}")
    _ARG_CHECKS[kind](arg)
    target = Target(kind, arg)
    if kind is RouteTarget.QUEUE and queues is not None and arg not in queues:
        raise _bad("target", f"no queue {arg!r} ({_known(queues)})", code="route_queue_unknown")
    if kind is RouteTarget.IVR and flows is not None and arg not in flows:
        raise _bad("target", f"no loaded flow {arg!r} ({_known(flows)})", code="route_flow_unknown")
    if kind is RouteTarget.EXTENSION and agents is not None and arg not in agents:
        raise _bad("target", f"no agent {arg!r} ({_known(agents)})", code="route_agent_unknown")
    return target


def unverified(
    target: Target,
    *,
    queues: Collection[str] | None,
    flows: Collection[str] | None,
    why: str = "",
) -> str | None:
    """What ``check_target`` could not check for want of the queues or flows, else None."""
    if target.kind is RouteTarget.QUEUE and queues is None:
        what = f"queue {target.arg!r}"
    elif target.kind is RouteTarget.IVR and flows is None:
        what = f"flow {target.arg!r}"
    else:
        return None
    return f"{target}: {what} not checked" + (f" ({why})" if why else "")


def _known(names: Collection[str]) -> str:
    shown = sorted(names)
    if not shown:
        return "there are none"
    return "known: " + ", ".join(shown[:10]) + (", ..." if len(shown) > 10 else "")


def _playback(arg: str) -> None:
    uri = _URI.fullmatch(arg)
    if uri is not None:
        if uri.group(1) not in PLAYBACK_SCHEMES:
            schemes = ", ".join(f"{s}://" for s in PLAYBACK_SCHEMES)
            raise _bad("target", f"playback source {uri.group(1)}:// is not one of {schemes}")
        if not _SOURCE.fullmatch(uri.group(2)):
            raise _bad("target", f"playback source {_shown(arg)} has characters not allowed")
        return
    if "://" in arg or not _FILE.fullmatch(arg):
        raise _bad(
            "target",
            f"playback file {_shown(arg)}: a path of A-Z a-z 0-9 _ . / + @ % , = - "
            f"or a {', '.join(f'{s}://' for s in PLAYBACK_SCHEMES)} source",
        )


def _hangup(arg: str) -> None:
    if arg and arg not in HangupCause.__members__:
        raise _bad(
            "target",
            f"{_shown(arg)} is not a FreeSWITCH hangup cause (e.g. CALL_REJECTED, "
            "USER_BUSY, NORMAL_TEMPORARY_FAILURE)",
        )


def _name(pattern: re.Pattern[str], what: str) -> Callable[[str], None]:
    def check(arg: str) -> None:
        if not pattern.fullmatch(arg):
            raise _bad("target", f"{_shown(arg)} is not {what}")

    return check


_ARG_CHECKS: dict[RouteTarget, Callable[[str], None]] = {
    RouteTarget.PLAYBACK: _playback,
    RouteTarget.HANGUP: _hangup,
    RouteTarget.EXTENSION: _name(EXTENSION, "an extension (1-32 of A-Z a-z 0-9 . _ -)"),
    RouteTarget.QUEUE: _name(QUEUE_NAME, "a queue name (1-64 of A-Z a-z 0-9 . _ -)"),
    RouteTarget.IVR: _name(FLOW_NAME, "a flow name (1-64 of a-z 0-9 _ -)"),
}
_EXAMPLE = {
    RouteTarget.PLAYBACK: "a file or source, e.g. playback:ivr/ivr-welcome.wav",
    RouteTarget.EXTENSION: "an extension, e.g. extension:1001",
    RouteTarget.QUEUE: "a queue, e.g. queue:support",
    RouteTarget.IVR: "a flow, e.g. ivr:main",
    RouteTarget.HANGUP: "",
}

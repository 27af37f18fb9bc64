"""A validated IVR flow: what the interpreter runs, the grapher draws and the simulator walks.

The YAML loader and validator (``callcenter.ivr.validate``) are the only producers; every
value here has been checked (targets exist, regexes compile, times are possible), so the
interpreter never second-guesses a plan. ``Where`` keeps the ``file:line:col`` of each node
so a runtime log line can point at the YAML that made it.

Targets: a node name of the same flow, or one of ``back`` (the previous menu), ``top``
(the flow's first menu), ``exit`` (play the flow's exit sound and hang up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Literal

SPECIAL_TARGETS = frozenset({"back", "top", "exit"})

# FreeSWITCH ivr.conf menu defaults (mod_dptools / switch_ivr_menu.c)
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_FAILURES = 3
DEFAULT_MAX_TIMEOUTS = 3
DEFAULT_DIGIT_LEN = 1


@dataclass(frozen=True, slots=True)
class Where:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Prompt:
    """One thing to play. Exactly one of the fields is set.

    ``file`` is relative to the flow's sound folder and language unless absolute or a
    FreeSWITCH URI (``tone_stream://``, ``silence_stream://``, ``file_string://``...).
    Text fields may hold ``${variable}`` references, filled in at run time.
    """

    file: str | None = None
    tts: str | None = None
    silence_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    where: Where


@dataclass(frozen=True, slots=True)
class Play(Node):
    prompts: tuple[Prompt, ...]
    next: str


@dataclass(frozen=True, slots=True)
class Say(Node):
    text: str  # may hold ${variable}
    kind: Literal["number", "digits", "money", "date", "time"]
    next: str
    language: str | None = None  # default: the call's current language


@dataclass(frozen=True, slots=True)
class MenuOption:
    keys: str  # exact digits ("1", "*9"), or a regex when ``regex`` is set
    target: str
    regex: bool = False
    set: tuple[tuple[str, str], ...] = ()  # variables to set; "$1".. are regex captures


@dataclass(frozen=True, slots=True)
class Menu(Node):
    greet_long: tuple[Prompt, ...]
    greet_short: tuple[Prompt, ...]  # empty: greet_long again
    options: tuple[MenuOption, ...]
    invalid_sound: tuple[Prompt, ...] = ()
    exit_sound: tuple[Prompt, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    inter_digit_timeout: float = DEFAULT_TIMEOUT / 2
    max_failures: int = DEFAULT_MAX_FAILURES
    max_timeouts: int = DEFAULT_MAX_TIMEOUTS
    digit_len: int = DEFAULT_DIGIT_LEN
    terminators: str = "#"
    on_max_failures: str = "exit"
    on_max_timeouts: str = "exit"


@dataclass(frozen=True, slots=True)
class Collect(Node):
    """Digits into a variable (account numbers, PINs), validated by ``regex``."""

    prompt: tuple[Prompt, ...]
    variable: str
    next: str
    on_failure: str
    min_digits: int = 1
    max_digits: int = 1
    tries: int = 3
    timeout: float = DEFAULT_TIMEOUT
    inter_digit_timeout: float = DEFAULT_TIMEOUT / 2
    terminators: str = "#"
    regex: str = r"^\d+$"
    invalid_prompt: tuple[Prompt, ...] = ()
    secret: bool = False  # a PIN: never logged, never in the CDR's IVR path
    pci: bool = False  # a card number: the call's recording is paused (masked) meanwhile


@dataclass(frozen=True, slots=True)
class SetVariables(Node):
    variables: tuple[tuple[str, str], ...]  # values may hold ${variable}
    next: str


@dataclass(frozen=True, slots=True)
class Condition:
    """All given tests must hold. ``matches`` values are regexes (search, not full match)."""

    variable: str | None = None
    equals: str | None = None
    matches: str | None = None
    caller_id: str | None = None  # regex on the caller's number
    did: str | None = None  # regex on the dialled number
    schedule: str | None = None  # name of a schedule node's hours, evaluated without moving


@dataclass(frozen=True, slots=True)
class BranchCase:
    when: Condition
    target: str


@dataclass(frozen=True, slots=True)
class Branch(Node):
    cases: tuple[BranchCase, ...]
    default: str


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: time
    end: time  # exclusive; 24:00 is written as time.max


@dataclass(frozen=True, slots=True)
class DateHours:
    day: date
    hours: tuple[TimeRange, ...]  # empty: closed all day


@dataclass(frozen=True, slots=True)
class Tts:
    """What FreeSWITCH speaks ``{tts: ...}`` prompts with (its ``tts_engine``/``tts_voice``):
    mod_flite's ``kal`` unless the flow or the settings say otherwise."""

    engine: str = "flite"
    voice: str = "kal"


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    """A country's public holidays (``FR``), or a subdivision's (``US``, ``CA``)."""

    country: str
    subdiv: str | None = None


@dataclass(frozen=True, slots=True)
class Schedule(Node):
    timezone: str  # IANA name, checked with zoneinfo
    weekly: tuple[tuple[TimeRange, ...], ...]  # 7 entries, Monday first
    holidays: tuple[date, ...]
    exceptions: tuple[DateHours, ...]  # a date with special hours (wins over weekly/holiday)
    open: str
    closed: str
    calendars: tuple[HolidayCalendar, ...] = ()  # public holidays, closed like `holidays`


@dataclass(frozen=True, slots=True)
class Language(Node):
    language: str  # sound prefix for the rest of the call, e.g. "fr"
    next: str


@dataclass(frozen=True, slots=True)
class HttpLookup(Node):
    url: str  # may hold ${variable}; values are URL-encoded when filled in
    method: Literal["GET", "POST"]
    next: str
    on_error: str
    timeout: float = 3.0
    body: tuple[tuple[str, str], ...] = ()  # JSON body fields for POST, ${variable} allowed
    map: tuple[tuple[str, str], ...] = ()  # variable <- dotted path in the JSON answer


@dataclass(frozen=True, slots=True)
class Queue(Node):
    queue: str
    priority: int = 0
    skills: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Transfer(Node):
    extension: str | None = None  # an agent or internal extension
    number: str | None = None  # an external number, through an outbound route


@dataclass(frozen=True, slots=True)
class Voicemail(Node):
    box: str
    greeting: tuple[Prompt, ...] = ()
    max_seconds: int = 120
    silence_seconds: int = 5
    beep: bool = True


@dataclass(frozen=True, slots=True)
class Hangup(Node):
    cause: str = "NORMAL_CLEARING"


@dataclass(frozen=True, slots=True)
class GotoFlow(Node):
    """Continue in another flow (by name), at its start node."""

    flow: str


TERMINAL = (Queue, Transfer, Voicemail, Hangup, GotoFlow)


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    version: str
    checksum: str  # sha256 of the source file
    source: str  # the file it came from
    start: str
    language: str
    sounds: str  # folder of prompts: <sounds>/<language>/<file>
    nodes: dict[str, Node] = field(hash=False)
    variables: tuple[tuple[str, str], ...] = ()  # flow-level initial variables
    tts: Tts | None = None  # None: the engine's (settings tts_engine, tts_voice)
    recording: str | None = None  # the flow's policy (recording.policy): from the answer

    def node(self, name: str) -> Node:
        return self.nodes[name]

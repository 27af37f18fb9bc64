"""Typed access to a loaded YAML tree, collecting every problem as an ``Issue``.

Accessors always return a value of the right type (a placeholder after an error) so a node
builder reads straight through and reports all its problems at once; the builder then
asks ``Checker.failed_since`` whether to produce a node.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from callcenter import grammar as quoting
from callcenter import safe_regex
from callcenter.errors import UnsafeValue
from callcenter.ivr.loader import YMap, YNode, YScalar, YSeq
from callcenter.ivr.plan import Prompt, Where
from callcenter.ivr.variables import PATH_VARIABLES

Severity = Literal["error", "warning"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VAR_REF = re.compile(r"\$\{([^}]*)\}")
URI = re.compile(r"[a-z_]+://")
KEYS = "0123456789*#"  # all that digits entered by a caller can hold
MAX_SILENCE_MS = 60_000
# the caller's own variables; the flow's are checked at play time
BUILTIN_VARIABLES = frozenset(
    {"caller_id_number", "caller_id_name", "destination_number", "did", "language", "uuid",
     "digits"}
)  # fmt: skip
N = TypeVar("N", int, float)


@dataclass(frozen=True, slots=True)
class Issue:
    where: Where
    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        if not self.path:
            return f"{self.where}: {self.message}"
        return f"{self.where}: {self.path}: {self.message}"


def child(path: str, key: str | int) -> str:
    """``nodes.welcome.options["9"]``: identifiers dotted, other keys quoted, indexes bare."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENT.fullmatch(key):
        return f"{path}.{key}" if path else key
    quoted = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{path}["{quoted}"]'


@dataclass(frozen=True, slots=True)
class Ref:
    """Something named in the flow and checked once every node is known."""

    name: str
    where: Where
    path: str


@dataclass
class Checker:
    issues: list[Issue] = field(default_factory=list)
    targets: list[tuple[str, Ref]] = field(default_factory=list)  # (from node, target)
    var_uses: list[Ref] = field(default_factory=list)
    var_defs: list[Ref] = field(default_factory=list)
    audio: list[Ref] = field(default_factory=list)
    queues: list[Ref] = field(default_factory=list)
    flows: list[Ref] = field(default_factory=list)
    schedules: list[Ref] = field(default_factory=list)

    # -- reporting -------------------------------------------------------------------------
    def error(self, where: Where, path: str, message: str) -> None:
        self.issues.append(Issue(where, path, message, "error"))

    def warning(self, where: Where, path: str, message: str) -> None:
        self.issues.append(Issue(where, path, message, "warning"))

    def errors(self) -> int:
        return sum(1 for i in self.issues if i.severity == "error")

    def failed_since(self, count: int) -> bool:
        return self.errors() > count

    # -- structure -------------------------------------------------------------------------
    def mapping(self, node: YNode, path: str) -> YMap | None:
        if isinstance(node, YMap):
            return node
        self.error(node.where, path, f"expected a mapping (key: value), got {_kind(node)}")
        return None

    def fields(
        self, m: YMap, path: str, required: Collection[str], optional: Collection[str]
    ) -> None:
        allowed = [*required, *optional]
        for key in m.values:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"expected {_one_of(allowed)}"
                self.error(m.key_where(key), child(path, key), f"unknown field ({hint})")
        for key in required:
            if key not in m.values:
                self.error(m.where, path, f"missing required field {key!r}")

    # -- scalars ---------------------------------------------------------------------------
    def scalar(self, m: YMap, key: str, path: str) -> YScalar | None:
        node = m.get(key)
        if node is None:
            return None
        if isinstance(node, YScalar) and node.value is not None:
            return node
        self.error(node.where, child(path, key), f"expected a single value, got {_kind(node)}")
        return None

    def text(
        self,
        m: YMap,
        key: str,
        path: str,
        default: str = "",
        pattern: re.Pattern[str] | None = None,
        what: str = "",
    ) -> str:
        s = self.scalar(m, key, path)
        return default if s is None else self.text_of(s, child(path, key), pattern, what)

    def text_of(
        self, s: YScalar, path: str, pattern: re.Pattern[str] | None = None, what: str = ""
    ) -> str:
        """Text as written; unquoted numbers keep their spelling (``extension: 1001``)."""
        if isinstance(s.value, bool) or s.value is None or isinstance(s.value, float):
            self.error(s.where, path, f"expected text, got {s.kind} {s.raw!r} (quote it)")
            return ""
        value = s.raw
        if not self.line_safe(s.where, path, value):
            return ""
        if not value.strip():
            self.error(s.where, path, "must not be empty")
            return ""
        if pattern is not None and not pattern.fullmatch(value):
            self.error(s.where, path, f"{value!r} is not {what or pattern.pattern}")
            return ""
        return value

    def line_safe(self, where: Where, path: str, value: str) -> bool:
        try:
            quoting.line_safe(path, value)
        except UnsafeValue:
            self.error(where, path, "control character (newline, tab...) not allowed")
            return False
        return True

    def integer(self, m: YMap, key: str, path: str, default: int, lo: int, hi: int) -> int:
        s = self.scalar(m, key, path)
        if s is None:
            return default
        if type(s.value) is not int:
            self.error(s.where, child(path, key), f"expected an integer, got {s.kind} {s.raw!r}")
            return default
        return self._in_range(s, child(path, key), s.value, lo, hi, default)

    def number(self, m: YMap, key: str, path: str, default: float, lo: float, hi: float) -> float:
        s = self.scalar(m, key, path)
        if s is None:
            return default
        if isinstance(s.value, bool) or not isinstance(s.value, int | float):
            self.error(s.where, child(path, key), f"expected a number, got {s.kind} {s.raw!r}")
            return default
        return self._in_range(s, child(path, key), float(s.value), lo, hi, default)

    def _in_range(self, s: YScalar, path: str, value: N, lo: N, hi: N, default: N) -> N:
        if not lo <= value <= hi:
            self.error(s.where, path, f"{s.raw} is out of range ({lo:g} to {hi:g})")
            return default
        return value

    def boolean(self, m: YMap, key: str, path: str, default: bool) -> bool:
        s = self.scalar(m, key, path)
        if s is None:
            return default
        if not isinstance(s.value, bool):
            self.error(s.where, child(path, key), f"expected true or false, got {s.raw!r}")
            return default
        return s.value

    def choice(self, m: YMap, key: str, path: str, default: str, choices: Collection[str]) -> str:
        value = self.text(m, key, path, default)
        if value and value not in choices:
            where = m.values[key].where
            self.error(where, child(path, key), f"{value!r} is not {_one_of(choices)}")
            return default
        return value

    def regex(
        self, where: Where, path: str, pattern: str, alphabet: str = safe_regex.SAMPLE
    ) -> re.Pattern[str] | None:
        """A pattern the engine (or FreeSWITCH) will run on caller input: it must compile
        and be unable to backtrack for long (``callcenter.safe_regex``)."""
        try:
            return safe_regex.check(pattern, alphabet=alphabet)
        except re.error as exc:
            self.error(where, path, f"invalid regular expression: {exc}")
        except safe_regex.UnsafeRegex as exc:
            self.error(where, path, f"regular expression refused: {exc.message}")
        return None

    # -- references --------------------------------------------------------------------------
    def target(self, owner: str, m: YMap, key: str, path: str) -> str:
        value = self.text(m, key, path)
        if value:
            self.targets.append((owner, Ref(value, m.values[key].where, child(path, key))))
        return value

    def interpolated(self, where: Where, path: str, value: str) -> None:
        """Record every ``${name}`` in a text; anything else after ``$`` + ``{`` is refused."""
        for match in _VAR_REF.finditer(value):
            name = match.group(1)
            if _IDENT.fullmatch(name):
                self.var_uses.append(Ref(name, where, path))
            else:
                self.error(where, path, f"invalid variable reference ${{{name}}}")
        if "${" in _VAR_REF.sub("", value):
            self.error(where, path, "unterminated ${ (write ${name})")

    # -- prompts -----------------------------------------------------------------------------
    def prompts(self, node: YNode, path: str) -> tuple[Prompt, ...]:
        """A prompt, or a list of them: ``file.wav``, ``{tts: text}``, ``{silence: ms}``."""
        if isinstance(node, YSeq):
            if not node.items:
                self.error(node.where, path, "at least one prompt is needed")
            return tuple(self.prompt(item, child(path, i)) for i, item in enumerate(node.items))
        return (self.prompt(node, path),)

    def prompt(self, node: YNode, path: str) -> Prompt:
        if isinstance(node, YScalar):
            file = self.text_of(node, path)
            if file != file.strip():
                self.error(node.where, path, "leading or trailing spaces in a file name")
            self.interpolated(node.where, path, file)
            self._path_variables(node.where, path, file)
            if file and not URI.match(file) and "${" not in file:
                self.audio.append(Ref(file, node.where, path))
            return Prompt(file=file)
        m = self.mapping(node, path)
        if m is None:
            return Prompt(file="")
        if len(m.values) != 1 or next(iter(m.values)) not in ("tts", "silence"):
            self.error(m.where, path, "a prompt is a file, {tts: text} or {silence: milliseconds}")
            return Prompt(file="")
        if "tts" in m.values:
            tts = self.text(m, "tts", path)
            self.interpolated(m.values["tts"].where, child(path, "tts"), tts)
            return Prompt(tts=tts)
        return Prompt(silence_ms=self.integer(m, "silence", path, 0, 1, MAX_SILENCE_MS))

    def _path_variables(self, where: Where, path: str, file: str) -> None:
        """A file path names no built-in the caller chooses (at play time, every value must
        also be a plain name: ``variables.SAFE_IN_PATH``)."""
        for match in _VAR_REF.finditer(file):
            name = match.group(1)
            if name in BUILTIN_VARIABLES and name not in PATH_VARIABLES:
                allowed = ", ".join(f"${{{v}}}" for v in PATH_VARIABLES)
                self.error(
                    where,
                    path,
                    f"${{{name}}} is chosen by the caller: a file path may use {allowed} "
                    "and the flow's own variables",
                )

    def optional_prompts(self, m: YMap, key: str, path: str) -> tuple[Prompt, ...]:
        node = m.get(key)
        return () if node is None else self.prompts(node, child(path, key))


def _kind(node: YNode) -> str:
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    return f"{node.kind} {node.raw!r}" if node.value is not None else "nothing (null)"


def _one_of(choices: Collection[str]) -> str:
    return "one of: " + ", ".join(sorted(choices))

"""A safe, line-aware YAML loader for IVR flows.

The tree it returns (``YMap``, ``YSeq``, ``YScalar``) remembers the ``file:line:col``
(1-based) of every key and value, so the validator can point at the exact spot.

A flow file comes from an admin's editor, possibly from anyone who can write to the
folder, so it is read as hostile:

- files larger than ``MAX_BYTES`` are refused before parsing;
- nesting deeper than ``MAX_DEPTH`` is refused while composing (no recursion blow-up);
- anchors and aliases (``&name``, ``*name``) are refused outright: a flow is small, and
  refusing them removes alias bombs ("billion laughs") and recursive structures at the
  root instead of counting expansions;
- every explicit tag (``!!python/object/apply:...``, ``!!binary``, ``!custom``, even
  ``!!str``) is refused: values are typed by the validator, never by the file;
- keys must be plain strings (``1: sales`` is refused: quote it, ``"1": sales``);
- duplicate keys are errors naming both lines;
- a control character (NUL, ESC, BEL...) or a non-character anywhere in the file is an
  error at its ``line:col`` (PyYAML would raise its own ``ReaderError``).

Every problem raises ``YamlError`` carrying ``file:line:col``; no PyYAML exception or
traceback escapes ``load_yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, NodeEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from callcenter.errors import DialplanError
from callcenter.ivr.plan import Where

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_NODES = 50_000
# YAML 1.1's printable set, as PyYAML's reader checks it
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str": "str",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
    # YAML 1.1 reads 2026-12-25 as a timestamp: keep it as the text the admin wrote
    "tag:yaml.org,2002:timestamp": "str",
    "tag:yaml.org,2002:value": "str",
}


class YamlError(DialplanError):
    code = "dialplan_yaml"

    def __init__(self, where: Where, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.reason = message


@dataclass(frozen=True, slots=True)
class YScalar:
    value: str | int | float | bool | None
    raw: str  # the text as written (without quotes)
    where: Where
    quoted: bool = False

    @property
    def kind(self) -> str:
        if self.value is None:
            return "null"
        return {bool: "boolean", int: "integer", float: "number", str: "text"}[type(self.value)]


@dataclass(frozen=True, slots=True)
class YSeq:
    items: tuple[YNode, ...]
    where: Where


@dataclass(frozen=True, slots=True)
class YMap:
    """Keys in file order; ``keys`` keeps each key's own location."""

    values: dict[str, YNode]
    keys: dict[str, YScalar]
    where: Where

    def get(self, key: str) -> YNode | None:
        return self.values.get(key)

    def key_where(self, key: str) -> Where:
        return self.keys[key].where


YNode = YScalar | YSeq | YMap


def where_of(file: str, node: Node | NodeEvent) -> Where:
    mark = node.start_mark
    if mark is None:
        return Where(file, 1, 1)
    return Where(file, mark.line + 1, mark.column + 1)


class _SafeLineLoader(yaml.SafeLoader):
    """Composes nodes only (never constructs objects), with depth, anchor and tag limits."""

    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self.file = file
        self.depth = 0
        self.count = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        where = where_of(self.file, event)
        if isinstance(event, AliasEvent):
            raise YamlError(where, "aliases (*name) are not allowed in flows; write the value")
        if isinstance(event, NodeEvent) and event.anchor is not None:
            raise YamlError(where, f"anchors (&{event.anchor}) are not allowed in flows")
        tag = getattr(event, "tag", None)
        if tag is not None:
            raise YamlError(where, f"tags are not allowed in flows (found {tag!r})")
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlError(where, f"too many values (more than {MAX_NODES})")
        nested = isinstance(event, CollectionStartEvent)
        if nested:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise YamlError(where, f"nesting deeper than {MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            if nested:
                self.depth -= 1


def load_yaml(
    path: Path, display: str | None = None
) -> tuple[YNode | None, list[YamlError], bytes]:
    """Read and parse one file: ``(tree, problems, raw bytes)``; no tree for an empty file."""
    file = display if display is not None else str(path)
    start = Where(file, 1, 1)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise YamlError(start, f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > MAX_BYTES:
        raise YamlError(start, f"file larger than {MAX_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlError(Where(file, line, 1), "not valid UTF-8") from exc
    tree, problems = parse_yaml(text, file)
    return tree, problems, data


def parse_yaml(text: str, file: str) -> tuple[YNode | None, list[YamlError]]:
    """The tree and the problems that did not stop parsing (duplicate keys, non-text keys)."""
    check_printable(text, file)
    loader = _SafeLineLoader(text, file)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        converter = _Converter(file)
        return converter.convert(node), converter.problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Where(file, mark.line + 1, mark.column + 1) if mark else Where(file, 1, 1)
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise YamlError(where, f"YAML syntax: {message}") from None
    except yaml.YAMLError as exc:
        raise YamlError(Where(file, 1, 1), f"YAML: {exc}") from None
    except RecursionError:
        raise YamlError(Where(file, 1, 1), "nesting too deep") from None
    finally:
        loader.dispose()


def check_printable(text: str, file: str) -> None:
    """What YAML forbids in a stream (control characters but tab, CR and LF; U+FFFE...),
    reported at its ``file:line:col`` before PyYAML's reader sees it."""
    found = _NON_PRINTABLE.search(text)
    if found is None:
        return
    at = found.start()
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    point = ord(found.group())
    kind = "control character" if point < 0x20 or 0x7F <= point <= 0x9F else "character"
    raise YamlError(
        Where(file, line, column),
        f"{kind} U+{point:04X} is not allowed in a YAML file (remove it, or write it "
        'as an escape in a double-quoted string, e.g. "\\t")',
    )


class _Converter:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[YamlError] = []
        self._constructor = yaml.SafeLoader("")

    def convert(self, node: Node) -> YNode:
        where = where_of(self.file, node)
        if isinstance(node, ScalarNode):
            return self._scalar(node, where)
        if isinstance(node, SequenceNode):
            return YSeq(tuple(self.convert(item) for item in node.value), where)
        if isinstance(node, MappingNode):
            return self._mapping(node, where)
        raise YamlError(where, f"unsupported YAML node {type(node).__name__}")

    def _scalar(self, node: ScalarNode, where: Where) -> YScalar:
        kind = _SCALAR_TAGS.get(node.tag)
        if kind is None:
            raise YamlError(where, f"unsupported value type {node.tag!r}")
        raw = str(node.value)
        quoted = node.style in ("'", '"')
        if kind == "str":
            return YScalar(raw, raw, where, quoted)
        construct = {
            "int": self._constructor.construct_yaml_int,
            "float": self._constructor.construct_yaml_float,
            "bool": self._constructor.construct_yaml_bool,
            "null": self._constructor.construct_yaml_null,
        }[kind]
        try:
            value = construct(node)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            raise YamlError(where, f"invalid {kind} {raw!r}: {exc}") from None
        return YScalar(value, raw, where, quoted)

    def _mapping(self, node: MappingNode, where: Where) -> YMap:
        values: dict[str, YNode] = {}
        keys: dict[str, YScalar] = {}
        for key_node, value_node in node.value:
            key_where = where_of(self.file, key_node)
            if not isinstance(key_node, ScalarNode):
                self.problems.append(
                    YamlError(key_where, "a key must be text, not a list or mapping")
                )
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError(key_where, "merge keys (<<) are not allowed in flows")
            key = self._scalar(key_node, key_where)
            if not isinstance(key.value, str):
                hint = f'quote it: "{key.raw}"'
                self.problems.append(
                    YamlError(key_where, f"key {key.raw} is not text ({key.kind}); {hint}")
                )
                continue
            if key.value in keys:
                first = keys[key.value].where.line
                self.problems.append(
                    YamlError(
                        key_where,
                        f"duplicate key {key.value!r} at lines {first} and {key_where.line}",
                    )
                )
                continue
            keys[key.value] = key
            values[key.value] = self.convert(value_node)
        return YMap(values, keys, where)

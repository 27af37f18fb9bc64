"""YAML flow files to validated ``plan.Flow`` objects, with every problem of a file at once.

``load_flow`` checks one file; ``load_flows`` checks a folder (or a list of files) and the
references between flows. An ``Issue`` prints as
``dialplans/main.yaml:14:7: nodes.welcome.options["9"]: unknown target 'sales_q'``.
A flow with any error is never returned.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from callcenter.errors import ConfigError
from callcenter.ivr import plan
from callcenter.ivr.loader import YamlError, YMap, load_yaml
from callcenter.ivr.validate_actions import (
    FLOW_NAME,
    build_goto_flow,
    build_hangup,
    build_http,
    build_queue,
    build_transfer,
    build_voicemail,
)
from callcenter.ivr.validate_fields import Checker, Issue, Ref, child
from callcenter.ivr.validate_graph import (
    MissingAudio,
    check_audio,
    check_loops,
    check_queues,
    check_reachable,
    check_targets,
    check_variables,
    flow_cycles,
    quiet_gotos,
)
from callcenter.ivr.validate_nodes import (
    LANGUAGE,
    build_collect,
    build_language,
    build_menu,
    build_play,
    build_say,
    build_set,
    set_variables,
)
from callcenter.ivr.validate_schedule import build_branch, build_schedule
from callcenter.recording import policy as recording_policy

Builder = Callable[[Checker, str, YMap, str], plan.Node | None]
BUILDERS: dict[str, Builder] = {
    "play": build_play,
    "say": build_say,
    "menu": build_menu,
    "collect": build_collect,
    "set": build_set,
    "branch": build_branch,
    "schedule": build_schedule,
    "language": build_language,
    "http": build_http,
    "queue": build_queue,
    "transfer": build_transfer,
    "voicemail": build_voicemail,
    "hangup": build_hangup,
    "goto_flow": build_goto_flow,
}
NODE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
_FLOW_FIELDS = ("name", "language", "sounds", "variables", "description", "tts", "recording")
TTS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True, slots=True)
class FlowResult:
    flow: plan.Flow | None
    errors: list[Issue]
    warnings: list[Issue]


@dataclass(slots=True)
class Catalog:
    flows: dict[str, plan.Flow] = field(default_factory=dict)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)


@dataclass(slots=True)
class _Loaded:
    result: FlowResult
    name: Ref | None  # the flow's name, even when the flow is invalid
    goto_flows: list[Ref]
    quiet_gotos: list[Ref] = field(default_factory=list)  # reached with no caller input
    file: str = ""


def load_flow(
    path: Path,
    *,
    queues: Collection[str] | None = None,
    sounds_root: Path | None = None,
    missing_audio: MissingAudio = "warning",
) -> FlowResult:
    return _load(path, queues, sounds_root, missing_audio).result


def load_flows(
    paths_or_dir: Path | str | Iterable[Path | str],
    *,
    queues: Collection[str] | None = None,
    sounds_root: Path | None = None,
    missing_audio: MissingAudio = "warning",
) -> Catalog:
    """Every flow of a folder (``*.yaml``, ``*.yml``) or of the given files and folders.

    A ``goto_flow`` must name a flow of the catalog. One that names a rejected flow (its
    file has errors, even one so broken that its name cannot be read: then its file name
    stands for it) is a warning: the rejected file has its own errors, and an engine may
    still run an earlier version of that flow."""
    catalog = Catalog()
    loaded = [_load(p, queues, sounds_root, missing_audio) for p in flow_files(paths_or_dir)]
    owners: dict[str, Ref] = {}
    for item in loaded:
        if item.name is None:
            continue
        first = owners.setdefault(item.name.name, item.name)
        if first is not item.name:
            message = f"flow {item.name.name!r} is already defined in {first.where.file}"
            item.result.errors.append(Issue(item.name.where, item.name.path, message))
    _check_goto_flows(loaded, owners)
    _check_flow_cycles(loaded)
    for item in loaded:
        catalog.errors.extend(item.result.errors)
        catalog.warnings.extend(item.result.warnings)
        flow = item.result.flow
        if flow is not None and not item.result.errors:
            catalog.flows[flow.name] = flow
    return catalog


def _check_goto_flows(loaded: list[_Loaded], owners: dict[str, Ref]) -> None:
    rejected = {
        (item.name.name if item.name is not None else Path(item.file).stem): item.file
        for item in loaded
        if item.result.errors
    }
    for item in loaded:  # a duplicate's name is rejected, the flow that has it is not
        if item.name is not None and not item.result.errors:
            rejected.pop(item.name.name, None)
    for item in loaded:
        for ref in item.goto_flows:
            if ref.name in rejected:
                message = (
                    f"target flow {ref.name!r} is rejected (errors in {rejected[ref.name]}): a "
                    f"call reaching here ends unless the engine still runs an earlier {ref.name!r}"
                )
                item.result.warnings.append(Issue(ref.where, ref.path, message, "warning"))
            elif ref.name not in owners:
                message = f"unknown flow {ref.name!r} (flows: {', '.join(sorted(owners))})"
                item.result.errors.append(Issue(ref.where, ref.path, message))


def _check_flow_cycles(loaded: list[_Loaded]) -> None:
    """Flows that hand the caller to each other forever without input (each flow alone is
    fine, so this is only seen with the whole catalog)."""
    by_name = {item.name.name: item for item in loaded if item.name is not None}
    quiet = {name: [r.name for r in item.quiet_gotos] for name, item in by_name.items()}
    for cycle in flow_cycles(quiet):
        shown = " -> ".join(cycle)
        for here, there in itertools.pairwise(cycle):
            item = by_name[here]
            ref = next(r for r in item.quiet_gotos if r.name == there)
            message = f"flows loop forever without caller input: {shown}"
            item.result.errors.append(Issue(ref.where, ref.path, message))


def _tts(c: Checker, top: YMap) -> plan.Tts | None:
    """``tts: {engine: flite, voice: slt}``: the flow's {tts: ...} prompts' engine and voice."""
    node = top.get("tts")
    m = c.mapping(node, "tts") if node is not None else None
    if m is None:
        return None
    c.fields(m, "tts", (), ("engine", "voice"))
    what = "a TTS engine or voice name (letters, digits, _ . -)"
    default = plan.Tts()
    engine = c.text(m, "engine", "tts", default.engine, TTS_NAME, what)
    voice = c.text(m, "voice", "tts", default.voice, TTS_NAME, what)
    return plan.Tts(engine or default.engine, voice or default.voice)


def flow_files(paths_or_dir: Path | str | Iterable[Path | str]) -> list[Path]:
    items = [paths_or_dir] if isinstance(paths_or_dir, Path | str) else list(paths_or_dir)
    files: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            files.extend(sorted(p for p in item.iterdir() if p.suffix in (".yaml", ".yml")))
        else:
            files.append(item)
    return files


def _load(
    path: Path,
    queues: Collection[str] | None,
    sounds_root: Path | None,
    missing_audio: MissingAudio,
) -> _Loaded:
    file = str(path)
    try:
        tree, problems, data = load_yaml(path, file)
    except YamlError as exc:
        return _Loaded(
            FlowResult(None, [Issue(exc.where, "", exc.reason)], []), None, [], file=file
        )
    c = Checker([Issue(p.where, "", p.reason) for p in problems])
    top = c.mapping(tree, "") if tree is not None else None
    if top is None:
        if tree is None:
            c.error(plan.Where(file, 1, 1), "", "empty file: a flow needs version, start, nodes")
        return _Loaded(_result(c, None), None, [], file=file)
    c.fields(top, "", ("version", "start", "nodes"), _FLOW_FIELDS)
    version = c.text(top, "version", "")
    name = c.text(top, "name", "", path.stem, FLOW_NAME, "a flow name [a-z0-9_-]+")
    if "name" not in top.values and not FLOW_NAME.fullmatch(name):
        c.error(top.where, "", f"file name {name!r} is not a flow name: add name: [a-z0-9_-]+")
    name_where = top.values["name"].where if "name" in top.values else top.where
    language = c.text(top, "language", "", "en", LANGUAGE, "a language like en or fr")
    sounds = c.text(top, "sounds", "")
    variables = set_variables(c, top, "variables", "")
    tts = _tts(c, top)
    recording = _recording(c, top)
    names, nodes = _nodes(c, top)
    start = c.text(top, "start", "")
    if start and start not in names:
        c.error(top.values["start"].where, "start", f"unknown node {start!r}")
    check_targets(c, names, nodes)
    if start in nodes and len(nodes) == len(names):
        check_reachable(c, start, nodes)
    check_loops(c, nodes)
    check_variables(c)
    check_queues(c, queues)
    folder = sounds_root or ((path.parent / sounds) if sounds else None)
    check_audio(c, folder, [language], missing_audio)
    flow = plan.Flow(
        name=name,
        version=version,
        checksum=hashlib.sha256(data).hexdigest(),
        source=file,
        start=start,
        language=language,
        sounds=sounds,
        nodes=nodes,
        variables=variables,
        tts=tts,
        recording=recording,
    )
    quiet = quiet_gotos(c, start, nodes) if start in nodes else set()
    gotos = [ref for ref in c.flows if ref.path.split(".")[1] in quiet]  # nodes.<name>.flow
    named = Ref(name, name_where, "name") if name else None
    return _Loaded(_result(c, flow), named, c.flows, gotos, file=file)


def _recording(c: Checker, top: YMap) -> str | None:
    """The flow's recording policy: always, never, sample:N or on-demand."""
    if "recording" not in top.values:
        return None
    text = c.text(top, "recording", "")
    try:
        return str(recording_policy.parse(text, "recording"))
    except ConfigError as exc:
        c.error(top.values["recording"].where, "recording", str(exc).removeprefix("recording: "))
        return None


def _nodes(c: Checker, top: YMap) -> tuple[list[str], dict[str, plan.Node]]:
    raw = top.get("nodes")
    node_map = c.mapping(raw, "nodes") if raw is not None else None
    if node_map is None:
        return [], {}
    if not node_map.values:
        c.error(node_map.where, "nodes", "a flow needs at least one node")
    nodes: dict[str, plan.Node] = {}
    for name, value in node_map.values.items():
        path = child("nodes", name)
        if not NODE_NAME.fullmatch(name) or name in plan.SPECIAL_TARGETS:
            c.error(
                node_map.key_where(name), path, "node names are [A-Za-z0-9_-], not back/top/exit"
            )
        m = c.mapping(value, path)
        if m is None:
            continue
        kind = c.text(m, "type", path) if "type" in m.values else ""
        if "type" not in m.values:
            c.error(m.where, path, f"missing required field 'type' ({_types()})")
        elif kind and kind not in BUILDERS:
            c.error(
                m.values["type"].where,
                child(path, "type"),
                f"unknown node type {kind!r} ({_types()})",
            )
        if kind in BUILDERS:
            node = BUILDERS[kind](c, name, m, path)
            if node is not None:
                nodes[name] = node
    return list(node_map.values), nodes


def _types() -> str:
    return "one of: " + ", ".join(sorted(BUILDERS))


def _result(c: Checker, flow: plan.Flow | None) -> FlowResult:
    issues = sorted(c.issues, key=lambda i: (i.where.line, i.where.column))
    errors = [i for i in issues if i.severity == "error"]
    warnings = [i for i in issues if i.severity == "warning"]
    return FlowResult(None if errors else flow, errors, warnings)


__all__ = ["BUILDERS", "Catalog", "FlowResult", "Issue", "flow_files", "load_flow", "load_flows"]

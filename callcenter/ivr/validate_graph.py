"""Checks that need every node: targets, reachability, loops without input, variables,
queues and audio files."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Literal

from callcenter.ivr import plan
from callcenter.ivr.validate_fields import BUILTIN_VARIABLES, Checker

# Nodes that never wait for the caller: a loop made only of these never ends.
NO_INPUT = (
    plan.Play,
    plan.SetVariables,
    plan.Branch,
    plan.Say,
    plan.Language,
    plan.HttpLookup,
    plan.Schedule,
)
MissingAudio = Literal["warning", "error", "ignore"]


def _hint(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_targets(c: Checker, names: Collection[str], nodes: dict[str, plan.Node]) -> None:
    has_menu = any(isinstance(n, plan.Menu) for n in nodes.values())
    for _owner, ref in c.targets:
        if ref.name in plan.SPECIAL_TARGETS:
            if ref.name == "top" and nodes and not has_menu:
                c.error(ref.where, ref.path, "'top' goes to the flow's first menu; it has none")
        elif ref.name not in names:
            c.error(ref.where, ref.path, f"unknown target {ref.name!r}{_hint(ref.name, names)}")
    for ref in c.schedules:
        node = nodes.get(ref.name)
        if ref.name not in names:
            c.error(ref.where, ref.path, f"unknown schedule {ref.name!r}{_hint(ref.name, names)}")
        elif node is not None and not isinstance(node, plan.Schedule):
            c.error(ref.where, ref.path, f"{ref.name!r} is not a schedule node")


def _edges(c: Checker, names: Collection[str]) -> dict[str, list[str]]:
    edges: dict[str, list[str]] = {name: [] for name in names}
    for owner, ref in c.targets:
        if owner in edges and ref.name in edges and ref.name not in edges[owner]:
            edges[owner].append(ref.name)
    return edges


def check_reachable(c: Checker, start: str, nodes: dict[str, plan.Node]) -> None:
    edges = _edges(c, nodes)
    seen = {start}
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    for name, node in nodes.items():
        if name not in seen:
            c.warning(node.where, f"nodes.{name}", f"unreachable from start node {start!r}")


def check_loops(c: Checker, nodes: dict[str, plan.Node]) -> None:
    quiet = [name for name, node in nodes.items() if isinstance(node, NO_INPUT)]
    edges = {n: [t for t in e if t in quiet] for n, e in _edges(c, quiet).items()}
    for group in _components(quiet, edges):
        first = group[0]
        if len(group) == 1 and first not in edges[first]:
            continue
        members = set(group)
        cycle = [first]
        while True:
            nxt = next(t for t in edges[cycle[-1]] if t in members)
            if nxt in cycle:
                cycle = [*cycle[cycle.index(nxt) :], nxt]
                break
            cycle.append(nxt)
        c.error(
            nodes[cycle[0]].where,
            f"nodes.{cycle[0]}",
            "loops forever without caller input: " + " -> ".join(cycle),
        )


def quiet_gotos(c: Checker, start: str, nodes: dict[str, plan.Node]) -> set[str]:
    """The goto_flow nodes a caller reaches from the start without pressing anything."""
    edges = _edges(c, nodes)
    seen, todo, found = {start}, [start], set()
    while todo:
        name = todo.pop()
        node = nodes.get(name)
        if isinstance(node, plan.GotoFlow):
            found.add(name)
        elif isinstance(node, NO_INPUT):
            for nxt in edges.get(name, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
    return found


def flow_cycles(quiet: dict[str, list[str]]) -> Iterator[list[str]]:
    """Cycles of flows handing over to each other with no caller input on the way, each
    as ``[a, b, ..., a]`` (``quiet``: flow -> the flows its quiet goto_flows name)."""
    order = list(quiet)
    edges = {f: [t for t in targets if t in quiet] for f, targets in quiet.items()}
    for group in _components(order, edges):
        first = group[0]
        if len(group) == 1 and first not in edges[first]:
            continue
        members, cycle = set(group), [first]
        while True:
            nxt = next(t for t in edges[cycle[-1]] if t in members)
            if nxt in cycle:
                yield [*cycle[cycle.index(nxt) :], nxt]
                break
            cycle.append(nxt)


def _components(order: list[str], edges: dict[str, list[str]]) -> Iterator[list[str]]:
    """Strongly connected components (Tarjan, iterative), members in file order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    position = {name: i for i, name in enumerate(order)}
    for root in order:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                nxt = edges[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                yield sorted(group, key=position.__getitem__)


def check_variables(c: Checker) -> None:
    defined = set(BUILTIN_VARIABLES)
    for ref in c.var_defs:
        if ref.name in BUILTIN_VARIABLES:
            hint = "; use a language node" if ref.name == "language" else ""
            c.error(ref.where, ref.path, f"{ref.name!r} is a built-in variable{hint}")
        defined.add(ref.name)
    for ref in c.var_uses:
        if ref.name not in defined:
            message = f"unknown variable ${{{ref.name}}}{_hint(ref.name, defined)}"
            c.error(ref.where, ref.path, message + "; set it or declare it under variables:")


def check_queues(c: Checker, queues: Collection[str] | None) -> None:
    if queues is None:
        return
    for ref in c.queues:
        if ref.name not in queues:
            c.error(ref.where, ref.path, f"unknown queue {ref.name!r}{_hint(ref.name, queues)}")


def check_audio(
    c: Checker, folder: Path | None, languages: Collection[str], mode: MissingAudio
) -> None:
    """Plain file prompts only; relative ones are looked up under <folder>/<language>/."""
    if mode == "ignore":
        return
    report = c.error if mode == "error" else c.warning
    for ref in c.audio:
        path = Path(ref.name)
        if path.is_absolute():
            candidates = [path]
        elif folder is None:
            continue
        else:
            candidates = [folder / language / path for language in languages]
        missing = [str(p) for p in candidates if not _exists(p)]
        if missing:
            report(ref.where, ref.path, f"audio file not found: {', '.join(missing)}")


def _exists(path: Path) -> bool:
    """Like FreeSWITCH: ``ivr/x.wav`` is also found as ``ivr/<rate>/x.wav``."""
    return path.is_file() or any((path.parent / r / path.name).is_file() for r in _RATES)


_RATES = ("8000", "16000", "32000", "48000")

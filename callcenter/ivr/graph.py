"""Draw a flow: Graphviz DOT or Mermaid text, SVG/PNG through Graphviz's ``dot`` when present."""

from __future__ import annotations

import shutil
import subprocess

from callcenter.errors import CallCenterError
from callcenter.ivr import plan
from callcenter.ivr.runtime import node_type

Edge = tuple[str, str, str]  # from, to, label


class GraphvizMissing(CallCenterError):
    code = "graphviz_missing"


def edges(flow: plan.Flow) -> list[Edge]:
    out: list[Edge] = []
    for node in flow.nodes.values():
        out.extend((node.name, target, label) for target, label in _targets(node))
    return out


def _targets(node: plan.Node) -> list[tuple[str, str]]:
    if isinstance(node, plan.Play | plan.Say | plan.SetVariables | plan.Language):
        return [(node.next, "")]
    if isinstance(node, plan.Menu):
        keys = [(o.target, f"/{o.keys}/" if o.regex else o.keys) for o in node.options]
        return [*keys, (node.on_max_failures, "failure"), (node.on_max_timeouts, "timeout")]
    if isinstance(node, plan.Collect):
        return [(node.next, "ok"), (node.on_failure, "failure")]
    if isinstance(node, plan.Branch):
        cases = [(c.target, f"case {i}") for i, c in enumerate(node.cases, start=1)]
        return [*cases, (node.default, "default")]
    if isinstance(node, plan.Schedule):
        return [(node.open, "open"), (node.closed, "closed")]
    if isinstance(node, plan.HttpLookup):
        return [(node.next, "ok"), (node.on_error, "error")]
    if isinstance(node, plan.GotoFlow):
        return [(f"flow:{node.flow}", "")]
    return []


def label(node: plan.Node) -> str:
    kind = node_type(node)
    detail = _detail(node)
    extra = f"\n{detail}" if detail else ""
    return f"{node.name}\n({kind}){extra}"


def _detail(node: plan.Node) -> str:
    if isinstance(node, plan.Queue):
        return f"queue {node.queue}"
    if isinstance(node, plan.Transfer):
        return f"to {node.extension or node.number}"
    if isinstance(node, plan.Voicemail):
        return f"box {node.box}"
    if isinstance(node, plan.Hangup):
        return node.cause
    if isinstance(node, plan.Collect):
        return f"into {node.variable}"
    if isinstance(node, plan.Language):
        return node.language
    if isinstance(node, plan.HttpLookup | plan.GotoFlow):
        return node.method if isinstance(node, plan.HttpLookup) else f"to flow {node.flow}"
    return ""


def _extra_nodes(flow: plan.Flow) -> list[str]:
    targets = {to for _, to, _ in edges(flow)}
    return sorted(t for t in targets if t not in flow.nodes)


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(flow: plan.Flow) -> str:
    lines = [f"digraph {_dot_text(flow.name)} {{", "  rankdir=LR;", "  node [shape=box];"]
    for node in flow.nodes.values():
        shape = ", shape=doubleoctagon" if isinstance(node, plan.TERMINAL) else ""
        style = ", style=bold" if node.name == flow.start else ""
        lines.append(f"  {_dot_text(node.name)} [label={_dot_text(label(node))}{shape}{style}];")
    for extra in _extra_nodes(flow):
        lines.append(f"  {_dot_text(extra)} [shape=ellipse];")
    for src, dst, text in edges(flow):
        attr = f" [label={_dot_text(text)}]" if text else ""
        lines.append(f"  {_dot_text(src)} -> {_dot_text(dst)}{attr};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;").replace("\n", "<br/>") + '"'


def to_mermaid(flow: plan.Flow) -> str:
    ids: dict[str, str] = {}
    lines = ["flowchart TD"]
    for index, name in enumerate([*flow.nodes, *_extra_nodes(flow)]):
        ids[name] = f"n{index}"
        node = flow.nodes.get(name)
        text = _mermaid_text(label(node) if node else name)
        if node is None:
            lines.append(f"  {ids[name]}(({text}))")
        elif isinstance(node, plan.TERMINAL):
            lines.append(f"  {ids[name]}[/{text}/]")
        else:
            lines.append(f"  {ids[name]}[{text}]")
    for src, dst, text in edges(flow):
        arrow = f"-->|{_mermaid_text(text)}|" if text else "-->"
        lines.append(f"  {ids[src]} {arrow} {ids[dst]}")
    return "\n".join(lines) + "\n"


def render(flow: plan.Flow, fmt: str, *, timeout: float = 30.0) -> bytes:
    """SVG or PNG bytes drawn by Graphviz."""
    if fmt not in ("svg", "png"):
        raise CallCenterError(f"unknown image format {fmt!r} (svg or png)", code="bad_format")
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing(
            "Graphviz's `dot` is not installed (apt-get install graphviz); "
            "use --format dot or --format mermaid instead"
        )
    done = subprocess.run(
        [dot, f"-T{fmt}"], input=to_dot(flow).encode(), capture_output=True, timeout=timeout,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise CallCenterError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout

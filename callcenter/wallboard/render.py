"""``callcenter top``'s screen: a pure function of a snapshot and the viewer's choices (sort,
filter), drawn with rich; it fits 80 columns (names and callers are cut to fit)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from callcenter.vocabulary import AgentStatus
from callcenter.wallboard.snapshot import AgentBoard, QueueBoard, Wallboard

OK, WARN, BAD, DIM = "green", "yellow", "red", "bright_black"
STATE_STYLE = {"idle": OK, "offering": WARN, "in_call": "cyan", "wrap_up": "magenta"}


class SortBy(StrEnum):
    EXTENSION = "extension"
    STATE = "state"
    TIME = "time"
    NAME = "name"


@dataclass(frozen=True, slots=True)
class View:
    sort: SortBy = SortBy.STATE
    reverse: bool = False
    filter: str = ""  # agents and queues whose name, extension, queue or caller has it
    logged_out: bool = False  # show logged-out agents too
    sl_target: float = 0.8
    status: str = ""  # "live", "reconnecting: ..."
    typing: str | None = None  # the filter being typed, if any

    def next_sort(self) -> View:
        order = list(SortBy)
        return replace(self, sort=order[(order.index(self.sort) + 1) % len(order)])


def printable(text: str | None) -> str:
    """A caller's name can hold anything: never let it move the terminal's cursor."""
    if not text or text.isprintable():
        return text or ""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def clock(seconds: float) -> str:
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def level(value: float | None, ok: float, warn: float, higher_is_better: bool) -> str:
    if value is None:
        return DIM
    if higher_is_better:
        return OK if value >= ok else WARN if value >= warn else BAD
    return OK if value <= ok else WARN if value <= warn else BAD


def screen(board: Wallboard, view: View, elapsed: float = 0.0) -> RenderableType:
    """Everything ``top`` shows; ``elapsed``: seconds since the snapshot was taken (the
    clocks run on between snapshots)."""
    return Group(
        _header(board, view, elapsed),
        _queues(board, view, elapsed),
        _formulas(board, view),
        _agents(board, view, elapsed),
        _footer(view),
    )


def _header(board: Wallboard, view: View, elapsed: float) -> Text:
    at = datetime.fromtimestamp(board.at.timestamp() + elapsed).astimezone()
    line = Text.assemble(
        ("callcenter top", "bold"), f"  {at:%H:%M:%S}  ",
        (view.status or "-", OK if view.status == "live" else WARN),
        f"  last {board.window_seconds / 60:.0f} min",
    )  # fmt: skip
    if view.filter:
        line.append(f"  filter: {printable(view.filter)}", style="bold")
    return line


def _matches(view: View, *texts: str | None) -> bool:
    wanted = view.filter.casefold()
    return not wanted or any(wanted in (t or "").casefold() for t in texts)


def _queues(board: Wallboard, view: View, elapsed: float) -> Table:
    table = _table(expand=False)
    table.add_column("queue", no_wrap=True, max_width=22, overflow="ellipsis")
    for name in ("wait", "longest", "SL", "aband", "free", "busy", "paused", "answ"):
        table.add_column(name, justify="right", no_wrap=True)
    for queue in board.queues:
        if not _matches(view, queue.name):
            continue
        table.add_row(*_queue_cells(queue, view, elapsed))
    return table


def _formulas(board: Wallboard, view: View) -> Text:
    """Each service-level definition the shown queues use, and which queues use it."""
    used: dict[str, list[str]] = {}
    for queue in board.queues:
        if _matches(view, queue.name):
            used.setdefault(queue.service_level_formula, []).append(printable(queue.name))
    return Text(
        "\n".join(f"SL = {text}: {', '.join(names)}" for text, names in used.items()), style=DIM
    )


def _table(expand: bool) -> Table:
    """Columns two spaces apart (the box's blank separator and one of padding)."""
    return Table(
        box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, expand=expand, show_edge=False
    )


def _queue_cells(queue: QueueBoard, view: View, elapsed: float) -> list[Text]:
    t = queue.service_level_seconds
    longest = queue.longest_wait_seconds + elapsed if queue.waiting else 0.0
    wait_style = level(longest, t, 2 * t, False) if queue.waiting else OK
    sl_style = level(queue.service_level, view.sl_target, view.sl_target - 0.1, True)
    abandon_style = level(queue.abandon_rate, 0.05, 0.1, False)
    return [
        Text(queue.name, style="bold"),
        Text(str(queue.waiting), style=wait_style),
        Text(clock(longest), style=wait_style),
        Text(percent(queue.service_level), style=sl_style),
        Text(percent(queue.abandon_rate), style=abandon_style),
        Text(str(queue.agents.free), style=OK if queue.agents.free else WARN),
        Text(str(queue.agents.busy)),
        Text(str(queue.agents.paused), style=DIM),
        Text(str(queue.answered), style=DIM),
    ]


def _sort_key(view: View) -> Callable[[AgentBoard], tuple[Any, ...]]:
    def key(agent: AgentBoard) -> tuple[Any, ...]:
        if view.sort is SortBy.STATE:
            return (str(agent.status), str(agent.state), -agent.state_seconds, agent.extension)
        if view.sort is SortBy.TIME:
            return (-agent.state_seconds, agent.extension)
        if view.sort is SortBy.NAME:
            return (agent.name.casefold(), agent.extension)
        return (agent.extension,)

    return key


def shown_agents(board: Wallboard, view: View) -> list[AgentBoard]:
    agents = [
        a
        for a in board.agents
        if (view.logged_out or a.status is not AgentStatus.LOGGED_OUT)
        and _matches(view, a.extension, a.name, a.caller_number, a.caller_name, *a.queues)
    ]
    return sorted(agents, key=_sort_key(view), reverse=view.reverse)


def _agents(board: Wallboard, view: View, elapsed: float) -> Table:
    table = _table(expand=True)
    table.add_column("agent", no_wrap=True, max_width=8, overflow="ellipsis")
    table.add_column("name", no_wrap=True, max_width=16, overflow="ellipsis")
    table.add_column("status", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("for", justify="right", no_wrap=True)
    table.add_column("caller", no_wrap=True, overflow="ellipsis", ratio=1)
    for agent in shown_agents(board, view):
        available = agent.status is AgentStatus.AVAILABLE
        state_style = STATE_STYLE.get(str(agent.state), "") if available else DIM
        caller = " ".join(printable(p) for p in (agent.caller_number, agent.caller_name) if p)
        table.add_row(
            Text(printable(agent.extension)),
            Text(printable(agent.name)),
            Text(str(agent.status).replace("_", " "), style="" if available else DIM),
            Text(str(agent.state).replace("_", " "), style=state_style),
            Text(clock(agent.state_seconds + elapsed)),
            Text(caller),
        )
    return table


def _footer(view: View) -> Text:
    if view.typing is not None:
        return Text.assemble(("filter: ", "bold"), printable(view.typing), ("_", "blink"))
    return Text(
        f"q quit  s sort ({view.sort})  r reverse  / filter  l logged-out "
        f"({'shown' if view.logged_out else 'hidden'})",
        style=DIM,
    )

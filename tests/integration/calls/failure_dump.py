"""What a failed calls test leaves behind, printed in its teardown (pytest shows it with the
failure): the simulator's live sessions (peer, current app, queued executes, break flags),
the last commands sent to them, the engine's call actors, and the stacks of the engine's and
the simulator's greenlets. Only on failure: a passing test prints nothing and pays nothing."""

from __future__ import annotations

import gc
import traceback
from collections.abc import Iterable

import greenlet

from callcenter.app import App
from callcenter.sim.core import CommandRecord
from callcenter.sim.session import Session
from callcenter.sim.simulator import Simulator

LAST_COMMANDS = 40


def dump(sim: Simulator, apps: Iterable[App]) -> str:
    lines = ["== simulator sessions (live) =="]
    sessions = list(sim.core.sessions.values())
    for s in sessions:
        lines += _session(s)
    lines.append(f"== the last {LAST_COMMANDS} commands naming them ==")
    uuids = [s.uuid for s in sessions]
    sent = [c for c in sim.core.commands if any(_names(u, c) for u in uuids)]
    for c in sent[-LAST_COMMANDS:]:
        extra = " ".join(f"{k}={v}" for k, v in c.headers if k.startswith("execute-app"))
        lines.append(f"  {c.at:.3f} conn{c.connection} {c.line:.200} {extra}".rstrip())
    for app in apps:
        for node, manager in app.managers.items():
            lines.append(f"== engine {node}: {len(manager.actors)} call actors ==")
            for uuid, actor in manager.actors.items():
                call = actor.control.call
                lines.append(f"  actor {uuid}: {call.state} caller={call.caller!r:.300}")
    lines.append("== engine greenlets (stacks inside callcenter/, simulator's left out) ==")
    lines += _greenlet_stacks(engine=True)
    lines.append("== simulator greenlets (stacks inside callcenter/sim/) ==")
    lines += _greenlet_stacks(engine=False)
    return "\n".join(lines)


def _names(uuid: str, command: CommandRecord) -> bool:
    return uuid in command.line or any(uuid in v for _, v in command.headers)


def _session(s: Session) -> list[str]:
    peer = s.peer.uuid if s.peer is not None else None
    partner = s.chan.partner.uuid if s.chan.partner is not None else None
    queued = [repr(m) for m in list(s.inbox.queue)]
    return [
        f"  {s.uuid} {s.chan.direction} {s.chan.name}",
        f"    hungup={s.hungup.is_set()} gone={s.chan.gone} running={s.running}"
        f" answer_state={s.chan.answer_state} state={s.chan.state}",
        f"    peer={peer} partner={partner} bridged={s.bridged.is_set()}"
        f" in_bridge_app={s.in_bridge_app} parked={s.parked}",
        f"    current_app={s.current_app!r} last={s.last_app!r} {s.last_arg!r:.80}"
        f" interrupted={s.interrupted} flushed={s.flushed} pending={s.pending!r}",
        f"    inbox={queued} dtmf={list(s.dtmf.queue)!r}",
    ]


def _greenlet_stacks(*, engine: bool) -> list[str]:
    lines: list[str] = []
    for g in gc.get_objects():
        if not isinstance(g, greenlet.greenlet) or g.gr_frame is None:
            continue
        stack = traceback.format_stack(g.gr_frame)
        sim = any("/callcenter/sim/" in f for f in stack)
        if sim == engine:
            continue
        ours = [f for f in stack if "/callcenter/" in f]
        if not ours:
            continue
        lines.append(f"  -- {g!r:.160}")
        lines += ["  " + f.rstrip().replace("\n", "\n  ") for f in ours]
    return lines

"""``callcenter top``: the terminal wallboard (docs/wallboard.md).

It reads ``GET /api/v1/wallboard`` (``snapshot_of``, the one place its figures come from) and
reads it again when the event stream (``/api/v1/events``) says something happened, at most
4 times a second, and every 2 s anyway; the clocks run on between reads. rich redraws the
screen in place (alternate screen, no scrolling, no flicker). Remote with ``--api-url`` /
``CALLCENTER_API_URL`` and a read token; local (beside the database) it asks the engine on
this host's ``metrics_listen`` with a read token made for the run and deleted at its end.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import termios
import time
import tty
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace

import click
import gevent
from gevent.event import Event
from rich.console import Console
from rich.live import Live

from callcenter.cli import Context, pass_context
from callcenter.cli import remote as remote_cli
from callcenter.cli.local_engine import local_api
from callcenter.cli.remote import RemoteApi
from callcenter.errors import CallCenterError
from callcenter.wallboard.render import SortBy, View, screen
from callcenter.wallboard.snapshot import Wallboard

REFRESH = 2.0  # read the snapshot at least this often
SOONEST = 0.25  # and at most this often, however many events arrive
STREAM_TIMEOUT = 40.0  # the stream sends a heartbeat every 15 s


def snapshot_of(api: RemoteApi) -> Wallboard:
    """The figures ``top`` shows: the engine's wallboard snapshot."""
    return Wallboard.model_validate(api.request("GET", "/wallboard"))


def follow(api: RemoteApi, heard: Callable[[str], None], stop: Event) -> None:
    """Read the event stream until ``stop``; ``heard(type)`` for each event, ``heard("live")``
    once connected, ``heard("lost: ...")`` when the stream breaks (then it reconnects)."""
    while not stop.is_set():
        request = urllib.request.Request(api.base + "/events")
        request.add_header("Authorization", f"Bearer {api.token}")
        request.add_header("Accept", "text/event-stream")
        try:
            with urllib.request.urlopen(request, timeout=STREAM_TIMEOUT) as stream:
                heard("live")
                for raw in stream:
                    if stop.is_set():
                        return
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    if line.startswith("event:"):
                        heard(line.removeprefix("event:").strip())
            heard("lost: the engine closed the stream")
        except urllib.error.HTTPError as exc:
            heard(f"lost: HTTP {exc.code}")
        except OSError as exc:
            heard(f"lost: {getattr(exc, 'reason', exc)}")
        stop.wait(2.0)


def on_key(view: View, key: str) -> View | None:
    """The view after a key; None: quit."""
    if view.typing is not None:
        if key in ("\r", "\n"):
            return replace(view, filter=view.typing, typing=None)
        if key == "\x1b":
            return replace(view, typing=None)
        if key in ("\x7f", "\b"):
            return replace(view, typing=view.typing[:-1])
        return replace(view, typing=view.typing + key) if key.isprintable() else view
    actions: dict[str, Callable[[View], View | None]] = {
        "q": lambda _v: None,
        "s": View.next_sort,
        "r": lambda v: replace(v, reverse=not v.reverse),
        "/": lambda v: replace(v, typing=""),
        "l": lambda v: replace(v, logged_out=not v.logged_out),
        "c": lambda v: replace(v, filter=""),
    }
    action = actions.get(key)
    return view if action is None else action(view)


@contextlib.contextmanager
def _keys() -> Iterator[KeyReader]:
    """A key reader (waits at most the seconds given) with the terminal in cbreak mode;
    without a terminal, never a key."""
    if not sys.stdin.isatty():
        yield lambda wait: (gevent.sleep(wait), None)[1]
        return
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)

    def read(wait: float) -> str | None:
        ready, _, _ = select.select([fd], [], [], wait)
        return os.read(fd, 1).decode("utf-8", "replace") if ready else None

    try:
        yield read
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


KeyReader = Callable[[float], str | None]  # the next key, waiting at most these seconds


def watch(api: RemoteApi, view: View, console: Console, key_in: KeyReader) -> None:
    """Redraw until the key q: at once after a key, else every ``SOONEST`` seconds."""
    stop, dirty = Event(), Event()
    status = ["connecting"]

    def heard(kind: str) -> None:
        if kind == "live" or kind.startswith("lost"):
            status[0] = kind
        dirty.set()

    follower = gevent.spawn(follow, api, heard, stop)
    board, taken, last_read = snapshot_of(api), time.monotonic(), 0.0
    try:
        with Live(console=console, screen=True, auto_refresh=False) as live:
            while True:
                now = time.monotonic()
                if (dirty.is_set() and now - last_read >= SOONEST) or now - last_read >= REFRESH:
                    dirty.clear()
                    board, taken, last_read = _read(api, board, status), now, now
                view = replace(view, status=status[0])
                live.update(screen(board, view, time.monotonic() - taken), refresh=True)
                key = key_in(SOONEST)
                if key is not None:
                    changed = on_key(view, key)
                    if changed is None:
                        return
                    view = changed
    finally:
        stop.set()
        follower.kill(block=True, timeout=2)


def _read(api: RemoteApi, board: Wallboard, status: list[str]) -> Wallboard:
    try:
        return snapshot_of(api)
    except CallCenterError as exc:
        status[0] = f"lost: {exc.message}"
        return board


@click.command("top")
@click.option("--once", is_flag=True, help="Print the wallboard once and exit (no keys).")
@click.option("--sort", type=click.Choice([s.value for s in SortBy]), default=SortBy.STATE.value,
              metavar="KEY", help="Agents' order: state, extension, time, name.")  # fmt: skip
@click.option("--filter", "wanted", help="Only queues and agents that have this (key /).")
@click.option("--logged-out", is_flag=True, help="Show logged-out agents too (key l).")
@click.option("--sl-target", type=click.IntRange(1, 99), default=80,
              help="Service level goal, percent: green from it, red 10 under.")  # fmt: skip
@click.option("--width", type=click.IntRange(40, 400), help="Columns (default: the terminal's).")
@pass_context
def top(
    ctx: Context,
    once: bool,
    sort: str,
    wanted: str | None,
    logged_out: bool,
    sl_target: int,
    width: int | None,
) -> None:
    """Terminal wallboard: queues (waiting, longest wait, SL, abandon rate, agents free and
    busy) and agents (status, state, time in it, caller), live from the engine's API.

    Keys: q quit, s sort, r reverse, / filter (Enter applies, Esc cancels), c clear the
    filter, l show or hide logged-out agents.

    \b
    Examples:
      callcenter top
      CALLCENTER_API_URL=http://pbx1:9464 CALLCENTER_API_TOKEN=cc_... callcenter top
      callcenter top --once --width 80 --filter sales
    """
    view = View(SortBy(sort), filter=wanted or "", logged_out=logged_out, sl_target=sl_target / 100)
    console = Console(width=width, highlight=False)
    api = remote_cli.current()
    with contextlib.ExitStack() as cleanup:
        if api is None:
            api = local_api(ctx, cleanup, "top")
        if once:
            console.print(screen(snapshot_of(api), replace(view, status="once")))
            return
        watch(api, view, console, cleanup.enter_context(_keys()))

"""`callcenter reload`: SIGHUP the engine of this host, which reloads everything (its IVR
flows and the ACD's queues and agents). Operator commands do not need it: each change
reaches every running engine through the change feed.

The engine writes its pid to ``<data_dir>/callcenter.pid`` once started and removes the
file when it stops. A file left behind by a crash can name a process that is not the
engine any more: a process that started after the file was written is not signalled.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import click

from callcenter.cli import Context, pass_context
from callcenter.errors import CallCenterError

PID_FILE = "callcenter.pid"
# how far the process start computed from /proc may drift from the pid file's mtime
_CLOCK_SLACK = 10.0


class EngineNotRunning(CallCenterError):
    """``pid`` is the process that was tried; None when the pid file gave none."""

    code = "engine_not_running"

    def __init__(self, message: str, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


def signal_reload(data_dir: Path, pid: int | None = None) -> int:
    """SIGHUP the engine (``pid``, or the one in ``<data_dir>/callcenter.pid``); return its pid."""
    if pid is None:
        pid = _pid_from_file(data_dir / PID_FILE)
    if pid < 1:
        raise CallCenterError(f"{pid} is not a process id", code="invalid_pid")
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError as exc:
        raise EngineNotRunning(f"no engine with pid {pid}", pid) from exc
    except PermissionError as exc:
        raise CallCenterError(
            f"not allowed to signal the engine (pid {pid}); run this as the engine's user",
            code="engine_not_signalled",
        ) from exc
    return pid


@click.command("reload")
@click.option(
    "--pid", type=int, help="The engine's process id (default: <data_dir>/callcenter.pid)."
)
@pass_context
def reload(ctx: Context, pid: int | None) -> None:
    """Ask the engine of this host to reload everything: IVR flows, queues and agents
    (SIGHUP). Operator commands reach every engine without it, within a second.

    \b
    Examples:
      callcenter reload
      callcenter reload --pid 4242
    """
    pid = signal_reload(ctx.settings.data_dir, pid)
    click.echo(f"engine {pid} asked to reload everything (SIGHUP)")


def _pid_from_file(pid_file: Path) -> int:
    try:
        written_at = pid_file.stat().st_mtime
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError) as exc:
        raise EngineNotRunning(f"no running engine found ({pid_file}: {exc})") from exc
    if pid >= 1 and _started_after(pid, written_at + _CLOCK_SLACK):
        raise EngineNotRunning(
            f"no running engine found ({pid_file}: stale, pid {pid} is a newer process)"
        )
    return pid


def _started_after(pid: int, when: float) -> bool:
    """Whether process ``pid`` started after ``when`` (epoch seconds); False when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        # field 22 (starttime, clock ticks after boot); the command name before it may hold spaces
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, StopIteration, ValueError, IndexError):
        return False
    return boot + ticks / os.sysconf("SC_CLK_TCK") > when

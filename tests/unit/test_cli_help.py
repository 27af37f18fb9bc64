"""Every option of every command has help text, and its default shows in --help."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from callcenter.cli import main


def _commands(cmd: click.Command, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
    yield path, cmd
    if isinstance(cmd, click.Group):  # as --help lists them: the main group's load lazily
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            assert sub is not None, name
            yield from _commands(sub, [*path, name])


COMMANDS = list(_commands(main, []))


def _has_default(option: click.Option) -> bool:
    default = option.default
    if option.is_flag or option.multiple or callable(default):
        return False
    return default is not None and default != "" and repr(default) != "Sentinel.UNSET"


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_every_option_has_help_and_shows_its_default(path: list[str]) -> None:
    command = dict((" ".join(p), c) for p, c in COMMANDS)[" ".join(path)]
    text = CliRunner().invoke(main, [*path, "--help"], terminal_width=400).output
    lines = {line.strip().split()[0].rstrip(","): line for line in text.splitlines() if
             line.strip().startswith("-")}  # fmt: skip
    for option in command.params:
        if not isinstance(option, click.Option) or option.name == "help":
            continue
        assert option.help, f"{' '.join(path)} {option.opts[0]}: no help text"
        if _has_default(option):
            line = next(v for k, v in lines.items() if k in option.opts)
            assert "[default: " in line, f"{' '.join(path)} {option.opts[0]}: {line}"


def test_queue_add_shows_the_defaults_it_stores() -> None:
    text = CliRunner().invoke(main, ["queue", "add", "--help"], terminal_width=400).output
    for option, default in (("--max-wait", "600"), ("--ring-seconds", "20"),
                            ("--service-level", "20"), ("--strategy", "longest_idle")):  # fmt: skip
        entry = text.split(f"\n  {option} ", 1)[1].split("\n  -", 1)[0]
        assert f"[default: ({default})" in " ".join(entry.split())


def test_every_command_is_listed_and_loads() -> None:
    top = {p[0] for p, _ in COMMANDS if len(p) == 1}
    assert {"agent", "campaign", "db", "ivr", "queue", "serve", "top"} <= top
    assert {("route", "outbound"), ("campaign", "import"), ("campaign", "dispose")} <= {
        tuple(p) for p, _ in COMMANDS if len(p) == 2
    }


def test_a_command_imports_its_own_module_not_the_engine() -> None:
    """`callcenter queue ...` starts without importing the engine, its API and the other
    commands (each CLI run paid ~1 s of imports for them)."""
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from callcenter.cli import main\n"
        "assert CliRunner().invoke(main, ['queue', '--help']).exit_code == 0\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('callcenter.'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert "callcenter.cli.queue_cmd" in loaded
    assert not loaded & {"callcenter.app", "callcenter.api.app", "callcenter.cli.campaign_cmd",
                         "callcenter.cli.demo_cmd", "callcenter.calls.manager"}  # fmt: skip

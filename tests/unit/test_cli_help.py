"""Every option of every command has help text, and its default shows in --help."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from callcenter.cli import COMMANDS as LAZY
from callcenter.cli import SUMMARIES, main


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


def _modules_after(*argv: str) -> tuple[int, set[str]]:
    """The exit code of ``callcenter ARGV`` in a fresh interpreter and the modules it loaded."""
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from callcenter.cli import main\n"
        f"code = CliRunner().invoke(main, {list(argv)!r}).exit_code\n"
        "print(code, ' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    code, *loaded = done.stdout.split()
    return int(code), set(loaded)


def test_the_command_list_shows_each_commands_first_sentence_without_importing_it() -> None:
    """`callcenter --help` lists the commands from ``SUMMARIES`` (it imported every command
    module, ~3 s); each summary is what click would have shown."""
    assert set(SUMMARIES) == set(LAZY)
    for path, command in COMMANDS:
        if len(path) == 1:
            assert SUMMARIES[path[0]] == command.get_short_help_str(10**6), path[0]
    text = CliRunner().invoke(main, ["--help"], terminal_width=80).output
    assert "  campaign   Outbound campaigns: leads dialled in preview, progressive,..." in text
    code, loaded = _modules_after("--help")
    assert code == 0
    assert not {m for m in loaded if m.startswith("callcenter.cli.") and m.endswith("_cmd")}


def test_ivr_validate_starts_without_the_database_or_the_call_stack() -> None:
    """A PBX admin's most frequent command reads YAML files only (it took ~2.8 s of imports
    of SQLAlchemy, psycopg and the live call stack; about 0.9 s now) when there is no
    database to check queue names against (here: no var/callcenter.db)."""
    flows = sorted(str(p) for p in (Path(__file__).parents[2] / "dialplans").glob("*.yaml"))
    code, loaded = _modules_after("ivr", "validate", *flows)
    assert code == 0
    assert not loaded & {"sqlalchemy", "psycopg", "callcenter.calls.control",
                         "callcenter.store.database", "callcenter.services.flows"}  # fmt: skip

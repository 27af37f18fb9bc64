"""Every option of every command has help text, and its default shows in --help."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from callcenter.cli import main


def _commands(cmd: click.Command, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
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

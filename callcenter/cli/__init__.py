"""The ``callcenter`` command: one small module per command group."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from callcenter import __version__, logs
from callcenter.errors import CallCenterError
from callcenter.settings import Settings, load_settings


class Context:
    """What every command gets: the options of the main group and settings loaded once."""

    def __init__(self, config: str | None, log_level: str | None, log_format: str | None) -> None:
        self.config = config
        self.log_level = log_level
        self.log_format = log_format
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(
                self.config, log_level=self.log_level, log_format=self.log_format
            )
            logs.configure(self._settings.log_level, self._settings.log_format)
        return self._settings


class CallCenterGroup(click.Group):
    """Turns a CallCenterError into one line on stderr and exit 1; anything else is a bug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CallCenterError as exc:
            click.echo(f"error: {exc.message} [{exc.code}]", err=True)
            ctx.exit(1)


pass_context = click.make_pass_decorator(Context)


def emit_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], as_json: bool) -> None:
    """Print rows as aligned columns, or as a JSON array with --json."""
    if as_json:
        click.echo(json.dumps(list(rows), indent=2, default=str, ensure_ascii=False))
        return
    if not rows:
        click.echo("(none)")
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    text = str(value)
    # a caller ID name can hold anything: never let it move the terminal's cursor
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text


@click.group(
    cls=CallCenterGroup,
    context_settings={"help_option_names": ["-h", "--help"], "show_default": True},
)
@click.version_option(__version__, "--version", prog_name="callcenter")
@click.option(
    "--config",
    "-c",
    envvar="CALLCENTER_CONFIG",
    type=click.Path(dir_okay=False),
    help="YAML settings file (default: none; CALLCENTER_* variables still apply).",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Overrides log_level / CALLCENTER_LOG_LEVEL.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    help="text for people, json for log shippers (one object per line).",
)
@click.pass_context
def main(
    ctx: click.Context, config: str | None, log_level: str | None, log_format: str | None
) -> None:
    """Call-center engine for FreeSWITCH: IVR, queues, recording, dialer, CDRs.

    \b
    Examples:
      callcenter config show
      callcenter db upgrade
      callcenter serve
      CALLCENTER_DATABASE_URL=postgresql+psycopg://cc@db/cc callcenter db check
    """
    ctx.obj = Context(config, log_level, log_format)


def _register() -> None:
    from callcenter.cli.agent_cmd import agent
    from callcenter.cli.cdr_cmd import cdr
    from callcenter.cli.config_cmd import config
    from callcenter.cli.db_cmd import db
    from callcenter.cli.demo_cmd import demo
    from callcenter.cli.fs_cmd import fs
    from callcenter.cli.ivr_cmd import ivr
    from callcenter.cli.queue_cmd import queue
    from callcenter.cli.route_cmd import route
    from callcenter.cli.serve_cmd import serve

    for command in (agent, cdr, config, db, demo, fs, ivr, queue, route, serve):
        main.add_command(command)
    from callcenter.cli.outbound_cmd import outbound

    route.add_command(outbound)  # callcenter route outbound ...
    from callcenter.cli.sim_cmd import sim

    main.add_command(sim)
    from callcenter.cli.webhook_cmd import webhook

    main.add_command(webhook)


_register()


def run(argv: Sequence[str] | None = None) -> None:
    main.main(args=list(argv) if argv is not None else sys.argv[1:], prog_name="callcenter")

from __future__ import annotations

import json

import click
import yaml

from callcenter.cli import Context, pass_context


@click.group()
def config() -> None:
    """Show and check the settings the engine would run with."""


@config.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of YAML.")
@pass_context
def show(ctx: Context, as_json: bool) -> None:
    """Print the effective settings, passwords masked.

    \b
    Example:
      CALLCENTER_ESL_NODES=fs1=esl://:secret@10.0.0.5:8021 callcenter config show
    """
    data = ctx.settings.redacted()
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())


@config.command()
@pass_context
def check(ctx: Context) -> None:
    """Load and validate the settings; exit 1 with the key and file at fault.

    \b
    Example:
      callcenter --config /etc/callcenter/callcenter.yaml config check
    """
    settings = ctx.settings
    click.echo(f"ok: settings from {settings.source} are valid")

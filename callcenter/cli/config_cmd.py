from __future__ import annotations

import json
from collections.abc import Collection

import click
import yaml

from callcenter.cli import Context, pass_context
from callcenter.cli.route_cmd import known_flows, known_queues, warn_unverified
from callcenter.errors import ConfigError
from callcenter.settings import MASK
from callcenter.trunks.targets import InvalidRoute, check_target
from callcenter.vocabulary import RouteTarget


@click.group()
def config() -> None:
    """Show and check the settings the engine would run with."""


@config.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of YAML.")
@pass_context
def show(ctx: Context, as_json: bool) -> None:
    """Print the effective settings as a settings file `--config` reads back.

    Secrets are masked as '***': read back, a masked one is refused unless the environment
    gives it (CALLCENTER_ESL_PASSWORD, ...). A node that takes esl_password has no
    password of its own listed; null is a setting left unset. The YAML starts with a
    comment naming where the settings came from.

    \b
    Examples:
      CALLCENTER_ESL_NODES=fs1=esl://:secret@10.0.0.5:8021 callcenter config show
      callcenter config show > cc.yaml && callcenter -c cc.yaml config check
    """
    settings = ctx.settings
    data = settings.document()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"# settings from {settings.source}; secrets masked as '{MASK}'")
    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())


@config.command()
@pass_context
def check(ctx: Context) -> None:
    """Load and validate the settings; exit 1 with the key and file at fault.

    default_route is checked as `route add` checks a target; a queue: target must name a
    stored queue and an ivr: target a flow of dialplans_dir without errors. When the
    database or the flows cannot be read, a warning says what was not checked.

    \b
    Examples:
      callcenter --config /etc/callcenter/callcenter.yaml config check
      CALLCENTER_DEFAULT_ROUTE=ivr:main callcenter config check
    """
    settings = ctx.settings
    target = check_target(settings.default_route)  # its grammar: checked with the settings
    queues: Collection[str] | None = None
    flows: Collection[str] | None = None
    why = ""
    if target.kind is RouteTarget.QUEUE:
        queues, why = known_queues(ctx)
    elif target.kind is RouteTarget.IVR:
        flows, why = known_flows(settings.dialplans_dir)
    try:
        check_target(str(target), queues=queues, flows=flows)
    except InvalidRoute as exc:
        raise ConfigError(f"default_route: {exc.reason}", code=exc.code) from exc
    warn_unverified(target, queues, flows, why)
    click.echo(f"ok: settings from {settings.source} are valid")

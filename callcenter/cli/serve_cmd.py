from __future__ import annotations

import click

from callcenter.app import App
from callcenter.cli import Context, pass_context


@click.command()
@click.option(
    "--migrate/--no-migrate",
    default=False,
    help="Upgrade the database schema before starting (handy for SQLite).",
)
@pass_context
def serve(ctx: Context, migrate: bool) -> None:
    """Run the engine until SIGTERM or Ctrl-C, then drain and stop cleanly.

    \b
    Examples:
      callcenter serve --migrate
      CALLCENTER_ESL_NODES=fs1=esl://:secret@127.0.0.1:8021 callcenter serve
    """
    app = App(ctx.settings)
    app.install_signal_handlers()
    app.start(upgrade_db=migrate)
    click.echo(
        f"callcenter serving; health at http://{app.settings.metrics_listen.host}:"
        f"{app.metrics.port}/healthz (Ctrl-C to stop)"
    )
    app.wait()
    click.echo("callcenter stopped")

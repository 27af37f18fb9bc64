from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import click
import gevent

from callcenter.app import App
from callcenter.cli import Context, pass_context
from callcenter.settings import load_settings


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


@click.command()
@click.option(
    "--data-dir",
    default="var/demo",
    show_default=True,
    help="Where the demo keeps its SQLite database.",
)
@click.option("--port", default=0, type=int, help="Metrics/health port (default: any free port).")
@click.option(
    "--duration", default=0.0, type=float, help="Stop after N seconds (0: run until Ctrl-C)."
)
@click.option(
    "--interval", default=2.0, type=float, show_default=True, help="Seconds between progress lines."
)
@pass_context
def demo(ctx: Context, data_dir: str, port: int, duration: float, interval: float) -> None:
    """Run the engine on its embedded defaults and show it alive, until Ctrl-C.

    The demo keeps its own SQLite database under --data-dir (migrated on start) and
    serves /metrics and /healthz on loopback, printing a progress line as it goes.

    \b
    Examples:
      callcenter demo
      callcenter demo --duration 10
    """
    base = ctx.settings
    settings = load_settings(
        base.source if base.source != "defaults" else None,
        data_dir=data_dir,
        database_url=f"sqlite:///{Path(data_dir) / 'callcenter.db'}",
        metrics_listen=f"127.0.0.1:{port}",
    )
    app = App(settings)
    app.install_signal_handlers()
    app.start(upgrade_db=True)
    root = f"http://127.0.0.1:{app.metrics.port}"
    click.echo(f"demo running: database {settings.database_url}")
    click.echo(f"  health  {root}/healthz\n  metrics {root}/metrics\n  Ctrl-C to stop")
    if duration > 0:
        gevent.spawn_later(duration, app.request_stop, "demo duration reached")
    while not app.wait(interval):
        status, body = _get(f"{root}/healthz")
        health = json.loads(body)
        _, metrics = _get(f"{root}/metrics")
        series = sum(1 for line in metrics.splitlines() if line and not line.startswith("#"))
        database = "up" if health["database"]["reachable"] else "DOWN"
        click.echo(f"[demo] healthz {status} database={database} metrics series={series}")
    click.echo("demo stopped cleanly")
